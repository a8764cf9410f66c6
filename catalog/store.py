"""Writing parsed PTV records to the catalogue: upserts by PTV id, their rows, children and links.

Called inside the import's one transaction (catalog/importer.py), after the whole run parsed cleanly. Each write
compares content hashes, so re-importing the same files changes nothing, and reports what it did.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from catalog import display
from catalog.models import (
    SCOPE_NATIONAL,
    Address,
    Channel,
    ChannelArea,
    ChannelLanguage,
    OpeningRange,
    Phone,
    Service,
    ServiceChannelLink,
    ServiceHours,
    ServiceTerm,
)
from catalog.ptv import LANGS, Area, ParsedChannel, ParsedService
from core.finnish import fold

if TYPE_CHECKING:
    from catalog.importer import ImportReport

CHUNK = 500  # ids per IN (...) list and rows per INSERT: well under every backend's parameter limit


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]



def linked_channels(session: Session, service_source_ids: set[str]) -> set[int]:
    found: set[int] = set()
    for chunk in chunks(sorted(service_source_ids)):
        found.update(
            session.execute(
                select(Channel.id)
                .join(ServiceChannelLink, ServiceChannelLink.channel_source_id == Channel.source_id)
                .where(ServiceChannelLink.service_source_id.in_(chunk))
            ).scalars()
        )
    return found


def _existing(session: Session, model: Any, source_ids: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for chunk in chunks(source_ids):
        for row in session.execute(
            select(model.id, model.source_id, model.content_hash, model.published).where(model.source_id.in_(chunk))
        ):
            out[row.source_id] = row
    return out


def _ids_for(session: Session, model: Any, source_ids: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for chunk in chunks(source_ids):
        for row in session.execute(select(model.id, model.source_id).where(model.source_id.in_(chunk))):
            out[row.source_id] = row.id
    return out


def _localized_columns(prefix: str, values: dict[str, str], limit: int | None = None) -> dict[str, str | None]:
    """{"name_fi": ..., "name_sv": ..., "name_en": ...}, each cut to the column's `limit`."""
    columns: dict[str, str | None] = {}
    for lang in LANGS:
        value = values.get(lang)
        columns[f"{prefix}_{lang}"] = value[:limit] if limit and value else value
    return columns


def _service_row(service: ParsedService, orgs: dict[str, int]) -> dict[str, Any]:
    return {
        "source": service.meta.source,
        "source_id": service.source_id,
        "organisation_id": orgs.get(service.organisation[0]) if service.organisation else None,
        **_localized_columns("name", service.names, 300),
        **_localized_columns("summary", service.summaries),
        **_localized_columns("description", service.descriptions),
        "service_type": service.service_type,
        "charge_type": service.charge_type,
        "area_type": service.area_type,
        "languages": ",".join(service.languages)[:100] or None,
        "published": service.published,
        "is_example": service.meta.is_example,
        "source_url": service.meta.source_url,
        "modified": service.modified,
        "last_verified": service.meta.checked or (service.modified.date() if service.modified else None),
        "content_hash": service.content_hash(),
    }


def write_services(
    session: Session, services: list[ParsedService], orgs: dict[str, int], report: ImportReport
) -> set[str]:
    """Upsert services; returns the source ids whose content (or publication) changed."""
    existing = _existing(session, Service, [s.source_id for s in services])
    to_insert: list[ParsedService] = []
    to_update: list[ParsedService] = []
    changed: set[str] = set()
    for service in services:
        row = existing.get(service.source_id)
        if not service.published:
            if row is not None and row.published:
                session.execute(update(Service).where(Service.id == row.id).values(published=False))
                report.withdrawn["service"] += 1
                changed.add(service.source_id)
            else:
                report.skipped.append((f"{service.origin} ({service.source_id})", f"not published ({service.status})"))
            continue
        if row is None:
            to_insert.append(service)
        elif row.content_hash == service.content_hash() and row.published:
            report.unchanged["service"] += 1
        else:
            to_update.append(service)
    if to_insert:
        for chunk in chunks(to_insert):
            session.execute(insert(Service), [_service_row(s, orgs) for s in chunk])
        report.added["service"] += len(to_insert)
    if to_update:
        rows = []
        for service in to_update:
            row = _service_row(service, orgs)
            row["_id"] = existing[service.source_id].id
            rows.append(row)
        stmt = (
            update(Service)
            .where(Service.id == bindparam("_id"))
            .values({key: bindparam(key) for key in rows[0] if key not in ("_id", "source_id")})
        )
        for chunk in chunks(rows):
            session.connection().execute(stmt, list(chunk))
        updated_ids = [existing[s.source_id].id for s in to_update]
        for chunk in chunks(updated_ids):
            session.execute(delete(ServiceTerm).where(ServiceTerm.service_id.in_(chunk)))
        report.updated["service"] += len(to_update)
    written = to_insert + to_update
    if written:
        ids = _ids_for(session, Service, [s.source_id for s in written])
        terms = [
            {"service_id": ids[s.source_id], "kind": kind, "code": code, "label_fi": label}
            for s in written
            for kind, code, label in s.terms
        ]
        for chunk in chunks(terms, 2000):
            session.execute(insert(ServiceTerm), list(chunk))
        changed.update(s.source_id for s in written)
    return changed


