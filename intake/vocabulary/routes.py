"""The routes a specialist decides and the outcomes of a review, by contract value and label.

The recommendations app builds its choices from these and the partner API states them in its
schema, so a route is added in one place (intake may not import recommendations)."""

FINAL_ROUTES = {
    "local_injection": "Local injection",
    "intravenous": "Intravenous infusion",
    "not_recommended": "Not recommended",
}

OUTCOMES = {
    "approved": "Approved as drafted",
    "amended": "Amended to another route",
    "declined": "Declined",
}
