"""Protocols as versioned clinical data (rule set v3, rule 1): versions, import rules, effectiveness."""

import copy
import json

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from recommendations.models import Protocol
from recommendations.protocols import create_protocol, import_protocols, save_protocol
from recommendations.selectors import active_protocols
from recommendations.services import DEMO_PROTOCOLS_FILE
from tests.factories import make_demo_protocols

# These tests import and save protocols themselves, into an empty table.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_demo_protocols")]
DEMO = json.loads(DEMO_PROTOCOLS_FILE.read_text(encoding="utf-8"))["protocols"]


def demo(protocol_id: str, **changes) -> dict:
    found = next(p for p in DEMO if p["id"] == protocol_id)
    return copy.deepcopy(found) | changes


def versions(protocol_id: str) -> list[tuple[int, bool]]:
    return list(
        Protocol.objects.filter(protocol_id=protocol_id).order_by("version").values_list("version", "active")
    )


def test_saving_a_changed_protocol_makes_version_n_plus_1_and_deactivates_n():
    create_protocol(data=demo("knee-oa-bmac"))

    saved = save_protocol(protocol_id="knee-oa-bmac", data=demo("knee-oa-bmac", max_sites_per_session=1))

    assert (saved.version, saved.max_sites_per_session) == (2, 1)
    assert versions("knee-oa-bmac") == [(1, False), (2, True)]
    assert Protocol.objects.get(protocol_id="knee-oa-bmac", version=1).max_sites_per_session == 2  # untouched


def test_saving_without_a_change_writes_no_version():
    create_protocol(data=demo("knee-oa-bmac"))

    save_protocol(protocol_id="knee-oa-bmac", data=demo("knee-oa-bmac"))

    assert versions("knee-oa-bmac") == [(1, True)]


def test_the_database_holds_at_most_one_active_version_of_an_id():
    create_protocol(data=demo("knee-oa-bmac"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Protocol.objects.create(**{**_row_fields(), "version": 2, "active": True})


def _row_fields() -> dict:
    row = Protocol.objects.get(protocol_id="knee-oa-bmac", version=1)
    return {f.attname: getattr(row, f.attname) for f in Protocol._meta.concrete_fields if f.attname != "id"}


def test_importing_version_n_plus_1_deactivates_n_and_importing_twice_changes_nothing():
    import_protocols(data={"protocols": [demo("knee-oa-bmac")]})

    report = import_protocols(data={"protocols": [demo("knee-oa-bmac", version=2, max_sites_per_session=1)]})
    again = import_protocols(data={"protocols": [demo("knee-oa-bmac", version=2, max_sites_per_session=1)]})

    assert report.created == ["knee-oa-bmac v2"]
    assert again.unchanged == ["knee-oa-bmac v2"] and not again.created
    assert versions("knee-oa-bmac") == [(1, False), (2, True)]


def test_an_existing_id_and_version_with_other_content_is_refused_and_nothing_is_imported():
    import_protocols(data={"protocols": [demo("knee-oa-bmac")]})

    with pytest.raises(ValidationError) as refused:
        import_protocols(
            data={"protocols": [demo("hip-oa-bmac"), demo("knee-oa-bmac", title="Another knee protocol")]}
        )

    assert "protocols/1/version" in refused.value.message_dict
    assert "version 2" in refused.value.message_dict["protocols/1/version"][0]
    assert not Protocol.objects.filter(protocol_id="hip-oa-bmac").exists()  # all or nothing


def test_a_protocol_missing_what_its_basis_requires_is_refused_naming_the_field():
    trial = demo(
        "knee-oa-bmac", id="knee-trial", basis="irb_trial", reference="NCT00000000", basis_rationale=""
    )

    with pytest.raises(ValidationError) as refused:
        import_protocols(data={"protocols": [trial]})

    errors = refused.value.message_dict
    assert set(errors) == {"protocols/0/basis_rationale", "protocols/0/irb_report_days"}
    assert "why no IND is needed" in errors["protocols/0/basis_rationale"][0]
    with pytest.raises(ValidationError) as created:
        create_protocol(data=demo("hf-msc-ind", reference="a study"))
    assert "IND 123456" in created.value.message_dict["reference"][0]


def test_a_structural_error_names_the_field():
    with pytest.raises(ValidationError) as refused:
        import_protocols(data={"protocols": [demo("knee-oa-bmac", route="topical")]})

    assert list(refused.value.message_dict) == ["protocols/0/route"]


def test_import_warns_about_a_protocol_that_can_never_fire_and_stops_it_cannot_lift():
    no_sites = demo("knee-oa-bmac", id="knee-nowhere", sites=[])
    cancer = demo("knee-oa-bmac", id="breast", indications=["C50"], sites=["left_knee"])

    report = import_protocols(data={"protocols": [no_sites, cancer]})

    assert report.created == ["knee-nowhere v1", "breast v1"]
    text = "\n".join(report.warnings)
    assert "knee-nowhere v1: is a local injection protocol with no sites" in text
    assert "breast v1: lists C50" in text and "cannot lift that stop" in text


def test_florida_without_a_configured_notice_leaves_only_fda_authorised_bases_effective(settings):
    make_demo_protocols()
    settings.CLINIC_JURISDICTION = "FL"
    settings.CLINIC_STATE_NOTICE_VERSION = ""

    used = {p.id for p in active_protocols()}

    assert used == {"gvhd-ryoncil", "hf-msc-ind"}  # approved_product and ind only
    assert Protocol.objects.get(protocol_id="knee-oa-bmac").active  # stored state unchanged

    settings.CLINIC_STATE_NOTICE_VERSION = "FL-2025-07"
    assert {p.id for p in active_protocols()} == {"gvhd-ryoncil", "hf-msc-ind", "hip-oa-bmac", "knee-oa-bmac"}


def test_the_demo_set_imports_once():
    first = make_demo_protocols()
    second = make_demo_protocols()

    assert [p.pk for p in first] == [p.pk for p in second] and len(first) == 4
    assert all(p.title.startswith("EXAMPLE") for p in first)
