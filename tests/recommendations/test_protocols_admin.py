"""The protocols admin: a saved change is a new version, refusals name the field, nothing is deleted."""

import json

import pytest
from django.contrib.auth import get_user_model

from recommendations.models import Protocol
from tests.factories import make_demo_protocols

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(get_user_model().objects.create_superuser("root", "root@clinic.example", "x"))
    return client


def form_data(protocol: Protocol, **changes) -> dict:
    data = {
        "title": protocol.title,
        "route": protocol.route,
        "active": "on" if protocol.active else "",
        "indications": json.dumps(protocol.indications),
        "sites": json.dumps(protocol.sites),
        "max_sites_per_session": protocol.max_sites_per_session or "",
        "age_min": protocol.age_min if protocol.age_min is not None else "",
        "age_max": protocol.age_max if protocol.age_max is not None else "",
        "age_min_months": protocol.age_min_months if protocol.age_min_months is not None else "",
        "requires": json.dumps(protocol.requires),
        "limits": json.dumps(protocol.limits),
        "follow_up": json.dumps(protocol.follow_up),
        "basis": protocol.basis,
        "reference": protocol.reference,
        "basis_rationale": protocol.basis_rationale,
        "clinic_role": protocol.clinic_role,
        "irb_report_days": protocol.irb_report_days or "",
    }
    return {name: value for name, value in (data | changes).items() if value != ""}


def test_saving_a_change_in_the_admin_creates_version_2_and_deactivates_1(admin_client):
    make_demo_protocols()
    knee = Protocol.objects.get(protocol_id="knee-oa-bmac")

    response = admin_client.post(
        f"/admin/recommendations/protocol/{knee.pk}/change/", form_data(knee, max_sites_per_session=1)
    )

    assert response.status_code == 302
    assert "knee-oa-bmac v2" in str(list(response.wsgi_request._messages))
    rows = Protocol.objects.filter(protocol_id="knee-oa-bmac").order_by("version")
    assert [(p.version, p.active, p.max_sites_per_session) for p in rows] == [(1, False, 2), (2, True, 1)]
    assert rows[1].created_by.username == "root"


def test_the_admin_refuses_a_protocol_missing_what_its_basis_requires_on_that_field(admin_client):
    make_demo_protocols()
    knee = Protocol.objects.get(protocol_id="knee-oa-bmac")

    response = admin_client.post(
        f"/admin/recommendations/protocol/{knee.pk}/change/", form_data(knee, basis_rationale="")
    )

    assert response.status_code == 200
    assert "basis_rationale" in response.context["adminform"].form.errors
    assert Protocol.objects.filter(protocol_id="knee-oa-bmac").count() == 1


def test_the_list_says_why_a_protocol_is_not_effective_and_offers_no_delete(admin_client, settings):
    make_demo_protocols()
    settings.CLINIC_JURISDICTION = "FL"

    page = admin_client.get("/admin/recommendations/protocol/").content.decode()
    knee = Protocol.objects.get(protocol_id="knee-oa-bmac")

    assert "ineffective in Florida" in page
    assert admin_client.get(f"/admin/recommendations/protocol/{knee.pk}/delete/").status_code == 403


def test_adding_a_protocol_whose_id_exists_says_to_change_it_instead(admin_client):
    make_demo_protocols()
    knee = Protocol.objects.get(protocol_id="knee-oa-bmac")

    response = admin_client.post(
        "/admin/recommendations/protocol/add/", form_data(knee, protocol_id="knee-oa-bmac")
    )
    added = admin_client.post("/admin/recommendations/protocol/add/", form_data(knee, protocol_id="knee-b"))

    assert "save the change as a new version" in response.context["adminform"].form.errors["protocol_id"][0]
    assert added.status_code == 302
    no_sites = admin_client.post(
        "/admin/recommendations/protocol/add/", form_data(knee, protocol_id="knee-c", sites="[]"), follow=True
    )
    shown = [str(message) for message in no_sites.context["messages"]]
    assert any("knee-c v1: is a local injection protocol with no sites" in text for text in shown), shown
    assert list(Protocol.objects.filter(protocol_id="knee-b").values_list("version", "active")) == [(1, True)]
