"""The clinic's treatment protocols (rule set v3, rule 1) as plain data, and which one covers a draft.

`Protocol.from_dict` reads the JSON format of DESIGN.md ("Protocol file and `recommend`") with
structural checks only, each error naming the field (`ProtocolError.field`); whether a protocol has
what its basis requires is checked elsewhere. Coverage is pure: a protocol covers a draft when it is
active, lists the main code (the code, a category or subcategory above it, or a range holding it in
tabular order), has the candidate route, admits the patient's age at intake and, for local
injection, allows every listed site. Among those that cover, the most specific matching indication
wins (more characters is more specific; a range is least specific), ties going to the id first in
byte order.
"""

from dataclasses import dataclass
from datetime import date

from intake.vocabulary.tabular import compact, in_spec, is_range

ROUTES = ("local_injection", "intravenous")
BASES = (
    "approved_product",
    "ind",
    "irb_trial",
    "same_surgical_procedure",
    "minimal_manipulation_homologous",
    "non_us_authorisation",
)
LIFTING_BASES = ("approved_product", "ind")  # may lift a malignancy or acute-illness stop
ASSENT_BASES = ("ind", "irb_trial")  # a minor also needs assent (21 CFR 50.55) unless waived


class ProtocolError(ValueError):
    def __init__(self, field_name: str, message: str):
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.message = message


@dataclass(frozen=True)
class Limit:
    min: float | None = None
    max: float | None = None

    def excludes(self, value: float) -> bool:
        return (self.min is not None and value < self.min) or (self.max is not None and value > self.max)

    def text(self) -> str:
        parts = ([f"at least {self.min:g}"] if self.min is not None else []) + (
            [f"at most {self.max:g}"] if self.max is not None else []
        )
        return " and ".join(parts)


@dataclass(frozen=True)
class Protocol:
    id: str
    version: int
    title: str
    route: str
    indications: tuple[str, ...]
    basis: str
    active: bool = True
    sites: tuple[str, ...] = ()
    max_sites_per_session: int | None = None
    age_min: int | None = None  # None: the age of majority (rule 6), or 0 with min_months
    age_max: int | None = None
    age_min_months: int | None = None
    reference: str = ""
    basis_rationale: str = ""
    requires: tuple[str, ...] = ()
    limits: tuple[tuple[str, Limit], ...] = ()
    follow_up_instruments: tuple[str, ...] = ()
    follow_up_days: tuple[int, ...] = ()
    clinic_role: str | None = None
    irb_report_days: int | None = None
    assent_waived: bool = False

    @classmethod
    def from_dict(cls, data: object) -> "Protocol":
        return _parse(data)

    def as_dict(self) -> dict:
        age: dict = {"min": self.age_min, "max": self.age_max}
        if self.age_min_months is not None:
            age["min_months"] = self.age_min_months
        data = {
            "id": self.id,
            "version": self.version,
            "title": self.title,
            "route": self.route,
            "active": self.active,
            "indications": list(self.indications),
            "sites": list(self.sites),
            "max_sites_per_session": self.max_sites_per_session,
            "age": age,
            "basis": self.basis,
            "reference": self.reference,
            "basis_rationale": self.basis_rationale,
            "requires": list(self.requires),
            "limits": {key: _limit_dict(limit) for key, limit in self.limits},
            "follow_up": {"instruments": list(self.follow_up_instruments), "days": list(self.follow_up_days)},
        }
        for name in ("clinic_role", "irb_report_days"):
            if getattr(self, name) is not None:
                data[name] = getattr(self, name)
        if self.assent_waived:
            data["assent_waived"] = True
        return data

    @property
    def ref(self) -> dict:
        return {"id": self.id, "version": self.version}

    def minimum_age(self, age_of_majority: int) -> int:
        if self.age_min is not None:
            return self.age_min
        return 0 if self.age_min_months is not None else age_of_majority

    def admits_age(self, birth_date: date, intake_date: date, age_of_majority: int) -> bool:
        years = whole_years(birth_date, intake_date)
        if years < self.minimum_age(age_of_majority):
            return False
        if self.age_max is not None and years > self.age_max:
            return False
        return self.age_min_months is None or whole_months(birth_date, intake_date) >= self.age_min_months

    def age_text(self, age_of_majority: int) -> str:
        text = f"from {self.minimum_age(age_of_majority)} years"
        if self.age_min_months is not None:
            text += f" and {self.age_min_months} months of age"
        return text + (f" to {self.age_max} years" if self.age_max is not None else "")

    def specificity(self, code: str) -> int | None:
        """How specifically the protocol lists `code` (characters of its best matching indication;
        0 for a range), or None when it does not list it."""
        found = [
            0 if is_range(spec) else len(compact(spec)) for spec in self.indications if in_spec(code, spec)
        ]
        return max(found) if found else None

    def lists(self, code: str) -> bool:
        return self.specificity(code) is not None


