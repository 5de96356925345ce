"""Check and sign: what signing a treatment record (or an addendum to one) would write, shown
before anything is written (the review desk's pattern, recommendations/admin/signing.py).

The service itself makes what the page shows, in a transaction that is then rolled back, so the
performer reads the record the service would sign, not a second reckoning of it. Confirming runs
the service again and keeps its record only when it is the one shown (the same fingerprint);
otherwise nothing is kept and the new one is shown, so an entry edited at the desk in between, or
the same confirmation posted twice, never signs anything unseen."""

import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from django import forms
from django.db import transaction

from clinic.aftercare.admin.common import treatment_rows, when
from clinic.aftercare.models import TreatmentAddendum, TreatmentRecord


class ConfirmForm(forms.Form):
    fingerprint = forms.CharField(required=False, max_length=64)
    confirm = forms.BooleanField(required=False)


@dataclass(frozen=True)
class Signing:
    """What a signature would write, in the words the confirmation page shows."""

    kind: str  # "record" or "addendum"
    signature: str
    rows: list[tuple[str, str]] = field(default_factory=list)
    reason: str = ""
    corrects: str = ""
    # What the words above summarise (ids, earlier addenda): part of the fingerprint, not shown.
    record: dict = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        text = json.dumps(asdict(self), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()


def of_record(record: TreatmentRecord) -> Signing:
    return Signing(
        kind="record",
        signature=record.signature,
        rows=treatment_rows(record, signature=record.signature),
        record={"course": str(record.course_id), "performer": record.performer_id},
    )


def of_addendum(addendum: TreatmentAddendum) -> Signing:
    record = addendum.record
    earlier = TreatmentAddendum.objects.filter(record=record).exclude(pk=addendum.pk)
    return Signing(
        kind="addendum",
        signature=f"{addendum.signed_name}, {addendum.signed_credentials}",
        reason=addendum.reason,
        corrects=(
            f"Treatment record, session {record.session}, administered {when(record.administered_at)}, "
            f"signed by {record.signature} on {when(record.signed_at)}"
        ),
        # The addenda already signed: the same confirmation posted twice then no longer matches.
        record={
            "record": str(record.pk),
            "author": addendum.author_id,
            "earlier": sorted(str(pk) for pk in earlier.values_list("pk", flat=True)),
        },
    )


class _NotConfirmed(Exception):
    def __init__(self, signing: Signing):
        self.signing = signing


def sign(
    write: Callable[[], TreatmentRecord | TreatmentAddendum], *, confirmed: str = ""
) -> tuple[TreatmentRecord | TreatmentAddendum | None, Signing]:
    """Run `write` (a treatments service) and keep what it wrote only when what it signs has the
    fingerprint `confirmed`, the one the signer was shown. Returns the record kept (None when
    nothing was) and what it signs. The service's refusals propagate, with nothing written."""
    try:
        with transaction.atomic():
            written = write()
            signing = of_record(written) if isinstance(written, TreatmentRecord) else of_addendum(written)
            # As bytes: compare_digest refuses a str with a non-ASCII character (a forged or garbled
            # confirmation), which would be a server error rather than "not what was shown".
            if not confirmed or not hmac.compare_digest(signing.fingerprint.encode(), confirmed.encode()):
                # Rolls back everything the service wrote, and what it queued after commit.
                raise _NotConfirmed(signing)
    except _NotConfirmed as shown:
        return None, shown.signing
    return written, signing
