"""Where a referral's time goes, in-process: the whole request, then its parts measured alone
on the same bodies (validation, patient matching, SQL, publishing the draft task)."""

import json
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date

from django.db import connection
from django.test import Client

from clinic.web.api.serializers import ReferralSerializer
from intake.matching import likely_duplicates

URL = "/api/v1/referrals/"


class _SqlClock:
    """Counts and times every statement sent to the database (BEGIN and COMMIT included)."""

    def __init__(self):
        self.count, self.seconds = 0, 0.0

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started
            self.count += 1


@contextmanager
def _sql_clock() -> Iterator[_SqlClock]:
    clock = _SqlClock()
    with connection.execute_wrapper(clock):
        yield clock


def _ms_each(action: Callable[[dict], object], bodies: list[dict]) -> float:
    started = time.perf_counter()
    for body in bodies:
        action(body)
    return (time.perf_counter() - started) * 1000 / len(bodies)


def referral_breakdown(*, key: str, make_body: Callable[[int], dict], count: int, first: int) -> dict:
    """Per-request averages over `count` new referrals (new patients, no Idempotency-Key)."""
    from recommendations.tasks import draft_case

    client = Client(HTTP_AUTHORIZATION=f"Api-Key {key}")
    bodies = [make_body(first + n) for n in range(count + 1)]
    client.post(URL, json.dumps(bodies.pop()), content_type="application/json")  # warm up
    latencies, ids = [], []
    with _sql_clock() as sql:
        for body in bodies:
            started = time.perf_counter()
            response = client.post(URL, json.dumps(body), content_type="application/json")
            latencies.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 201, response.content
            ids.append(response.json()["id"])
    total = statistics.mean(latencies)
    validation = _ms_each(lambda body: ReferralSerializer(data=body).is_valid(raise_exception=True), bodies)
    with _sql_clock() as match_sql:
        matching = _ms_each(lambda body: likely_duplicates(**_person(body)), bodies)
    started = time.perf_counter()
    for case_id in ids:
        draft_case.delay(case_id)  # what the after-commit hook sends (the worker is stopped)
    publish = (time.perf_counter() - started) * 1000 / len(ids)
    sql_ms = sql.seconds * 1000 / len(bodies)
    matching_python = max(matching - match_sql.seconds * 1000 / len(bodies), 0.0)
    return {
        "requests": len(bodies),
        "total_ms": total,
        "statements": sql.count / len(bodies),
        "sql_ms": sql_ms,
        "validation_ms": validation,
        "matching_python_ms": matching_python,
        "publish_ms": publish,
        "rest_ms": max(total - sql_ms - validation - matching_python - publish, 0.0),
    }


def _person(body: dict) -> dict:
    person = body["patient"]
    return {
        "given_name": person["given_name"],
        "family_name": person["family_name"],
        "birth_date": date.fromisoformat(person["birth_date"]),
        "phone": person.get("phone", ""),
        "email": person.get("email", ""),
    }
