"""What the review desk's admin pages share."""

from django.http import HttpRequest
from django.utils.html import format_html_join

from recommendations import review
from recommendations.engine import Flag

# The review queue needs the width more than a second navigation column.
FLAG_LABELS = {
    Flag.BLEEDING_RISK: "Bleeding risk",
    Flag.IMMUNOSUPPRESSED: "Immunosuppressed",
    Flag.MINOR: "Minor",
    Flag.CONSENT_MISSING: "Consent missing",
}


def flag_badges(flags: list[str]):
    if not flags:
        return "-"
    return format_html_join(
        " ", '<span class="flag flag-{}">{}</span>', ((f, FLAG_LABELS.get(f, f)) for f in flags)
    )


class SpecialistsOnly:
    """Visible to specialists, changeable by nobody: changes go through the services."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return review.is_specialist(request.user)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return review.is_specialist(request.user)

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
