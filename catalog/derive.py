"""Derived catalogue data: each channel's topics, target ages, display names and search text.

PTV says what a service is in its own words and codes; the bot asks by topic, age and free text. This module
turns the one into the other after every import, for the channels the import touched, and for every channel when
catalog/data/topics.yml changed (its hash is kept in catalog_meta). Query time then reads only ready columns and
the (topic, municipality) search index.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from catalog.models import (
    SCOPE_NATIONAL,
    CatalogMeta,
    Channel,
    ChannelArea,
    ChannelReach,
    ChannelTopic,
    Municipality,
    Organisation,
    Service,
    ServiceChannelLink,
    ServiceTerm,
)
from catalog.store import chunks
from catalog.topics import TOPICS_PATH, ClassifierInput, TopicConfig, age_range, classify, load_topics
from core.finnish import fold

TOPICS_HASH_KEY = "topics_sha256"

Term = tuple[str, str, str | None]  # (kind, code, Finnish label)


def topics_hash(path: Path = TOPICS_PATH) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def topics_changed(session: Session) -> bool:
    """Whether topics.yml changed since the catalogue was classified; records the new hash either way."""
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


def ensure_classification(session: Session) -> int:
    """Reclassify every channel if topics.yml changed since the catalogue was last classified."""
    if topics_changed(session):
        count = refresh_derived(session, None)
        session.commit()
        return count
    session.commit()
    return 0


def refresh_derived(session: Session, channel_ids: set[int] | None) -> int:
    """Recompute topics, target ages, service name and search text for channels (None: all)."""
    config = load_topics()
    if channel_ids is None:
        channel_ids = set(session.execute(select(Channel.id)).scalars())
    municipality_names: dict[str, str] = dict(session.execute(select(Municipality.code, Municipality.name_fi)).all())
    swedish_names: dict[str, str] = dict(session.execute(select(Municipality.code, Municipality.name_sv)).all())
    count = 0
    for chunk in chunks(sorted(channel_ids)):
        channels = _channels(session, chunk)
        linked, terms = _linked_services(session, channels)
        organisation_names = _organisation_names(session, channels)
        topic_rows: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        for channel in channels:
            derived = _derive(channel, linked.get(channel.source_id, []), terms, config)
            topic_rows += [
                {"channel_id": channel.id, "topic": topic, "scope": channel.scope} for topic in derived.topics
            ]
            updates.append(derived.columns(channel, municipality_names, organisation_names, swedish_names))
        ids = [c.id for c in channels]
        _replace_topics(session, ids, topic_rows)
        _update_channels(session, updates)
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


# --- the steps ------------------------------------------------------------------------------------------


def _channels(session: Session, ids: Sequence[int]) -> list[Any]:
    """The channels' own names and texts: what a channel says about itself."""
    return list(
        session.execute(
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
            ).where(Channel.id.in_(ids))
        ).all()
    )


def _linked_services(session: Session, channels: list[Any]) -> tuple[dict[str, list[Any]], dict[int, list[Term]]]:
    """The published services linked to each channel (by channel source id), and those services' terms.

    A channel often says little; its services' names, texts and PTV codes are what classify it. A withdrawn
    service lends it nothing.
    """
    links = session.execute(
        select(ServiceChannelLink.channel_source_id, ServiceChannelLink.service_source_id)
        .where(ServiceChannelLink.channel_source_id.in_([c.source_id for c in channels]))
        .distinct()
    ).all()
    service_source_ids = sorted({link.service_source_id for link in links})
    services: dict[str, Any] = {}
    terms: dict[int, list[Term]] = {}
    for chunk in chunks(service_source_ids):
        for row in session.execute(
            select(
                Service.id,
                Service.source_id,
                Service.name_fi,
                Service.name_sv,
                Service.name_en,
                Service.summary_fi,
                Service.summary_sv,
                Service.summary_en,
                Service.description_fi,
            ).where(Service.source_id.in_(chunk), Service.published.is_(True))
        ):
            services[row.source_id] = row
        service_ids = [services[s].id for s in chunk if s in services]
        for term in session.execute(
            select(ServiceTerm.service_id, ServiceTerm.kind, ServiceTerm.code, ServiceTerm.label_fi).where(
                ServiceTerm.service_id.in_(service_ids)
            )
        ):
            terms.setdefault(term.service_id, []).append((term.kind, term.code, term.label_fi))
    linked: dict[str, list[Any]] = {}
    for link in links:
        if link.service_source_id in services:
            linked.setdefault(link.channel_source_id, []).append(services[link.service_source_id])
    return linked, terms


