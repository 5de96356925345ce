from django.urls import path

from clinic.urls import handler404, handler500  # noqa: F401
from clinic.urls import urlpatterns as clinic_urlpatterns
from tests.benchmarks.bare import bare_referral, bare_view

urlpatterns = [*clinic_urlpatterns, path("bench/bare/", bare_view), path("bench/referral/", bare_referral)]