def _limit_dict(limit: Limit) -> dict:
    return {name: value for name, value in (("min", limit.min), ("max", limit.max)) if value is not None}


def whole_years(birth_date: date, day: date) -> int:
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def whole_months(birth_date: date, day: date) -> int:
    return (day.year - birth_date.year) * 12 + day.month - birth_date.month - (day.day < birth_date.day)


def live(protocols: tuple[Protocol, ...] | list[Protocol]) -> list[Protocol]:
    """The active protocols, one version per id (the highest, should two be active)."""
    newest: dict[str, Protocol] = {}
    for protocol in protocols:
        if protocol.active and (protocol.id not in newest or protocol.version > newest[protocol.id].version):
            newest[protocol.id] = protocol
    return list(newest.values())


def by_specificity(protocols: list[Protocol], code: str) -> list[Protocol]:
    """Protocols listing `code`, most specific first, ties by id in byte order."""
    listing = [p for p in protocols if p.lists(code)]
    return sorted(listing, key=lambda p: (-(p.specificity(code) or 0), p.id.encode()))


def covering(
    protocols: list[Protocol],
    *,
    code: str,
    route: str,
    birth_date: date,
    intake_date: date,
    sites: tuple[str, ...],
    age_of_majority: int,
) -> Protocol | None:
    """The protocol that covers the draft (rule 1), or None."""
    for protocol in by_specificity(live(protocols), code):
        if protocol.route != route or not protocol.admits_age(birth_date, intake_date, age_of_majority):
            continue
        if route == "local_injection" and not set(sites) <= set(protocol.sites):
            continue
        return protocol
    return None


def routes_listing(protocols: list[Protocol], code: str) -> dict[str, list[str]]:
    """route -> ids of the active protocols that list `code` (listing alone, rule 1)."""
    found: dict[str, list[str]] = {}
    for protocol in by_specificity(live(protocols), code):
        found.setdefault(protocol.route, []).append(protocol.id)
    return found


# --- structural parsing -------------------------------------------------------------------------

_TOP = {
    "id", "version", "title", "route", "active", "indications", "sites", "max_sites_per_session", "age",
    "basis", "reference", "basis_rationale", "requires", "limits", "follow_up", "clinic_role",
    "irb_report_days", "assent_waived",
}  # fmt: skip


def _want(data: dict, name: str, kinds, *, required: bool = False, default=None, label: str = ""):
    if name not in data or data[name] is None:
        if required:
            raise ProtocolError(name, "is required.")
        return default
    value = data[name]
    if isinstance(value, bool) and bool not in (kinds if isinstance(kinds, tuple) else (kinds,)):
        raise ProtocolError(name, f"must be {label}.")
    if not isinstance(value, kinds):
        raise ProtocolError(name, f"must be {label}.")
    return value


def _within(prefix: str, read, *args, **kwargs):
    try:
        return read(*args, **kwargs)
    except ProtocolError as error:
        raise ProtocolError(f"{prefix}/{error.field}", error.message) from None


def _int(data: dict, name: str, *, required: bool = False, minimum: int = 0) -> int | None:
    value = _want(data, name, int, required=required, label="a whole number")
    if value is not None and value < minimum:
        raise ProtocolError(name, f"must be at least {minimum}.")
    return value


def _strings(data: dict, name: str) -> tuple[str, ...]:
    values = _want(data, name, list, default=[], label="a list of strings")
    for index, value in enumerate(values):
        if not isinstance(value, str) or not value.strip():
            raise ProtocolError(f"{name}/{index}", "must be a non-empty string.")
    return tuple(value.strip() for value in values)


