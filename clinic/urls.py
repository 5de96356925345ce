from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path
from django.views import defaults
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from clinic import health, metrics
from clinic.web.api.problems import api_aware, problem_page
from clinic.web.desk import views as desk_views

urlpatterns = [
    path("", RedirectView.as_view(url="/desk/", permanent=False), name="home"),
    # For load balancers and supervisors: no sign-in, no patient data (clinic.health).
    path("health/live", health.live, name="health-live"),
    path("health/ready", health.ready, name="health-ready"),
    # For Prometheus: a bearer token or an allowed address (clinic.metrics); no patient data.
    path("metrics", metrics.metrics, name="metrics"),
    # Browsers ask for it on every page; the desk's icon answers (no "Not Found" line in the log).
    path("favicon.ico", desk_views.favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("desk/", include("clinic.web.desk.urls")),
    # A patient's follow-up link: no sign-in; the token is the key (clinic.web.patient).
    path("f/", include("clinic.web.patient.urls")),
    path("api/v1/", include("clinic.web.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file: no inline script, CSP holds.
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="docs"),
    # What each problem type means (its `type` names the page): public, no patient data; no slug, the list.
    re_path(r"^api/docs/problems/(?:(?P<slug>[a-z0-9-]+)/?)?$", problem_page, name="docs-problem"),
]

# A provider's bounce and complaint webhooks (django-anymail), only with a secret: without one
# they would take anyone's posts.
if settings.ANYMAIL.get("WEBHOOK_SECRET"):
    urlpatterns.append(path("anymail/", include("anymail.urls")))

# Under /api/ even Django's own errors answer in problem+json.
handler404 = api_aware(defaults.page_not_found, 404, "No such resource, or it belongs to another partner.")
handler500 = api_aware(defaults.server_error, 500, "Something went wrong on our side; it has been logged.")
