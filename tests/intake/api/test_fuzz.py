"""Schemathesis against /api/schema/: generated requests, no 5xx, every response as documented."""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import checks

from tests.factories import make_partner

EXAMPLES_PER_OPERATION = 160
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
    checks.negative_data_rejection,
]


@pytest.fixture
def api(db):
    # Keep the test's connection across in-process WSGI requests, as Django's test client does.
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


@pytest.fixture
def partner_key(db, settings) -> str:
    settings.PARTNER_THROTTLE_RATE = "100000/min"
    return make_partner()[1]


@pytest.mark.fuzz
def test_generated_requests_get_documented_answers_and_never_a_5xx(api, partner_key):
    # Driven by Hypothesis directly: schemathesis's pytest plugin does not run under pytest 9.
    auth = {"Authorization": f"Api-Key {partner_key}"}
    calls: dict[str, int] = {}
    for result in api.get_all_operations():
        operation = result.ok()
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):

            @settings(
                max_examples=EXAMPLES_PER_OPERATION // 2,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case):
                calls[case.operation.label] = calls.get(case.operation.label, 0) + 1
                case.call_and_validate(headers=auth, checks=CHECKS)

            try:
                run()
            except Unsatisfiable:
                # An operation without inputs (the body-site list) has nothing to make invalid.
                assert mode == schemathesis.GenerationMode.NEGATIVE
    total = sum(calls.values())
    print(f"schemathesis: {total} generated cases over {len(calls)} operations, 0 failures")
    for label, count in sorted(calls.items()):
        print(f"  {count:5} {label}")
    assert total >= 1000
