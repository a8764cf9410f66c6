"""Rasa's SQL tracker store, with personal data redacted from every event before it is written (safety rule S3).

Configured in endpoints.yml as `type: bot.rasa_ext.tracker_store.AnonymizingTrackerStore`. The stored conversation keeps
its structure (intents, actions, slot names) so Rasa can carry on, but user text, bot text, entity values, slot
values and metadata pass through bot.safety.redact first. The running turn still sees the real values in memory, so a
form may use a phone number in the same turn it is given; what is read back in a later turn is redacted.
Creating the store also puts a redacting filter on the Rasa process's log handlers (bot.safety.redact).

The store fails loudly: Rasa 3.6 quietly serves from memory when a custom store's constructor raises ImportError
or AttributeError, which would lose every conversation at a restart and break the gateway's fail-over between
Rasa processes. So those errors leave the constructor as TrackerStoreError, which stops Rasa's start-up.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
from typing import Any

import sqlalchemy
import sqlalchemy.orm
import sqlalchemy.pool
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, SessionStarted, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy.engine import Engine

from bot.safety.redact import STRUCTURAL_KEYS, install_log_redaction, redact_bot_text, redact_data, redact_text
from core.sealed import is_sealed, unseal

log = logging.getLogger("perheopas.tracker_store")


# Slots that hold free text a person chose to identify themselves with; no pattern can recognise a first name,
# so their values are removed by slot name, and from every text stored in the same turn.
NAME_SLOTS = frozenset({"cb_alias"})
NAME_PLACEHOLDER = "[nimi]"
#: What a stored user message says instead of its text. Nothing a person wrote is kept at rest: the conversation
#: carries on from intents, entities and slots (the actions read only the message of the running turn, which Rasa
#: holds in memory), so no pattern has to recognise names, addresses or spelled-out numbers in free text.
USER_TEXT_PLACEHOLDER = "[viesti]"


def redacted_event(event: Event, names: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The event as Rasa serialises it: a user's text replaced, every other non-structural string redacted and
    the given names removed."""
    raw = event.as_dict()
    if raw.get("event") == "user":
        raw["text"] = USER_TEXT_PLACEHOLDER
        if isinstance(raw.get("parse_data"), dict):
            raw["parse_data"] = {**raw["parse_data"], "text": USER_TEXT_PLACEHOLDER}
    # The bot's texts go through the remembered redaction, except in a turn that named someone: its confirmation
    # echoes the name, which must not stay in memory.
    cached = raw.get("event") == "bot" and not names
    data: dict[str, Any] = redact_data(raw, redact=redact_bot_text if cached else redact_text)
    if data.get("event") == "slot" and data.get("name") in NAME_SLOTS and data.get("value"):
        # A sealed value (core/sealed.py) is unreadable at rest and must reach the next turn as it is.
        data["value"] = raw["value"] if is_sealed(raw.get("value")) else NAME_PLACEHOLDER
    return _remove_names(data, _name_patterns(names)) if names else data


def names_in(events: list[Event]) -> frozenset[str]:
    """Values given to NAME_SLOTS among these events, sealed ones opened (the bot may echo them later)."""
    found = set()
    for event in events:
        # Runs over the whole session on every save: read the slot events' attributes, serialise nothing.
        if not isinstance(event, SlotSet) or event.key not in NAME_SLOTS or not isinstance(event.value, str):
            continue
        value = event.value
        name = unseal(value) if is_sealed(value) else value
        if name and any(ch.isalpha() for ch in name) and name != NAME_PLACEHOLDER:  # not "-" (no alias)
            found.add(name.strip())
    return frozenset(found)


def _name_patterns(names: frozenset[str]) -> re.Pattern[str]:
    """The names as whole words: an alias "A" or "Ti" must not be cut out of "Mihin" or "soittaa"."""
    alternatives = "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def _remove_names(node: Any, pattern: re.Pattern[str]) -> Any:
    """Names removed from the texts in an event, never from its structure (event type, slot and action names)."""
    if isinstance(node, str):
        return pattern.sub(NAME_PLACEHOLDER, node)
    if isinstance(node, dict):
        return {key: value if key in STRUCTURAL_KEYS else _remove_names(value, pattern) for key, value in node.items()}
    if isinstance(node, list):
        return [_remove_names(value, pattern) for value in node]
    return node


SQLITE_BUSY_TIMEOUT_MS = 30_000


def _pooled_sqlite_engine(url: Any) -> Engine:
    """An engine for the SQLite store that keeps its connections.

    SQLAlchemy 1.4 gives a SQLite file a NullPool, which opens, tunes and closes a connection for every read and
    every write of Rasa's turn. WAL lets `python -m bot purge` run while Rasa writes; synchronous=NORMAL saves
    an fsync per turn (a power cut may lose the last turns of a transcript, a crash of Rasa loses nothing).
    """
    engine = sqlalchemy.create_engine(
        url, poolclass=sqlalchemy.pool.QueuePool, pool_size=2, max_overflow=8,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
    )

    def on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    sqlalchemy.event.listen(engine, "connect", on_connect)
    return engine


