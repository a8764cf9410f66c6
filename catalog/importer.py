"""PTV import (contract 4): idempotent upsert by PTV id, one transaction per run, counted report.

The whole run is parsed and validated first; only then is the database written, inside one
transaction that is rolled back on any error, so a bad file changes nothing.
"""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, text, update
from sqlalchemy.orm import Session

from catalog import display
from catalog import municipalities as municipality_data
from catalog.models import (
    SCOPE_NATIONAL,
    Address,
    CatalogMeta,
    Channel,
    ChannelArea,
    ChannelLanguage,
    ChannelReach,
    ChannelTopic,
    Municipality,
    OpeningRange,
    Organisation,
    Phone,
    Service,
    ServiceChannelLink,
    ServiceHours,
    ServiceTerm,
)
from catalog.ptv import (
    DEFAULT_MAX_FILE_BYTES,
    LANGS,
    Area,
    AreaMunicipality,
    ParsedChannel,
    ParsedService,
    PTVFormatError,
    iter_json_files,
    parse_file,
)
from catalog.topics import TOPICS_PATH, ClassifierInput, age_range, classify, load_topics
from core.finnish import fold

log = logging.getLogger(__name__)

SAMPLE_DIR = Path(__file__).resolve().parent / "data" / "sample"
CHUNK = 500
ANALYZE_THRESHOLD = 200
TOPICS_HASH_KEY = "topics_sha256"


@dataclass
class ImportReport:
    """What an import run did. `skipped` holds (item, reason) pairs."""

    files: list[str] = field(default_factory=list)
    added: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)
    unchanged: Counter[str] = field(default_factory=Counter)
    withdrawn: Counter[str] = field(default_factory=Counter)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    reclassified: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "added": dict(self.added),
            "updated": dict(self.updated),
            "unchanged": dict(self.unchanged),
            "withdrawn": dict(self.withdrawn),
            "skipped": [{"item": item, "reason": reason} for item, reason in self.skipped],
            "warnings": self.warnings,
            "reclassified_channels": self.reclassified,
        }

    def lines(self) -> list[str]:
        def counts(counter: Counter[str]) -> str:
            return f"{counter['service']} services, {counter['channel']} channels"

        out = [
            f"files: {len(self.files)}",
            f"added: {counts(self.added)}",
            f"updated: {counts(self.updated)}",
            f"unchanged: {counts(self.unchanged)}",
            f"withdrawn (no longer published): {counts(self.withdrawn)}",
            f"skipped: {len(self.skipped)}",
        ]
        out += [f"  - {item}: {reason}" for item, reason in self.skipped]
        if self.warnings:
            out.append(f"warnings: {len(self.warnings)}")
            out += [f"  - {w}" for w in self.warnings]
        return out


def parse_paths(
    paths: Sequence[Path | str], max_bytes: int = DEFAULT_MAX_FILE_BYTES
) -> tuple[list[str], list[ParsedService], list[ParsedChannel], list[tuple[str, str]]]:
    """Parse every file before touching the database; duplicates of the same content are skipped."""
    files = iter_json_files(paths)
    services: dict[str, ParsedService] = {}
    channels: dict[str, ParsedChannel] = {}
    skipped: list[tuple[str, str]] = []
    for path in files:
        for record in parse_file(path, max_bytes):
            seen: dict[str, Any] = services if isinstance(record, ParsedService) else channels
            other = seen.get(record.source_id)
            if other is None:
                seen[record.source_id] = record
            elif other.content_hash() == record.content_hash():
                skipped.append((f"{record.origin} ({record.source_id})", f"duplicate of {other.origin}"))
            else:
                file_part, _, index = record.origin.rpartition("#")
                raise PTVFormatError(
                    file_part,
                    f"id appears twice with different content (first in {other.origin})",
                    int(index),
                    record.source_id,
                )
    return [str(f) for f in files], list(services.values()), list(channels.values()), skipped


def import_paths(
    session: Session, paths: Sequence[Path | str], max_bytes: int = DEFAULT_MAX_FILE_BYTES
) -> ImportReport:
    """Import PTV JSON files/folders in one transaction; commit on success, roll back and re-raise on error."""
    files, services, channels, skipped = parse_paths(paths, max_bytes)
    report = ImportReport(files=files, skipped=skipped)
    try:
        _write(session, services, channels, report)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return report


def load_sample(session: Session, if_empty: bool = False) -> ImportReport | None:
    """Import the bundled example catalogue; with `if_empty`, only when there are no services yet."""
    if if_empty and session.execute(select(Service.id).limit(1)).first() is not None:
        session.rollback()
        return None
    return import_paths(session, [SAMPLE_DIR])


# --- writing ------------------------------------------------------------------------------------------


