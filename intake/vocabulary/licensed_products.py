"""The FDA-licensed stem-cell-based products (rule set v3, rule 7), as data with sources.

`data/licensed_products.json` lists each product with its licence holder, approval date,
labelled indications, the pages read and when, and the facts no page confirmed
(`unverified`). Notices generate their product list from it, so that no text claims a
list is complete unless it was generated from this one.
"""

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DATA_FILE = Path(__file__).parent / "data" / "licensed_products.json"


@dataclass(frozen=True)
class Source:
    url: str
    what: str
    read: str


@dataclass(frozen=True)
class LicensedProduct:
    id: str
    product: str
    kind: str
    licence_holder: str
    approval_date: str  # YYYY-MM-DD, or YYYY-MM where only the month was confirmed
    labelled_indications: tuple[str, ...]
    icd10: tuple[str, ...]
    sources: tuple[Source, ...]
    unverified: tuple[str, ...]

    @property
    def name(self) -> str:
        """The brand or product name alone ("RYONCIL"), as a protocol's reference names it."""
        return self.product.split(" (", 1)[0]


@dataclass(frozen=True)
class LicensedProducts:
    read: str
    products: tuple[LicensedProduct, ...]

    def find_in(self, text: str) -> LicensedProduct | None:
        """The product a free-text reference names: its full entry ("HPC, Cord Blood (Bloodworks)")
        first, else a name only one product has ("Ryoncil"); a name several products share
        ("HPC, Cord Blood") names none of them."""
        lowered = text.lower()
        full = [p for p in self.products if p.product.lower() in lowered]
        if full:
            return max(full, key=lambda p: len(p.product))
        names = [p.name.lower() for p in self.products]
        unique = [p for p in self.products if names.count(p.name.lower()) == 1 and p.name.lower() in lowered]
        return max(unique, key=lambda p: len(p.name), default=None)


@cache
def licensed_products() -> LicensedProducts:
    data = json.loads(DATA_FILE.read_text(encoding="utf-8"))
    return LicensedProducts(
        read=data["read"],
        products=tuple(
            LicensedProduct(
                id=entry["id"],
                product=entry["product"],
                kind=entry["kind"],
                licence_holder=entry["licence_holder"],
                approval_date=entry["approval_date"],
                labelled_indications=tuple(entry["labelled_indications"]),
                icd10=tuple(entry["icd10"]),
                sources=tuple(Source(**source) for source in entry["sources"]),
                unverified=tuple(entry["unverified"]),
            )
            for entry in data["products"]
        ),
    )
