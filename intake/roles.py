"""The staff roles: Django groups made by a data migration, named here once."""

from django.contrib.auth.models import AbstractBaseUser

FRONT_DESK = "Front desk"
SPECIALISTS = "Specialists"
STAFF_GROUPS = (FRONT_DESK, SPECIALISTS)


def is_desk_user(user: AbstractBaseUser) -> bool:
    """Front-desk staff and specialists may use the desk pages and read the vocabularies."""
    return bool(
        user.is_authenticated
        and user.is_active
        and (user.is_superuser or user.groups.filter(name__in=STAFF_GROUPS).exists())
    )
