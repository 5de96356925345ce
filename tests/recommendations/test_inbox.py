"""The review desk as an inbox (issue #24): landing on the queue, a queue that refreshes itself,
search by reference, name, MRN and partner reference, the next case, readable records, the
sandbox kept out of the filters, and analytics in units a person reads."""

from datetime import timedelta

import pytest
from django.utils import timezone

from intake.models import Case, Priority
from recommendations import review, selectors
from recommendations.analytics import Week, duration, week_bars
from recommendations.models import Decision
from recommendations.services import make_draft
from tests.factories import make_case, make_partner, make_patient, make_user

QUEUE = "/admin/recommendations/reviewcase/"
CHANGES = f"{QUEUE}changes/"
NEXT = f"{QUEUE}next/"
DECISIONS = "/admin/recommendations/decision/"


def queued(**fields) -> Case:
    case = make_case(**fields)
    make_draft(case_id=case.pk)
    return Case.objects.get(pk=case.pk)


def specialist(client, username="dr_inbox"):
    user = make_user(username, group="Specialists", is_staff=True)
    client.force_login(user)
    return user


def listed(client, **params) -> str:
    response = client.get(QUEUE, params)
    assert response.status_code == 200
    return response.content.decode()


# --- landing on the queue ---------------------------------------------------------------


def sign_in(client, username: str, next_url: str = "/admin/"):
    return client.post(
        "/admin/login/", {"username": username, "password": "pw-for-tests-1", "next": next_url}
    )


@pytest.mark.django_db
def test_a_specialist_signing_in_lands_on_the_queue_other_staff_on_the_index(client):
    make_user("dr_lands", group="Specialists", is_staff=True)
    make_user("clerk", is_staff=True)

    assert sign_in(client, "dr_lands")["Location"] == QUEUE
    client.logout()
    assert sign_in(client, "clerk")["Location"] == "/admin/"


@pytest.mark.django_db
def test_a_sign_in_on_the_way_to_a_case_still_goes_to_the_case(client):
    case = queued()
    make_user("dr_direct", group="Specialists", is_staff=True)

    response = sign_in(client, "dr_direct", next_url=f"{QUEUE}{case.pk}/change/")

    assert response["Location"] == f"{QUEUE}{case.pk}/change/"


@pytest.mark.django_db
def test_a_wrong_password_stays_on_the_sign_in_page(client):
    make_user("dr_typo", group="Specialists", is_staff=True)
    response = client.post("/admin/login/", {"username": "dr_typo", "password": "nope", "next": "/admin/"})
    assert response.status_code == 200 and "correct username and password" in response.content.decode()


# --- the queue refreshes itself ---------------------------------------------------------------


def changed(client, since: str) -> tuple[bool, str]:
    data = client.get(CHANGES, {"since": since}, HTTP_X_BACKGROUND_POLL="1").json()
    return data["changed"], data["version"]


@pytest.mark.django_db
def test_the_queue_version_moves_when_a_case_arrives_is_claimed_released_or_decided(client):
    doctor = specialist(client)
    first = queued()
    _, version = changed(client, "")
    assert changed(client, version) == (False, version)

    steps = [
        lambda: queued(),
        lambda: review.claim_case(case_id=first.pk, user=doctor),
        lambda: review.release_claim(case_id=first.pk, user=doctor),
        lambda: review.approve_draft(case_id=first.pk, user=doctor),
    ]
    for step in steps:
        step()
        moved, new_version = changed(client, version)
        assert moved and new_version != version
        version = new_version
    # A case still being received is not in the queue: the queue does not move for it.
    make_case()
    assert changed(client, version) == (False, version)


@pytest.mark.django_db
def test_the_queue_page_carries_its_version_and_its_script(client):
    specialist(client)
    queued()

    page = listed(client)

    assert f'data-since="{selectors.queue_version()}"' in page
    assert 'data-changes-url="/admin/recommendations/reviewcase/changes/"' in page
    assert "review/queue.js" in page
    assert "refreshes itself" in page  # told, under the search box


@pytest.mark.django_db
def test_only_specialists_ask_whether_the_queue_changed(client):
    client.force_login(make_user(is_staff=True))
    assert client.get(CHANGES).status_code == 403
    client.force_login(make_user(group="Front desk"))
    assert "/admin/login/" in client.get(CHANGES)["Location"]


