"""The web app's share of the anonymous figures: the chat's feedback endpoint, and writing counts off the
request path (an in-memory buffer that a background task adds to the database every few seconds)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from functools import lru_cache
from typing import Any

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from bot.stats import counters
from bot.web.common import DATABASE_KEY, client_key, same_origin, ui_texts
from bot.web.gateway import SESSION_ID
from catalog.topics import topic_names
from core import clock
from core.ratelimit import SlidingWindowLimiter

log = logging.getLogger("perheopas.counting")

COUNTS_KEY = web.AppKey("counts", counters.CounterBuffer)
FEEDBACK_LIMITS_KEY = web.AppKey("feedback_limits", tuple)
FLUSH_SECONDS = 5.0
# One rating per answer; a long conversation has a handful of answers, a shared office address many people.
FEEDBACK_PER_SESSION = (10, 3600.0)
FEEDBACK_PER_CLIENT = (120, 3600.0)
MAX_FEEDBACK_BYTES = 1024


@lru_cache(maxsize=1)
def known_topics() -> frozenset[str]:
    """The catalogue's topics (catalog/data/topics.yml, new ones included): the only topics feedback may name."""
    return frozenset(topic_names())


async def flush(app: web.Application) -> None:
    """Write what the buffer holds; on a database error keep it for the next try (counts are never worth a 500)."""
    buffer = app[COUNTS_KEY]
    pending = buffer.drain()
    if not pending:
        return
    try:
        await app[DATABASE_KEY].run(counters.write_counts, pending)
    except (SQLAlchemyError, RuntimeError) as error:
        log.warning("counters not written yet: %s", type(error).__name__)
        buffer.add(*pending)


async def _flush_loop(app: web.Application) -> None:
    while True:
        await asyncio.sleep(FLUSH_SECONDS)
        await flush(app)


async def counting_ctx(app: web.Application) -> AsyncIterator[None]:
    """Flush every few seconds while the app runs, and once more as it stops (after the database is open)."""
    task = asyncio.create_task(_flush_loop(app))
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await flush(app)


def read_feedback(body: dict[str, Any]) -> tuple[str, str, str | None] | None:
    """(topic, rating, reason) if every field is from its fixed list, else None: no free text gets through."""
    topic, rating, reason = body.get("topic"), body.get("rating"), body.get("reason")
    if not isinstance(topic, str) or topic not in known_topics() or rating not in counters.RATINGS:
        return None
    if reason is not None and (rating != counters.DOWN or reason not in counters.FEEDBACK_REASONS):
        return None
    return topic, str(rating), reason


async def feedback_api(request: web.Request) -> web.Response:
    """A 👍 or 👎 (with an optional reason from a fixed list) on the service answer about a topic."""
    if not same_origin(request):
        return web.json_response({"error": "cross_origin"}, status=403)
    if request.content_type != "application/json" or (request.content_length or 0) > MAX_FEEDBACK_BYTES:
        return web.json_response({"error": "bad_json"}, status=400)
    try:
        body = await request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return web.json_response({"error": "bad_json"}, status=400)
    lang = str(body.get("lang") or "fi")
    texts = ui_texts(lang)
    session_id = str(body.get("session", ""))
    found = read_feedback(body)
    if not SESSION_ID.match(session_id) or found is None:
        return web.json_response({"error": "invalid", "message": texts["fb_failed"]}, status=400)
    per_session, per_client = request.app[FEEDBACK_LIMITS_KEY]
    if not per_session.allow(session_id) or not per_client.allow(client_key(request)):
        return web.json_response({"error": "rate_limited", "message": texts["fb_failed"]}, status=429)
    topic, rating, reason = found
    now = clock.now()
    counts = [counters.count_at(now, counters.FEEDBACK, topic, rating)]
    if reason:
        counts.append(counters.count_at(now, counters.FEEDBACK_REASON, topic, reason))
    request.app[COUNTS_KEY].add(*counts)
    return web.json_response({"ok": True, "message": texts["fb_thanks"]}, status=201)


def setup(app: web.Application, buffer: counters.CounterBuffer) -> None:
    """The buffer, its flushing and the feedback route; call after the database's cleanup context is added."""
    app[COUNTS_KEY] = buffer
    app[FEEDBACK_LIMITS_KEY] = (SlidingWindowLimiter(*FEEDBACK_PER_SESSION), SlidingWindowLimiter(*FEEDBACK_PER_CLIENT))
    app.cleanup_ctx.append(counting_ctx)
    app.router.add_post("/api/feedback", feedback_api)
