"""The records PTV import produces: one validated, normalised Service or ServiceChannel, and the format error.

Kept apart from the parsing (catalog/ptv.py, catalog/ptv_fields.py) so that storing and display code
(catalog/store.py, catalog/display.py) depend on the shapes only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from catalog.hours import HoursEntry
from catalog.models import SCOPE_LOCAL, SCOPE_NATIONAL, SCOPE_REGIONAL, SOURCE_PTV

LANGS = ("fi", "sv", "en")


def language_code(raw: str | None) -> str | None:
    """A PTV language code as the catalogue keys it: "sv-FI", "SV" and "sv_FI" are "sv"; other codes as given."""
    if raw is None:
        return None
    code = raw.strip().lower().replace("_", "-").split("-", 1)[0]
    return code if code in LANGS else raw
NATIONWIDE = {"Nationwide", "NationwideExceptAlandIslands", "WholeCountry", "WholeCountryExceptAlandIslands"}


class PTVFormatError(ValueError):
    """Malformed input; the message names the file and, when known, the item (index and id)."""

    def __init__(self, path: Path | str, message: str, index: int | None = None, item_id: str | None = None):
        self.path = str(path)
        self.index = index
        self.item_id = item_id
        self.detail = message
        where = self.path
        if index is not None:
            where += f": item {index}"
            if item_id:
                where += f" (id {item_id})"
        super().__init__(f"{where}: {message}")


@dataclass
class Meta:
    """Perheopas' own extension of a PTV object (key "perheopas"): curated entries and example data."""

    source: str = SOURCE_PTV
    is_example: bool = False
    source_url: str | None = None
    checked: date | None = None


@dataclass
class AreaMunicipality:
    code: str
    name_fi: str | None
    name_sv: str | None


@dataclass
class Area:
    type: str
    code: str | None
    name_fi: str | None
    municipalities: list[AreaMunicipality]


@dataclass
class ParsedAddress:
    kind: str
    street: str | None
    street_number: str | None
    postal_code: str | None
    post_office: str | None
    municipality: AreaMunicipality | None
    info_fi: str | None
    northing: float | None
    easting: float | None
    lat: float | None
    lon: float | None
    # The street and post office names by language as PTV gives them ({"fi": ..., "sv": ...}); the two fields above
    # are the Finnish ones (or the first given).
    streets: dict[str, str] = field(default_factory=dict)
    post_offices: dict[str, str] = field(default_factory=dict)


@dataclass
class ParsedPhone:
    phone_type: str | None
    prefix: str | None
    number: str
    display: str
    charge_type: str | None
    charge_description: str | None
    info: str | None
    language: str | None


@dataclass
class ParsedService:
    source_id: str
    meta: Meta
    published: bool
    status: str
    names: dict[str, str]
    summaries: dict[str, str]
    descriptions: dict[str, str]
    service_type: str | None
    charge_type: str | None
    area_type: str | None
    languages: list[str]
    terms: list[tuple[str, str, str | None]]
    channel_ids: list[str]
    organisation: tuple[str, str | None] | None
    modified: datetime | None
    raw_hash: str = field(default="", compare=False)
    origin: str = field(default="", compare=False)

    def content_hash(self) -> str:
        return self.raw_hash


@dataclass
class ParsedChannel:
    source_id: str
    meta: Meta
    published: bool
    status: str
    ptv_type: str
    kind: str
    names: dict[str, str]
    summaries: dict[str, str]
    descriptions: dict[str, str]
    organisation_id: str | None
    area_type: str | None
    areas: list[Area]
    languages: list[str]
    url: str | None
    email: str | None
    addresses: list[ParsedAddress]
    phones: list[ParsedPhone]
    hours: list[HoursEntry]
    service_ids: list[str]
    modified: datetime | None
    warnings: list[str] = field(default_factory=list, compare=False)
    raw_hash: str = field(default="", compare=False)
    origin: str = field(default="", compare=False)

    def content_hash(self) -> str:
        return self.raw_hash

    @property
    def scope(self) -> str:
        """national for nationwide; regional when any area is larger than a municipality; else local."""
        if self.area_type in NATIONWIDE:
            return SCOPE_NATIONAL
        if any(area.type != "Municipality" for area in self.areas):
            return SCOPE_REGIONAL
        return SCOPE_LOCAL

    @property
    def visiting_municipality(self) -> AreaMunicipality | None:
        for address in self.addresses:
            if address.kind == "visiting" and address.municipality is not None:
                return address.municipality
        return None
