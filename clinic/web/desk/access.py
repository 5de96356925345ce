"""What every desk view shares: who may use it, the one-time key a form carries, service errors
placed on the form's fields."""

import uuid
from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from intake.roles import is_desk_user


def desk_required(view):
    """Front desk or specialist accounts only; anyone else is sent to sign in."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs):
        if not is_desk_user(request.user):
            if request.user.is_authenticated:
                messages.error(request, "This account has no access to the front desk.")
            return redirect_to_login(request.get_full_path())
        return view(request, *args, **kwargs)

    return wrapper


def submitted_key(request: HttpRequest) -> uuid.UUID | None:
    try:
        return uuid.UUID(request.POST.get("submission_key", ""))
    except ValueError:
        return None


def apply_errors(form, exc: ValidationError) -> None:
    if hasattr(form, "add_service_errors"):  # the intake forms map findings.kl_grade and the like
        form.add_service_errors(exc)
        return
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)
