"""Reading PTV Open API v11 JSON (Service and ServiceChannel objects) into validated, normalised records.

Parsing is separate from storing so that a whole import run can be checked before the database is
touched: any structural problem raises PTVFormatError naming the file and the item.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from catalog.models import KIND_CHAT, KIND_LOCATION, KIND_PHONE, KIND_WEB
from catalog.ptv_fields import (
    CHARGE_TYPES,
    ID_RE,
    ItemContext,
    as_datetime,
    as_dicts,
    as_list,
    as_str,
    first_email,
    first_url,
    lang_value,
    localized,
    pick,
    read_addresses,
    read_areas,
    read_hours,
    read_meta,
    read_phones,
    read_ref_ids,
    read_status,
)
from catalog.ptv_records import (
    LANGS,
    Area,
    AreaMunicipality,
    Meta,
    ParsedAddress,
    ParsedChannel,
    ParsedPhone,
    ParsedService,
    PTVFormatError,
    language_code,
)

__all__ = [
    "DEFAULT_MAX_FILE_BYTES",
    "LANGS",
    "Area",
    "AreaMunicipality",
    "Meta",
    "PTVFormatError",
    "ParsedAddress",
    "ParsedChannel",
    "ParsedPhone",
    "ParsedService",
    "iter_json_files",
    "parse_file",
    "parse_item",
    "read_items",
]

DEFAULT_MAX_FILE_BYTES = 32 * 1024 * 1024

CHANNEL_KINDS = {
    "ServiceLocation": KIND_LOCATION,
    "Phone": KIND_PHONE,
    "EChannel": KIND_CHAT,
    "WebPage": KIND_WEB,
    "PrintableForm": KIND_WEB,
}

# Part of every content hash: bump it when parsing changes, so that the next import rewrites every item.
PARSER_VERSION = "2"  # 2: street names, post offices and phones kept per language (display in sv and en)


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
    ctx = ItemContext(path, index, item_id)
    if raw_id is None or (isinstance(raw_id, str) and not raw_id.strip()):
        ctx.fail('missing "id"')
    if not isinstance(raw_id, str) or not ID_RE.match(raw_id):
        ctx.fail(f'"id" is not a valid identifier: {raw_id!r}')
    if "serviceChannelType" in item or "serviceChannelNames" in item:
        return _parse_channel(item, ctx)
    if "serviceNames" in item:
        return _parse_service(item, ctx)
    ctx.fail("neither a PTV Service (serviceNames) nor a ServiceChannel (serviceChannelType)")


# --- objects -------------------------------------------------------------------------------------------


def _names(item: Mapping[str, Any], key: str, ctx: ItemContext) -> dict[str, str]:
    names = localized(item, key, ctx, types=("Name", "AlternativeName", "AlternateName"))
    if not names:
        ctx.fail(f'no name in "{key}"')
    return names


def _descriptions(item: Mapping[str, Any], key: str, ctx: ItemContext) -> tuple[dict[str, str], dict[str, str]]:
    summaries = localized(item, key, ctx, types=("Summary", "ShortDescription"))
    descriptions = localized(item, key, ctx, types=("Description",))
    return summaries, descriptions


def _parse_service(item: Mapping[str, Any], ctx: ItemContext) -> ParsedService:
    assert ctx.item_id is not None
    published, status = read_status(item, ctx)
    summaries, descriptions = _descriptions(item, "serviceDescriptions", ctx)
    terms: list[tuple[str, str, str | None]] = []
    seen: set[tuple[str, str]] = set()
    for key, kind in (
        ("serviceClasses", "service_class"),
        ("ontologyTerms", "ontology_term"),
        ("lifeEvents", "life_event"),
        ("targetGroups", "target_group"),
    ):
        for entry in as_dicts(item, key, ctx):
            code = as_str(entry.get("code"), f"{key}.code", ctx)
            uri = as_str(entry.get("uri"), f"{key}.uri", ctx)
            if code is None and uri:
                code = uri.rstrip("/").rsplit("/", 1)[-1]
            if code is None:
                continue
            labels = lang_value(entry.get("name"), f"{key}.name", ctx)
            if (kind, code) not in seen:
                seen.add((kind, code))
                terms.append((kind, code[:200], (labels.get("fi") or pick(labels) or "")[:300] or None))
    for entry in as_dicts(item, "keywords", ctx):
        value = as_str(entry.get("value"), "keywords.value", ctx)
        if value and ("keyword", value.lower()[:200]) not in seen:
            seen.add(("keyword", value.lower()[:200]))
            terms.append(("keyword", value.lower()[:200], value[:300]))
    organisation = None
    for entry in sorted(
        as_dicts(item, "organizations", ctx), key=lambda e: 0 if e.get("roleType") == "Responsible" else 1
    ):
        org = entry.get("organization")
        if isinstance(org, dict) and isinstance(org.get("id"), str) and ID_RE.match(org["id"]):
            organisation = (org["id"], as_str(org.get("name"), "organizations.organization.name", ctx))
            break
    area_type, _ = read_areas(item, ctx)
    languages = [language_code(lang) or lang for lang in as_list(item, "languages", ctx) if isinstance(lang, str)]
    charge = as_str(item.get("serviceChargeType"), "serviceChargeType", ctx)
    return ParsedService(
        source_id=ctx.item_id,
        meta=read_meta(item, ctx),
        published=published,
        status=status,
        names=_names(item, "serviceNames", ctx),
        summaries=summaries,
        descriptions=descriptions,
        service_type=as_str(item.get("type"), "type", ctx),
        charge_type=CHARGE_TYPES.get(charge or "", charge),
        area_type=area_type,
        languages=languages,
        terms=terms,
        channel_ids=read_ref_ids(as_dicts(item, "serviceChannels", ctx), "serviceChannel", "serviceChannels", ctx),
        organisation=organisation,
        modified=as_datetime(item.get("modified"), "modified", ctx),
        raw_hash=_raw_hash(item),
        origin=ctx.origin,
    )


def _parse_channel(item: Mapping[str, Any], ctx: ItemContext) -> ParsedChannel:
    assert ctx.item_id is not None
    ptv_type = as_str(item.get("serviceChannelType"), "serviceChannelType", ctx)
    if ptv_type is None:
        ctx.fail('missing "serviceChannelType"')
    kind = CHANNEL_KINDS.get(ptv_type or "")
    if kind is None:
        ctx.fail(f'unknown channel type "serviceChannelType": {ptv_type!r} (known: {", ".join(CHANNEL_KINDS)})')
    published, status = read_status(item, ctx)
    warnings: list[str] = []
    names = localized(item, "serviceChannelNames", ctx, types=("Name", "AlternativeName", "AlternateName"))
    alternative = localized(item, "serviceChannelNames", ctx, types=("AlternativeName", "AlternateName"))
    for entry in as_dicts(item, "displayNameType", ctx):
        lang = language_code(entry["language"]) if isinstance(entry.get("language"), str) else None
        if entry.get("type") == "AlternativeName" and lang in alternative:
            names[lang] = alternative[lang]
    if not names:
        ctx.fail('no name in "serviceChannelNames"')
    summaries, descriptions = _descriptions(item, "serviceChannelDescriptions", ctx)
    area_type, areas = read_areas(item, ctx)
    services = as_dicts(item, "services", ctx)
    hour_entries = as_dicts(item, "serviceHours", ctx)
    if not hour_entries:
        # Hours may be given only on the service connection; use the first connection that has them.
        for connection in services:
            hour_entries = as_dicts(connection, "serviceHours", ctx)
            if hour_entries:
                break
    phones = read_phones(item, "phoneNumbers", ctx, warnings) + read_phones(item, "supportPhones", ctx, warnings)
    organisation_id = as_str(item.get("organizationId"), "organizationId", ctx)
    if organisation_id is not None and not ID_RE.match(organisation_id):
        ctx.fail(f'"organizationId" is not a valid identifier: {organisation_id!r}')
    return ParsedChannel(
        source_id=ctx.item_id,
        meta=read_meta(item, ctx),
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
        languages=[language_code(lang) or lang for lang in as_list(item, "languages", ctx) if isinstance(lang, str)],
        url=first_url(item, ctx, "webPages", "urls", "channelUrls"),
        email=first_email(item, ctx, "emails", "supportEmails"),
        addresses=read_addresses(item, ctx, warnings),
        phones=phones,
        hours=read_hours(hour_entries, ctx),
        service_ids=read_ref_ids(services, "service", "services", ctx),
        modified=as_datetime(item.get("modified"), "modified", ctx),
        warnings=warnings,
        raw_hash=_raw_hash(item),
        origin=ctx.origin,
    )
