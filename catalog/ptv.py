"""Reading PTV Open API v11 JSON (Service and ServiceChannel objects) into validated, normalised records.

Parsing is separate from storing so that a whole import run can be checked before the database is
touched: any structural problem raises PTVFormatError naming the file and the item.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Any

from catalog.coords import tm35fin_to_wgs84
from catalog.hours import EXCEPTIONAL, WEEKLY, HoursEntry, OpeningRange
from catalog.models import (
    KIND_CHAT,
    KIND_LOCATION,
    KIND_PHONE,
    KIND_WEB,
    SCOPE_LOCAL,
    SCOPE_NATIONAL,
    SCOPE_REGIONAL,
    SOURCE_CURATED,
    SOURCE_PTV,
)
from core.clock import HELSINKI
from core.phone import format_phone

DEFAULT_MAX_FILE_BYTES = 32 * 1024 * 1024
LANGS = ("fi", "sv", "en")

CHANNEL_KINDS = {
    "ServiceLocation": KIND_LOCATION,
    "Phone": KIND_PHONE,
    "EChannel": KIND_CHAT,
    "WebPage": KIND_WEB,
    "PrintableForm": KIND_WEB,
}
HOUR_KINDS = {
    "DaysOfTheWeek": WEEKLY,
    "OverMidnight": WEEKLY,
    "Exceptional": EXCEPTIONAL,
    # PTV API version 7 and older
    "Standard": WEEKLY,
    "Special": WEEKLY,
    "Exception": EXCEPTIONAL,
}
WEEKDAYS = {
    name: i for i, name in enumerate(("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))
}
NATIONWIDE = {"Nationwide", "NationwideExceptAlandIslands", "WholeCountry", "WholeCountryExceptAlandIslands"}
LIMITED = {"LimitedType", "AreaType"}
CHARGE_TYPES = {
    "FreeOfCharge": "free",
    "Free": "free",
    "Chargeable": "charged",
    "Charged": "charged",
    "Other": "other",
}
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$")
_TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?$")


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


# Part of every content hash: bump it when parsing changes, so that the next import rewrites every item.
PARSER_VERSION = "1"


def _raw_hash(item: Mapping[str, Any]) -> str:
    """Hash of the item as PTV sent it: the same JSON re-imported is recognised as unchanged."""
    text = json.dumps(item, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(f"{PARSER_VERSION}\n{text}".encode()).hexdigest()


# --- reading files ----------------------------------------------------------------------------------


def iter_json_files(paths: Sequence[Path | str]) -> list[Path]:
    """Files named on the command line, and *.json files under named folders, in a stable order."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*.json") if p.is_file()))
        elif path.is_file():
            files.append(path)
        else:
            raise PTVFormatError(path, "no such file or folder")
    return files