# --- search ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_search_finds_a_case_by_its_reference_as_people_write_it(client):
    specialist(client)
    case = queued(patient=make_patient(family_name="Referenced"))
    queued(patient=make_patient(family_name="Otherone"))
    number = case.number

    for typed in (case.reference, case.reference.lower(), f"  C-{case.created_at.year}-{number} "):
        page = listed(client, q=typed)
        assert "Referenced" in page and "Otherone" not in page, typed
    # The number alone finds it too (beside any MRN with those digits in it).
    assert "Referenced" in listed(client, q=f"{number:06d}")
    assert "Referenced" not in listed(client, q=f"C-{case.created_at.year - 1}-{number:06d}")  # another year


@pytest.mark.django_db
def test_search_by_name_ignores_case_and_accents_and_finds_mrn_and_partner_reference(client):
    specialist(client)
    partner, _ = make_partner("Porto Ortho")
    jose = queued(patient=make_patient(given_name="José", family_name="Müller-Ávila", mrn="MRN-77120"))
    queued(patient=make_patient(given_name="Joana", family_name="Silva"), partner=partner, external_id="RF-9")

    def found(q: str) -> set[str]:
        page = listed(client, q=q)
        return {name for name in ("Müller-Ávila", "Silva") if name in page}

    assert found("jose") == {"Müller-Ávila"}
    assert found("MULLER avila") == {"Müller-Ávila"}
    assert found("josé müller") == {"Müller-Ávila"}
    assert found("jo") == {"Müller-Ávila", "Silva"}
    assert found("mrn-7712") == {"Müller-Ávila"}
    assert found("rf-9") == {"Silva"}
    assert found("nobody") == set()
    assert jose.pk


@pytest.mark.django_db
def test_any_typed_search_answers_a_page_never_an_error(client):
    specialist(client)
    queued()
    for typed in ("C-0000-1", "C-2026-" + "9" * 30, "9" * 40, "%", "_", "²", "O'Brien", "ß", "C-2026-"):
        assert client.get(QUEUE, {"q": typed}).status_code == 200, typed


@pytest.mark.django_db
def test_searching_the_reference_of_a_decided_case_says_where_it_went(client):
    doctor = specialist(client)
    case = queued(patient=make_patient(family_name="Decidedone"))
    review.approve_draft(case_id=case.pk, user=doctor)

    page = listed(client, q=case.reference)

    assert f"Case {case.reference} is not in the queue: it is decided." in page
    assert f'href="{QUEUE}{case.pk}/change/"' in page


@pytest.mark.django_db
def test_decisions_are_found_by_reference_name_and_signer(client):
    doctor = specialist(client, "dr_finder")
    case = queued(patient=make_patient(family_name="Zélie"))
    other = queued(patient=make_patient(family_name="Unrelated"))
    review.approve_draft(case_id=case.pk, user=doctor)
    review.approve_draft(case_id=other.pk, user=doctor)

    def found(q: str) -> set[str]:
        page = client.get(DECISIONS, {"q": q}).content.decode()
        return {name for name in ("Zélie", "Unrelated") if name in page}

    assert found(case.reference) == {"Zélie"}
    assert found("zelie") == {"Zélie"}
    assert found("Dr_Finder") == {"Zélie", "Unrelated"}


# --- the next case -----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_next_case_is_the_most_urgent_then_oldest_that_no_colleague_holds(client, settings):
    me = specialist(client, "dr_me")
    colleague = make_user("dr_colleague", group="Specialists", is_staff=True)
    held = queued(priority=Priority.URGENT)
    review.claim_case(case_id=held.pk, user=colleague)
    oldest_routine = queued()
    urgent = queued(priority=Priority.URGENT)
    mine = queued()
    review.claim_case(case_id=mine.pk, user=me)

    assert selectors.next_in_queue(user=me) == urgent
    assert selectors.next_in_queue(user=me, after=urgent.pk) == oldest_routine
    assert client.get(NEXT)["Location"] == f"{QUEUE}{urgent.pk}/change/"
    assert client.get(NEXT, {"after": str(urgent.pk)})["Location"] == f"{QUEUE}{oldest_routine.pk}/change/"
    assert client.get(NEXT, {"after": "not-a-case"})["Location"] == f"{QUEUE}{urgent.pk}/change/"

    # A claim left to lapse holds nobody back.
    Case.objects.filter(pk=held.pk).update(
        claimed_at=timezone.now() - timedelta(minutes=settings.REVIEW_CLAIM_MINUTES + 1)
    )
    assert selectors.next_in_queue(user=me) == held