def _chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _write(
    session: Session, services: list[ParsedService], channels: list[ParsedChannel], report: ImportReport
) -> None:
    known = sync_municipalities(session, _municipalities_seen(channels))
    orgs = _sync_organisations(session, services, channels)
    changed_services = _write_services(session, services, orgs, report)
    changed_channels = _write_channels(session, channels, orgs, known, report)
    # Channels linked to a changed service before and after the links are rewritten: a link that
    # disappears must also take the service's topics away from its channel.
    affected = set(changed_channels.values()) | _linked_channels(session, changed_services)
    _write_links(session, services, channels, changed_services, changed_channels)
    affected |= _linked_channels(session, changed_services)
    if _topics_changed(session):
        report.reclassified = refresh_derived(session, None)
    elif affected:
        report.reclassified = refresh_derived(session, affected)
    if report.reclassified >= ANALYZE_THRESHOLD:
        # Fresh planner statistics after a bulk load keep the query plans on the intended indexes.
        session.execute(text("ANALYZE"))
    for channel in channels:
        report.warnings.extend(f"{channel.origin} ({channel.source_id}): {w}" for w in channel.warnings)


def _linked_channels(session: Session, service_source_ids: set[str]) -> set[int]:
    found: set[int] = set()
    for chunk in _chunks(sorted(service_source_ids)):
        found.update(
            session.execute(
                select(Channel.id)
                .join(ServiceChannelLink, ServiceChannelLink.channel_source_id == Channel.source_id)
                .where(ServiceChannelLink.service_source_id.in_(chunk))
            ).scalars()
        )
    return found


def _municipalities_seen(channels: list[ParsedChannel]) -> dict[str, AreaMunicipality]:
    seen: dict[str, AreaMunicipality] = {}
    for channel in channels:
        for area in channel.areas:
            for m in area.municipalities:
                seen.setdefault(m.code, m)
        for address in channel.addresses:
            if address.municipality is not None:
                seen.setdefault(address.municipality.code, address.municipality)
    return seen


def _reference_municipalities() -> list[Any]:
    loaded = municipality_data.load_municipalities()
    return list(loaded.values()) if isinstance(loaded, dict) else list(loaded)


def sync_municipalities(session: Session, seen: dict[str, AreaMunicipality] | None = None) -> dict[str, Any]:
    """Make the municipality table hold the reference list plus any municipality PTV data mentions."""
    reference = {m.code: m for m in _reference_municipalities()}
    existing = {row.code: row for row in session.execute(select(Municipality)).scalars()}
    for code, ref in reference.items():
        values = {
            "name_fi": ref.name_fi,
            "name_sv": ref.name_sv,
            "region": ref.region,
            "wellbeing_area": ref.wellbeing_area,
        }
        row = existing.get(code)
        if row is None:
            session.execute(insert(Municipality).values(code=code, **values))
        elif any(getattr(row, key) != value for key, value in values.items()):
            session.execute(update(Municipality).where(Municipality.code == code).values(**values))
    for code, m in (seen or {}).items():
        if code not in reference and code not in existing:
            session.execute(insert(Municipality).values(code=code, name_fi=m.name_fi or code, name_sv=m.name_sv))
    session.flush()
    return reference


def _sync_organisations(
    session: Session, services: list[ParsedService], channels: list[ParsedChannel]
) -> dict[str, int]:
    names: dict[str, str | None] = {}
    for service in services:
        if service.organisation:
            org_id, name = service.organisation
            if name or org_id not in names:
                names[org_id] = name
    for channel in channels:
        if channel.organisation_id and channel.organisation_id not in names:
            names[channel.organisation_id] = None
    ids: dict[str, int] = {}
    if not names:
        return ids
    for chunk in _chunks(sorted(names)):
        for row in session.execute(
            select(Organisation.id, Organisation.source_id, Organisation.name_fi).where(
                Organisation.source_id.in_(chunk)
            )
        ):
            ids[row.source_id] = row.id
            new = names[row.source_id]
            if new and new != row.name_fi:
                session.execute(update(Organisation).where(Organisation.id == row.id).values(name_fi=new))
    missing = [{"source_id": sid, "name_fi": names[sid]} for sid in sorted(names) if sid not in ids]
    if missing:
        session.execute(insert(Organisation), missing)
        for chunk in _chunks([m["source_id"] for m in missing]):
            for row in session.execute(
                select(Organisation.id, Organisation.source_id).where(Organisation.source_id.in_(chunk))
            ):
                ids[row.source_id] = row.id
    return ids


