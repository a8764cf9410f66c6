"""PTV import (contract 4): idempotent upsert by PTV id, one transaction per run, counted report.

The whole run is parsed and validated first (catalog/ptv.py); only then is the database written, inside one
transaction that is rolled back on any error, so a bad file changes nothing. The run writes the reference rows
(municipalities, organisations) here, the records through catalog/store.py, and then recomputes what is derived
from them (topics, ages, search text) through catalog/derive.py.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select, text, update
from sqlalchemy.orm import Session

from catalog import municipalities as municipality_data
from catalog import store
from catalog.derive import ensure_classification, refresh_derived, topics_changed
from catalog.models import Municipality, Organisation, Service
from catalog.ptv import (
    DEFAULT_MAX_FILE_BYTES,
    AreaMunicipality,
    ParsedChannel,
    ParsedService,
    PTVFormatError,
    iter_json_files,
    parse_file,
)

log = logging.getLogger(__name__)

SAMPLE_DIR = Path(__file__).resolve().parent / "data" / "sample"
ANALYZE_THRESHOLD = 200


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


def _write(
    session: Session, services: list[ParsedService], channels: list[ParsedChannel], report: ImportReport
) -> None:
    known = sync_municipalities(session, _municipalities_seen(channels))
    orgs = _sync_organisations(session, services, channels)
    changed_services = store.write_services(session, services, orgs, report)
    changed_channels = store.write_channels(session, channels, orgs, known, report)
    # Channels linked to a changed service before and after the links are rewritten: a link that
    # disappears must also take the service's topics away from its channel.
    affected = set(changed_channels.values()) | store.linked_channels(session, changed_services)
    store.write_links(session, services, channels, changed_services, changed_channels)
    affected |= store.linked_channels(session, changed_services)
    if topics_changed(session):
        report.reclassified = refresh_derived(session, None)
    elif affected:
        report.reclassified = refresh_derived(session, affected)
    if report.reclassified >= ANALYZE_THRESHOLD:
        # Fresh planner statistics after a bulk load keep the query plans on the intended indexes.
        session.execute(text("ANALYZE"))
    for channel in channels:
        report.warnings.extend(f"{channel.origin} ({channel.source_id}): {w}" for w in channel.warnings)


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
    for chunk in store.chunks(sorted(names)):
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
        for chunk in store.chunks([m["source_id"] for m in missing]):
            for row in session.execute(
                select(Organisation.id, Organisation.source_id).where(Organisation.source_id.in_(chunk))
            ):
                ids[row.source_id] = row.id
    return ids


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
