"""Chat gateway: the web chat's only way to Rasa. Limits input, guards payloads, and answers safely on failure."""

from __future__ import annotations

import asyncio
import itertools
import logging
import re
import time
import unicodedata
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bot.callbacks.office_hours import is_office_open
from bot.safety.texts import has_lead, lead_for, safety_text
from bot.safety.triage import CRISIS, NONE, Triage, to_metadata, triage
from bot.safety.triage import METADATA_KEY as TRIAGE_METADATA
from bot.stats import counters
from core import clock, language

log = logging.getLogger("perheopas.gateway")

SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
MAX_MESSAGE_CHARS = 2000
TRIAGE_CHARS_OF_TOO_LONG = 2 * MAX_MESSAGE_CHARS  # the triage reads this much of a message too long to pass on
RATE_WINDOW_SECONDS = 10.0
RATE_MAX_MESSAGES = 8
MAX_TRACKED_SESSIONS = 50_000
ROUTINGS = ("sticky", "round-robin")


_LEADING_SLASHES = re.compile(r"^[\s/]+")  # "/ /intent", "/\n/intent" and "//intent" alike


def clean_user_text(text: str) -> str:
    """Normalise typed text and defuse Rasa's `/intent{...}` shortcut so users cannot inject intents or slots."""
    text = unicodedata.normalize("NFC", text)
    # Zero-width and other invisible characters become spaces, so they cannot hide a slash from the next step.
    text = "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in text)
    return _LEADING_SLASHES.sub("", text).strip()


@dataclass
class SessionState:
    """Per-session gateway memory: recent message times, the button payloads the bot last offered and the
    conversation's language (core/language.py), which a one-word message does not change."""

    sent_at: list[float] = field(default_factory=list)
    offered_payloads: set[str] = field(default_factory=set)
    language: str | None = None


