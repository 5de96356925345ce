"""Turning DRF's nested error details into flat, per-field messages."""


def flatten_errors(detail, prefix: str = "") -> dict[str, list[str]]:
    """{"patient": {"birth_date": ["..."]}} -> {"patient.birth_date": ["..."]};
    list items are numbered: "affected_sites.1"."""
    if isinstance(detail, dict):
        out: dict[str, list[str]] = {}
        for key, value in detail.items():
            name = "" if key == "non_field_errors" else str(key)
            out |= flatten_errors(value, f"{prefix}.{name}" if prefix and name else prefix or name)
        return out
    if isinstance(detail, list) and detail and all(isinstance(item, str) for item in detail):
        return {prefix or "body": [str(item) for item in detail]}
    if isinstance(detail, list):
        out = {}
        for index, item in enumerate(detail):
            if item:
                out |= flatten_errors(item, f"{prefix}.{index}" if prefix else str(index))
        return out
    return {prefix or "body": [str(detail)]}