def _expand_area(area: Area, reference: dict[str, Any]) -> set[str]:
    if area.municipalities:
        return {m.code for m in area.municipalities}
    wanted = {fold(x) for x in (area.code, area.name_fi) if x}
    return {
        code
        for code, m in reference.items()
        if {fold(str(getattr(m, "region", "") or "")), fold(str(getattr(m, "wellbeing_area", "") or ""))} & wanted
    }


def _coverage(channel: ParsedChannel, reference: dict[str, Any]) -> tuple[set[str], str | None, str | None]:
    """(municipality codes served, display municipality code, regional area name)."""
    codes: set[str] = set()
    area_name = None
    for area in channel.areas:
        codes |= _expand_area(area, reference)
        if area.type != "Municipality" and area_name is None:
            area_name = area.name_fi
    visiting = channel.visiting_municipality
    if visiting is not None:
        codes.add(visiting.code)
    if channel.scope == SCOPE_NATIONAL:
        codes = set()
    display = visiting.code if visiting else (next(iter(codes)) if len(codes) == 1 else None)
    return codes, display, area_name


def _channel_row(
    channel: ParsedChannel, orgs: dict[str, int], display_code: str | None, area_name: str | None
) -> dict[str, Any]:
    name = channel.names.get("fi") or next(iter(channel.names.values()))
    return {
        "source": channel.meta.source,
        "source_id": channel.source_id,
        "organisation_id": orgs.get(channel.organisation_id) if channel.organisation_id else None,
        "kind": channel.kind,
        "ptv_type": channel.ptv_type,
        **_localized_columns("name", channel.names, 300),
        **_localized_columns("summary", channel.summaries),
        **_localized_columns("description", channel.descriptions),
        "sort_key": name.lower()[:200],
        "scope": channel.scope,
        "area_type": channel.area_type,
        "area_name_fi": area_name[:200] if area_name else None,
        "municipality_code": display_code,
        "url": channel.url[:1000] if channel.url else None,
        "email": channel.email[:300] if channel.email else None,
        "published": channel.published,
        "is_example": channel.meta.is_example,
        "source_url": channel.meta.source_url,
        "modified": channel.modified,
        "last_verified": channel.meta.checked or (channel.modified.date() if channel.modified else None),
        "content_hash": channel.content_hash(),
        "display_json": display.encode(channel),
    }


def write_channels(
    session: Session,
    channels: list[ParsedChannel],
    orgs: dict[str, int],
    reference: dict[str, Any],
    report: ImportReport,
) -> dict[str, int]:
    """Upsert channels and their children; returns {source_id: id} of channels that changed."""
    existing = _existing(session, Channel, [c.source_id for c in channels])
    to_insert: list[ParsedChannel] = []
    to_update: list[ParsedChannel] = []
    changed: dict[str, int] = {}
    for channel in channels:
        row = existing.get(channel.source_id)
        if not channel.published:
            if row is not None and row.published:
                session.execute(update(Channel).where(Channel.id == row.id).values(published=False))
                report.withdrawn["channel"] += 1
                changed[channel.source_id] = row.id
            else:
                report.skipped.append((f"{channel.origin} ({channel.source_id})", f"not published ({channel.status})"))
            continue
        if row is None:
            to_insert.append(channel)
        elif row.content_hash == channel.content_hash() and row.published:
            report.unchanged["channel"] += 1
        else:
            to_update.append(channel)
    coverage = {c.source_id: _coverage(c, reference) for c in to_insert + to_update}
    if to_insert:
        for chunk in chunks(to_insert):
            session.execute(
                insert(Channel),
                [_channel_row(c, orgs, coverage[c.source_id][1], coverage[c.source_id][2]) for c in chunk],
            )
        report.added["channel"] += len(to_insert)
    if to_update:
        rows = []
        for channel in to_update:
            row = _channel_row(channel, orgs, coverage[channel.source_id][1], coverage[channel.source_id][2])
            row["_id"] = existing[channel.source_id].id
            rows.append(row)
        stmt = (
            update(Channel)
            .where(Channel.id == bindparam("_id"))
            .values({key: bindparam(key) for key in rows[0] if key not in ("_id", "source_id")})
        )
        for chunk in chunks(rows):
            session.connection().execute(stmt, list(chunk))
        updated_ids = [existing[c.source_id].id for c in to_update]
        for chunk in chunks(updated_ids):
            # Opening ranges go with their hours through ON DELETE CASCADE; delete them first anyway,
            # so that backends without enforced foreign keys behave the same.
            for model in (OpeningRange, ServiceHours, Address, Phone, ChannelArea, ChannelLanguage):
                session.execute(delete(model).where(model.channel_id.in_(chunk)))
        report.updated["channel"] += len(to_update)
    written = to_insert + to_update
    if written:
        ids = _ids_for(session, Channel, [c.source_id for c in written])
        _insert_children(session, written, ids, coverage)
        changed.update({c.source_id: ids[c.source_id] for c in written})
    return changed


