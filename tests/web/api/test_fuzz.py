"""Schemathesis against /api/schema/: generated requests, no 5xx, every response as documented."""

import pytest
import schemathesis
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
def partner_key(db, settings) -> str:
    settings.PARTNER_THROTTLE_RATE = "100000/min"
    return make_partner()[1]


@pytest.mark.fuzz
def test_generated_requests_get_documented_answers_and_never_a_5xx(api_schema, partner_key):
    # Driven by Hypothesis directly: schemathesis's pytest plugin does not run under pytest 9.
    auth = {"Authorization": f"Api-Key {partner_key}"}
    # Every request carries the partner's key (above): the only scheme partner operations list, which
    # schemathesis would otherwise also send malformed or leave out and then expect refused (the
    # authorization matrix, tests/test_authorization_matrix.py, checks what a missing key gets).
    api_schema.config.generation.update(with_security_parameters=False)
    calls: dict[str, int] = {}
    for result in api_schema.get_all_operations():
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
