"""The API's OpenAPI schema, loaded through the real WSGI app for schemathesis."""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections


@pytest.fixture
def api_schema(db):
    """Like Django's test client, keep the test's database connection open across
    requests (the WSGI handler would close it at the end of each)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)
