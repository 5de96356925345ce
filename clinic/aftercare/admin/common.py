"""What the aftercare pages of the review desk share: who may see them, links to the desk's pages,
and a treatment record's fields in the words a clinician reads."""

from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from clinic.aftercare.vocabulary import ImageGuidance, PerformerRole, ProductSource
from intake.vocabulary.body_sites import BODY_SITES
from intake.vocabulary.routes import FINAL_ROUTES
from recommendations import review
from recommendations.models import ProtocolBasis, SpecialistProfile


def may_sign(user: AbstractBaseUser) -> bool:
    """Specialists, and anyone else with a signing profile (a performer who is not a specialist
    signs their own treatment records)."""
    if not (user and user.is_active and user.is_staff):
        return False
    return review.is_specialist(user) or SpecialistProfile.objects.filter(user_id=user.pk).exists()


class ShownNotChanged:
    """Visible to those who sign, changeable by nobody, superusers included: every change goes
    through a service (and records are kept: 21 CFR 1271.270, DESIGN.md)."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return may_sign(request.user)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return may_sign(request.user)

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


def desk_url(name: str, *args) -> str | None:
    """A desk page's address, or None while the desk has no such page (the link is left out)."""
    try:
        return reverse(f"desk:{name}", args=args)
    except NoReverseMatch:
        return None


def when(moment) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}" if moment else "-"


def signer_of(user: AbstractBaseUser | None) -> str:
    """How a person is named on these pages: their signing profile, else the user name."""
    if user is None:
        return "-"
    profile = SpecialistProfile.objects.filter(user_id=user.pk).first()
    if profile and profile.full_name.strip():
        return f"{profile.full_name}, {profile.credentials}" if profile.credentials else profile.full_name
    return user.get_username()


def _label(choices, value: str) -> str:
    return choices(value).label if value in choices.values else (value or "-")


def _number(value, unit: str = "") -> str:
    if value is None:
        return "not recorded"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = f"{value:,}" if isinstance(value, int) else str(value)
    return f"{text}{unit}"


def treatment_rows(item, *, signature: str) -> list[tuple[str, str]]:
    """Every field of a treatment entry or record, labelled as the signed record reads."""
    protocol = "none"
    if item.protocol_id:
        protocol = f"{item.protocol_id} version {item.protocol_version}"
    route = FINAL_ROUTES.get(item.route, item.route)
    rows = [
        ("Session", str(item.session)),
        ("Performer", signature),
        ("Performer's role", _label(PerformerRole, item.performer_role)),
        ("Administered at", when(item.administered_at)),
        ("Route", route),
    ]
    if item.route_reason:
        rows.append(("Why this route (not the decision's)", item.route_reason))
    rows += [
        ("Sites", ", ".join(BODY_SITES.get(site, site) for site in item.sites or []) or "none recorded"),
        ("Image guidance", _label(ImageGuidance, item.image_guidance)),
        ("Protocol", protocol),
        ("Regulatory basis", _label(ProtocolBasis, item.basis) if item.basis else "none recorded"),
        ("Product", item.product_kind),
        ("Source", _label(ProductSource, item.product_source)),
        ("Processing facility", item.processing_facility),
        ("Lot", item.lot),
        ("Distinct identification code (21 CFR 1271.290)", item.distinct_code),
        ("Label legends (21 CFR 1271.90(c))", "; ".join(item.label_legends or []) or "none"),
        ("Dose: total nucleated cells", _number(item.dose_tnc)),
        ("Dose: viability", _number(item.viability_percent, " %")),
        ("Dose: volume", _number(item.volume_ml, " mL")),
        ("Notes", item.notes or "-"),
    ]
    return rows