def _organisation_names(session: Session, channels: list[Any]) -> dict[int, str | None]:
    org_ids = sorted({c.organisation_id for c in channels if c.organisation_id is not None})
    rows = session.execute(select(Organisation.id, Organisation.name_fi).where(Organisation.id.in_(org_ids)))
    return dict(rows.all())


@dataclass
class _Derived:
    """What one channel is about, for whom, and the words it is found by."""

    topics: list[str]  # sorted
    min_age: int | None
    max_age: int | None
    services: list[Any]  # linked services, in name order
    search_parts: list[str]

    def columns(
        self,
        channel: Any,
        municipality_names: dict[str, str],
        organisation_names: dict[int, str | None],
        swedish_names: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """The channel's derived columns, keyed for the bulk UPDATE (`_id` is the channel's id).

        Each language's service name is the same service's (the first in Finnish name order), and its short
        description follows the Finnish order: the channel's summary, a service's summary, the channel's
        description. A language PTV has no text in stays NULL.
        """
        parts = list(self.search_parts)
        if channel.municipality_code:
            parts.append(municipality_names.get(channel.municipality_code) or "")
        first = self.services[0] if self.services else None
        return {
            "_id": channel.id,
            "min_age": self.min_age,
            "max_age": self.max_age,
            "service_name_fi": (first.name_fi if first else None),
            "service_name_sv": (first.name_sv if first else None),
            "service_name_en": (first.name_en if first else None),
            "municipality_name_fi": municipality_names.get(channel.municipality_code),
            "municipality_name_sv": (swedish_names or {}).get(channel.municipality_code),
            "organisation_name_fi": organisation_names.get(channel.organisation_id),
            **{f"short_description_{lang}": self._description(channel, lang) for lang in ("fi", "sv", "en")},
            "topic_list": ",".join(self.topics)[:1000] or None,
            "search_blob": fold(" | ".join(parts)),
        }

    def _description(self, channel: Any, lang: str) -> str | None:
        summary = f"summary_{lang}"
        return short_text(
            getattr(channel, summary)
            or next((getattr(s, summary) for s in self.services if getattr(s, summary)), None)
            or getattr(channel, f"description_{lang}")
        )


def _derive(channel: Any, services: list[Any], terms: dict[int, list[Term]], config: TopicConfig) -> _Derived:
    """Classify one channel by its own words and its services' words and codes.

    The channel's own names decide the target ages when they name any; otherwise its services' names do.
    """
    own_names = [n for n in (channel.name_fi, channel.name_sv, channel.name_en) if n]
    own_texts = [
        t
        for t in (
            channel.summary_fi,
            channel.summary_sv,
            channel.summary_en,
            channel.description_fi,
            channel.description_sv,
            channel.description_en,
        )
        if t
    ]
    # A stable order: the first service names the channel's service, and the search text reads the same each run.
    services = sorted(services, key=lambda s: ((s.name_fi or "").lower(), s.source_id))
    inp = ClassifierInput(
        kind=channel.kind,
        names=own_names + [n for s in services for n in (s.name_fi, s.name_sv, s.name_en) if n],
        texts=own_texts + [t for s in services for t in (s.summary_fi, s.description_fi) if t],
        terms=[t for s in services for t in terms.get(s.id, [])],
    )
    topics = sorted(classify(inp, config))
    low, high = age_range(own_names, config)
    if low is None and high is None:
        low, high = age_range([s.name_fi for s in services if s.name_fi], config)
    keywords = [label or code for s in services for kind, code, label in terms.get(s.id, []) if kind == "keyword"]
    search_parts = (
        inp.names
        + own_texts
        + [s.summary_fi for s in services if s.summary_fi]
        + keywords
        + [config.topics[t].label_fi for t in topics]
    )
    return _Derived(topics, low, high, services, search_parts)


def _replace_topics(session: Session, ids: list[int], topic_rows: list[dict[str, Any]]) -> None:
    """Rewrite the channels' topics and their (topic, municipality) search index rows.

    Only local and regional channels go into the index, one row per municipality served: a query for a place
    then reads just its own rows. National channels are found by topic alone.
    """
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
    for reach_chunk in chunks(reach_rows, 5000):
        session.execute(insert(ChannelReach), list(reach_chunk))


def _update_channels(session: Session, updates: list[dict[str, Any]]) -> None:
    """One executemany UPDATE for the chunk: far faster than an ORM flush per channel."""
    if updates:
        session.connection().execute(
            update(Channel)
            .where(Channel.id == bindparam("_id"))
            .values({key: bindparam(key) for key in updates[0] if key != "_id"}),
            updates,
        )
