from django.urls import path

from intake.api import views

app_name = "api"

urlpatterns = [
    path("conditions/", views.ConditionListView.as_view(), name="conditions"),
    path("body-sites/", views.BodySiteListView.as_view(), name="body-sites"),
]
