"""A path whose id is not a UUID: the partner's mistake, answered in the API's own format (a 400
problem+json naming `id`; an OperationOutcome on the FHIR door) after the caller is known, never
Django's page. These routes come after the real ones (intake.api.urls) and are not in the schema."""

from rest_framework.exceptions import ValidationError
from rest_framework.views import APIView

from intake.api.fhir import FHIRView

NOT_AN_ID = "Not an id of this API: ids are UUIDs (as returned when the resource was created)."


def _refuse(*args, **kwargs):
    raise ValidationError({"id": [NOT_AN_ID]})


class MalformedIdView(APIView):
    # The default authentication, permission and throttle run first, as on the real routes.
    schema = None
    get = post = put = patch = delete = _refuse


class MalformedFHIRIdView(FHIRView):
    schema = None
    get = post = _refuse
