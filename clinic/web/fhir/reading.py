"""Reading FHIR R4 input: validating a resource with the R4B models, finding the
resources a ServiceRequest references (contained, or entries of a transaction Bundle),
and the issues an OperationOutcome reports."""

import json
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import ValidationError

MAX_ISSUES = 25
# fhir.resources' words for a malformed date, and what a person can do about it.
_FHIR_DATE_FORMATS = {
    "Date value string does not match spec regex.": "Give the date as YYYY-MM-DD (FHIR also allows YYYY or "
    "YYYY-MM), in ASCII digits, for example 1961-04-02.",
    "DateTime value string does not match spec regex.": "Give the date and time as "
    "YYYY-MM-DDThh:mm:ss+zz:zz, in ASCII digits, for example 2026-11-24T10:00:00+00:00.",
}


@dataclass(frozen=True)
class Issue:
    """One OperationOutcome.issue: a FHIR IssueType code, a sentence, a FHIRPath."""

    code: str
    diagnostics: str
    expression: str = ""


class FHIRInputError(Exception):
    def __init__(self, issues: list[Issue]):
        self.issues = issues[:MAX_ISSUES]
        super().__init__("; ".join(issue.diagnostics for issue in self.issues))


Resolver = Callable[[str | None, str], dict | None]


def validated(model, body: dict, root: str) -> dict:
    """The resource as plain JSON after the fhir.resources model has read it."""
    try:
        resource = model.model_validate(body)
    except ValidationError as exc:
        raise FHIRInputError([_pydantic_issue(root, error) for error in exc.errors()]) from None
    except KeyError as exc:
        # fhir.resources looks nested resources up by "R4.<resourceType>Type".
        name = str(exc.args[0]).removeprefix("R4.").removesuffix("Type")
        raise FHIRInputError(
            [
                Issue(
                    "structure",
                    f"This {root} holds a resource of type {name!r}, which FHIR R4 does not have.",
                )
            ]
        ) from None
    except (TypeError, ValueError, AttributeError) as exc:
        raise FHIRInputError(
            [Issue("structure", f"This is not readable as a FHIR R4 {root}: {exc}.")]
        ) from None
    return json.loads(resource.model_dump_json(exclude_none=True))


def _pydantic_issue(root: str, error: dict) -> Issue:
    path = root + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in error["loc"])
    message = error["msg"].removeprefix("Value error, ")
    message = _FHIR_DATE_FORMATS.get(message, message)
    kind = error["type"]
    code = "required" if kind.endswith("missing") else "structure" if kind == "extra_forbidden" else "value"
    return Issue(code, f"{path}: {message}", path)


def bundle_parts(bundle: dict) -> tuple[dict, dict[str, dict]]:
    if bundle.get("type") != "transaction":
        raise FHIRInputError(
            [
                Issue(
                    "not-supported",
                    f"Send the Bundle as type 'transaction' (got {bundle.get('type')!r}), "
                    "or post the ServiceRequest alone with its Patient and Condition contained.",
                    "Bundle.type",
                )
            ]
        )
    entries: dict[str, dict] = {}
    requests = []
    for entry in bundle.get("entry", []):
        resource = entry.get("resource")
        if not resource:
            continue
        if resource["resourceType"] == "ServiceRequest":
            requests.append(resource)
        for key in _keys(entry.get("fullUrl"), resource):
            entries[key] = resource
    if len(requests) != 1:
        raise FHIRInputError(
            [
                Issue(
                    "invalid",
                    f"The Bundle must hold one ServiceRequest (the referral); it has {len(requests)}.",
                    "Bundle.entry",
                )
            ]
        )
    return requests[0], entries


def _keys(full_url: str | None, resource: dict) -> list[str]:
    """Every way a reference may name this entry: its fullUrl, Type/id, and the
    Type/id at the end of an absolute fullUrl."""
    keys = [full_url] if full_url else []
    if resource.get("id"):
        keys.append(f"{resource['resourceType']}/{resource['id']}")
    if full_url and full_url.startswith("http"):
        keys.append("/".join(full_url.rstrip("/").split("/")[-2:]))
    return keys


def resolver(request: dict, entries: dict[str, dict]) -> Resolver:
    contained = {f"#{res['id']}": res for res in request.get("contained", []) if res.get("id")}

    def resolve(reference: str | None, resource_type: str) -> dict | None:
        found = contained.get(reference or "") or entries.get(reference or "")
        return found if found and found["resourceType"] == resource_type else None

    return resolve


def all_of_type(request: dict, resolve: Resolver, resource_type: str) -> list[dict]:
    """Resources of a type the request points at through supportingInfo, or contains."""
    found = [
        res
        for ref in request.get("supportingInfo", [])
        if (res := resolve(ref.get("reference"), resource_type)) is not None
    ]
    found += [res for res in request.get("contained", []) if res["resourceType"] == resource_type]
    unique: dict[int, dict] = {id(res): res for res in found}
    return list(unique.values())


def describe(coding: dict) -> str:
    return " ".join(filter(None, [coding.get("code"), coding.get("display")]))
