"""The clinic's own FHIR record of a treatment course: every signed session as the full Procedure
(the product as R5's Procedure.used through its R4 extension, the dose, the signer) and every
submitted follow-up form as a QuestionnaireResponse, which no partner ever receives (DESIGN.md,
"The treatment course": the full Procedure exists only in the clinic's own record and export)."""

from django.http import Http404, HttpRequest, JsonResponse
from django.utils import timezone

from clinic.aftercare import selectors as aftercare
from clinic.aftercare.models import FormResponse
from clinic.web import reads
from clinic.web.desk.access import desk_required
from clinic.web.fhir import aftercare as fhir
from clinic.web.fhir.questionnaire_responses import questionnaire_response
from intake.audit import record_reads
from intake.models import Case, ReadAccess


@desk_required
def treatment_fhir(request: HttpRequest, case_id) -> JsonResponse:
    try:
        case = reads.case_page(case_id)
    except Case.DoesNotExist:
        raise Http404("No such case.") from None
    course = aftercare.course_of(case.pk)
    if course is None:
        raise Http404("This case has no treatment course.")
    records = list(course.records.order_by("session"))
    record_reads(request=request, cases=[case], channel=ReadAccess.Channel.DESK)
    bundle = {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": timezone.now().isoformat(),
        "entry": [{"resource": fhir.procedure(record, case=case, full=True)} for record in records]
        + [{"resource": fhir.course_task(course, case=case, records=records)}]
        + [
            {"resource": questionnaire_response(response, case=case)}
            for response in FormResponse.objects.filter(
                time_point__course=course, submitted_at__isnull=False
            ).order_by("time_point__day", "instrument")
        ],
    }
    response = JsonResponse(bundle, json_dumps_params={"indent": 2}, content_type="application/fhir+json")
    response["Content-Disposition"] = f'attachment; filename="treatment-{case.reference}.fhir.json"'
    return response
