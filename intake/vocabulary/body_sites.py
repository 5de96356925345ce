"""The published list of body sites a case may name as affected."""

_PAIRED = ("shoulder", "elbow", "wrist", "hand", "hip", "knee", "ankle", "foot")

BODY_SITES: dict[str, str] = {
    **{f"{side}_{part}": f"{side.capitalize()} {part}" for part in _PAIRED for side in ("left", "right")},
    "cervical_spine": "Cervical spine",
    "thoracic_spine": "Thoracic spine",
    "lumbar_spine": "Lumbar spine",
    "skin": "Skin",
}
