"""A path whose id is not a UUID: the partner's mistake, answered in the API's own format (a 400
problem+json naming `id`; an OperationOutcome on the FHIR door) after the caller is known, never
Django's page. These routes come after the real ones (clinic.web.api.urls) and are not in the schema."""

import uuid

from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.views import APIView

from clinic.web.api.fhir import FHIRView

NOT_AN_ID = "Not an id of this API: ids are UUIDs (as returned when the resource was created)."


def _refuse(self, request, pk: str, *args, **kwargs):
    try:
        uuid.UUID(pk)
    except ValueError:
        raise ValidationError({"id": [NOT_AN_ID]}) from None
    # A UUID written another way (upper case, no hyphens) names no resource, as before.
    raise NotFound()


class MalformedIdView(APIView):
    # The default authentication, permission and throttle run first, as on the real routes.
    schema = None
    get = post = put = patch = delete = _refuse


class MalformedFHIRIdView(FHIRView):
    schema = None
    get = post = _refuse
