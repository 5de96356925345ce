"""Signing a treatment entry while the desk corrects it: both take the course's lock first, then the
entry's, so the two wait for each other in turn instead of deadlocking (PostgreSQL would abort one
of them, a server error on the desk or in the review desk). Real sessions, really committed."""

import threading

from django.db import connection, transaction

from clinic.aftercare.models import TreatmentCourse, TreatmentEntry, TreatmentRecord
from clinic.aftercare.treatments import save_treatment_entry, sign_treatment
from tests.aftercare.factories import make_course, make_performer, treatment_values
from tests.factories import make_user
from tests.support import committed_db, wait_for


def waiting_for_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND datname = current_database()"
        )
        return cursor.fetchone()[0]


def in_thread(action, results: dict, name: str) -> threading.Thread:
    def run() -> None:
        try:
            results[name] = action()
        except Exception as exc:  # noqa: BLE001  the test looks at what each got
            results[name] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@committed_db
def test_the_performer_signs_while_the_desk_corrects_the_entry_and_both_finish():
    course = make_course()
    performer = make_performer("dr_signs_now")
    entry = save_treatment_entry(
        course_id=course.pk, user=make_user(group="Front desk"), values=treatment_values(course, performer)
    )
    corrected = treatment_values(course, performer, lot="LOT-2026-0143")
    results: dict[str, object] = {}
    held, release = threading.Event(), threading.Event()

    def hold_the_course() -> None:
        # Someone else (a booking, say) holds the course: both wait in line behind it, the
        # correction first, the signature second.
        with transaction.atomic():
            TreatmentCourse.objects.select_for_update().get(pk=course.pk)
            held.set()
            release.wait(timeout=30)

    holder = in_thread(hold_the_course, results, "holder")
    assert held.wait(timeout=10)
    desk = in_thread(
        lambda: save_treatment_entry(
            course_id=course.pk, user=make_user(group="Front desk"), values=corrected, entry_id=entry.pk
        ),
        results,
        "desk",
    )
    assert wait_for(lambda: waiting_for_a_lock() >= 1, timeout=10)
    signer = in_thread(lambda: sign_treatment(user=performer, entry_id=entry.pk), results, "signer")
    assert wait_for(lambda: waiting_for_a_lock() >= 2, timeout=10)
    release.set()
    for thread in (holder, desk, signer):
        thread.join(timeout=30)

    assert isinstance(results["desk"], TreatmentEntry), results["desk"]
    assert isinstance(results["signer"], TreatmentRecord), results["signer"]
    # The correction came first, so the signed record carries it.
    assert TreatmentRecord.objects.get().lot == "LOT-2026-0143"
    assert TreatmentEntry.objects.get(pk=entry.pk).signed_record_id == results["signer"].pk
    assert TreatmentCourse.objects.get(pk=course.pk).state == "treated"
