"""The display-ready record of one catalogue channel, as the bot shows it and `catalog search --json` prints it.

Built from a query row (catalog/query.py) and the channel's stored display data (catalog/display.py). Opening
facts are computed for a given moment; nothing is filled in when the catalogue lacks it.

Texts come in one language ("fi", "sv" or "en"). Where the catalogue has no Swedish or English text for a field,
the Finnish one is shown and the field is named in `fallback_fields`; addresses, municipality and organisation
names are proper names, shown in the asked language when PTV or the municipality list gives one, else in Finnish,
without a note.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any

from catalog import display
from catalog.hours import is_open, next_opening, notices, open_until, weekly_text
from catalog.hours_words import words
from core import clock
from core.language import DEFAULT_LANGUAGE, LANGUAGES

MATCH_LOCAL = "local"
MATCH_REGIONAL = "regional"
MATCH_NEARBY = "nearby"
MATCH_NATIONAL = "national"
_MATCH_BY_RANK = (MATCH_LOCAL, MATCH_REGIONAL, MATCH_NEARBY, MATCH_NATIONAL)
#: ServiceRecord fields that only `to_dict(with_language=True)` includes, so that existing JSON stays as it was.
LANGUAGE_FIELDS = ("display_language", "text_language", "fallback_fields")


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
    #: The language asked for ("fi", "sv" or "en"); hours texts and notices are always in it.
    display_language: str = DEFAULT_LANGUAGE
    #: The language of the record's own texts (service name, channel name, description): `display_language`
    #: when all of them are in it, "fi" when any of them fell back to Finnish (the bot notes "only in Finnish").
    text_language: str = DEFAULT_LANGUAGE
    #: Fields shown in Finnish because the catalogue has them in no other language: any of "service_name",
    #: "channel_name", "description", "phones" (a charge PTV describes only in Finnish). Empty for Finnish.
    fallback_fields: tuple[str, ...] = ()

    def to_dict(self, with_language: bool = False) -> dict[str, Any]:
        """JSON-ready dict (datetimes and dates as ISO 8601 strings); the language fields only `with_language`."""
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, (datetime, date)):
                data[key] = value.isoformat()
        data["phones"] = [list(p) for p in self.phones]
        data["languages"] = list(self.languages)
        data["topics"] = list(self.topics)
        data["hours_notes"] = list(self.hours_notes)
        if with_language:
            data["fallback_fields"] = list(self.fallback_fields)
        else:
            for key in LANGUAGE_FIELDS:
                del data[key]
        return data


def display_language(language: str | None) -> str:
    """A display language: "fi", "sv" or "en" (None means Finnish); ValueError for anything else."""
    if language is None:
        return DEFAULT_LANGUAGE
    if language not in LANGUAGES:
        raise ValueError(f"unknown display language {language!r}; known: {', '.join(LANGUAGES)}")
    return language


def _pick(row: Any, column: str, language: str, fallback: list[str], field: str) -> str | None:
    """`column`_`language` of the row, else the Finnish one (noting `field` in `fallback` when that had a text)."""
    own = getattr(row, f"{column}_{language}", None)
    if own or language == DEFAULT_LANGUAGE:
        return own
    finnish = getattr(row, f"{column}_{DEFAULT_LANGUAGE}", None)
    if finnish:
        fallback.append(field)
    return finnish


def _texts(row: Any, language: str, phones_fallback: tuple[str, ...]) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The record's catalogue texts in `language` and the fields that fell back to Finnish."""
    if language == DEFAULT_LANGUAGE:
        return {
            "service_name": row.service_name_fi,
            "channel_name": row.name_fi or row.name_sv or row.name_en or "",
            "description": row.short_description_fi,
            "municipality": row.municipality_name,
        }, ()
    fallback: list[str] = []
    service_name = _pick(row, "service_name", language, fallback, "service_name")
    channel_name = getattr(row, f"name_{language}", None)
    if not channel_name:
        channel_name = row.name_fi or row.name_sv or row.name_en or ""
        if channel_name:
            fallback.append("channel_name")
    description = _pick(row, "short_description", language, fallback, "description")
    municipality = row.municipality_name
    if language == "sv":
        municipality = getattr(row, "municipality_name_sv", None) or municipality
    texts = {
        "service_name": service_name,
        "channel_name": channel_name,
        "description": description,
        "municipality": municipality,
    }
    return texts, (*fallback, *phones_fallback)


def record_from_row(row: Any, now: datetime, language: str = DEFAULT_LANGUAGE) -> ServiceRecord:
    """The record of a query row at `now`, its texts in `language` ("fi", "sv" or "en")."""
    language = display_language(language)
    decoded = display.decode(row.display_json)
    hours = decoded.hours
    today = now.astimezone(clock.HELSINKI).date()
    open_flag: bool | None = None
    until = upcoming = None
    text = weekly_text(hours, today, language) if hours else None
    if hours:
        # No hours at all means "not known": open_now stays None rather than a guess.
        open_flag = is_open(hours, now)
        if open_flag:
            until = None if text == words(language).always_open else open_until(hours, now)
        else:
            upcoming = next_opening(hours, now)
    address, phones, phones_fallback = decoded.in_language(language)
    texts, fallback = _texts(row, language, phones_fallback)
    own_texts_fell_back = bool({"service_name", "channel_name", "description"} & set(fallback))
    return ServiceRecord(
        channel_id=row.source_id,
        service_name=texts["service_name"],
        channel_name=texts["channel_name"],
        kind=row.kind,
        scope=row.scope,
        match=_MATCH_BY_RANK[row.rank],
        municipality=texts["municipality"],
        area=row.area_name_fi,
        organisation=row.organisation_name,
        address=address,
        lat=decoded.lat,
        lon=decoded.lon,
        phones=phones,
        url=row.url,
        email=row.email,
        languages=decoded.languages,
        topics=tuple(row.topic_list.split(",")) if row.topic_list else (),
        description=texts["description"],
        hours_text=text,
        hours_notes=tuple(notices(hours, today, language=language)) if hours else (),
        open_now=open_flag,
        open_until=until,
        next_opening=upcoming,
        min_age=row.min_age,
        max_age=row.max_age,
        source=row.source,
        source_url=row.source_url,
        last_verified=row.last_verified,
        is_example=bool(row.is_example),
        display_language=language,
        text_language=DEFAULT_LANGUAGE if own_texts_fell_back else language,
        fallback_fields=fallback,
    )


def build_records(rows: list[Any], now: datetime, language: str = DEFAULT_LANGUAGE) -> list[ServiceRecord]:
    """Records of query rows at `now`, their texts in `language` ("fi", "sv" or "en")."""
    return [record_from_row(row, now, language) for row in rows]