def _insert_children(
    session: Session,
    channels: list[ParsedChannel],
    ids: dict[str, int],
    coverage: dict[str, tuple[set[str], str | None, str | None]],
) -> None:
    areas, languages, addresses, phones, hours, ranges = [], [], [], [], [], []
    for channel in channels:
        cid = ids[channel.source_id]
        areas += [{"channel_id": cid, "municipality_code": code} for code in sorted(coverage[channel.source_id][0])]
        # Cut to the column first, then deduplicated: two odd codes that share 8 characters are one row.
        languages += [{"channel_id": cid, "language": lang} for lang in dict.fromkeys(x[:8] for x in channel.languages)]
        for seq, a in enumerate(channel.addresses):
            addresses.append(
                {
                    "channel_id": cid,
                    "seq": seq,
                    "kind": a.kind,
                    "street": a.street,
                    "street_number": a.street_number,
                    "postal_code": a.postal_code,
                    "post_office": a.post_office,
                    "municipality_code": a.municipality.code if a.municipality else None,
                    "info_fi": a.info_fi[:500] if a.info_fi else None,
                    "northing": a.northing,
                    "easting": a.easting,
                    "lat": a.lat,
                    "lon": a.lon,
                }
            )
        for seq, p in enumerate(channel.phones):
            phones.append(
                {
                    "channel_id": cid,
                    "seq": seq,
                    "phone_type": p.phone_type,
                    "prefix": p.prefix,
                    "number": p.number[:40],
                    "display": p.display[:60],
                    "charge_type": p.charge_type,
                    "charge_description": p.charge_description[:300] if p.charge_description else None,
                    "info": p.info[:300] if p.info else None,
                    "language": p.language[:8] if p.language else None,
                }
            )
        for seq, h in enumerate(channel.hours):
            hours.append(
                {
                    "channel_id": cid,
                    "seq": seq,
                    "kind": h.kind,
                    "valid_from": h.valid_from,
                    "valid_to": h.valid_to,
                    "is_closed": h.closed,
                    "is_always_open": h.always_open,
                    "is_reservation": h.reservation,
                    "info_fi": h.info[:500] if h.info else None,
                }
            )
            for rseq, r in enumerate(h.ranges):
                ranges.append(
                    {
                        "channel_id": cid,
                        "hours_seq": seq,
                        "seq": rseq,
                        "day_from": r.day_from,
                        "day_to": r.day_to,
                        "time_from": r.start,
                        "time_to": r.end,
                    }
                )
    for model, rows in (
        (ChannelArea, areas),
        (ChannelLanguage, languages),
        (Address, addresses),
        (Phone, phones),
        (ServiceHours, hours),
        (OpeningRange, ranges),
    ):
        for chunk in chunks(rows, 2000):
            session.execute(insert(model), list(chunk))


def write_links(
    session: Session,
    services: list[ParsedService],
    channels: list[ParsedChannel],
    changed_services: set[str],
    changed_channels: dict[str, int],
) -> None:
    """Replace the links each re-imported side declares; the other side's statements stay."""
    rows: list[dict[str, str]] = []
    service_ids = [s.source_id for s in services if s.source_id in changed_services]
    channel_ids = [c.source_id for c in channels if c.source_id in changed_channels]
    for chunk in chunks(service_ids):
        session.execute(
            delete(ServiceChannelLink).where(
                ServiceChannelLink.declared_by == "service", ServiceChannelLink.service_source_id.in_(chunk)
            )
        )
    for chunk in chunks(channel_ids):
        session.execute(
            delete(ServiceChannelLink).where(
                ServiceChannelLink.declared_by == "channel", ServiceChannelLink.channel_source_id.in_(chunk)
            )
        )
    for service in services:
        if service.source_id in changed_services and service.published:
            rows += [
                {"service_source_id": service.source_id, "channel_source_id": c, "declared_by": "service"}
                for c in service.channel_ids
            ]
    for channel in channels:
        if channel.source_id in changed_channels and channel.published:
            rows += [
                {"service_source_id": s, "channel_source_id": channel.source_id, "declared_by": "channel"}
                for s in channel.service_ids
            ]
    for chunk in chunks(rows, 2000):
        session.execute(insert(ServiceChannelLink), list(chunk))
