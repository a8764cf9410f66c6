"""Rasa's Redis lock store with atomic ticket updates, for several Rasa processes sharing one tracker store.

Rasa 3.6's RedisLockStore changes a conversation's ticket lock with a plain GET, change, SET. When two processes
take a ticket for the same conversation at the same moment, both read the same lock, both write it back, and
one ticket is lost: both processes then handle a message of that conversation at once, and the tracker store
keeps only one of the two turns (tests/test_scale_out.py showed messages lost this way). Here every change
runs in a Redis WATCH/MULTI transaction that is retried when another process changed the lock meanwhile.

Configured in deploy/endpoints.production.yml as `type: bot.rasa_ext.lock_store.AtomicRedisLockStore`; it takes the same
settings as Rasa's `type: redis`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

LockChange = Callable[[TicketLock | None], TicketLock | None]


class AtomicRedisLockStore(RedisLockStore):
    """RedisLockStore whose read-change-write steps are atomic across processes."""

    def __init__(self, endpoint_config: EndpointConfig | None = None, **kwargs: Any) -> None:
        # Rasa builds a custom lock store from the whole endpoint entry; read it as `type: redis` would be.
        if endpoint_config is not None:
            kwargs = {**endpoint_config.kwargs, "host": endpoint_config.url or "localhost", **kwargs}
        kwargs.pop("type", None)
        super().__init__(**kwargs)

    def _change(self, conversation_id: str, change: LockChange) -> None:
        """Apply `change` to the stored lock atomically; it returns the lock to save, or None to delete it.

        `change` may run more than once (after a concurrent change), so it must only compute, never act.
        """
        key = self.key_prefix + conversation_id

        def transaction(pipe: Any) -> None:
            raw = pipe.get(key)
            lock = TicketLock.from_dict(json.loads(raw)) if raw else None
            updated = change(lock)
            pipe.multi()
            if updated is None:
                pipe.delete(key)
            else:
                pipe.set(key, updated.dumps())

        self.red.transaction(transaction, key)

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        issued: list[int] = []

        def change(lock: TicketLock | None) -> TicketLock:
            lock = lock or self.create_lock(conversation_id)
            issued[:] = [lock.issue_ticket(lock_lifetime)]
            return lock

        try:
            self._change(conversation_id, change)
        except Exception as error:  # Rasa's own contract: any failure here is a LockError
            raise LockError(f"Error while acquiring lock. Error:\n{error}") from error
        return issued[0]

    def update_lock(self, conversation_id: str) -> None:
        def change(lock: TicketLock | None) -> TicketLock | None:
            if lock is not None:
                lock.remove_expired_tickets()
            return lock

        self._change(conversation_id, change)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        def change(lock: TicketLock | None) -> TicketLock | None:
            if lock is not None:
                lock.remove_ticket_for(ticket_number)
            return lock

        self._change(conversation_id, change)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Give the ticket back; delete the lock only if, in the same transaction, nobody else holds a ticket."""

        def change(lock: TicketLock | None) -> TicketLock | None:
            if lock is None:
                return None
            lock.remove_ticket_for(ticket_number)
            return lock if lock.is_someone_waiting() else None

        self._change(conversation_id, change)
