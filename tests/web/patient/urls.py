"""The project's URLs with the patient's page at /f/, as clinic/urls.py is to have them (the line
is added only when clinic/urls.py does not have it yet)."""

from django.urls import include, path

from clinic.urls import handler404, handler500  # noqa: F401  the project's error pages
from clinic.urls import urlpatterns as project_urls

_has_patient = any(getattr(entry, "namespace", None) == "patient" for entry in project_urls)
urlpatterns = (
    project_urls if _has_patient else [*project_urls, path("f/", include("clinic.web.patient.urls"))]
)
