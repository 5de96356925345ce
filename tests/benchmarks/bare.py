"""The yardsticks: what the same stack does with the least code.

- the bare INSERT view: one INSERT from a view (the earlier yardstick, kept for continuity);
- the bare referral: a plain Django view doing a referral's essential work and nothing else:
  the key looked up (one SELECT) and checked (SHA-256), the JSON parsed and its required
  fields read, one transaction with the patient-match SELECT and the INSERTs of the patient,
  the case and its event, then one Redis LPUSH standing in for the draft task;
- the bare task: one INSERT from a Celery task.
"""

import hashlib
import hmac
import json
import secrets
from datetime import date
from functools import cache

import redis
from celery import shared_task
from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

SCHEMA = [
    "CREATE TABLE IF NOT EXISTS bench_bare_view (id bigserial PRIMARY KEY, body text NOT NULL)",
    "CREATE TABLE IF NOT EXISTS bench_bare_task (id bigserial PRIMARY KEY, n integer NOT NULL)",
    "CREATE TABLE IF NOT EXISTS bench_ref_key (prefix text PRIMARY KEY, hashed_key text NOT NULL,"
    " partner integer NOT NULL)",
    "CREATE TABLE IF NOT EXISTS bench_ref_patient (id bigserial PRIMARY KEY, given_name text NOT NULL,"
    " family_name text NOT NULL, birth_date date NOT NULL, sex text NOT NULL, phone text NOT NULL,"
    " email text NOT NULL)",
    "CREATE INDEX IF NOT EXISTS bench_ref_patient_born ON bench_ref_patient (birth_date)",
    "CREATE TABLE IF NOT EXISTS bench_ref_case (id bigserial PRIMARY KEY, partner integer NOT NULL,"
    " external_id text NOT NULL, patient_id bigint NOT NULL REFERENCES bench_ref_patient,"
    " status text NOT NULL, condition_code text NOT NULL, affected_sites jsonb NOT NULL,"
    " contraindications jsonb NOT NULL, consent boolean NOT NULL,"
    " created_at timestamptz NOT NULL DEFAULT now(), UNIQUE (partner, external_id))",
    "CREATE TABLE IF NOT EXISTS bench_ref_event (id bigserial PRIMARY KEY,"
    " case_id bigint NOT NULL REFERENCES bench_ref_case, to_status text NOT NULL,"
    " created_at timestamptz NOT NULL DEFAULT now())",
]
QUEUE = "bench:bare-referrals"


def create_bare_key() -> str:
    """A key for the bare referral, stored as the partner keys are: a prefix and a hash."""
    prefix, secret = secrets.token_hex(4), secrets.token_urlsafe(24)
    key = f"{prefix}.{secret}"
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO bench_ref_key VALUES (%s, %s, 1)", [prefix, hashlib.sha256(key.encode()).hexdigest()]
        )
    return key


@cache
def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.CELERY_BROKER_URL, socket_timeout=2)


def _refused(status: int, detail: str) -> JsonResponse:
    return JsonResponse({"detail": detail}, status=status)


@csrf_exempt
def bare_view(request: HttpRequest) -> JsonResponse:
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_bare_view (body) VALUES (%s) RETURNING id", [request.body.decode()])
        (row_id,) = cursor.fetchone()
    return JsonResponse({"id": row_id}, status=201)


@csrf_exempt
def bare_referral(request: HttpRequest) -> JsonResponse:  # noqa: C901 - the yardstick, top to bottom
    scheme, _, key = request.headers.get("Authorization", "").partition(" ")
    if scheme != "Api-Key":
        return _refused(401, "no key")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT hashed_key, partner FROM bench_ref_key WHERE prefix = %s", [key.partition(".")[0]]
        )
        row = cursor.fetchone()
    if row is None or not hmac.compare_digest(row[0], hashlib.sha256(key.encode()).hexdigest()):
        return _refused(401, "bad key")
    partner = row[1]
    try:
        body = json.loads(request.body)
        person = body["patient"]
        given, family, sex = person["given_name"], person["family_name"], person["sex"]
        born = date.fromisoformat(person["birth_date"])
        external_id, code = body["external_id"], body["condition"]["icd10"]
        sites, contraindications = body["affected_sites"], body["contraindications"]
        consent = bool(body["consent_obtained"])
    except (ValueError, KeyError, TypeError):
        return _refused(400, "invalid")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, given_name, family_name FROM bench_ref_patient WHERE birth_date = %s LIMIT 200",
            [born],
        )
        cursor.fetchall()
        cursor.execute(
            "INSERT INTO bench_ref_patient (given_name, family_name, birth_date, sex, phone, email)"
            " VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
            [given, family, born, sex, person.get("phone", ""), person.get("email", "")],
        )
        (patient_id,) = cursor.fetchone()
        cursor.execute(
            "INSERT INTO bench_ref_case (partner, external_id, patient_id, status, condition_code,"
            " affected_sites, contraindications, consent) VALUES (%s, %s, %s, 'received', %s, %s, %s, %s)"
            " RETURNING id, created_at",
            [
                partner,
                external_id,
                patient_id,
                code,
                json.dumps(sites),
                json.dumps(contraindications),
                consent,
            ],
        )
        case_id, created_at = cursor.fetchone()
        cursor.execute("INSERT INTO bench_ref_event (case_id, to_status) VALUES (%s, 'received')", [case_id])
    _redis().lpush(QUEUE, case_id)
    return JsonResponse(
        {"id": case_id, "external_id": external_id, "status": "received", "created_at": created_at},
        status=201,
    )


@shared_task(name="bench.bare_task", acks_late=True)
def bare_task(n: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_bare_task (n) VALUES (%s)", [n])
