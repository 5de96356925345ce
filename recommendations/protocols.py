"""Protocol use cases (rule set v3, rule 1): create, change (a new version), import and export.

A stored version is never edited: a change is saved as version n+1 and n is deactivated in the
same transaction, so the id and version a draft recorded always name what it used. Every door
(admin, `manage.py protocols`, the quick start) goes through these functions and gets the same
messages, each naming the field a person must fill or change.
"""

import json
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from intake.vocabulary.conditions import vocabulary
from intake.vocabulary.stops import stop_lists
from intake.vocabulary.tabular import endpoints, is_range, known
from recommendations import protocol_rules
from recommendations.engine.protocols import LIFTING_BASES, ProtocolError, load_protocols
from recommendations.engine.protocols import Protocol as EngineProtocol
from recommendations.models import Protocol
from recommendations.selectors import effectiveness
from recommendations.services import DEMO_PROTOCOLS_FILE

LIFTABLE_STOPS = ("malignancy", "acute")  # rule set v3: what an approved_product or ind protocol may lift


def check_protocol(data: object) -> EngineProtocol:
    """The protocol's structure and what its basis requires; ValidationError keyed by field."""
    try:
        protocol = EngineProtocol.from_dict(data)
    except ProtocolError as error:
        raise ValidationError({error.field: error.message}) from None
    problems = protocol_rules.basis_problems(protocol.as_dict(), country=settings.CLINIC_COUNTRY)
    if problems:
        raise ValidationError(problems)
    return protocol


def _fields(protocol: EngineProtocol) -> dict:
    data = protocol.as_dict()
    return {
        "protocol_id": protocol.id,
        "version": protocol.version,
        "title": protocol.title,
        "route": protocol.route,
        "active": protocol.active,
        "indications": data["indications"],
        "sites": data["sites"],
        "max_sites_per_session": protocol.max_sites_per_session,
        "age_min": protocol.age_min,
        "age_max": protocol.age_max,
        "age_min_months": protocol.age_min_months,
        "requires": data["requires"],
        "limits": data["limits"],
        "follow_up": data["follow_up"],
        "basis": protocol.basis,
        "reference": protocol.reference,
        "basis_rationale": protocol.basis_rationale,
        "clinic_role": protocol.clinic_role or "",
        "irb_report_days": protocol.irb_report_days,
        "assent_waived": protocol.assent_waived,
    }


def _content(protocol: EngineProtocol | Protocol) -> dict:
    """What makes two versions the same protocol (everything but the version)."""
    if isinstance(protocol, Protocol):
        protocol = EngineProtocol.from_dict(protocol.as_dict())
    return {name: value for name, value in _fields(protocol).items() if name != "version"}


def _store(protocol: EngineProtocol, *, user) -> Protocol:
    # Version n+1 replaces n whether or not it is active: saving a protocol unticked is how the
    # admin switches it off (n must not go on covering drafts).
    Protocol.objects.filter(protocol_id=protocol.id, active=True, version__lt=protocol.version).update(
        active=False
    )
    return Protocol.objects.create(**_fields(protocol), created_by=user)


@transaction.atomic
def create_protocol(*, data: dict, user=None) -> Protocol:
    """A new protocol id, as version 1 (a version in `data` is ignored)."""
    protocol = check_protocol({**data, "version": 1})
    if Protocol.objects.filter(protocol_id=protocol.id).exists():
        raise ValidationError(
            {"id": f"A protocol {protocol.id} exists already: change it to make a new version."}
        )
    return _store(protocol, user=user)


@transaction.atomic
def save_protocol(*, protocol_id: str, data: dict, user=None) -> Protocol:
    """Save a changed protocol as version n+1 (n the newest) and deactivate the others; nothing is
    written when nothing changed. The id cannot change: a different id is a new protocol."""
    versions = Protocol.objects.select_for_update().filter(protocol_id=protocol_id).order_by("-version")
    newest = versions.first()
    if newest is None:
        raise ValidationError({"id": f"There is no protocol {protocol_id}."})
    if data.get("id", protocol_id) != protocol_id:
        raise ValidationError({"id": "The id of a protocol cannot change; create a new protocol instead."})
    protocol = check_protocol({**data, "id": protocol_id, "version": newest.version + 1})
    if _content(protocol) == _content(newest):
        return newest
    return _store(protocol, user=user)


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)  # "knee-oa-bmac v2"
    unchanged: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@transaction.atomic
