"""Catalogue queries for the bot: ranked, display-ready service records.

Ranking: channels serving the municipality itself (local) → channels of its region / wellbeing area
(regional) → optionally local channels elsewhere in the same wellbeing area (nearby) → nationwide.
Everything returned comes from the catalogue; nothing is made up when a field is missing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import and_, bindparam, case, literal, or_, select, union_all
from sqlalchemy.orm import Session

from catalog import display
from catalog import municipalities as municipality_data
from catalog.hours import is_open
from catalog.models import (
    KIND_CHAT,
    KIND_LOCATION,
    KIND_PHONE,
    KIND_WEB,
    SCOPE_LOCAL,
    SCOPE_NATIONAL,
    SCOPE_REGIONAL,
    Channel,
    ChannelArea,
    ChannelLanguage,
    ChannelReach,
    ChannelTopic,
    Municipality,
)
from catalog.records import (
    MATCH_LOCAL,
    MATCH_NATIONAL,
    MATCH_NEARBY,
    MATCH_REGIONAL,
    ServiceRecord,
    build_records,
)
from catalog.records import display_language as checked_language
from catalog.topics import load_topics
from core import clock
from core.finnish import fold, search_stem
from core.language import LANGUAGES

__all__ = [
    "MATCH_LOCAL",
    "MATCH_NATIONAL",
    "MATCH_NEARBY",
    "MATCH_REGIONAL",
    "SEARCH_CANDIDATES",
    "ResolvedMunicipality",
    "ServiceRecord",
    "UnknownMunicipalityError",
    "UnknownTopicError",
    "crisis_services",
    "find_services",
    "national_services",
    "resolve",
    "search_text",
]

_KIND_ORDER = {KIND_LOCATION: 0, KIND_PHONE: 1, KIND_CHAT: 2, KIND_WEB: 3}
_TOKEN_RE = re.compile(r"[a-z0-9]+")
SEARCH_CANDIDATES = 400


class UnknownTopicError(ValueError):
    """The topic is not defined in catalog/data/topics.yml."""


class UnknownMunicipalityError(ValueError):
    """The text names no municipality the resolver or the catalogue knows."""


@dataclass(frozen=True)
class ResolvedMunicipality:
    code: str
    name_fi: str
    wellbeing_area: str | None


def resolve(session: Session, text: str) -> ResolvedMunicipality | None:
    """A municipality from any user form ("Kempeleessä", "Uleåborg", "564"), also ones only PTV data knew."""
    text = (text or "").strip()
    if not text:
        return None
    if text.isdigit() and len(text) <= 3:
        row = session.get(Municipality, text.zfill(3))
        return ResolvedMunicipality(row.code, row.name_fi, row.wellbeing_area) if row else None
    found = municipality_data.resolve_municipality(text)
    if found is None:
        # Only the catalogue's municipalities that the bundled list lacks; usually none, so no rows to load.
        known = [m.code for m in municipality_data.load_municipalities()]
        extra = [
            municipality_data.Municipality(
                code=row.code,
                name_fi=row.name_fi,
                name_sv=row.name_sv or row.name_fi,
                region=row.region or "",
                wellbeing_area=row.wellbeing_area or "",
            )
            for row in session.execute(select(Municipality).where(Municipality.code.not_in(known))).scalars()
        ]
        if extra:
            found = municipality_data.resolve_municipality(text, extra=extra)
    if found is None:
        return None
    return ResolvedMunicipality(found.code, found.name_fi, found.wellbeing_area or None)


def _columns() -> list[Any]:
    return [
        Channel.id,
        Channel.source_id,
        Channel.name_fi,
        Channel.name_sv,
        Channel.name_en,
        Channel.kind,
        Channel.scope,
        Channel.area_name_fi,
        Channel.municipality_code,
        Channel.url,
        Channel.email,
        Channel.min_age,
        Channel.max_age,
        Channel.source,
        Channel.source_url,
        Channel.last_verified,
        Channel.is_example,
        Channel.display_json,
        Channel.service_name_fi,
        Channel.short_description_fi,
        Channel.topic_list,
        Channel.sort_key,
        Channel.municipality_name_fi.label("municipality_name"),
        Channel.service_name_sv,
        Channel.service_name_en,
        Channel.short_description_sv,
        Channel.short_description_en,
        Channel.municipality_name_sv,
        Channel.organisation_name_fi.label("organisation_name"),
    ]


def _filtered(stmt: Any, with_age: bool, with_language: bool, with_kind: bool, join_topic: bool = True) -> Any:
    if join_topic:
        stmt = stmt.join(
            ChannelTopic, and_(ChannelTopic.channel_id == Channel.id, ChannelTopic.topic == bindparam("topic"))
        )
    stmt = stmt.where(Channel.published.is_(True))
    if with_age:
        stmt = stmt.where(
            or_(Channel.min_age.is_(None), Channel.min_age <= bindparam("age")),
            or_(Channel.max_age.is_(None), Channel.max_age >= bindparam("age")),
        )
    if with_language:
        stmt = stmt.where(
            Channel.id.in_(select(ChannelLanguage.channel_id).where(ChannelLanguage.language == bindparam("language")))
        )
    if with_kind:
        stmt = stmt.where(Channel.kind == bindparam("kind"))
    return stmt


@lru_cache(maxsize=128)
def _candidate_statement(
    with_place: bool,
    scopes: tuple[str, ...],
    include_nearby: bool,
    with_age: bool,
    with_language: bool,
    with_kind: bool,
    paged: bool,
) -> Any:
    """A parameterised SELECT of ranked candidates (rank 0 local, 1 regional, 2 nearby, 3 national).

    Built once per shape and reused: building SQLAlchemy constructs costs more than running them.
    Parameters: topic, code, area, age, language, kind, limit, offset.
    """
    parts = []
    if with_place and (SCOPE_LOCAL in scopes or SCOPE_REGIONAL in scopes):
        wanted = [s for s in (SCOPE_LOCAL, SCOPE_REGIONAL) if s in scopes]
        # Driven by the (topic, municipality) search index: only channels that serve this municipality.
        covered = (
            select(
                ChannelReach.channel_id.label("cid"),
                case((ChannelReach.scope == SCOPE_REGIONAL, 1), else_=0).label("rank"),
            )
            .join(Channel, Channel.id == ChannelReach.channel_id)
            .where(ChannelReach.topic == bindparam("topic"), ChannelReach.municipality_code == bindparam("code"))
        )
        if len(wanted) == 1:  # the index holds only local and regional rows
            covered = covered.where(ChannelReach.scope == wanted[0])
        parts.append(_filtered(covered, with_age, with_language, with_kind, join_topic=False))
        if include_nearby and SCOPE_LOCAL in scopes:
            same_area = select(Municipality.code).where(
                Municipality.wellbeing_area == bindparam("area"), Municipality.code != bindparam("code")
            )
            serves_here = select(ChannelArea.channel_id).where(ChannelArea.municipality_code == bindparam("code"))
            nearby = select(Channel.id.label("cid"), literal(2).label("rank")).where(
                Channel.scope == SCOPE_LOCAL,
                Channel.municipality_code.in_(same_area),
                Channel.id.not_in(serves_here),
            )
            parts.append(_filtered(nearby, with_age, with_language, with_kind))
    if SCOPE_NATIONAL in scopes:
        # Driven by the (topic, scope) index: the national channels of one topic, not all its channels.
        national = (
            select(Channel.id.label("cid"), literal(3).label("rank"))
            .select_from(ChannelTopic)
            .join(Channel, Channel.id == ChannelTopic.channel_id)
            .where(ChannelTopic.topic == bindparam("topic"), ChannelTopic.scope == SCOPE_NATIONAL)
        )
        parts.append(_filtered(national, with_age, with_language, with_kind, join_topic=False))
    if not parts:
        return None
    ranked = (union_all(*parts) if len(parts) > 1 else parts[0]).subquery("ranked")
    order = [ranked.c.rank]
    if with_place:
        # Within a rank, channels located in the municipality itself come first.
        order.append(case((Channel.municipality_code == bindparam("code"), 0), else_=1))
    stmt = (
        select(*_columns(), ranked.c.rank)
        .select_from(ranked)
        .join(Channel, Channel.id == ranked.c.cid)
        .order_by(*order, case(_KIND_ORDER, value=Channel.kind, else_=9), Channel.sort_key, Channel.id)
    )
    if paged:
        stmt = stmt.limit(bindparam("limit")).offset(bindparam("offset"))
    return stmt


def _candidates(
    session: Session,
    topic: str,
    place: ResolvedMunicipality | None,
    age: int | None,
    language: str | None,
    scopes: tuple[str, ...] = (SCOPE_LOCAL, SCOPE_REGIONAL, SCOPE_NATIONAL),
    kind: str | None = None,
    include_nearby: bool = False,
    limit: int | None = None,
    offset: int = 0,
) -> list[Any]:
    """Ranked candidate rows (all of them when `limit` is None)."""
    nearby = include_nearby and place is not None and bool(place.wellbeing_area)
    stmt = _candidate_statement(
        place is not None, scopes, nearby, age is not None, bool(language), bool(kind), limit is not None
    )
    if stmt is None:
        return []
    params: dict[str, Any] = {"topic": topic}
    if place is not None:
        params["code"] = place.code
        if nearby:
            params["area"] = place.wellbeing_area
    if age is not None:
        params["age"] = age
    if language:
        params["language"] = language
    if kind:
        params["kind"] = kind
    if limit is not None:
        params.update(limit=limit, offset=offset)
    return list(session.execute(stmt, params).all())


def _check_topic(topic: str) -> None:
    if topic not in load_topics().topics:
        raise UnknownTopicError(f"unknown topic {topic!r}; known: {', '.join(sorted(load_topics().topics))}")


def _place(session: Session, municipality: str | None) -> ResolvedMunicipality | None:
    if municipality is None or not municipality.strip():
        return None
    place = resolve(session, municipality)
    if place is None:
        raise UnknownMunicipalityError(f"no municipality matches {municipality!r}")
    return place


def find_services(
    session: Session,
    topic: str,
    municipality: str | None = None,
    age: int | None = None,
    language: str | None = None,
    open_at: datetime | None = None,
    now: datetime | None = None,
    limit: int = 5,
    offset: int = 0,
    include_nearby: bool = False,
    display_language: str = "fi",
) -> list[ServiceRecord]:
    """Channels for `topic`, ranked local → regional → (nearby) → national.

    `municipality` may be any user form; without it only nationwide channels are returned.
    `age` is the child's age in years; `language` keeps only channels that serve in that language;
    `open_at` keeps only channels open at that moment.
    `now` (default: the clock, honouring PERHEOPAS_NOW) decides open_now and next_opening.
    `display_language` ("fi", "sv", "en") is the language of the records' texts, Finnish where there is no other.
    Raises UnknownTopicError / UnknownMunicipalityError for input the catalogue cannot interpret, ValueError for
    an unknown display language.
    """
    shown_in = checked_language(display_language)
    _check_topic(topic)
    now = now or clock.now()
    place = _place(session, municipality)
    if open_at is None:
        rows = _candidates(
            session, topic, place, age, language, include_nearby=include_nearby, limit=limit, offset=offset
        )
        return build_records(rows, now, shown_in)
    rows = [
        row
        for row in _candidates(session, topic, place, age, language, include_nearby=include_nearby)
        if (hours := display.decode(row.display_json).hours) and is_open(hours, open_at)
    ]
    return build_records(rows[offset : offset + limit], now, shown_in)


def national_services(
    session: Session, topic: str, now: datetime | None = None, limit: int = 20, display_language: str = "fi"
) -> list[ServiceRecord]:
    """Nationwide channels for `topic` (the honest fallback when nothing local matches)."""
    return find_services(session, topic, None, now=now, limit=limit, display_language=display_language)


def crisis_services(
    session: Session, municipality: str | None, now: datetime | None = None, display_language: str = "fi"
) -> list[ServiceRecord]:
    """The regional sosiaali- ja kriisipäivystys for the municipality's wellbeing area, then 112 and Nollalinja.

    The steps come from the `crisis` section of topics.yml. An unknown or missing municipality
    only drops the regional step, and an unknown display language shows Finnish: this path must not fail.
    """
    shown_in = display_language if display_language in LANGUAGES else "fi"
    now = now or clock.now()
    try:
        place = _place(session, municipality)
    except UnknownMunicipalityError:
        place = None
    out: list[ServiceRecord] = []
    seen: set[str] = set()
    for step in load_topics().crisis:
        if step.scope != SCOPE_NATIONAL and place is None:
            continue
        rows = _candidates(session, step.topic, place, None, None, scopes=(step.scope,), kind=step.kind)
        if step.always_open:
            rows = [r for r in rows if any(h.always_open for h in display.decode(r.display_json).hours)]
        for record in build_records(rows, now, shown_in):
            if record.channel_id not in seen:
                seen.add(record.channel_id)
                out.append(record)
    return out


def search_text(
    session: Session,
    text: str,
    limit: int = 5,
    municipality: str | None = None,
    now: datetime | None = None,
    display_language: str = "fi",
) -> list[ServiceRecord]:
    """Free-text fallback over names, descriptions, keywords and topic labels.

    A municipality named in the text (or given) restricts results to channels serving it plus
    nationwide ones. Scored by matched words, name matches and scope; ties sort by name.
    `display_language` as in find_services.
    """
    shown_in = checked_language(display_language)
    now = now or clock.now()
    place = None
    if municipality:
        place = resolve(session, municipality)
    folded = fold(text or "")
    mentioned = municipality_data.find_municipalities_in_text(text or "")
    if place is None and mentioned:
        first = mentioned[0]
        place = ResolvedMunicipality(first.code, first.name_fi, first.wellbeing_area or None)
    place_words = set()
    for m in mentioned:
        place_words |= set(_TOKEN_RE.findall(fold(m.name_fi))) | set(_TOKEN_RE.findall(fold(m.name_sv)))
    stopwords = load_topics().stopwords
    tokens = []
    for token in _TOKEN_RE.findall(folded):
        if len(token) < 3 or token in stopwords:
            continue
        if any(token.startswith(word[:4]) for word in place_words) and place is not None:
            continue
        stem = search_stem(token)
        if stem not in tokens:
            tokens.append(stem)
    if not tokens:
        return []
    stmt = select(*_columns(), Channel.search_blob).where(
        Channel.published.is_(True), or_(*[Channel.search_blob.contains(t, autoescape=True) for t in tokens])
    )
    if place is not None:
        stmt = stmt.where(
            or_(
                Channel.scope == SCOPE_NATIONAL,
                Channel.id.in_(select(ChannelArea.channel_id).where(ChannelArea.municipality_code == place.code)),
            )
        )
    rows = session.execute(stmt.order_by(Channel.id).limit(SEARCH_CANDIDATES)).all()

    def score(row: Any) -> tuple[Any, ...]:
        blob = row.search_blob or ""
        name = fold(" ".join(n for n in (row.name_fi, row.service_name_fi) if n))
        hits = sum(1 for t in tokens if t in blob)
        name_hits = sum(1 for t in tokens if t in name)
        scope_rank = {SCOPE_LOCAL: 0, SCOPE_REGIONAL: 1}.get(row.scope, 2)
        return (-hits, -name_hits, scope_rank, _KIND_ORDER.get(row.kind, 9), row.sort_key, row.id)

    best = sorted(rows, key=score)[:limit]
    ranked = [_with_rank(row, place) for row in best]
    return build_records(ranked, now, shown_in)


class _Ranked:
    """A result row with the `rank` attribute record_from_row expects (free-text results have no SQL rank)."""

    def __init__(self, row: Any, rank: int):
        self._row = row
        self.rank = rank

    def __getattr__(self, name: str) -> Any:
        return getattr(self._row, name)


def _with_rank(row: Any, place: ResolvedMunicipality | None) -> Any:
    rank = {SCOPE_LOCAL: 0, SCOPE_REGIONAL: 1}.get(row.scope, 3)
    if place is None and row.scope != SCOPE_NATIONAL:
        rank = 0 if row.scope == SCOPE_LOCAL else 1
    return _Ranked(row, rank)
