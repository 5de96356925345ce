"""The contraindication questions every intake answers, yes or no, in the contract's order."""

CONTRAINDICATION_LABELS = {
    "active_malignancy": "Active malignancy",
    "active_infection": "Active infection",
    "pregnant": "Pregnant",
    "anticoagulant_therapy": "Anticoagulant therapy",
    "bleeding_disorder": "Bleeding disorder",
    "immunosuppressed": "Immunosuppressed",
}
CONTRAINDICATIONS = tuple(CONTRAINDICATION_LABELS)
