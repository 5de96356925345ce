import pytest

from intake.models import Case, CaseStatus
from recommendations.models import Recommendation
from tests.factories import make_case
from tests.support import committed_db, wait_for


@pytest.mark.worker
@committed_db
def test_a_real_worker_drafts_a_committed_case_until_it_awaits_review(celery_worker_process):
    # Given a case created in a committed transaction (the task is queued on commit)
    # (heart failure, with the findings the demo protocol for it requires)
    case = make_case(
        condition_code="I50.22", affected_sites=[], findings={"lvef_percent": 30, "nyha_class": 3}
    )

    # When the worker on the Redis broker picks it up
    status = wait_for(
        lambda: Case.objects.filter(pk=case.pk, status=CaseStatus.AWAITING_REVIEW).exists(),
        timeout=30,
    )

    # Then it awaits review with exactly one draft from the engine
    assert status, f"case still {Case.objects.get(pk=case.pk).status}"
    (draft,) = Recommendation.objects.filter(case=case)
    assert (draft.route, draft.ruleset_version, draft.protocol_id) == ("intravenous", "v3", "hf-msc-ind")
    assert list(case.events.values_list("to_status", flat=True)) == [
        "received",
        "drafting",
        "awaiting_review",
    ]
