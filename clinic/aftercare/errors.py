"""What the aftercare services refuse, as exceptions the faces translate (desk message, admin
message, API problem). Bad input is django.core.exceptions.ValidationError with a dict
{field: [message]}; these are the conflicts of state or permission. str(e) is always a sentence
a person can act on."""


class AftercareError(Exception):
    """A state or permission conflict; str(e) says what to do."""


class WrongState(AftercareError):
    """The course or record is not in a state that allows this (API: 409 wrong-status)."""


class NoTreatment(AftercareError):
    """The case has no treatment course (API: 409 no-treatment)."""


class StaleEdit(AftercareError):
    """Someone else changed the adverse event since it was read (desk/admin: reload)."""


class DuplicateReport(AftercareError):
    """A partner's external_id is already used for an adverse event of this partner
    (API: 409 duplicate-adverse-event naming adverse_event_id)."""

    def __init__(self, message: str, *, adverse_event_id) -> None:
        super().__init__(message)
        self.adverse_event_id = adverse_event_id


class DuplicateUpdate(AftercareError):
    """An update's external_id is already used on this report (API: 409 naming change_id)."""

    def __init__(self, message: str, *, change_id) -> None:
        super().__init__(message)
        self.change_id = change_id
