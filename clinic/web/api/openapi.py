"""How the OpenAPI document is made, beyond what drf-spectacular does alone (SPECTACULAR_SETTINGS):

- OpenAPI 3.1, with every event type's body under `webhooks` (clinic.web.api.catalogue);
  `/api/schema/?oas=3.0` serves the same API as OpenAPI 3.0.3, which cannot describe webhooks, for
  clients that cannot read 3.1 yet (DESIGN.md: for at least 12 months after the move);
- a read operation lists only the responses a read can give, and every partner operation only the
  API-key scheme (the staff session that the vocabularies also admit is the clinic's own business)."""

import re

from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.plumbing import process_webhooks
from drf_spectacular.settings import patched_settings, spectacular_settings

from clinic.web.api import catalogue

# `?oas=` values that ask for the 3.0 document; any other value (or none) gets 3.1.
LEGACY_VALUES = frozenset({"3.0", "3.0.3"})
LEGACY_VERSION = "3.0.3"


def wants_legacy(request) -> bool:
    return request is not None and request.GET.get("oas", "").strip() in LEGACY_VALUES


class PartnerSchemaGenerator(SchemaGenerator):
    """drf-spectacular's generator, which writes the 3.0.3 document when the request asks for it."""

    def get_schema(self, request=None, public=False) -> dict:
        with patched_settings({"OAS_VERSION": LEGACY_VERSION} if wants_legacy(request) else None):
            return super().get_schema(request=request, public=public)


def add_webhooks(result: dict, generator, request, public) -> dict:
    """Postprocessing hook, first of all: one entry per event type under `webhooks` (OpenAPI 3.1 only),
    its body's schemas added to the components."""
    if not result["openapi"].startswith("3.1"):
        return result
    result["webhooks"] = process_webhooks(catalogue.webhooks(), generator.registry)
    for item in result["webhooks"].values():
        item["post"]["parameters"] = [dict(header) for header in catalogue.WEBHOOK_HEADERS]
    built = generator.registry.build(spectacular_settings.APPEND_COMPONENTS)
    components = result.setdefault("components", {})
    for section, entries in built.items():
        for name, schema in entries.items():
            components.setdefault(section, {}).setdefault(name, schema)
    return result


# A read has no body and changes nothing: it is never 409 (conflict), 413 (too large), 415 (media
# type) or 422 (idempotency key reused).
NEVER_ON_A_READ = frozenset({"409", "413", "415", "422"})
PATH_PARAMETER = re.compile(r"\{[^}]+\}")


def _paged(result: dict, operation: dict) -> bool:
    """Whether the operation answers with a page of a cursor pagination (`next`, `results`)."""
    content = operation["responses"].get("200", {}).get("content", {}).get("application/json", {})
    ref = content.get("schema", {}).get("$ref", "")
    properties = result["components"]["schemas"].get(ref.rsplit("/", 1)[-1], {}).get("properties", {})
    return {"next", "results"} <= set(properties)


def _can_give(status: str, path: str, operation: dict, paged: bool) -> bool:
    if status in NEVER_ON_A_READ:
        return False
    parameters = [p for p in operation.get("parameters", []) if isinstance(p, dict)]
    if status == "404":
        # Nothing to miss but an id in the path, or a page cursor that names no page.
        return bool(PATH_PARAMETER.search(path)) or paged
    if status == "400":
        # Only an input can be invalid: a path parameter or a query parameter.
        return bool(PATH_PARAMETER.search(path)) or any(p.get("in") == "query" for p in parameters)
    return True


def tidy_operations(result: dict, generator, request, public) -> dict:
    """Postprocessing hook: a read operation lists only the responses it can give."""
    for path, item in result.get("paths", {}).items():
        operation = item.get("get")
        if operation is not None:
            paged = _paged(result, operation)
            operation["responses"] = {
                status: response
                for status, response in operation["responses"].items()
                if _can_give(status, path, operation, paged)
            }
    return result


def _tidy_schemas(node, *, nulls: bool) -> None:
    """In place: a `default` drf-spectacular puts inside the one branch of a `oneOf` that refuses it
    (a blank e-mail: `format: email`, default "") moved up beside the `oneOf`; and, with `nulls`,
    OpenAPI 3.0's `nullable` (which DRF's paginators and raw field schemas still write) as OpenAPI 3.1
    says it, a `null` type."""
    if isinstance(node, list):
        for item in node:
            _tidy_schemas(item, nulls=nulls)
        return
    if not isinstance(node, dict):
        return
    if nulls and node.pop("nullable", False):
        if isinstance(node.get("type"), str):
            node["type"] = [node["type"], "null"]
            if "enum" in node and None not in node["enum"]:
                node["enum"] = [*node["enum"], None]
        elif "type" not in node:
            node["anyOf"] = [*node.pop("anyOf", [{}]), {"type": "null"}]
    for branch in node.get("oneOf", []):
        if isinstance(branch, dict) and "default" in branch:
            node.setdefault("default", branch.pop("default"))
    for value in node.values():
        _tidy_schemas(value, nulls=nulls)


def tidy_schemas(result: dict, generator, request, public) -> dict:
    """Postprocessing hook, last: defaults where they are valid, and (in 3.1) nulls in 3.1's words."""
    for section in ("paths", "components", "webhooks"):
        _tidy_schemas(result.get(section, {}), nulls=result["openapi"].startswith("3.1"))
    return result
