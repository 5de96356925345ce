"""Field validators shared by every door (partner API, FHIR door, desk forms) and the services."""

from django.core.exceptions import ValidationError

from intake.text import invisible_characters_message


def no_invisible_characters(value: str) -> None:
    """Refuse names and identifiers holding invisible or filler characters or emoji (intake.text)."""
    message = invisible_characters_message(value)
    if message:
        raise ValidationError(message, code="invisible_characters")