class Gateway:
    """Forwards messages to Rasa's REST channel with limits and a static safety fallback."""

    def __init__(self, rasa_url: str, timeout_seconds: float = 15.0, routing: str = "sticky",
                 counts: counters.CounterBuffer | None = None) -> None:
        """`rasa_url` is one URL or several separated by commas; they must share one tracker store.

        `sticky` sends every message of a conversation to the same process, which is what Rasa's in-memory lock
        store needs (the default stack: several processes on one SQLite file). `round-robin` sends each message
        to the next process, which is safe only with a shared lock store (deploy/endpoints.production.yml).
        """
        if routing not in ROUTINGS:
            raise ValueError(f"unknown Rasa routing {routing!r}: use one of {', '.join(ROUTINGS)}")
        self.rasa_urls = [u.strip().rstrip("/") + "/webhooks/rest/webhook" for u in rasa_url.split(",") if u.strip()]
        if not self.rasa_urls:
            raise ValueError("no Rasa URL given")
        self.rasa_url = self.rasa_urls[0]
        self.routing = routing
        self._turn = itertools.count()
        self.timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self.sessions: OrderedDict[str, SessionState] = OrderedDict()
        self._http: aiohttp.ClientSession | None = None
        # Anonymous counts, kept in memory and written by a background task (bot/web/counting.py).
        self.counts = counts

    def first_process(self, session_id: str) -> int:
        """Index of the Rasa process that gets this message first; the others only when it refuses connections."""
        if self.routing == "sticky":
            return zlib.crc32(session_id.encode("ascii")) % len(self.rasa_urls)
        return next(self._turn) % len(self.rasa_urls)

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()

    def _state(self, session_id: str) -> SessionState:
        state = self.sessions.pop(session_id, None) or SessionState()
        self.sessions[session_id] = state
        while len(self.sessions) > MAX_TRACKED_SESSIONS:
            self.sessions.popitem(last=False)
        return state

    def _rate_limited(self, state: SessionState, now: float) -> bool:
        state.sent_at = [t for t in state.sent_at if now - t < RATE_WINDOW_SECONDS]
        if len(state.sent_at) >= RATE_MAX_MESSAGES:
            return True
        state.sent_at.append(now)
        return False

    async def handle(self, session_id: str, text: str | None, payload: str | None,
                     page_language: str | None = None) -> tuple[int, dict[str, Any]]:
        """Return (HTTP status, body) for one chat turn; the body always holds messages to show.

        `page_language` is the chat page's language: a new conversation starts in it unless its first message
        is plainly in another language.
        """
        if not SESSION_ID.match(session_id or ""):
            return 400, {"error": "bad_session", "messages": []}
        new_conversation = session_id not in self.sessions
        state = self._state(session_id)
        known = state.language or language.normalise_language(page_language) or language.DEFAULT_LANGUAGE
        if self._rate_limited(state, time.monotonic()):
            return 429, {"error": "rate_limited", "messages": [{"text": safety_text("rate_limited", known)}]}

        if payload is not None:
            # Buttons may only send what the bot itself offered to this session.
            if payload not in state.offered_payloads:
                return 400, {"error": "unknown_payload", "messages": []}
            message = payload
            verdict = None
        else:
            raw = text or ""
            if len(raw) > MAX_MESSAGE_CHARS:
                return 413, {"error": "too_long", "messages": self._too_long_messages(raw, known)}
            message = clean_user_text(raw)
            if not message:
                return 400, {"error": "empty", "messages": [{"text": safety_text("empty", known)}]}
            verdict = triage(message)
        reply_language = self._language(state, page_language, message if payload is None else None, verdict)
        self._count(new_conversation, verdict)

        replies = await self._forward(session_id, message, reply_language, verdict)
        if replies is not None and not any(r.get("text") or r.get("buttons") for r in replies):
            # Rasa said nothing: a custom action failed (action server down, say). Silence is no answer.
            log.warning("rasa gave an empty reply")
            replies = None
        lead = lead_for(verdict, reply_language) if verdict is not None else None
        if replies is None:
            state.offered_payloads.clear()
            return 200, {"degraded": True, "messages": self._fallback_messages(reply_language, lead)}
        if lead and verdict is not None and not has_lead(verdict, replies):
            # S1, S6, S7: a deterministic guarantee on top of Rasa: the safety numbers lead the reply.
            replies.insert(0, {"text": lead})
        if verdict is not None and verdict.route == CRISIS and verdict.danger.is_danger and not any(
                "080 005 005" in str(reply.get("text") or "") for reply in replies):
            # Someone in crisis who also tells of violence gets Nollalinja right after the crisis line (S1).
            replies.insert(1, {"text": safety_text("emergency_lead", reply_language)})
        state.offered_payloads = {
            str(button.get("payload")) for reply in replies for button in reply.get("buttons") or []
        }
        return 200, {"messages": replies}

    @staticmethod
    def _too_long_messages(raw: str, known: str) -> list[dict[str, Any]]:
        """A long message is not passed on, but it may tell of danger or crisis: the triage reads its beginning, and
        the safety lead comes before the request to write less (S1, S2)."""
        text = clean_user_text(raw[:TRIAGE_CHARS_OF_TOO_LONG])
        verdict = triage(text)
        language_now = _message_language(text, known, None, verdict)
        lead = lead_for(verdict, language_now)
        messages = [{"text": lead}] if lead else []
        return messages + [{"text": safety_text("too_long", language_now, limit=MAX_MESSAGE_CHARS)}]

    @staticmethod
    def _language(state: SessionState, page_language: str | None, text: str | None, verdict: Triage | None) -> str:
        """Decide the message's language once (core/language.py) and remember it for the conversation."""
        state.language = _message_language(text, state.language, page_language, verdict)
        return state.language

    def _count(self, new_conversation: bool, verdict: Triage | None) -> None:
        """Count the message, a conversation's start (its hour and whether staff were at work) and the triage
        route, in memory: nothing about the session or the text goes into a count."""
        if self.counts is None:
            return
        now = clock.now()
        found = [counters.count_at(now, counters.MESSAGE)]
        if new_conversation:
            found.append(counters.conversation_count(now, is_office_open(now)))
        if verdict is not None and verdict.route != NONE:
            found.append(counters.count_at(now, counters.SAFETY_REPLY, verdict.route))
        self.counts.add(*found)

    async def _forward(self, session_id: str, message: str, reply_language: str,
                       verdict: Triage | None) -> list[dict[str, Any]] | None:
        """Send the message to its Rasa process with the language and the triage verdict decided here, which the
        Rasa component takes instead of deciding again (bot/rasa_ext/components/danger.py)."""
        metadata: dict[str, Any] = {"language": reply_language}
        if verdict is not None:
            metadata[TRIAGE_METADATA] = to_metadata(verdict)
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=self.timeout)
        first = self.first_process(session_id)
        for attempt in range(len(self.rasa_urls)):
            url = self.rasa_urls[(first + attempt) % len(self.rasa_urls)]
            try:
                async with self._http.post(url, json={"sender": session_id, "message": message,
                                                        "metadata": metadata}) as resp:
                    if resp.status != 200:
                        log.warning("rasa answered HTTP %s", resp.status)
                        return None
                    body = await resp.json(content_type=None)
                break
            except aiohttp.ClientConnectorError as error:
                # Refused before anything was sent, so the next process can take the message without a duplicate.
                log.warning("rasa unreachable: %s", type(error).__name__)
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
                # Never log message text: only the kind of failure.
                log.warning("rasa unreachable: %s", type(error).__name__)
                return None
        else:
            return None
        if not isinstance(body, list):
            return None
        return [_clean_reply(item) for item in body if isinstance(item, dict)]

    @staticmethod
    def _fallback_messages(language: str = "fi", lead: str | None = None) -> list[dict[str, Any]]:
        """The reply when Rasa cannot answer: the safety lead first when the message needs one, then the form."""
        texts = ([lead] if lead else []) + [safety_text("gateway_down", language)]
        messages: list[dict[str, Any]] = [{"text": text} for text in texts]
        messages[0]["custom"] = {"show_callback_form": True}
        return messages


def _message_language(text: str | None, previous: str | None, page: str | None, verdict: Triage | None) -> str:
    """core/language.choose with the matched safety patterns' language when the triage flagged the message."""
    patterns = verdict.pattern_language if verdict is not None else None
    return language.choose(text, previous, page, patterns)


def _clean_reply(item: dict[str, Any]) -> dict[str, Any]:
    reply: dict[str, Any] = {}
    if isinstance(item.get("text"), str):
        reply["text"] = item["text"]
    buttons = item.get("buttons")
    if isinstance(buttons, list):
        reply["buttons"] = [
            {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
            for b in buttons if isinstance(b, dict)
        ]
    if isinstance(item.get("custom"), dict):
        reply["custom"] = item["custom"]
    return reply
