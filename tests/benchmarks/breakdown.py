"""Where a referral's and a draft's time goes, in-process: the whole request (or draft), then its
parts measured alone on the same bodies (the key check, the throttle, validation, patient
matching, SQL, publishing the draft task; the rule engine, SQL)."""

import json
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date

from django.conf import settings
from django.db import connection
from django.test import Client, RequestFactory

from clinic.web.api.auth import PartnerAPIKeyAuthentication, forget_verified_keys
from clinic.web.api.reuse import validated_referral
from clinic.web.api.throttle import limiter, parse_rate
from intake.matching import likely_duplicates
from recommendations.publish import lpush_task

URL = "/api/v1/referrals/"


class _SqlClock:
    """Counts and times every statement sent to the database (BEGIN and COMMIT are not sent
    as statements by psycopg 3: they are counted apart, as transactions)."""

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


def _ms_each(action: Callable[[object], object], items: list) -> float:
    started = time.perf_counter()
    for item in items:
        action(item)
    return (time.perf_counter() - started) * 1000 / len(items)


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
    authentication = PartnerAPIKeyAuthentication()
    request = RequestFactory().post(URL, HTTP_AUTHORIZATION=f"Api-Key {key}")
    key_check = _ms_each(lambda _: authentication.authenticate(request), bodies)

    def verify_anew(_: object) -> None:
        forget_verified_keys()
        authentication.authenticate(request)

    key_lookup = _ms_each(verify_anew, bodies[: max(len(bodies) // 4, 1)])
    item = parse_rate(settings.PARTNER_THROTTLE_RATE)
    throttle = _ms_each(lambda _: limiter().hit(item, "bench", "breakdown"), bodies)
    validation = _ms_each(validated_referral, bodies)
    with _sql_clock() as match_sql:
        matching = _ms_each(lambda body: likely_duplicates(**_person(body)), bodies)
    started = time.perf_counter()
    for case_id in ids:
        # What the after-commit hook sends (the worker is stopped): recommendations.tasks.
        lpush_task(draft_case.name, [case_id]) or draft_case.delay(case_id)
    publish = (time.perf_counter() - started) * 1000 / len(ids)
    sql_ms = sql.seconds * 1000 / len(bodies)
    matching_python = max(matching - match_sql.seconds * 1000 / len(bodies), 0.0)
    parts = {
        "sql_ms": sql_ms,
        "key_check_ms": key_check,
        "throttle_ms": throttle,
        "validation_ms": validation,
        "matching_python_ms": matching_python,
        "publish_ms": publish,
    }
    return {
        "requests": len(bodies),
        "total_ms": total,
        "statements": sql.count / len(bodies),
        **parts,
        "rest_ms": max(total - sum(parts.values()), 0.0),
        "key_lookup_uncached_ms": key_lookup,
    }


def draft_breakdown(*, count: int) -> dict:
    """Per-draft averages over `count` received cases drafted in-process (make_draft), then the
    rule engine alone on the same cases, and the bare task's one INSERT."""
    from intake.models import Case, CaseStatus
    from recommendations import engine
    from recommendations.selectors import active_protocols
    from recommendations.services import engine_config, intake_of, live_ruleset, make_draft
    from tests.benchmarks.data import add_cases

    before = set(Case.objects.values_list("id", flat=True))
    add_cases(count + 1, patients=max(count // 10, 1), status=CaseStatus.RECEIVED)
    fresh = list(Case.objects.exclude(id__in=before).values_list("id", flat=True))
    make_draft(case_id=fresh.pop())  # warm up
    with _sql_clock() as sql:
        started = time.perf_counter()
        for case_id in fresh:
            make_draft(case_id=case_id)
        total = (time.perf_counter() - started) * 1000 / len(fresh)
    assert Case.objects.filter(id__in=fresh, status=CaseStatus.AWAITING_REVIEW).count() == len(fresh)
    cases = list(Case.objects.filter(id__in=fresh).select_related("patient"))
    version = live_ruleset()
    config = engine_config(() if version in ("v1", "v2") else active_protocols())
    rules = _ms_each(lambda case: engine.draft(intake_of(case), config, version=version), cases)
    with connection.cursor() as cursor:
        bare = _ms_each(
            lambda n: cursor.execute("INSERT INTO bench_bare_task (n) VALUES (%s)", [n]),
            list(range(len(fresh))),
        )
    sql_ms = sql.seconds * 1000 / len(fresh)
    return {
        "drafts": len(fresh),
        "total_ms": total,
        "statements": sql.count / len(fresh),
        "sql_ms": sql_ms,
        "engine_ms": rules,
        "rest_ms": max(total - sql_ms - rules, 0.0),
        "bare_insert_ms": bare,
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
