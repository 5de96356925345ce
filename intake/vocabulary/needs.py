"""The partner contract's `needs` (DESIGN.md "Partner API v1"): one member per reason a draft asks,
and what each holds when it is not asked (empty, null or false). The engine fills them; the
referral, its webhook and the FHIR Task show them."""

NOT_ASKED: dict[str, object] = {
    "findings": [],
    "consent_by": None,
    "assent": None,
    "sites_without_condition": [],
    "sites_on_wrong_side": [],
    "sites": False,
    "histology": False,
    "protocols": [],
    "cancer_treatment_ended": False,
}


def empty_needs() -> dict:
    """A fresh `needs` with nothing asked."""
    return {name: list(value) if isinstance(value, list) else value for name, value in NOT_ASKED.items()}