def read_items(path: Path, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> list[Any]:
    """The items of one file: a single object, a list, or a paged result {"itemList": [...]}."""
    size = path.stat().st_size
    if size > max_bytes:
        raise PTVFormatError(
            path,
            f"file is {size / 1_048_576:.1f} MB, more than the {max_bytes / 1_048_576:.0f} MB limit; "
            "import PTV's pages as separate files (or raise --max-file-mb)",
        )
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PTVFormatError(
            path, f"not UTF-8 text (invalid byte 0x{raw[exc.start]:02x} at offset {exc.start})"
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PTVFormatError(path, f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    if isinstance(data, dict) and "itemList" in data:
        items = data["itemList"]
        if items is None:
            return []
        if not isinstance(items, list):
            raise PTVFormatError(path, '"itemList" is not a list')
        return items
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        return [data]
    raise PTVFormatError(path, f"expected a JSON object or list, found {type(data).__name__}")


def parse_file(path: Path, max_bytes: int = DEFAULT_MAX_FILE_BYTES) -> Iterator[ParsedService | ParsedChannel]:
    for index, item in enumerate(read_items(path, max_bytes)):
        yield parse_item(item, path, index)


def parse_item(item: Any, path: Path | str, index: int) -> ParsedService | ParsedChannel:
    """Validate and normalise one PTV object; raises PTVFormatError naming the file and item."""
    if not isinstance(item, dict):
        raise PTVFormatError(path, f"expected a JSON object, found {type(item).__name__}", index)
    raw_id = item.get("id")
    item_id = raw_id if isinstance(raw_id, str) else None
    ctx = _Ctx(path, index, item_id)
    if raw_id is None or (isinstance(raw_id, str) and not raw_id.strip()):
        ctx.fail('missing "id"')
    if not isinstance(raw_id, str) or not _ID_RE.match(raw_id):
        ctx.fail(f'"id" is not a valid identifier: {raw_id!r}')
    if "serviceChannelType" in item or "serviceChannelNames" in item:
        return _parse_channel(item, ctx)
    if "serviceNames" in item:
        return _parse_service(item, ctx)
    ctx.fail("neither a PTV Service (serviceNames) nor a ServiceChannel (serviceChannelType)")
    raise AssertionError  # unreachable


@dataclass
class _Ctx:
    path: Path | str
    index: int
    item_id: str | None

    def fail(self, message: str) -> None:
        raise PTVFormatError(self.path, message, self.index, self.item_id)

    @property
    def origin(self) -> str:
        return f"{self.path}#{self.index}"


# --- field helpers ------------------------------------------------------------------------------------


def _list(item: Mapping[str, Any], key: str, ctx: _Ctx) -> list[Any]:
    value = item.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        ctx.fail(f'"{key}" should be a list, found {type(value).__name__}')
    return value


def _dicts(item: Mapping[str, Any], key: str, ctx: _Ctx) -> list[dict[str, Any]]:
    values = _list(item, key, ctx)
    for value in values:
        if not isinstance(value, dict):
            ctx.fail(f'"{key}" should hold objects, found {type(value).__name__}')
    return values


def _str(value: Any, key: str, ctx: _Ctx) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        ctx.fail(f'"{key}" should be a string, found {type(value).__name__}')
    value = value.strip()
    return value or None


def _bool(value: Any, key: str, ctx: _Ctx) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        ctx.fail(f'"{key}" should be true or false, found {value!r}')
    return value


def _localized(item: Mapping[str, Any], key: str, ctx: _Ctx, types: Sequence[str] | None = None) -> dict[str, str]:
    """{"fi": ..., "sv": ...} from a PTV localized list, picking the first of `types` present per language."""
    out: dict[str, tuple[int, str]] = {}
    for entry in _dicts(item, key, ctx):
        lang = _str(entry.get("language"), f"{key}.language", ctx)
        value = _str(entry.get("value"), f"{key}.value", ctx)
        if not lang or not value:
            continue
        kind = entry.get("type")
        if types is not None:
            if kind not in types:
                continue
            rank = types.index(kind)
        else:
            rank = 0
        if lang not in out or rank < out[lang][0]:
            out[lang] = (rank, value)
    return {lang: value for lang, (_rank, value) in out.items()}


def _lang_value(items: Any, key: str, ctx: _Ctx) -> dict[str, str]:
    return _localized({key: items}, key, ctx)


def _pick(values: Mapping[str, str], lang: str = "fi") -> str | None:
    if lang in values:
        return values[lang]
    for other in LANGS:
        if other in values:
            return values[other]
    return next(iter(values.values()), None)


def _datetime(value: Any, key: str, ctx: _Ctx) -> datetime | None:
    text = _str(value, key, ctx)
    if text is None:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        ctx.fail(f'"{key}" is not an ISO 8601 date-time: {text!r}')
        raise AssertionError from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
    return parsed.replace(microsecond=0)


def _local_date(value: Any, key: str, ctx: _Ctx) -> date | None:
    """A PTV validity bound as a Helsinki calendar date (PTV sends midnight local time in UTC)."""
    text = _str(value, key, ctx)
    if text is None:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            return date.fromisoformat(text)
        except ValueError:
            ctx.fail(f'"{key}" is not an ISO 8601 date: {text!r}')
            raise AssertionError from None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(HELSINKI)
    return parsed.date()


def _time(value: Any, key: str, ctx: _Ctx) -> time:
    text = _str(value, key, ctx)
    match = _TIME_RE.match(text or "")
    if not match:
        ctx.fail(f'"{key}" is not a clock time: {value!r}')
        raise AssertionError
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour == 24 and minute == 0:
        return time(0)
    if hour > 23 or minute > 59:
        ctx.fail(f'"{key}" is not a clock time: {value!r}')
    return time(hour, minute)


def _weekday(value: Any, key: str, ctx: _Ctx) -> int | None:
    text = _str(value, key, ctx)
    if text is None:
        return None
    day = WEEKDAYS.get(text.lower())
    if day is None:
        ctx.fail(f'"{key}" is not a weekday: {text!r}')
    return day


def _meta(item: Mapping[str, Any], ctx: _Ctx) -> Meta:
    raw = item.get("perheopas")
    if raw is None:
        return Meta()
    if not isinstance(raw, dict):
        ctx.fail('"perheopas" should be an object')
    source = _str(raw.get("source"), "perheopas.source", ctx) or SOURCE_CURATED
    if source not in (SOURCE_PTV, SOURCE_CURATED):
        ctx.fail(f'"perheopas.source" should be "ptv" or "curated", found {source!r}')
    checked_text = _str(raw.get("checked"), "perheopas.checked", ctx)
    checked = None
    if checked_text:
        try:
            checked = date.fromisoformat(checked_text)
        except ValueError:
            ctx.fail(f'"perheopas.checked" is not a date (YYYY-MM-DD): {checked_text!r}')
    return Meta(
        source=source,
        is_example=_bool(raw.get("example"), "perheopas.example", ctx),
        source_url=_str(raw.get("sourceUrl"), "perheopas.sourceUrl", ctx),
        checked=checked,
    )


def _status(item: Mapping[str, Any], ctx: _Ctx) -> tuple[bool, str]:
    status = _str(item.get("publishingStatus"), "publishingStatus", ctx) or "Published"
    return status == "Published", status


def _ref_ids(entries: list[dict[str, Any]], outer: str, key: str, ctx: _Ctx) -> list[str]:
    ids: list[str] = []
    for entry in entries:
        ref = entry.get(outer)
        if not isinstance(ref, dict):
            ctx.fail(f'"{key}" entries need a "{outer}" object')
        ref_id = ref.get("id")
        if not isinstance(ref_id, str) or not _ID_RE.match(ref_id):
            ctx.fail(f'"{key}.{outer}.id" is not a valid identifier: {ref_id!r}')
        if ref_id not in ids:
            ids.append(ref_id)
    return ids


def _municipality(raw: Any, key: str, ctx: _Ctx) -> AreaMunicipality | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        ctx.fail(f'"{key}" should be an object')
    code = _str(raw.get("code"), f"{key}.code", ctx)
    if code is None:
        return None
    if not code.isdigit() or len(code) > 3:
        ctx.fail(f'"{key}.code" is not a municipality code: {code!r}')
    names = _lang_value(raw.get("name"), f"{key}.name", ctx)
    return AreaMunicipality(code.zfill(3), names.get("fi") or _pick(names), names.get("sv"))


def _areas(item: Mapping[str, Any], ctx: _Ctx) -> tuple[str | None, list[Area]]:
    area_type = _str(item.get("areaType"), "areaType", ctx)
    if area_type is not None and area_type not in NATIONWIDE | LIMITED:
        ctx.fail(f'unknown "areaType": {area_type!r}')
    areas: list[Area] = []
    for entry in _dicts(item, "areas", ctx):
        kind = _str(entry.get("type"), "areas.type", ctx) or "Municipality"
        names = _lang_value(entry.get("name"), "areas.name", ctx)
        municipalities = [
            m
            for m in (_municipality(raw, "areas.municipalities", ctx) for raw in _list(entry, "municipalities", ctx))
            if m is not None
        ]
        code = _str(entry.get("code"), "areas.code", ctx)
        if kind == "Municipality" and not municipalities and code:
            single = _municipality({"code": code, "name": entry.get("name")}, "areas", ctx)
            municipalities = [single] if single else []
        areas.append(Area(kind, code, names.get("fi") or _pick(names), municipalities))
    extra = [
        m for m in (_municipality(r, "areaMunicipalities", ctx) for r in _list(item, "areaMunicipalities", ctx)) if m
    ]
    if extra:
        areas.append(Area("Municipality", None, None, extra))
    return area_type, areas


# --- phones --------------------------------------------------------------------------------------------


def _phones(item: Mapping[str, Any], key: str, ctx: _Ctx, warnings: list[str]) -> list[ParsedPhone]:
    phones: list[ParsedPhone] = []
    for entry in _dicts(item, key, ctx):
        number = _str(entry.get("number"), f"{key}.number", ctx)
        if number is None:
            warnings.append(f"{key}: an entry without a number was ignored")
            continue
        prefix = _str(entry.get("prefixNumber"), f"{key}.prefixNumber", ctx)
        service_number = _bool(entry.get("isFinnishServiceNumber"), f"{key}.isFinnishServiceNumber", ctx)
        charge_raw = _str(entry.get("serviceChargeType"), f"{key}.serviceChargeType", ctx)
        charge = CHARGE_TYPES.get(charge_raw or "")
        if charge_raw and charge is None:
            ctx.fail(f'unknown "{key}.serviceChargeType": {charge_raw!r}')
        phones.append(
            ParsedPhone(
                phone_type=_str(entry.get("type"), f"{key}.type", ctx) or "Phone",
                prefix=prefix,
                number=number,
                display=format_phone(prefix, number, service_number),
                charge_type=charge,
                charge_description=_str(entry.get("chargeDescription"), f"{key}.chargeDescription", ctx),
                info=_str(entry.get("additionalInformation"), f"{key}.additionalInformation", ctx),
                language=_str(entry.get("language"), f"{key}.language", ctx),
            )
        )
    return phones


# --- hours ---------------------------------------------------------------------------------------------


def _hours(entries: list[dict[str, Any]], ctx: _Ctx) -> list[HoursEntry]:
    out: list[HoursEntry] = []
    for entry in entries:
        raw_kind = _str(entry.get("serviceHourType"), "serviceHours.serviceHourType", ctx)
        kind = HOUR_KINDS.get(raw_kind or "")
        if kind is None:
            ctx.fail(f'unknown "serviceHours.serviceHourType": {raw_kind!r}')
        ranges: list[OpeningRange] = []
        for rng in _dicts(entry, "openingHour", ctx):
            day_from = _weekday(rng.get("dayFrom"), "openingHour.dayFrom", ctx)
            day_to = _weekday(rng.get("dayTo"), "openingHour.dayTo", ctx)
            if kind == WEEKLY and day_from is None:
                ctx.fail("weekly openingHour without dayFrom")
            ranges.append(
                OpeningRange(
                    start=_time(rng.get("from"), "openingHour.from", ctx),
                    end=_time(rng.get("to"), "openingHour.to", ctx),
                    day_from=day_from,
                    day_to=None if day_to == day_from else day_to,
                )
            )
        valid_from = _local_date(entry.get("validFrom"), "serviceHours.validFrom", ctx)
        valid_to = _local_date(entry.get("validTo"), "serviceHours.validTo", ctx)
        if kind == EXCEPTIONAL and valid_from is None:
            ctx.fail("exceptional serviceHours without validFrom")
        if valid_from and valid_to and valid_to < valid_from:
            ctx.fail(f"serviceHours validTo {valid_to} is before validFrom {valid_from}")
        info = _lang_value(entry.get("additionalInformation"), "serviceHours.additionalInformation", ctx)
        out.append(
            HoursEntry(
                kind=kind,
                ranges=tuple(ranges),
                valid_from=valid_from,
                valid_to=valid_to,
                closed=_bool(entry.get("isClosed"), "serviceHours.isClosed", ctx),
                always_open=_bool(entry.get("isAlwaysOpen"), "serviceHours.isAlwaysOpen", ctx),
                reservation=_bool(entry.get("isReservation"), "serviceHours.isReservation", ctx),
                info=info.get("fi") or _pick(info),
            )
        )
    return out


# --- addresses -----------------------------------------------------------------------------------------


def _coordinate(value: Any, key: str, ctx: _Ctx) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(str(value).replace(",", "."))
    except ValueError:
        ctx.fail(f'"{key}" is not a number: {value!r}')
        raise AssertionError from None


def _addresses(item: Mapping[str, Any], ctx: _Ctx, warnings: list[str]) -> list[ParsedAddress]:
    out: list[ParsedAddress] = []
    for entry in _dicts(item, "addresses", ctx):
        kind = "postal" if entry.get("type") == "Postal" else "visiting"
        street = entry.get("streetAddress") or entry.get("otherAddress") or entry.get("postOfficeBoxAddress")
        if street is None:
            continue
        if not isinstance(street, dict):
            ctx.fail('"addresses" entries need an address object')
        names = _lang_value(street.get("street") or street.get("postOfficeBox"), "addresses.street", ctx)
        offices = _lang_value(street.get("postOffice"), "addresses.postOffice", ctx)
        info = _lang_value(street.get("additionalInformation"), "addresses.additionalInformation", ctx)
        northing = _coordinate(street.get("latitude"), "addresses.latitude", ctx)
        easting = _coordinate(street.get("longitude"), "addresses.longitude", ctx)
        lat = lon = None
        if northing is not None and easting is not None:
            try:
                lat, lon = tm35fin_to_wgs84(northing, easting)
            except ValueError as exc:
                warnings.append(f"coordinates ignored: {exc}")
                northing = easting = None
        out.append(
            ParsedAddress(
                kind=kind,
                street=names.get("fi") or _pick(names),
                street_number=_str(street.get("streetNumber"), "addresses.streetNumber", ctx),
                postal_code=_str(street.get("postalCode"), "addresses.postalCode", ctx),
                post_office=offices.get("fi") or _pick(offices),
                municipality=_municipality(street.get("municipality"), "addresses.municipality", ctx),
                info_fi=info.get("fi") or _pick(info),
                northing=northing,
                easting=easting,
                lat=lat,
                lon=lon,
            )
        )
    return out


def _first_url(item: Mapping[str, Any], ctx: _Ctx, *keys: str) -> str | None:
    for key in keys:
        best: tuple[int, str] | None = None
        for entry in _dicts(item, key, ctx):
            url = _str(entry.get("url") or entry.get("value"), f"{key}.url", ctx)
            if not url:
                continue
            rank = {"fi": 0, None: 1}.get(entry.get("language"), 2)
            if best is None or rank < best[0]:
                best = (rank, url)
        if best:
            return best[1]
    return None


def _first_email(item: Mapping[str, Any], ctx: _Ctx, *keys: str) -> str | None:
    for key in keys:
        values = _lang_value(item.get(key), key, ctx)
        if values:
            return _pick(values)
    return None


# --- objects -------------------------------------------------------------------------------------------


def _names(item: Mapping[str, Any], key: str, ctx: _Ctx) -> dict[str, str]:
    names = _localized(item, key, ctx, types=("Name", "AlternativeName", "AlternateName"))
    if not names:
        ctx.fail(f'no name in "{key}"')
    return names


def _descriptions(item: Mapping[str, Any], key: str, ctx: _Ctx) -> tuple[dict[str, str], dict[str, str]]:
    summaries = _localized(item, key, ctx, types=("Summary", "ShortDescription"))
    descriptions = _localized(item, key, ctx, types=("Description",))
    return summaries, descriptions


def _parse_service(item: Mapping[str, Any], ctx: _Ctx) -> ParsedService:
    assert ctx.item_id is not None
    published, status = _status(item, ctx)
    summaries, descriptions = _descriptions(item, "serviceDescriptions", ctx)
    terms: list[tuple[str, str, str | None]] = []
    seen: set[tuple[str, str]] = set()
    for key, kind in (
        ("serviceClasses", "service_class"),
        ("ontologyTerms", "ontology_term"),
        ("lifeEvents", "life_event"),
        ("targetGroups", "target_group"),
    ):
        for entry in _dicts(item, key, ctx):
            code = _str(entry.get("code"), f"{key}.code", ctx)
            uri = _str(entry.get("uri"), f"{key}.uri", ctx)
            if code is None and uri:
                code = uri.rstrip("/").rsplit("/", 1)[-1]
            if code is None:
                continue
            labels = _lang_value(entry.get("name"), f"{key}.name", ctx)
            if (kind, code) not in seen:
                seen.add((kind, code))
                terms.append((kind, code[:200], (labels.get("fi") or _pick(labels) or "")[:300] or None))
    for entry in _dicts(item, "keywords", ctx):
        value = _str(entry.get("value"), "keywords.value", ctx)
        if value and ("keyword", value.lower()[:200]) not in seen:
            seen.add(("keyword", value.lower()[:200]))
            terms.append(("keyword", value.lower()[:200], value[:300]))
    organisation = None
    for entry in sorted(
        _dicts(item, "organizations", ctx), key=lambda e: 0 if e.get("roleType") == "Responsible" else 1
    ):
        org = entry.get("organization")
        if isinstance(org, dict) and isinstance(org.get("id"), str) and _ID_RE.match(org["id"]):
            organisation = (org["id"], _str(org.get("name"), "organizations.organization.name", ctx))
            break
    area_type, _ = _areas(item, ctx)
    languages = [lang for lang in _list(item, "languages", ctx) if isinstance(lang, str)]
    charge = _str(item.get("serviceChargeType"), "serviceChargeType", ctx)
    return ParsedService(
        source_id=ctx.item_id,
        meta=_meta(item, ctx),
        published=published,
        status=status,
        names=_names(item, "serviceNames", ctx),
        summaries=summaries,
        descriptions=descriptions,
        service_type=_str(item.get("type"), "type", ctx),
        charge_type=CHARGE_TYPES.get(charge or "", charge),
        area_type=area_type,
        languages=languages,
        terms=terms,
        channel_ids=_ref_ids(_dicts(item, "serviceChannels", ctx), "serviceChannel", "serviceChannels", ctx),
        organisation=organisation,
        modified=_datetime(item.get("modified"), "modified", ctx),
        raw_hash=_raw_hash(item),
        origin=ctx.origin,
    )


def _parse_channel(item: Mapping[str, Any], ctx: _Ctx) -> ParsedChannel:
    assert ctx.item_id is not None
    ptv_type = _str(item.get("serviceChannelType"), "serviceChannelType", ctx)
    if ptv_type is None:
        ctx.fail('missing "serviceChannelType"')
    kind = CHANNEL_KINDS.get(ptv_type or "")
    if kind is None:
        ctx.fail(f'unknown channel type "serviceChannelType": {ptv_type!r} (known: {", ".join(CHANNEL_KINDS)})')
    assert ptv_type is not None and kind is not None
    published, status = _status(item, ctx)
    warnings: list[str] = []
    names = _localized(item, "serviceChannelNames", ctx, types=("Name", "AlternativeName", "AlternateName"))
    alternative = _localized(item, "serviceChannelNames", ctx, types=("AlternativeName", "AlternateName"))
    for entry in _dicts(item, "displayNameType", ctx):
        lang = entry.get("language")
        if entry.get("type") == "AlternativeName" and lang in alternative:
            names[lang] = alternative[lang]
    if not names:
        ctx.fail('no name in "serviceChannelNames"')
    summaries, descriptions = _descriptions(item, "serviceChannelDescriptions", ctx)
    area_type, areas = _areas(item, ctx)
    services = _dicts(item, "services", ctx)
    hour_entries = _dicts(item, "serviceHours", ctx)
    if not hour_entries:
        # Hours may be given only on the service connection; use the first connection that has them.
        for connection in services:
            hour_entries = _dicts(connection, "serviceHours", ctx)
            if hour_entries:
                break
    phones = _phones(item, "phoneNumbers", ctx, warnings) + _phones(item, "supportPhones", ctx, warnings)
    organisation_id = _str(item.get("organizationId"), "organizationId", ctx)
    if organisation_id is not None and not _ID_RE.match(organisation_id):
        ctx.fail(f'"organizationId" is not a valid identifier: {organisation_id!r}')
    return ParsedChannel(
        source_id=ctx.item_id,
        meta=_meta(item, ctx),
        published=published,
        status=status,
        ptv_type=ptv_type,
        kind=kind,
        names=names,
        summaries=summaries,
        descriptions=descriptions,
        organisation_id=organisation_id,
        area_type=area_type,
        areas=areas,
        languages=[lang for lang in _list(item, "languages", ctx) if isinstance(lang, str)],
        url=_first_url(item, ctx, "webPages", "urls", "channelUrls"),
        email=_first_email(item, ctx, "emails", "supportEmails"),
        addresses=_addresses(item, ctx, warnings),
        phones=phones,
        hours=_hours(hour_entries, ctx),
        service_ids=_ref_ids(services, "service", "services", ctx),
        modified=_datetime(item.get("modified"), "modified", ctx),
        warnings=warnings,
        raw_hash=_raw_hash(item),
        origin=ctx.origin,
    )
