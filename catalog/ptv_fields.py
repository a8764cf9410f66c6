"""Reading the fields of one PTV item: typed values, localized texts, and the phones, hours, addresses and areas.

Every reader checks the JSON type it gets and fails through the item's context, so that the error names the file,
the item and the field (PTVFormatError). Problems that only lose a detail become warnings instead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Any, NoReturn

from catalog.coords import tm35fin_to_wgs84
from catalog.hours import EXCEPTIONAL, WEEKLY, HoursEntry, OpeningRange
from catalog.models import SOURCE_CURATED, SOURCE_PTV
from catalog.ptv_records import (
    LANGS,
    NATIONWIDE,
    Area,
    AreaMunicipality,
    Meta,
    ParsedAddress,
    ParsedPhone,
    PTVFormatError,
    language_code,
)
from core.clock import HELSINKI
from core.phone import format_phone

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
LIMITED = {"LimitedType", "AreaType"}
CHARGE_TYPES = {
    "FreeOfCharge": "free",
    "Free": "free",
    "Chargeable": "charged",
    "Charged": "charged",
    "Other": "other",
}
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$")
_TIME_RE = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?$")


@dataclass
class ItemContext:
    """Where an item is (file, index, id when known): every reader fails through it, so errors name all three."""

    path: Path | str
    index: int
    item_id: str | None

    def fail(self, message: str) -> NoReturn:
        raise PTVFormatError(self.path, message, self.index, self.item_id)

    @property
    def origin(self) -> str:
        return f"{self.path}#{self.index}"


# --- field helpers ------------------------------------------------------------------------------------


def as_list(item: Mapping[str, Any], key: str, ctx: ItemContext) -> list[Any]:
    value = item.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        ctx.fail(f'"{key}" should be a list, found {type(value).__name__}')
    return value


def as_dicts(item: Mapping[str, Any], key: str, ctx: ItemContext) -> list[dict[str, Any]]:
    values = as_list(item, key, ctx)
    for value in values:
        if not isinstance(value, dict):
            ctx.fail(f'"{key}" should hold objects, found {type(value).__name__}')
    return values


def as_str(value: Any, key: str, ctx: ItemContext) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        ctx.fail(f'"{key}" should be a string, found {type(value).__name__}')
    value = value.strip()
    return value or None


def as_bool(value: Any, key: str, ctx: ItemContext) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        ctx.fail(f'"{key}" should be true or false, found {value!r}')
    return value


def localized(
    item: Mapping[str, Any], key: str, ctx: ItemContext, types: Sequence[str] | None = None
) -> dict[str, str]:
    """{"fi": ..., "sv": ...} from a PTV localized list, picking the first of `types` present per language.

    Odd spellings of a language ("SV", "sv-FI") count as it, after an entry that spells it plainly.
    """
    out: dict[str, tuple[tuple[int, int], str]] = {}
    for entry in as_dicts(item, key, ctx):
        raw_lang = as_str(entry.get("language"), f"{key}.language", ctx)
        value = as_str(entry.get("value"), f"{key}.value", ctx)
        lang = language_code(raw_lang)
        if not lang or not value:
            continue
        kind = entry.get("type")
        if types is not None:
            if kind not in types:
                continue
            rank = (types.index(kind), int(lang != raw_lang))
        else:
            rank = (0, int(lang != raw_lang))
        if lang not in out or rank < out[lang][0]:
            out[lang] = (rank, value)
    return {lang: value for lang, (_rank, value) in out.items()}


def lang_value(items: Any, key: str, ctx: ItemContext) -> dict[str, str]:
    return localized({key: items}, key, ctx)


def pick(values: Mapping[str, str], lang: str = "fi") -> str | None:
    if lang in values:
        return values[lang]
    for other in LANGS:
        if other in values:
            return values[other]
    return next(iter(values.values()), None)


def as_datetime(value: Any, key: str, ctx: ItemContext) -> datetime | None:
    text = as_str(value, key, ctx)
    if text is None:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        ctx.fail(f'"{key}" is not an ISO 8601 date-time: {text!r}')
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(timezone.utc).replace(tzinfo=None)
    return parsed.replace(microsecond=0)


def as_local_date(value: Any, key: str, ctx: ItemContext) -> date | None:
    """A PTV validity bound as a Helsinki calendar date (PTV sends midnight local time in UTC)."""
    text = as_str(value, key, ctx)
    if text is None:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            return date.fromisoformat(text)
        except ValueError:
            ctx.fail(f'"{key}" is not an ISO 8601 date: {text!r}')
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(HELSINKI)
    return parsed.date()


def as_time(value: Any, key: str, ctx: ItemContext) -> time:
    text = as_str(value, key, ctx)
    match = _TIME_RE.match(text or "")
    if not match:
        ctx.fail(f'"{key}" is not a clock time: {value!r}')
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour == 24 and minute == 0:
        return time(0)
    if hour > 23 or minute > 59:
        ctx.fail(f'"{key}" is not a clock time: {value!r}')
    return time(hour, minute)


def as_weekday(value: Any, key: str, ctx: ItemContext) -> int | None:
    text = as_str(value, key, ctx)
    if text is None:
        return None
    day = WEEKDAYS.get(text.lower())
    if day is None:
        ctx.fail(f'"{key}" is not a weekday: {text!r}')
    return day


def read_meta(item: Mapping[str, Any], ctx: ItemContext) -> Meta:
    raw = item.get("perheopas")
    if raw is None:
        return Meta()
    if not isinstance(raw, dict):
        ctx.fail('"perheopas" should be an object')
    source = as_str(raw.get("source"), "perheopas.source", ctx) or SOURCE_CURATED
    if source not in (SOURCE_PTV, SOURCE_CURATED):
        ctx.fail(f'"perheopas.source" should be "ptv" or "curated", found {source!r}')
    checked_text = as_str(raw.get("checked"), "perheopas.checked", ctx)
    checked = None
    if checked_text:
        try:
            checked = date.fromisoformat(checked_text)
        except ValueError:
            ctx.fail(f'"perheopas.checked" is not a date (YYYY-MM-DD): {checked_text!r}')
    return Meta(
        source=source,
        is_example=as_bool(raw.get("example"), "perheopas.example", ctx),
        source_url=as_str(raw.get("sourceUrl"), "perheopas.sourceUrl", ctx),
        checked=checked,
    )


def read_status(item: Mapping[str, Any], ctx: ItemContext) -> tuple[bool, str]:
    status = as_str(item.get("publishingStatus"), "publishingStatus", ctx) or "Published"
    return status == "Published", status


def read_ref_ids(entries: list[dict[str, Any]], outer: str, key: str, ctx: ItemContext) -> list[str]:
    ids: list[str] = []
    for entry in entries:
        ref = entry.get(outer)
        if not isinstance(ref, dict):
            ctx.fail(f'"{key}" entries need a "{outer}" object')
        ref_id = ref.get("id")
        if not isinstance(ref_id, str) or not ID_RE.match(ref_id):
            ctx.fail(f'"{key}.{outer}.id" is not a valid identifier: {ref_id!r}')
        if ref_id not in ids:
            ids.append(ref_id)
    return ids


def read_municipality(raw: Any, key: str, ctx: ItemContext) -> AreaMunicipality | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        ctx.fail(f'"{key}" should be an object')
    code = as_str(raw.get("code"), f"{key}.code", ctx)
    if code is None:
        return None
    if not code.isdigit() or len(code) > 3:
        ctx.fail(f'"{key}.code" is not a municipality code: {code!r}')
    names = lang_value(raw.get("name"), f"{key}.name", ctx)
    return AreaMunicipality(code.zfill(3), names.get("fi") or pick(names), names.get("sv"))


def read_areas(item: Mapping[str, Any], ctx: ItemContext) -> tuple[str | None, list[Area]]:
    area_type = as_str(item.get("areaType"), "areaType", ctx)
    if area_type is not None and area_type not in NATIONWIDE | LIMITED:
        ctx.fail(f'unknown "areaType": {area_type!r}')
    areas: list[Area] = []
    for entry in as_dicts(item, "areas", ctx):
        kind = as_str(entry.get("type"), "areas.type", ctx) or "Municipality"
        names = lang_value(entry.get("name"), "areas.name", ctx)
        listed = (read_municipality(raw, "areas.municipalities", ctx) for raw in as_list(entry, "municipalities", ctx))
        municipalities = [m for m in listed if m is not None]
        code = as_str(entry.get("code"), "areas.code", ctx)
        if kind == "Municipality" and not municipalities and code:
            single = read_municipality({"code": code, "name": entry.get("name")}, "areas", ctx)
            municipalities = [single] if single else []
        areas.append(Area(kind, code, names.get("fi") or pick(names), municipalities))
    extra_listed = (read_municipality(r, "areaMunicipalities", ctx) for r in as_list(item, "areaMunicipalities", ctx))
    extra = [m for m in extra_listed if m]
    if extra:
        areas.append(Area("Municipality", None, None, extra))
    return area_type, areas


# --- phones --------------------------------------------------------------------------------------------


def read_phones(item: Mapping[str, Any], key: str, ctx: ItemContext, warnings: list[str]) -> list[ParsedPhone]:
    phones: list[ParsedPhone] = []
    for entry in as_dicts(item, key, ctx):
        number = as_str(entry.get("number"), f"{key}.number", ctx)
        if number is None:
            warnings.append(f"{key}: an entry without a number was ignored")
            continue
        prefix = as_str(entry.get("prefixNumber"), f"{key}.prefixNumber", ctx)
        service_number = as_bool(entry.get("isFinnishServiceNumber"), f"{key}.isFinnishServiceNumber", ctx)
        charge_raw = as_str(entry.get("serviceChargeType"), f"{key}.serviceChargeType", ctx)
        charge = CHARGE_TYPES.get(charge_raw or "")
        if charge_raw and charge is None:
            ctx.fail(f'unknown "{key}.serviceChargeType": {charge_raw!r}')
        phones.append(
            ParsedPhone(
                phone_type=as_str(entry.get("type"), f"{key}.type", ctx) or "Phone",
                prefix=prefix,
                number=number,
                display=format_phone(prefix, number, service_number),
                charge_type=charge,
                charge_description=as_str(entry.get("chargeDescription"), f"{key}.chargeDescription", ctx),
                info=as_str(entry.get("additionalInformation"), f"{key}.additionalInformation", ctx),
                language=language_code(as_str(entry.get("language"), f"{key}.language", ctx)),
            )
        )
    return phones


# --- hours ---------------------------------------------------------------------------------------------


def read_hours(entries: list[dict[str, Any]], ctx: ItemContext) -> list[HoursEntry]:
    out: list[HoursEntry] = []
    for entry in entries:
        raw_kind = as_str(entry.get("serviceHourType"), "serviceHours.serviceHourType", ctx)
        kind = HOUR_KINDS.get(raw_kind or "")
        if kind is None:
            ctx.fail(f'unknown "serviceHours.serviceHourType": {raw_kind!r}')
        ranges: list[OpeningRange] = []
        for rng in as_dicts(entry, "openingHour", ctx):
            day_from = as_weekday(rng.get("dayFrom"), "openingHour.dayFrom", ctx)
            day_to = as_weekday(rng.get("dayTo"), "openingHour.dayTo", ctx)
            if kind == WEEKLY and day_from is None:
                ctx.fail("weekly openingHour without dayFrom")
            ranges.append(
                OpeningRange(
                    start=as_time(rng.get("from"), "openingHour.from", ctx),
                    end=as_time(rng.get("to"), "openingHour.to", ctx),
                    day_from=day_from,
                    day_to=None if day_to == day_from else day_to,
                )
            )
        valid_from = as_local_date(entry.get("validFrom"), "serviceHours.validFrom", ctx)
        valid_to = as_local_date(entry.get("validTo"), "serviceHours.validTo", ctx)
        if kind == EXCEPTIONAL and valid_from is None:
            ctx.fail("exceptional serviceHours without validFrom")
        if valid_from and valid_to and valid_to < valid_from:
            ctx.fail(f"serviceHours validTo {valid_to} is before validFrom {valid_from}")
        info = lang_value(entry.get("additionalInformation"), "serviceHours.additionalInformation", ctx)
        out.append(
            HoursEntry(
                kind=kind,
                ranges=tuple(ranges),
                valid_from=valid_from,
                valid_to=valid_to,
                closed=as_bool(entry.get("isClosed"), "serviceHours.isClosed", ctx),
                always_open=as_bool(entry.get("isAlwaysOpen"), "serviceHours.isAlwaysOpen", ctx),
                reservation=as_bool(entry.get("isReservation"), "serviceHours.isReservation", ctx),
                info=info.get("fi") or pick(info),
            )
        )
    return out


# --- addresses -----------------------------------------------------------------------------------------


def as_coordinate(value: Any, key: str, ctx: ItemContext) -> float | None:
    if value is None or value == "":
        return None
    try:
        return float(str(value).replace(",", "."))
    except ValueError:
        ctx.fail(f'"{key}" is not a number: {value!r}')


def read_addresses(item: Mapping[str, Any], ctx: ItemContext, warnings: list[str]) -> list[ParsedAddress]:
    out: list[ParsedAddress] = []
    for entry in as_dicts(item, "addresses", ctx):
        kind = "postal" if entry.get("type") == "Postal" else "visiting"
        street = entry.get("streetAddress") or entry.get("otherAddress") or entry.get("postOfficeBoxAddress")
        if street is None:
            continue
        if not isinstance(street, dict):
            ctx.fail('"addresses" entries need an address object')
        names = lang_value(street.get("street") or street.get("postOfficeBox"), "addresses.street", ctx)
        offices = lang_value(street.get("postOffice"), "addresses.postOffice", ctx)
        info = lang_value(street.get("additionalInformation"), "addresses.additionalInformation", ctx)
        northing = as_coordinate(street.get("latitude"), "addresses.latitude", ctx)
        easting = as_coordinate(street.get("longitude"), "addresses.longitude", ctx)
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
                street=names.get("fi") or pick(names),
                street_number=as_str(street.get("streetNumber"), "addresses.streetNumber", ctx),
                postal_code=as_str(street.get("postalCode"), "addresses.postalCode", ctx),
                post_office=offices.get("fi") or pick(offices),
                municipality=read_municipality(street.get("municipality"), "addresses.municipality", ctx),
                info_fi=info.get("fi") or pick(info),
                northing=northing,
                easting=easting,
                lat=lat,
                lon=lon,
                streets=names,
                post_offices=offices,
            )
        )
    return out


def first_url(item: Mapping[str, Any], ctx: ItemContext, *keys: str) -> str | None:
    for key in keys:
        best: tuple[int, str] | None = None
        for entry in as_dicts(item, key, ctx):
            url = as_str(entry.get("url") or entry.get("value"), f"{key}.url", ctx)
            if not url:
                continue
            rank = {"fi": 0, None: 1}.get(entry.get("language"), 2)
            if best is None or rank < best[0]:
                best = (rank, url)
        if best:
            return best[1]
    return None


def first_email(item: Mapping[str, Any], ctx: ItemContext, *keys: str) -> str | None:
    for key in keys:
        values = lang_value(item.get(key), key, ctx)
        if values:
            return pick(values)
    return None