def _existing(session: Session, model: Any, source_ids: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for chunk in _chunks(source_ids):
        for row in session.execute(
            select(model.id, model.source_id, model.content_hash, model.published).where(model.source_id.in_(chunk))
        ):
            out[row.source_id] = row
    return out


def _ids_for(session: Session, model: Any, source_ids: list[str]) -> dict[str, int]:
    out: dict[str, int] = {}
    for chunk in _chunks(source_ids):
        for row in session.execute(select(model.id, model.source_id).where(model.source_id.in_(chunk))):
            out[row.source_id] = row.id
    return out


def _localized_columns(prefix: str, values: dict[str, str], limit: int | None = None) -> dict[str, str | None]:
    return {
        f"{prefix}_{lang}": (values.get(lang)[:limit] if limit and values.get(lang) else values.get(lang))
        for lang in LANGS
    }


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


def _write_services(
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
        for chunk in _chunks(to_insert):
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
        for chunk in _chunks(rows):
            session.connection().execute(stmt, list(chunk))
        ids = [existing[s.source_id].id for s in to_update]
        for chunk in _chunks(ids):
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
        for chunk in _chunks(terms, 2000):
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


def _write_channels(
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
        for chunk in _chunks(to_insert):
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
        for chunk in _chunks(rows):
            session.connection().execute(stmt, list(chunk))
        ids = [existing[c.source_id].id for c in to_update]
        for chunk in _chunks(ids):
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
        languages += [{"channel_id": cid, "language": lang[:8]} for lang in dict.fromkeys(channel.languages)]
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
                    "language": p.language,
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
        for chunk in _chunks(rows, 2000):
            session.execute(insert(model), list(chunk))


def _write_links(
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
    for chunk in _chunks(service_ids):
        session.execute(
            delete(ServiceChannelLink).where(
                ServiceChannelLink.declared_by == "service", ServiceChannelLink.service_source_id.in_(chunk)
            )
        )
    for chunk in _chunks(channel_ids):
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
    for chunk in _chunks(rows, 2000):
        session.execute(insert(ServiceChannelLink), list(chunk))


# --- derived data: topics, ages, search text ----------------------------------------------------------


def topics_hash(path: Path = TOPICS_PATH) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _topics_changed(session: Session) -> bool:
    stored = session.execute(select(CatalogMeta.value).where(CatalogMeta.key == TOPICS_HASH_KEY)).scalar()
    current = topics_hash()
    if stored == current:
        return False
    if stored is None:
        session.execute(insert(CatalogMeta).values(key=TOPICS_HASH_KEY, value=current))
    else:
        session.execute(update(CatalogMeta).where(CatalogMeta.key == TOPICS_HASH_KEY).values(value=current))
    # A brand-new catalogue has nothing to reclassify beyond what this import touches anyway.
    return stored is not None


def refresh_derived(session: Session, channel_ids: set[int] | None) -> int:
    """Recompute topics, target ages, service name and search text for channels (None: all)."""
    config = load_topics()
    if channel_ids is None:
        channel_ids = set(session.execute(select(Channel.id)).scalars())
    count = 0
    municipality_names = dict(session.execute(select(Municipality.code, Municipality.name_fi)).all())
    for chunk in _chunks(sorted(channel_ids)):
        channels = session.execute(
            select(
                Channel.id,
                Channel.source_id,
                Channel.kind,
                Channel.scope,
                Channel.municipality_code,
                Channel.organisation_id,
                Channel.name_fi,
                Channel.name_sv,
                Channel.name_en,
                Channel.summary_fi,
                Channel.summary_sv,
                Channel.summary_en,
                Channel.description_fi,
                Channel.description_sv,
                Channel.description_en,
            ).where(Channel.id.in_(chunk))
        ).all()
        links = session.execute(
            select(ServiceChannelLink.channel_source_id, ServiceChannelLink.service_source_id)
            .where(ServiceChannelLink.channel_source_id.in_([c.source_id for c in channels]))
            .distinct()
        ).all()
        service_source_ids = sorted({link.service_source_id for link in links})
        services: dict[str, Any] = {}
        terms: dict[int, list[tuple[str, str, str | None]]] = {}
        for schunk in _chunks(service_source_ids):
            for row in session.execute(
                select(
                    Service.id,
                    Service.source_id,
                    Service.name_fi,
                    Service.name_sv,
                    Service.name_en,
                    Service.summary_fi,
                    Service.description_fi,
                ).where(Service.source_id.in_(schunk), Service.published.is_(True))
            ):
                services[row.source_id] = row
            sids = [services[s].id for s in schunk if s in services]
            for term in session.execute(
                select(ServiceTerm.service_id, ServiceTerm.kind, ServiceTerm.code, ServiceTerm.label_fi).where(
                    ServiceTerm.service_id.in_(sids)
                )
            ):
                terms.setdefault(term.service_id, []).append((term.kind, term.code, term.label_fi))
        org_ids = sorted({c.organisation_id for c in channels if c.organisation_id is not None})
        org_names = dict(
            session.execute(select(Organisation.id, Organisation.name_fi).where(Organisation.id.in_(org_ids))).all()
        )
        linked: dict[str, list[Any]] = {}
        for link in links:
            if link.service_source_id in services:
                linked.setdefault(link.channel_source_id, []).append(services[link.service_source_id])
        topic_rows: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        for channel in channels:
            own_names = [channel.name_fi, channel.name_sv, channel.name_en]
            own_texts = [
                channel.summary_fi,
                channel.summary_sv,
                channel.summary_en,
                channel.description_fi,
                channel.description_sv,
                channel.description_en,
            ]
            svc = sorted(linked.get(channel.source_id, []), key=lambda s: ((s.name_fi or "").lower(), s.source_id))
            inp = ClassifierInput(
                kind=channel.kind,
                names=[n for n in own_names if n] + [n for s in svc for n in (s.name_fi, s.name_sv, s.name_en) if n],
                texts=[t for t in own_texts if t] + [t for s in svc for t in (s.summary_fi, s.description_fi) if t],
                terms=[t for s in svc for t in terms.get(s.id, [])],
            )
            topics = classify(inp, config)
            low, high = age_range([n for n in own_names if n], config)
            if low is None and high is None:
                low, high = age_range([n for s in svc for n in (s.name_fi,) if n], config)
            topic_rows += [
                {"channel_id": channel.id, "topic": topic, "scope": channel.scope} for topic in sorted(topics)
            ]
            keywords = [label or code for _s in svc for kind, code, label in terms.get(_s.id, []) if kind == "keyword"]
            blob_parts = (
                inp.names
                + [t for t in own_texts if t]
                + [t for s in svc for t in (s.summary_fi,) if t]
                + keywords
                + [config.topics[t].label_fi for t in sorted(topics)]
            )
            if channel.municipality_code:
                blob_parts.append(municipality_names.get(channel.municipality_code) or "")
            updates.append(
                {
                    "_id": channel.id,
                    "min_age": low,
                    "max_age": high,
                    "service_name_fi": (svc[0].name_fi if svc else None),
                    "municipality_name_fi": municipality_names.get(channel.municipality_code),
                    "organisation_name_fi": org_names.get(channel.organisation_id),
                    "short_description_fi": short_text(
                        channel.summary_fi
                        or next((s.summary_fi for s in svc if s.summary_fi), None)
                        or channel.description_fi
                    ),
                    "topic_list": ",".join(sorted(topics))[:1000] or None,
                    "search_blob": fold(" | ".join(blob_parts)),
                }
            )
        ids = [c.id for c in channels]
        coverage: dict[int, list[str]] = {}
        for area in session.execute(
            select(ChannelArea.channel_id, ChannelArea.municipality_code).where(ChannelArea.channel_id.in_(ids))
        ):
            coverage.setdefault(area.channel_id, []).append(area.municipality_code)
        reach_rows = [
            {"topic": row["topic"], "municipality_code": code, "channel_id": row["channel_id"], "scope": row["scope"]}
            for row in topic_rows
            if row["scope"] != SCOPE_NATIONAL
            for code in coverage.get(row["channel_id"], ())
        ]
        session.execute(delete(ChannelTopic).where(ChannelTopic.channel_id.in_(ids)))
        session.execute(delete(ChannelReach).where(ChannelReach.channel_id.in_(ids)))
        if topic_rows:
            session.execute(insert(ChannelTopic), topic_rows)
        for reach_chunk in _chunks(reach_rows, 5000):
            session.execute(insert(ChannelReach), list(reach_chunk))
        if updates:
            session.connection().execute(
                update(Channel)
                .where(Channel.id == bindparam("_id"))
                .values({key: bindparam(key) for key in updates[0] if key != "_id"}),
                updates,
            )
        count += len(channels)
    return count


def short_text(text: str | None, limit: int = 240) -> str | None:
    """The first sentences of `text` that fit in `limit` characters, cut at a word boundary if needed."""
    if not text:
        return None
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[:limit]
    sentence_end = max(cut.rfind(". "), cut.rfind("! "), cut.rfind("? "))
    if sentence_end > limit // 3:
        return cut[: sentence_end + 1]
    return cut[: cut.rfind(" ")].rstrip(",;:") + " …"


def ensure_classification(session: Session) -> int:
    """Reclassify every channel if topics.yml changed since the catalogue was last classified."""
    if _topics_changed(session):
        count = refresh_derived(session, None)
        session.commit()
        return count
    session.commit()
    return 0


def catalogue_is_empty(session: Session) -> bool:
    return (session.execute(select(func.count(Service.id))).scalar() or 0) == 0


__all__ = [
    "ImportReport",
    "PTVFormatError",
    "catalogue_is_empty",
    "ensure_classification",
    "import_paths",
    "load_sample",
    "parse_paths",
    "refresh_derived",
    "sync_municipalities",
]