def _parse(data: object) -> Protocol:
    if not isinstance(data, dict):
        raise ProtocolError("protocol", "must be an object.")
    unknown = sorted(set(data) - _TOP)
    if unknown:
        raise ProtocolError(unknown[0], "is not a protocol field.")
    protocol_id = _want(data, "id", str, required=True, label="a slug")
    if not protocol_id.strip() or not all(ch.isalnum() or ch in "-_" for ch in protocol_id):
        raise ProtocolError("id", "must be a slug: letters, digits, '-' and '_'.")
    route = _want(data, "route", str, required=True, label="a string")
    if route not in ROUTES:
        raise ProtocolError("route", f"must be one of {', '.join(ROUTES)}.")
    basis = _want(data, "basis", str, required=True, label="a string")
    if basis not in BASES:
        raise ProtocolError("basis", f"must be one of {', '.join(BASES)}.")
    indications = _strings(data, "indications")
    if not indications:
        raise ProtocolError("indications", "must list at least one code, category or range.")
    age = _want(data, "age", dict, default={}, label="an object with min, max and min_months")
    for name in set(age) - {"min", "max", "min_months"}:
        raise ProtocolError(f"age/{name}", "is not an age field.")
    age_fields = {name: _within("age", _int, age, name) for name in ("min", "max", "min_months")}
    if None not in (age_fields["min"], age_fields["max"]) and age_fields["max"] < age_fields["min"]:
        raise ProtocolError("age/max", "must not be below age/min.")
    limits_data = _want(data, "limits", dict, default={}, label="an object of finding keys")
    limits = []
    for key, bounds in limits_data.items():
        if not isinstance(bounds, dict) or not bounds or set(bounds) - {"min", "max"}:
            raise ProtocolError(f"limits/{key}", "must be an object with min and/or max.")
        for name, value in bounds.items():
            if not isinstance(value, int | float) or isinstance(value, bool):
                raise ProtocolError(f"limits/{key}/{name}", "must be a number.")
        limits.append((key, Limit(bounds.get("min"), bounds.get("max"))))
    follow_up = _want(data, "follow_up", dict, default={}, label="an object with instruments and days")
    days = _within("follow_up", _want, follow_up, "days", list, default=[], label="a list of days")
    if not all(isinstance(day, int) and not isinstance(day, bool) and day >= 0 for day in days):
        raise ProtocolError("follow_up/days", "must be whole numbers of days, 0 or more.")
    title = _want(data, "title", str, required=True, label="a string")
    return Protocol(
        id=protocol_id,
        version=_int(data, "version", required=True, minimum=1),
        title=title,
        route=route,
        indications=indications,
        basis=basis,
        active=_want(data, "active", bool, default=True, label="true or false"),
        sites=_strings(data, "sites"),
        max_sites_per_session=_int(data, "max_sites_per_session", minimum=1),
        age_min=age_fields["min"],
        age_max=age_fields["max"],
        age_min_months=age_fields["min_months"],
        reference=_want(data, "reference", str, default="", label="a string"),
        basis_rationale=_want(data, "basis_rationale", str, default="", label="a string"),
        requires=_strings(data, "requires"),
        limits=tuple(limits),
        follow_up_instruments=_within("follow_up", _strings, follow_up, "instruments"),
        follow_up_days=tuple(days),
        clinic_role=_want(data, "clinic_role", str, label="a string"),
        irb_report_days=_int(data, "irb_report_days", minimum=1),
        assent_waived=_want(data, "assent_waived", bool, default=False, label="true or false"),
    )


def load_protocols(data: object) -> tuple[Protocol, ...]:
    """The protocols of a protocol file (`{"protocols": [...]}`); errors name `protocols/<i>/<field>`."""
    if not isinstance(data, dict) or not isinstance(data.get("protocols"), list):
        raise ProtocolError("protocols", "the file must be an object with a list `protocols`.")
    found = []
    for index, item in enumerate(data["protocols"]):
        try:
            found.append(Protocol.from_dict(item))
        except ProtocolError as error:
            raise ProtocolError(f"protocols/{index}/{error.field}", error.message) from None
    return tuple(found)
