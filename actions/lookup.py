"""Catalogue look-ups behind the actions: one function per question, with the session and clock passed in.

Everything returned comes from the catalogue (catalog.query); nothing here makes up a service (S4).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from actions.language import reply_language
from actions.needs import Need
from catalog.municipalities import resolve_municipality
from catalog.query import (
    MATCH_LOCAL,
    MATCH_NATIONAL,
    MATCH_NEARBY,
    MATCH_REGIONAL,
    ServiceRecord,
    UnknownMunicipalityError,
    UnknownTopicError,
    crisis_services,
    find_services,
    resolve,
    search_text,
)

log = logging.getLogger(__name__)

PAGE_SIZE = 4
NATIONAL_LIMIT = 3
LOCAL_LIMIT = 5
CANDIDATES = 100
HERE = (MATCH_LOCAL, MATCH_REGIONAL)


@dataclass
class Places:
    """A page of meeting places for a municipality, or what to offer when it has none."""

    municipality: str | None
    page: list[ServiceRecord] = field(default_factory=list)
    nearby: list[ServiceRecord] = field(default_factory=list)
    national: list[ServiceRecord] = field(default_factory=list)
    offset: int = 0
    total_here: int = 0
    language_dropped: bool = False

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.page) < self.total_here

    @property
    def next_offset(self) -> int:
        return self.offset + len(self.page)


@dataclass
class Services:
    """Local and regional services for a need, then the nationwide ones."""

    municipality: str | None
    local: list[ServiceRecord] = field(default_factory=list)
    national: list[ServiceRecord] = field(default_factory=list)


def canonical_municipality(session: Session, text: str | None) -> str | None:
    """The Finnish name of the municipality the text names ("Kempeleessä" → "Kempele"), else None."""
    if not text or not str(text).strip():
        return None
    try:
        found = resolve(session, str(text))
        return found.name_fi if found else None
    except SQLAlchemyError:
        # The catalogue may be down; the bundled municipality list still knows every municipality.
        fallback = resolve_municipality(str(text))
        return fallback.name_fi if fallback else None


def _query(session: Session, topic: str, **kwargs: object) -> list[ServiceRecord]:
    """find_services in the conversation's language that treats a topic or municipality the catalogue does not
    know as "no results"."""
    kwargs.setdefault("display_language", reply_language())
    try:
        return find_services(session, topic, **kwargs)  # type: ignore[arg-type]
    except UnknownTopicError:
        log.error("topic %r is not in catalog/data/topics.yml; check actions/data/needs.yml", topic)
        return []
    except UnknownMunicipalityError:
        kwargs = {**kwargs, "municipality": None}
        return find_services(session, topic, **kwargs)  # type: ignore[arg-type]


def _unique(records: Iterable[ServiceRecord], seen: set[str] | None = None) -> list[ServiceRecord]:
    seen = set() if seen is None else seen
    out = []
    for record in records:
        if record.channel_id not in seen:
            seen.add(record.channel_id)
            out.append(record)
    return out


def find_places(
    session: Session, topic: str, municipality: str | None, age: int | None, language: str | None,
    offset: int, now: datetime, page_size: int = PAGE_SIZE,
) -> Places:
    """Meeting places serving the municipality, nearest first; when there are none, nearby and national ones."""
    result = Places(municipality=municipality, offset=offset)
    if municipality is None:
        result.national = [r for r in _query(session, topic, now=now, limit=NATIONAL_LIMIT)]
        return result
    here = _here(session, topic, municipality, age, language, now)
    if not here and language:
        here = _here(session, topic, municipality, age, None, now)
        result.language_dropped = bool(here)
    result.total_here = len(here)
    result.page = here[offset: offset + page_size]
    if not here and offset == 0:
        wider = _query(session, topic, municipality=municipality, age=age, now=now, limit=CANDIDATES,
                       include_nearby=True)
        result.nearby = [r for r in wider if r.match == MATCH_NEARBY][:page_size]
        result.national = [r for r in wider if r.match == MATCH_NATIONAL][:NATIONAL_LIMIT]
    return result


def _here(session: Session, topic: str, municipality: str, age: int | None, language: str | None,
          now: datetime) -> list[ServiceRecord]:
    records = _query(session, topic, municipality=municipality, age=age, language=language, now=now,
                     limit=CANDIDATES)
    return _unique(r for r in records if r.match in HERE)


def age_changes_result(session: Session, need: Need, municipality: str | None, now: datetime,
                       page_size: int | None = None) -> bool:
    """Whether asking the child's age would change the list: more places than one page, some only for some ages.

    A short list is shown whole, each place with its age group, so the parent is not asked one more question.
    """
    if municipality is None or not need.age_matters:
        return False
    page_size = PAGE_SIZE if page_size is None else page_size
    for topic in need.topics:
        records = _here(session, topic, municipality, None, None, now)
        if len(records) > page_size and any(r.min_age is not None or r.max_age is not None for r in records):
            return True
    return False


def find_for_need(
    session: Session, need: Need, municipality: str | None, age: int | None, language: str | None, now: datetime,
) -> Services:
    """Local and regional services for each of the need's topics in order, then nationwide ones."""
    result = Services(municipality=municipality)
    seen: set[str] = set()
    if municipality is not None:
        for topic in need.topics:
            records = _here(session, topic, municipality, age, language, now) or (
                _here(session, topic, municipality, age, None, now) if language else []
            )
            result.local.extend(_unique(records, seen))
        result.local = result.local[:LOCAL_LIMIT]
    for topic in need.national_topics:
        records = [r for r in _query(session, topic, now=now, limit=CANDIDATES) if r.match == MATCH_NATIONAL]
        result.national.extend(_unique(records, seen))
    result.national = result.national[:NATIONAL_LIMIT]
    return result


def urgent_services(session: Session, municipality: str | None, now: datetime) -> list[ServiceRecord]:
    """The regional sosiaali- ja kriisipäivystys and the 24/7 national lines, as the catalogue lists them."""
    return crisis_services(session, municipality, now=now, display_language=reply_language())


def text_search(session: Session, text: str, now: datetime, limit: int = 3) -> list[ServiceRecord]:
    """The catalogue's free-text search, for the second fallback."""
    return search_text(session, text, limit=limit, now=now, display_language=reply_language())