def import_protocols(*, data: object, user=None) -> ImportReport:
    """Import a protocol file (`{"protocols": [...]}`): all of it, or nothing. An id and version
    already held with the same content is left as it is (importing twice changes nothing); with
    other content it is refused. An active version deactivates the id's other versions, and may not
    be older than an active one. ValidationError keys are `protocols/<i>/<field>`."""
    try:
        protocols = load_protocols(data)
    except ProtocolError as error:
        raise ValidationError({error.field: error.message}) from None
    report = ImportReport()
    for index, protocol in enumerate(protocols):
        problems = protocol_rules.basis_problems(protocol.as_dict(), country=settings.CLINIC_COUNTRY)
        if problems:
            raise ValidationError({f"protocols/{index}/{name}": text for name, text in problems.items()})
        name = f"{protocol.id} v{protocol.version}"
        held = Protocol.objects.select_for_update().filter(protocol_id=protocol.id, version=protocol.version)
        existing = held.first()
        if existing is not None:
            if _content(existing) != _content(protocol):
                raise ValidationError(
                    {
                        f"protocols/{index}/version": f"{name} is held already with other content: "
                        f"give the changed protocol version {_next_version(protocol.id)}."
                    }
                )
            report.unchanged.append(name)
            continue
        newer_active = Protocol.objects.filter(
            protocol_id=protocol.id, active=True, version__gt=protocol.version
        ).first()
        if protocol.active and newer_active is not None:
            raise ValidationError(
                {
                    f"protocols/{index}/active": f"{newer_active} is active and newer than {name}: import "
                    f"{name} inactive, or as version {_next_version(protocol.id)}."
                }
            )
        _store(protocol, user=user)
        report.created.append(name)
        report.warnings.extend(f"{name}: {text}" for text in protocol_warnings(protocol))
    return report


def import_demo_protocols() -> ImportReport:
    """The published demo set (recommendations/data/demo_protocols.json), idempotent: a second run
    finds every version held with the same content and changes nothing."""
    return import_protocols(data=json.loads(DEMO_PROTOCOLS_FILE.read_text(encoding="utf-8")))


def _next_version(protocol_id: str) -> int:
    newest = Protocol.objects.filter(protocol_id=protocol_id).order_by("-version").first()
    return newest.version + 1 if newest else 1


def export_protocols() -> tuple[dict, list[str]]:
    """Every stored version in the protocol file format, and why each active one is not effective
    here (for stderr: the file itself stays importable)."""
    rows = list(Protocol.objects.order_by("protocol_id", "version"))
    notes = []
    for row in rows:
        is_effective, why = effectiveness(row.as_dict())
        if row.active and not is_effective:
            notes.append(f"{row}: not effective here: {why}")
    return {"protocols": [row.as_dict() for row in rows]}, notes


def protocol_warnings(protocol: EngineProtocol) -> list[str]:
    """Why an active protocol can never fire, and stop codes it lists under a basis that cannot lift
    them (the draft stops before the protocol is used). Warnings, not errors: the clinic decides."""
    if not protocol.active:
        return []
    found = []
    is_effective, why = effectiveness(protocol.as_dict())
    if not is_effective:
        found.append(f"is not effective here and never fires: {why}")
    unknown = [spec for spec in protocol.indications if not known(spec)]
    if unknown:
        found.append(f"lists {', '.join(unknown)}, not in the ICD-10-CM code set: it never fires for them")
    if protocol.route == "local_injection" and not protocol.sites:
        found.append("is a local injection protocol with no sites: it never covers a draft")
    if protocol.age_max is not None and protocol.age_min_months is not None:
        if protocol.age_min_months > protocol.age_max * 12 + 11:
            found.append("its age.min_months is above its age.max: it never fires")
    other = {"local_injection": "systemic", "intravenous": "localized"}[protocol.route]
    for spec in protocol.indications:
        entry = None if is_range(spec) else vocabulary("v3").lookup(spec)
        if entry is not None and entry.category == other:
            found.append(
                f"lists {spec}, a {other} condition, for {protocol.route}: the condition's category gives "
                "the other route, so it never fires for it (no route shopping)"
            )
    for spec in protocol.indications:
        for stop in stop_lists().classes:
            hit = next((stop.entry_for(end) for end in endpoints(spec) if stop.entry_for(end)), None)
            if hit is None:
                continue
            if stop.kind in LIFTABLE_STOPS and protocol.basis in LIFTING_BASES:
                continue
            found.append(
                f"lists {spec}, {hit.label} (a {stop.kind} stop): a protocol on basis {protocol.basis} "
                "cannot lift that stop, so drafts for it are not recommended"
            )
            break
    return found
