"""A patient's follow-up link (DESIGN.md, "Follow-up"): `/f/<token>`, the token stored only as its
hash, usable to open and save any number of times until the form is sent or the link expires, and
refused after that; an altered token is refused like one never issued."""

import hashlib
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from clinic.aftercare.follow_up import (
    LinkRefused,
    invitation_for_token,
    issue_invitation,
    opt_out,
    save_answers,
    submit_form,
    token_for,
)
from clinic.aftercare.models import ContactOptOut, FormResponse, Invitation, TimePoint
from tests.aftercare.factories import make_course, make_signed_treatment
from tests.factories import make_patient
from tests.support import at_once, committed_db

KOOS_ALL_2 = {f"koos_jr_{n}": 2 for n in range(1, 8)}


def baseline_link(email: str = "ana@example.org") -> tuple[Invitation, str]:
    """The baseline invitation a new knee course's decision issued, and its token."""
    course = make_course(patient=make_patient(email=email))
    return issue_invitation(time_point_id=TimePoint.objects.get(course=course, day=0).pk)


def answer_all(token: str) -> None:
    save_answers(token=token, instrument="pain_nrs", answers={"pain_nrs": 6})
    save_answers(token=token, instrument="koos_jr", answers=KOOS_ALL_2)


def refused(call) -> str:
    with pytest.raises(LinkRefused) as caught:
        call()
    return caught.value.reason


def one_off(token: str) -> str:
    """The token with its last character changed to another of the alphabet."""
    return token[:-1] + ("A" if token[-1] != "A" else "B")


@pytest.mark.django_db
def test_the_token_is_stored_only_as_its_hash():
    invitation, token = baseline_link()

    assert len(token) == 43
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    stored = Invitation.objects.filter(pk=invitation.pk).values().get()
    assert token not in repr(stored)
    # The sender can write the same link again for a retry or a reminder.
    assert token_for(Invitation.objects.get(pk=invitation.pk)) == token


@pytest.mark.django_db
def test_issuing_again_returns_the_live_link_not_a_second_one():
    invitation, token = baseline_link()

    again, same = issue_invitation(time_point_id=invitation.time_point_id)

    assert (again.pk, same) == (invitation.pk, token)
    assert Invitation.objects.filter(time_point_id=invitation.time_point_id).count() == 1


@pytest.mark.django_db
def test_a_link_opens_and_saves_any_number_of_times_until_the_form_is_sent():
    invitation, token = baseline_link()

    for pain in (8, 7, 6):
        assert invitation_for_token(token).pk == invitation.pk
        save_answers(token=token, instrument="pain_nrs", answers={"pain_nrs": pain})
    save_answers(token=token, instrument="koos_jr", answers=KOOS_ALL_2)

    assert FormResponse.objects.get(
        time_point_id=invitation.time_point_id, instrument="pain_nrs"
    ).answers == {"pain_nrs": 6}
    assert Invitation.objects.get(pk=invitation.pk).opened_at is not None
    submit_form(token=token, unexpected=False)


@pytest.mark.django_db
def test_a_sent_form_refuses_its_link_as_used_and_its_answers_are_frozen():
    invitation, token = baseline_link()
    answer_all(token)
    submit_form(token=token, unexpected=False)

    assert refused(lambda: invitation_for_token(token)) == "used"
    assert (
        refused(lambda: save_answers(token=token, instrument="pain_nrs", answers={"pain_nrs": 0})) == "used"
    )
    assert refused(lambda: submit_form(token=token, unexpected=False)) == "used"
    response = FormResponse.objects.get(time_point_id=invitation.time_point_id, instrument="pain_nrs")
    assert (response.answers, response.score) == ({"pain_nrs": 6}, 6.0)


@pytest.mark.django_db
def test_an_expired_link_is_refused_and_a_new_one_is_issued_in_its_place():
    invitation, token = baseline_link()
    save_answers(token=token, instrument="pain_nrs", answers={"pain_nrs": 5})
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert refused(lambda: invitation_for_token(token)) == "expired"
    assert (
        refused(lambda: save_answers(token=token, instrument="pain_nrs", answers={"pain_nrs": 4}))
        == "expired"
    )
    assert refused(lambda: submit_form(token=token, unexpected=False)) == "expired"

    fresh, new_token = issue_invitation(time_point_id=invitation.time_point_id)
    assert fresh.pk != invitation.pk and new_token != token
    # What the patient saved from the old link is still there on the new one.
    assert FormResponse.objects.get(time_point_id=invitation.time_point_id).answers == {"pain_nrs": 5}
    answer_all(new_token)
    submit_form(token=new_token, unexpected=False)


@pytest.mark.django_db
def test_links_live_for_the_configured_days():
    with override_settings(FOLLOW_UP_LINK_DAYS=3):
        invitation, _ = baseline_link()

    assert timedelta(days=3) - (invitation.expires_at - invitation.created_at) < timedelta(seconds=1)


@pytest.mark.django_db
def test_an_altered_token_is_refused_as_not_valid_like_one_never_issued():
    _, token = baseline_link()
    altered = one_off(token)

    assert refused(lambda: invitation_for_token(altered)) == "unknown"
    assert (
        refused(lambda: save_answers(token=altered, instrument="pain_nrs", answers={"pain_nrs": 1}))
        == "unknown"
    )
    assert refused(lambda: submit_form(token=altered, unexpected=False)) == "unknown"
    assert refused(lambda: opt_out(token=altered)) == "unknown"
    for junk in (token.swapcase(), token[:-1], token + "x", "", "../admin", None, "A" * 43):
        assert refused(lambda junk=junk: invitation_for_token(junk)) == "unknown"
    # The words are the same whatever was wrong with it: nothing to learn from guessing.
    with pytest.raises(LinkRefused) as caught:
        invitation_for_token(altered)
    assert str(caught.value) == "This link is not valid. Please call the clinic and we will help you."
    # The real link still works.
    assert invitation_for_token(token)


@pytest.mark.django_db
def test_a_link_still_opens_after_the_key_rotates_and_its_email_can_be_sent_while_the_old_key_is_a_fallback():
    with override_settings(SECRET_KEY="k1-" + "x" * 50):
        invitation, token = baseline_link()

    with override_settings(SECRET_KEY="k2-" + "y" * 50, SECRET_KEY_FALLBACKS=["k1-" + "x" * 50]):
        assert invitation_for_token(token).pk == invitation.pk
        assert token_for(invitation) == token
    with override_settings(SECRET_KEY="k2-" + "y" * 50, SECRET_KEY_FALLBACKS=[]):
        assert invitation_for_token(token).pk == invitation.pk  # the hash needs no key
        assert refused(lambda: token_for(invitation)) == "unknown"


@pytest.mark.django_db
def test_opting_out_works_from_a_used_link_too():
    invitation, token = baseline_link(email="ana@example.org")
    answer_all(token)
    submit_form(token=token, unexpected=False)

    opt_out(token=token)

    assert ContactOptOut.objects.filter(patient=invitation.case.patient, reason="opted_out").exists()


@committed_db
def test_two_sweeps_issuing_one_time_point_at_once_make_one_link():
    course = make_course(patient=make_patient(email="ana@example.org"))
    make_signed_treatment(course)
    day_42 = TimePoint.objects.get(course=course, day=42)

    results = at_once(*[lambda: issue_invitation(time_point_id=day_42.pk)] * 2)

    assert results[0] == results[1] and isinstance(results[0][1], str)
    assert Invitation.objects.filter(time_point=day_42).count() == 1
    assert TimePoint.objects.get(pk=day_42.pk).state == "invited"
