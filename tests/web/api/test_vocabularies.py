import pytest
from rest_framework.test import APIClient

from intake.vocabulary.body_sites import BODY_SITES
from intake.vocabulary.conditions import CURRENT, vocabulary
from tests.factories import make_partner, make_user


def partner_client() -> APIClient:
    _, key = make_partner()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


@pytest.mark.django_db
def test_conditions_are_listed_and_searchable_by_code_or_words():
    client = partner_client()

    everything = client.get("/api/v1/conditions/").json()
    by_code = client.get("/api/v1/conditions/", {"search": "g35"}).json()
    by_words = client.get("/api/v1/conditions/", {"search": "heart failure"}).json()

    assert len(everything) == len(vocabulary(CURRENT).entries)
    assert [entry["prefix"] for entry in by_code] == ["G35"]
    assert by_code[0]["category"] == "systemic" and by_code[0]["regulatory"]
    assert [entry["prefix"] for entry in by_words] == ["I50"]


@pytest.mark.django_db
def test_conditions_are_found_by_the_words_a_clinic_uses_and_q_is_search():
    client = partner_client()

    def prefixes(**params) -> list[str]:
        response = client.get("/api/v1/conditions/", params)
        assert response.status_code == 200
        return [entry["prefix"] for entry in response.json()]

    assert prefixes(search="ALS") == prefixes(q="ALS") == ["G12.21"]
    assert prefixes(q="stroke") == ["I63", "I69.3"]
    assert prefixes(q="MS") == ["G35"]
    assert prefixes(q="OA knee") == ["M17"]
    assert prefixes(q="osteoarthritis of right knee") == ["M17"]  # an entry answers for its codes
    assert prefixes(search="g35", q="stroke") == ["G35"]  # `search` when both are given
    assert prefixes(q=("osteoarthritis of right knee " * 8)[:200]) == ["M17"]
    assert prefixes(q="x" * 5000) == []
    assert len(prefixes(q="")) == len(prefixes(search="  ")) == len(vocabulary(CURRENT).entries)


@pytest.mark.django_db
def test_body_sites_are_the_published_list():
    response = partner_client().get("/api/v1/body-sites/")

    sites = {site["code"]: site for site in response.json()}
    assert list(sites) == list(BODY_SITES)
    assert {"left_knee", "right_foot", "cervical_spine", "skin"} <= set(sites)  # v1's list
    # v2 adds the limbs' segments, face, trunk and perianal, each with its SNOMED CT concept if it has one
    assert {"left_upper_arm", "right_forearm", "left_thigh", "right_lower_leg", "face", "trunk"} <= set(sites)
    assert sites["left_knee"]["snomed_ct"] == "82169009"
    assert sites["perianal"]["snomed_ct"] is None


@pytest.mark.django_db
def test_staff_signed_in_may_read_the_vocabularies_for_the_intake_form():
    client = APIClient()
    client.force_login(make_user(group="Front desk"))

    assert client.get("/api/v1/conditions/", {"search": "knee"}).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/v1/conditions/", "/api/v1/body-sites/"])
def test_nobody_else_may(path):
    assert APIClient().get(path).status_code == 401
    bad_key = APIClient()
    bad_key.credentials(HTTP_AUTHORIZATION="Api-Key nope.nope")
    assert bad_key.get(path).status_code == 401
    signed_in_no_role = APIClient()
    signed_in_no_role.force_login(make_user())
    assert signed_in_no_role.get(path).status_code == 403
