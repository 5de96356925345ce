from django.urls import path, re_path

from clinic.web.patient import views

app_name = "patient"

urlpatterns = [
    # No token here: by then the link is spent, and the page says nothing about whose it was.
    path("thank-you", views.thank_you, name="thank-you"),
    # A trailing slash (some mail programs add one) opens the same form.
    re_path(r"^(?P<token>[^/]+)/?$", views.form, name="form"),
    path("<str:token>/answer", views.answer, name="answer"),
    path("<str:token>/send", views.send, name="send"),
    path("<str:token>/stop-emails", views.stop_emails, name="opt-out"),
    # Anything else under /f/: the page of a link that is not valid, never Django's bare 404.
    re_path(r"^.*$", views.not_valid, name="not-valid"),
]
