"""The display-ready record of one catalogue channel, as the bot shows it and `catalog search --json` prints it.

Built from a query row (catalog/query.py) and the channel's stored display data (catalog/display.py). Opening
facts are computed for a given moment; nothing is filled in when the catalogue lacks it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from catalog import display
from catalog.hours import ALWAYS_OPEN_FI, is_open, next_opening, notices, open_until, weekly_text
from core import clock

MATCH_LOCAL = "local"
MATCH_REGIONAL = "regional"
MATCH_NEARBY = "nearby"
MATCH_NATIONAL = "national"
_MATCH_BY_RANK = (MATCH_LOCAL, MATCH_REGIONAL, MATCH_NEARBY, MATCH_NATIONAL)


@dataclass(frozen=True)
class ServiceRecord:
    """One channel of a service, ready to show. `match` says why it was returned (local/regional/nearby/national)."""

    channel_id: str
    service_name: str | None
    channel_name: str
    kind: str
    scope: str
    match: str
    municipality: str | None
    area: str | None
    organisation: str | None
    address: str | None
    lat: float | None
    lon: float | None
    phones: tuple[tuple[str, str], ...]
    url: str | None
    email: str | None
    languages: tuple[str, ...]
    topics: tuple[str, ...]
    description: str | None
    hours_text: str | None
    hours_notes: tuple[str, ...]
    open_now: bool | None
    open_until: datetime | None
    next_opening: datetime | None
    min_age: int | None
    max_age: int | None
    source: str
    source_url: str | None
    last_verified: date | None
    is_example: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (datetimes and dates as ISO 8601 strings)."""
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, (datetime, date)):
                data[key] = value.isoformat()
        data["phones"] = [list(p) for p in self.phones]
        data["languages"] = list(self.languages)
        data["topics"] = list(self.topics)
        data["hours_notes"] = list(self.hours_notes)
        return data


def record_from_row(row: Any, now: datetime) -> ServiceRecord:
    decoded = display.decode(row.display_json)
    hours = decoded.hours
    today = now.astimezone(clock.HELSINKI).date()
    open_flag: bool | None = None
    until = upcoming = None
    text = weekly_text(hours, today) if hours else None
    if hours:
        # No hours at all means "not known": open_now stays None rather than a guess.
        open_flag = is_open(hours, now)
        if open_flag:
            until = None if text == ALWAYS_OPEN_FI else open_until(hours, now)
        else:
            upcoming = next_opening(hours, now)
    return ServiceRecord(
        channel_id=row.source_id,
        service_name=row.service_name_fi,
        channel_name=row.name_fi or row.name_sv or row.name_en or "",
        kind=row.kind,
        scope=row.scope,
        match=_MATCH_BY_RANK[row.rank],
        municipality=row.municipality_name,
        area=row.area_name_fi,
        organisation=row.organisation_name,
        address=decoded.address,
        lat=decoded.lat,
        lon=decoded.lon,
        phones=decoded.phones,
        url=row.url,
        email=row.email,
        languages=decoded.languages,
        topics=tuple(row.topic_list.split(",")) if row.topic_list else (),
        description=row.short_description_fi,
        hours_text=text,
        hours_notes=tuple(notices(hours, today)) if hours else (),
        open_now=open_flag,
        open_until=until,
        next_opening=upcoming,
        min_age=row.min_age,
        max_age=row.max_age,
        source=row.source,
        source_url=row.source_url,
        last_verified=row.last_verified,
        is_example=bool(row.is_example),
    )


def build_records(rows: list[Any], now: datetime) -> list[ServiceRecord]:
    return [record_from_row(row, now) for row in rows]