@pytest.mark.django_db
def test_with_nothing_left_the_next_case_is_the_queue_saying_so(client):
    specialist(client)
    colleague = make_user("dr_busy", group="Specialists", is_staff=True)
    review.claim_case(case_id=queued().pk, user=colleague)

    response = client.get(NEXT, follow=True)

    assert response.redirect_chain[-1][0] == QUEUE
    assert "No other case is waiting for you: the rest of the queue is claimed" in response.content.decode()

    Case.objects.update(status="decided")
    assert "The queue is empty" in client.get(NEXT, follow=True).content.decode()


# --- readable records, filters ------------------------------------------------------------------


@pytest.mark.django_db
def test_the_decision_record_reads_in_labels_not_internal_names(client):
    doctor = specialist(client, "dr_words")
    case = queued()
    decision = review.approve_draft(case_id=case.pk, user=doctor)

    record = client.get(f"{DECISIONS}{decision.pk}/change/").content.decode()
    review_page = client.get(f"{QUEUE}{case.pk}/change/").content.decode()

    assert str(decision.recommendation) == f"Draft 1 of case {case.reference}: Local injection"
    assert "Draft 1: Local injection" in record and case.reference in record
    assert "Dr. Dr_Words, MD" in record and "knee-oa-bmac version 1" in record
    assert str(case.pk) not in record.replace(f"{case.pk}/", "")  # in links only, never as text
    assert "local_injection" not in record.replace('class="route route-local_injection"', "")
    assert "nobody" not in review_page
    assert "Approved as drafted by <strong>Dr. Dr_Words, MD</strong>" in review_page


@pytest.mark.django_db
def test_a_sandbox_partner_is_no_choice_in_the_source_filter(client):
    specialist(client)
    make_partner("Real Partner")
    make_partner("Test Sandbox", sandbox=True)
    queued()

    page = listed(client)

    assert "Real Partner" in page and "Test Sandbox" not in page


@pytest.mark.django_db
def test_a_long_partner_note_is_folded_so_decide_stays_near_the_top(client):
    specialist(client)
    note = "Pain history. " * 220  # about 3,000 characters
    case = queued(notes=note.strip())

    page = client.get(f"{QUEUE}{case.pk}/change/").content.decode()

    notes = page[page.index('id="notes"') :]
    assert notes.index('<details class="long">') < notes.index("Show more") < notes.index("</dd>")
    assert page.count("Pain history.") > 200  # all of it is there, behind "Show more"
    assert page.index('href="#actions"') < page.index('id="intake"')  # "Decide" at the top


# --- analytics ----------------------------------------------------------------------------


def test_durations_read_in_minutes_under_an_hour_and_hours_or_days_above():
    assert duration(0.004) == (0, "under 1 min")
    assert duration(0.2) == (12 / 60, "12 min")
    assert duration(0.999)[1] == "1.0 h"
    assert duration(7.46) == (7.5, "7.5 h")
    assert duration(80) == (pytest.approx(79.2), "3.3 days")


def test_bars_are_as_long_as_their_numbers_say():
    weeks = [Week("2026-W01", 3, 0.01, 0.02), Week("2026-W02", 2, 0.011, 0.5), Week("2026-W03", 1, 0.4, 0.5)]

    bars = week_bars(weeks)

    # Medians that read the same have bars of the same length; the longest 90th is full width.
    assert [w.median_label for w in weeks] == ["1 min", "1 min", "24 min"]
    assert bars[0].median_percent == bars[1].median_percent
    assert bars[1].p90_percent == bars[2].p90_percent == 100
    assert bars[2].median_percent == pytest.approx(100 * 24 / 30)


@pytest.mark.django_db
def test_the_analytics_page_shows_minutes_for_fast_decisions(client):
    doctor = specialist(client, "dr_fast")
    for minutes in (6, 18):
        case = queued()
        decision = review.approve_draft(case_id=case.pk, user=doctor)
        Case.objects.filter(pk=case.pk).update(created_at=decision.decided_at - timedelta(minutes=minutes))

    page = client.get(f"{DECISIONS}analytics/").content.decode()

    weeks = page.split('id="by-week"')[1].split("</section>")[0]
    assert '<td class="median">12 min</td><td class="p90">18 min</td>' in weeks
    assert "0.0 h" not in weeks
    assert 'class="bar-median" x="0" y="2" height="8" width="66.7%"' in weeks  # 12 of 18 minutes
    assert Decision.objects.count() == 2
