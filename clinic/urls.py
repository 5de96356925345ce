from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("", RedirectView.as_view(url="/desk/", permanent=False)),
    path("admin/", admin.site.urls),
    path("desk/", include("intake.desk.urls")),
    path("api/v1/", include("intake.api.urls")),
]
