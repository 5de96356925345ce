import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings")

django_application = get_wsgi_application()

# Imported once Django is set up: the middleware reads the settings.
from clinic.middleware import bind_request_id, read_chunked_body  # noqa: E402

application = bind_request_id(read_chunked_body(django_application))