class TrackerStoreError(RuntimeError):
    """The conversation store cannot be made; Rasa must not start without it (it would fall back to memory)."""


class AnonymizingTrackerStore(SQLTrackerStore):
    """SQLTrackerStore that stores and streams only redacted events.

    `db` may be a file path with `dialect: sqlite` (the default set-up) or a full SQLAlchemy URL such as
    `postgresql://perheopas@db:5432/perheopas_tracker`, so one environment variable can switch the store.
    """

    engine: Engine

    def __init__(
        self,
        domain: Domain | None = None,
        dialect: str = "sqlite",
        host: str | None = None,
        port: int | None = None,
        db: str = "rasa.db",
        username: str | None = None,
        password: str | None = None,
        event_broker: EventBroker | None = None,
        login_db: str | None = None,
        query: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        try:
            self._connect(domain, dialect, host, port, db, username, password, event_broker, login_db, query, **kwargs)
            # This store is the one piece of ours that Rasa's process always loads at start-up, after its logging:
            # Rasa's error logs can quote a whole tracker (an action server's 500 reply echoes its request).
            install_log_redaction()
        except (ImportError, AttributeError) as error:
            raise TrackerStoreError(
                f"The anonymising tracker store cannot start ({type(error).__name__}: {error}); Rasa would fall "
                "back to an in-memory store and lose conversations, so it stops instead"
            ) from error

    def _connect(self, domain: Domain | None, dialect: str, host: str | None, port: int | None, db: str,
                 username: str | None, password: str | None, event_broker: EventBroker | None,
                 login_db: str | None, query: dict[str, Any] | None, **kwargs: Any) -> None:
        if db and "://" in db and not host:
            host = db  # SQLTrackerStore uses a host that holds "://" as the complete URL.
        super().__init__(
            domain=domain, dialect=dialect, host=host, port=port, db=db, username=username, password=password,
            event_broker=event_broker, login_db=login_db, query=query, **kwargs,
        )
        if self.engine.dialect.name == "sqlite":
            self.engine.dispose()
            self.engine = _pooled_sqlite_engine(self.engine.url)
            self.sessionmaker = sqlalchemy.orm.sessionmaker(bind=self.engine)
        self._prepare_statements()

    def _prepare_statements(self) -> None:
        """The latest session's events (what SQLTrackerStore._event_query selects), as Core statements built once.

        Rasa rebuilds its ORM query and its cache key on every turn and loads whole ORM rows; in the load
        benchmark that cost more of Rasa's CPU than reading the rows (bench/LOAD_RESULTS.md).
        """
        table = self.SQLEvent.__table__
        sender = table.c.sender_id == sqlalchemy.bindparam("sender_id")
        session_start = (
            sqlalchemy.select(sqlalchemy.func.max(table.c.timestamp))
            .where(sender, table.c.type_name == SessionStarted.type_name)
            .scalar_subquery()
        )
        latest_session = sqlalchemy.and_(
            sender, sqlalchemy.or_(table.c.timestamp >= session_start, session_start.is_(None))
        )
        self._latest_session_data = sqlalchemy.select(table.c.data).where(latest_session).order_by(table.c.id)
        self._latest_session_count = sqlalchemy.select(sqlalchemy.func.count()).select_from(table).where(
            latest_session
        )
        self._insert_event = table.insert()

    async def _retrieve(self, sender_id: str, fetch_events_from_all_sessions: bool) -> DialogueStateTracker | None:
        if fetch_events_from_all_sessions:
            return await super()._retrieve(sender_id, fetch_events_from_all_sessions)
        with self.engine.connect() as connection:
            rows = connection.execute(self._latest_session_data, {"sender_id": sender_id}).scalars().all()
        if not self.domain or not rows:
            return None
        return DialogueStateTracker.from_dict(sender_id, [json.loads(data) for data in rows], self.domain.slots)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Append the tracker's new events, redacted, in one transaction (as SQLTrackerStore.save does)."""
        await self.stream_events(tracker)
        with self.engine.begin() as connection:
            stored = connection.execute(self._latest_session_count, {"sender_id": tracker.sender_id}).scalar_one()
            new_events = list(itertools.islice(tracker.events, stored, None))
            # Names given in any turn of the session: the bot echoes an alias turns after it was given.
            names = names_in(list(tracker.events))
            rows = []
            for event in new_events:
                data = redacted_event(event, names)
                rows.append({
                    "sender_id": tracker.sender_id,
                    "type_name": event.type_name,
                    "timestamp": data.get("timestamp"),
                    "intent_name": (data.get("parse_data") or {}).get("intent", {}).get(INTENT_NAME_KEY),
                    "action_name": data.get("name"),
                    "data": json.dumps(data),
                })
            if rows:
                connection.execute(self._insert_event, rows)
        log.debug("stored redacted events")

    async def _stream_new_events(self, event_broker: EventBroker, new_events: list[Event], sender_id: str) -> None:
        """An event broker is another copy of the conversation, so it gets the same redaction."""
        for event in new_events:
            event_broker.publish({"sender_id": sender_id, **redacted_event(event)})
