"""The review desk's treatment records (issue #25, item 2): entries awaiting their performer's
signature, oldest administration first; "Check and sign" shows every field as it will be signed
and writes nothing until confirmed; only the performer signs; a signed record is never changed or
deleted from the admin, by anyone; a correction is an addendum with a reason, confirmed."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from clinic.aftercare import treatments
from clinic.aftercare.models import TreatmentAddendum, TreatmentCourse, TreatmentEntry, TreatmentRecord
from tests.aftercare.factories import make_course, make_performer, make_signed_treatment, treatment_values
from tests.factories import make_user
from tests.support import committed_db

ENTRIES = "/admin/aftercare/treatmententry/"
RECORDS = "/admin/aftercare/treatmentrecord/"


def sign_url(entry: TreatmentEntry) -> str:
    return f"{ENTRIES}{entry.pk}/sign/"


def entered(performer, *, course: TreatmentCourse | None = None, **overrides) -> TreatmentEntry:
    """A treatment entered at the desk by a nurse, for `performer` to sign."""
    course = course or make_course()
    values = treatment_values(course, performer, **overrides)
    return treatments.save_treatment_entry(course_id=course.pk, user=make_user(), values=values)


def fingerprint(page: str) -> str:
    return re.search(r'name="fingerprint" value="([0-9a-f]{64})"', page).group(1)


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


@pytest.mark.django_db
def test_entries_awaiting_signature_are_listed_oldest_first_with_yours_marked(client):
    me, colleague = make_performer("dr_me", is_staff=True), make_performer("dr_colleague")
    first, second, third = make_course(), make_course(), make_course()
    # Given in this order (each after its own decision): the list shows the oldest first
    older = entered(colleague, course=second, lot="LOT-OLDER", administered_at=second.decision.decided_at)
    signed = entered(me, course=third, lot="LOT-SIGNED")
    newer = entered(me, course=first, lot="LOT-NEWER", administered_at=timezone.now() + timedelta(minutes=1))
    treatments.sign_treatment(user=me, entry_id=signed.pk)
    client.force_login(me)

    page = text(client.get(ENTRIES))

    assert page.index("LOT-OLDER") < page.index("LOT-NEWER") and "LOT-SIGNED" not in page
    assert page.count("You: yours to sign") == 1 and "Dr. Dr_Colleague, MD" in page
    assert "1</strong> is yours to sign" in page
    assert f'href="{sign_url(newer)}"' in page and f'href="{sign_url(older)}"' in page
    only_mine = text(client.get(ENTRIES, {"signer": "me"}))
    assert "LOT-NEWER" in only_mine and "LOT-OLDER" not in only_mine


@pytest.mark.django_db
def test_the_performer_checks_every_field_then_signs_once(client):
    me = make_performer("dr_signs", is_staff=True)
    entry = entered(me, lot="LOT-2026-0142", distinct_code="BMAC-7Q4K-0091")
    client.force_login(me)

    # Check: the record as it will be signed, in plain words; nothing written yet
    page = text(client.get(sign_url(entry)))
    for shown in (
        "Lot</dt><dd>LOT-2026-0142",
        "Distinct identification code (21 CFR 1271.290)</dt><dd>BMAC-7Q4K-0091",
        "Bone marrow aspirate concentrate",
        "Autologous (the patient&#x27;s own cells)",
        "Dose: total nucleated cells</dt><dd>1,200,000,000",
        "Dose: viability</dt><dd>92.5 %",
        "Dose: volume</dt><dd>6 mL",
        "Route</dt><dd>Local injection",
        "Image guidance</dt><dd>Ultrasound",
        "FOR AUTOLOGOUS USE ONLY",
        "Performer</dt><dd>Dr. Dr_Signs, MD",
        "cannot be undone",
    ):
        assert shown in page, shown
    assert not TreatmentRecord.objects.exists()
    assert TreatmentCourse.objects.get(pk=entry.course_id).state == "scheduled"

    # Sign: the record is kept, the course is treated, and the entry leaves the list
    response = client.post(sign_url(entry), {"fingerprint": fingerprint(page), "confirm": "1"})
    record = TreatmentRecord.objects.get()
    assert response["Location"] == f"{RECORDS}{record.pk}/change/"
    assert (record.lot, record.signature) == ("LOT-2026-0142", "Dr. Dr_Signs, MD")
    assert TreatmentCourse.objects.get(pk=entry.course_id).state == "treated"
    assert "cannot be changed; a correction is an addendum" in text(client.get(response["Location"]))
    assert "LOT-2026-0142" not in text(client.get(ENTRIES))

    # The same confirmation posted again (a double click, Back and resubmit) signs nothing more
    again = client.post(sign_url(entry), {"fingerprint": fingerprint(page), "confirm": "1"})
    assert again["Location"] == f"{RECORDS}{record.pk}/change/"
    assert TreatmentRecord.objects.count() == 1


@pytest.mark.django_db
def test_only_the_performer_signs_others_see_who_must(client):
    performer = make_performer("dr_gave_it")
    entry = entered(performer)
    client.force_login(make_performer("dr_other", is_staff=True))

    page = text(client.get(sign_url(entry)))
    assert "Only Dr. Dr_Gave_It, MD, who gave this treatment, may sign this record" in page
    assert "Sign the treatment record" not in page and 'name="fingerprint"' not in page
    assert "LOT-2026-0142" in page  # the entry can still be read

    forged = client.post(sign_url(entry), {"fingerprint": "0" * 64, "confirm": "1"})
    assert "Only Dr. Dr_Gave_It, MD" in text(forged)
    assert not TreatmentRecord.objects.exists()


@pytest.mark.django_db
def test_an_entry_changed_after_it_was_checked_is_shown_again_never_signed_unseen(client):
    me = make_performer("dr_checks", is_staff=True)
    entry = entered(me, lot="LOT-AS-CHECKED")
    client.force_login(me)
    checked = fingerprint(text(client.get(sign_url(entry))))

    # The desk corrects the lot while the performer reads
    values = treatments.values_of(entry) | {"lot": "LOT-CORRECTED"}
    treatments.save_treatment_entry(
        course_id=entry.course_id, user=make_user(), values=values, entry_id=entry.pk
    )

    page = text(client.post(sign_url(entry), {"fingerprint": checked, "confirm": "1"}))
    assert "no longer what you checked" in page and "Nothing was written" in page
    assert "LOT-CORRECTED" in page and "LOT-AS-CHECKED" not in page
    assert not TreatmentRecord.objects.exists()

    client.post(sign_url(entry), {"fingerprint": fingerprint(page), "confirm": "1"})
    assert TreatmentRecord.objects.get().lot == "LOT-CORRECTED"


# Not a fingerprint the page ever shows: non-ASCII, digits by Unicode's count but not by ASCII's.
FORGED = ("🦵", "²", "３" * 64, "é" * 64)


@pytest.mark.django_db
def test_a_confirmation_that_is_not_a_fingerprint_signs_nothing_and_shows_the_record_again(client):
    me = make_performer("dr_forged", is_staff=True)
    record = make_signed_treatment(make_course(), performer=me)
    entry = entered(me)
    client.force_login(me)
    addendum = f"{RECORDS}{record.pk}/addendum/"

    for forged in FORGED:
        signing = text(client.post(sign_url(entry), {"fingerprint": forged, "confirm": "1"}))
        correcting = text(client.post(addendum, {"reason": "A typo.", "fingerprint": forged, "confirm": "1"}))
        for page in (signing, correcting):
            assert "no longer what you checked" in page and "Nothing was written" in page, forged
    assert list(TreatmentRecord.objects.all()) == [record] and not TreatmentAddendum.objects.exists()
    # The page shown then signs as usual.
    client.post(sign_url(entry), {"fingerprint": fingerprint(signing), "confirm": "1"})
    assert TreatmentRecord.objects.count() == 2


@pytest.mark.django_db
def test_signed_records_cannot_be_added_changed_or_deleted_by_anyone_superuser_included(client):
    record = make_signed_treatment(make_course())
    entry = entered(make_performer())
    admin = make_user("root", is_staff=True, is_superuser=True)
    client.force_login(admin)

    assert client.get(f"{RECORDS}{record.pk}/delete/").status_code == 403
    assert client.post(f"{RECORDS}{record.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get(f"{RECORDS}add/").status_code == 403
    assert client.get(f"{ENTRIES}{entry.pk}/delete/").status_code == 403
    listing = text(client.get(RECORDS))
    assert "/add/" not in listing and 'name="action"' not in listing  # no "Add", no bulk delete action

    page = text(client.get(f"{RECORDS}{record.pk}/change/"))
    assert "LOT-2026-0142" in page and 'name="_save"' not in page and "/delete/" not in page
    assert TreatmentRecord.objects.filter(pk=record.pk, lot="LOT-2026-0142").exists()


@pytest.mark.django_db
def test_an_addendum_needs_a_reason_and_is_signed_after_a_confirmation(client):
    me = make_performer("dr_corrects", is_staff=True)
    record = make_signed_treatment(make_course(), performer=me)
    client.force_login(me)
    addendum = f"{RECORDS}{record.pk}/addendum/"

    blank = text(client.post(addendum, {"reason": "  "}))
    assert "an addendum needs a reason" in blank
    assert not TreatmentAddendum.objects.exists()

    reason = "Volume was 5.5 mL, not 6 mL: the syringe label was misread."
    page = text(client.post(addendum, {"reason": reason}))
    assert "An addendum: what you are about to sign" in page and "cannot be undone" in page
    assert "Treatment record, session 1" in page and "Dr. Dr_Corrects, MD" in page
    assert not TreatmentAddendum.objects.exists()

    confirm = {"reason": reason, "fingerprint": fingerprint(page), "confirm": "1"}
    assert client.post(addendum, confirm)["Location"] == f"{RECORDS}{record.pk}/change/"
    client.post(addendum, confirm)  # posted twice: the second shows the page again, signs nothing
    assert TreatmentAddendum.objects.get().reason == reason
    shown = text(client.get(f"{RECORDS}{record.pk}/change/"))
    assert "syringe label was misread" in shown and "Dr. Dr_Corrects, MD" in shown
    record.refresh_from_db()
    assert record.volume_ml == 6.0  # the record itself never changes


@pytest.mark.django_db
def test_staff_without_a_signing_profile_do_not_see_treatment_records(client):
    record = make_signed_treatment(make_course())
    entry = entered(make_performer())
    client.force_login(make_user("clerk", is_staff=True))

    assert client.get(ENTRIES).status_code == 403
    assert client.get(sign_url(entry)).status_code == 403
    assert client.get(f"{RECORDS}{record.pk}/change/").status_code == 403


def both_widths(page, screenshot, name: str) -> None:
    """The page at 1280 px and at a phone's 390 px, where it must not scroll sideways."""
    screenshot(f"{name}-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(f"{name}-390")
    width = page.evaluate("document.documentElement.scrollWidth")
    page.set_viewport_size({"width": 1280, "height": 900})
    assert width <= 390, f"{name} scrolls sideways at 390 px ({width} px wide)"


@pytest.mark.browser
@committed_db
def test_a_performer_signs_and_corrects_a_treatment_record_in_a_browser(page, live_server, screenshot):
    me = make_performer("dr_browser", is_staff=True)
    entry = entered(me, notes="Aspirated from the posterior iliac crest; " * 8)
    entered(make_performer("dr_colleague"))

    page.goto(f"{live_server.url}{ENTRIES}")
    page.get_by_label("Username").fill("dr_browser")
    page.get_by_label("Password").fill("pw-for-tests-1")
    page.get_by_role("button", name="Log in").click()
    page.get_by_text("1 is yours to sign").wait_for()
    both_widths(page, screenshot, "aftercare-entries")

    # She opens her entry: every field as it will be signed, and the warning that it is for good
    page.locator(f'a[href="{sign_url(entry)}"]').first.click()
    page.get_by_role("heading", name="Treatment record: what you are about to sign").wait_for()
    assert "cannot be undone" in page.locator("#signing").inner_text()
    both_widths(page, screenshot, "aftercare-sign")
    page.get_by_role("button", name="Sign the treatment record").click()
    page.get_by_text("It cannot be changed; a correction is an addendum.").wait_for()
    assert TreatmentRecord.objects.get().signature == "Dr. Dr_Browser, MD"

    # A correction is an addendum, checked before it is signed
    page.get_by_label("Add addendum: correction and its reason").fill("Volume was 5.5 mL, not 6 mL.")
    page.get_by_role("button", name="Add addendum").click()
    page.get_by_role("heading", name="An addendum: what you are about to sign").wait_for()
    both_widths(page, screenshot, "aftercare-addendum")
    page.get_by_role("button", name="Sign the addendum").click()
    page.get_by_text("Addendum signed and added to the treatment record.").wait_for()
    assert "Volume was 5.5 mL" in page.locator("#addenda").inner_text()
    both_widths(page, screenshot, "aftercare-record")
