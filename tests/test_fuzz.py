"""Hostile input: property-based fuzzing of the web gateway (issue: at least 2,000 random and hostile messages).

The fast part runs the real aiohttp app in-process against a fake Rasa that echoes what it receives (the worst
case: a bot that repeats the user). The slow part sends a smaller set through the real stack and then reads the
tracker database to prove that `/intent{...}` typed by a user neither triggered an intent nor set a slot.

Properties: no 5xx, no crash, bounded latency, JSON answers that always carry messages to show, no HTML page
that reflects input unescaped, and nothing forwarded to Rasa that starts with "/" or holds control characters.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import sqlite3
import time
import unicodedata
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stack import REPO, Stack

FAST_LATENCY_LIMIT_S = 2.0
REFUSED = 0  # status recorded when the server closed the connection on an oversized body
REFUSED_BODY_BYTES = 16 * 1024
STACK_LATENCY_LIMIT_S = 20.0
MIN_FAST_MESSAGES = 2000

HOSTILE = [
    # HTML and script
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "\"><svg/onload=alert(document.cookie)>",
    "javascript:alert(1)", "<iframe src=//example.invalid></iframe>", "</textarea><b>lihava</b>",
    "<a href=\"javascript:void(0)\">klikkaa</a>", "&lt;script&gt;", "{{7*7}} ${7*7} {% debug %} #{7*7}",
    # SQL fragments
    "'; DROP TABLE events; --", "1 OR 1=1", "\" OR \"\"=\"", "Robert'); DROP TABLE callback_requests;--",
    "' UNION SELECT username, password_hash FROM staff_users --", "%' AND 1=0 UNION SELECT NULL--",
    # Rasa's shortcut syntax
    "/greet", "/inform{\"municipality\":\"Zanzibar\"}", "/request_callback{\"phone\":\"+358401234567\"}",
    "/restart", "/session_start", "/nlu_fallback", "//greet", "  /greet", "/violence_danger_now{\"x\": 1}",
    "/ask_more_places{\"results_offset\": 99}", "/EXTERNAL_reminder", "/affirm", "/\u200bgreet",
    "\u200b/greet", "\ufeff/greet", "\u202e/greet", "\x00/greet", "\n/greet",
    "/ /bot_challenge", "/\n/bot_challenge", "/\u200b/bot_challenge", "/\t /\u2060/ bot_challenge",
    "\u3000/bot_challenge", "/ / /inform{\"municipality\": \"Oulu\"}",
    # Control characters, terminal escapes, header injection
    "\x00", "\x00\x01\x02\x07\x08\x1b", "\x1b[31mpunainen\x1b[0m", "rivi\r\n\r\nHTTP/1.1 200 OK\r\nX: y",
    "\u2028\u2029", "\t\t\t", "\x7f\x80\x9f",
    # RTL, combining marks, emoji, lone surrogates
    "\u202eesrever\u202c", "שלום, אני צריכה עזרה", "مرحبا، أحتاج مساعدة", "\u200f\u200e\u061c",
    "Z\u0334\u0321\u031ba\u0336l\u0337g\u0338o\u0335", "👨\u200d👩\u200d👧\u200d👦🔥💔", "🏳️\u200d🌈" * 20,
    "\ud800", "a\udfffb",
    # Format strings and paths
    "{limit}", "%s%s%s%n", "{0.__class__.__mro__}", "../../etc/passwd", "C:\\Windows\\system32",
    # Normal Finnish, so the fuzz also crosses ordinary paths
    "moi", "onko Kempeleessä perhekahvilaa", "mun mies lyö mua ja pelkään",
    # Long
    "a" * 2000, "a" * 2001, "ä" * 50_000, "<script>" * 12_500, "x" * 100_000,
]

_piece = st.sampled_from(HOSTILE[:-3])
MESSAGES = st.one_of(
    st.text(max_size=400),  # any code point but surrogates, control characters included
    st.sampled_from(HOSTILE),
    st.builds(lambda a, b, c: a + b + c, _piece, st.text(max_size=40), _piece),
    st.builds(lambda s, n: s * n, st.sampled_from(["a", "ä", "🙂", "<b>", "/", "\x00", "\u202e", " "]),
              st.integers(min_value=1, max_value=30_000)),
)
JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=30))
JSON_VALUES = st.recursive(JSON_SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                                  st.dictionaries(st.text(max_size=8), inner,
                                                                                  max_size=4)), max_leaves=12)



def fuzz_settings(examples: int) -> settings:
    """Deterministic (CI must not flake on a new random seed), no example database in the repo, no deadline:
    latency is asserted explicitly instead."""
    return settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


@dataclass
class FakeRasa:
    """Rasa's REST channel, faked: records what reached it and echoes it back with a button."""

    received: dict[str, list[str]] = field(default_factory=dict)

    async def webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        sender, message = str(body["sender"]), str(body["message"])
        self.received.setdefault(sender, []).append(message)
        return web.json_response([
            {"text": f"Kirjoitit: {message[:500]}"},
            {"text": "Jatketaanko?", "buttons": [{"title": "Kyllä", "payload": "/affirm"}]},
        ])


@dataclass
class Harness:
    loop: asyncio.AbstractEventLoop
    client: TestClient
    rasa: FakeRasa
    sent: int = 0

    def post(self, path: str, data: bytes, content_type: str = "application/json",
             headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes, float]:
        async def go() -> tuple[int, dict[str, str], bytes]:
            resp = await self.client.post(path, data=data, headers={"Content-Type": content_type, **(headers or {})})
            return resp.status, dict(resp.headers), await resp.read()

        started = time.perf_counter()
        try:
            status, headers_out, body = self.loop.run_until_complete(go())
        except (aiohttp.ClientOSError, aiohttp.ServerDisconnectedError):
            # The app refuses bodies over its limit before reading them and closes the connection; the client
            # sees a reset. That is a refusal, not a crash, and is allowed only for big bodies (checked below).
            assert len(data) > REFUSED_BODY_BYTES, f"connection dropped on a {len(data)} byte body"
            status, headers_out, body = REFUSED, {}, b""
            assert self.loop.run_until_complete(self.client.get("/health")).status == 200
        self.sent += 1
        return status, headers_out, body, time.perf_counter() - started

    def get(self, path: str, params: dict[str, str]) -> tuple[int, dict[str, str], str]:
        async def go() -> tuple[int, dict[str, str], str]:
            resp = await self.client.get(path, params=params)
            return resp.status, dict(resp.headers), await resp.text()

        return self.loop.run_until_complete(go())


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    from bot.web.app import create_app
    from bot.web.common import WebSettings

    workdir = tmp_path_factory.mktemp("fuzz")
    saved = {k: os.environ.get(k) for k in ("DATABASE_URL", "PERHEOPAS_VAR")}
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'app.db'}"
    os.environ["PERHEOPAS_VAR"] = str(workdir)
    loop = asyncio.new_event_loop()
    rasa = FakeRasa()

    async def start() -> tuple[TestServer, TestClient]:
        fake = web.Application()
        fake.router.add_post("/webhooks/rest/webhook", rasa.webhook)
        rasa_server = TestServer(fake)
        await rasa_server.start_server()
        # Thousands of messages from one address: the per-client limit has its own test (test_web).
        settings = dataclasses.replace(WebSettings.from_env(), chat_per_client=0)
        app = create_app(str(rasa_server.make_url("/")).rstrip("/"), settings=settings)
        # A fresh connection per request: a refused oversized body closes its connection, which must not be
        # mistaken for a failure of the next request that happened to reuse it.
        client = TestClient(TestServer(app), connector=aiohttp.TCPConnector(force_close=True))
        await client.start_server()
        return rasa_server, client

    rasa_server, client = loop.run_until_complete(start())
    try:
        yield Harness(loop, client, rasa)
    finally:
        loop.run_until_complete(client.close())
        loop.run_until_complete(rasa_server.close())
        loop.close()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _session() -> str:
    return uuid.uuid4().hex


def _check_chat_response(status: int, headers: dict[str, str], body: bytes, elapsed: float, limit: float) -> Any:
    assert status < 500, f"HTTP {status}: {body[:300]!r}"
    assert elapsed < limit, f"took {elapsed:.2f} s"
    if status == REFUSED:
        return None
    content_type = headers.get("Content-Type", "")
    # JSON, never HTML, and the browser is told not to guess otherwise.
    if status != 413:  # aiohttp's own body-size refusal happens before the app and is plain text
        assert content_type.startswith("application/json"), content_type
    assert headers.get("X-Content-Type-Options") == "nosniff"
    if not content_type.startswith("application/json"):
        return None
    data = json.loads(body)
    assert isinstance(data, dict)
    assert isinstance(data.get("messages"), list)
    for message in data["messages"]:
        assert isinstance(message, dict)
        assert isinstance(message.get("text", ""), str)
    return data


def _assert_forwarded_safely(forwarded: str) -> None:
    assert not forwarded.startswith("/"), f"shortcut reached Rasa: {forwarded[:80]!r}"
    assert forwarded == forwarded.strip()
    bad = [ch for ch in forwarded if unicodedata.category(ch) in ("Cc", "Cs") and ch not in "\n\t"]
    assert not bad, f"control characters reached Rasa: {bad[:5]!r}"


@fuzz_settings(1600)
@given(message=MESSAGES)
def test_typed_messages(harness: Harness, message: str) -> None:
    session = _session()
    raw = json.dumps({"session": session, "message": message}).encode()
    status, headers, body, elapsed = harness.post("/api/chat", raw)
    data = _check_chat_response(status, headers, body, elapsed, FAST_LATENCY_LIMIT_S)
    forwarded = harness.rasa.received.get(session, [])
    if status == 200 and not (data or {}).get("degraded"):
        assert len(forwarded) == 1
    assert len(forwarded) <= 1
    for text in forwarded:
        _assert_forwarded_safely(text)


@fuzz_settings(350)
@given(session=st.one_of(st.just("valid"), JSON_VALUES), message=st.one_of(MESSAGES, JSON_VALUES),
       payload=st.one_of(st.none(), st.sampled_from(["/affirm", "/greet", "/restart"]), JSON_VALUES),
       extra=st.dictionaries(st.text(max_size=10), JSON_VALUES, max_size=3))
def test_any_json_body(harness: Harness, session: Any, message: Any, payload: Any, extra: dict[str, Any]) -> None:
    sid = _session() if session == "valid" else session
    body_obj = {**extra, "session": sid, "message": message, "payload": payload}
    status, headers, body, elapsed = harness.post("/api/chat", json.dumps(body_obj).encode())
    _check_chat_response(status, headers, body, elapsed, FAST_LATENCY_LIMIT_S)
    if isinstance(sid, str):
        for text in harness.rasa.received.get(sid, []):
            # A button payload reaches Rasa only if the bot offered it to this session; none was offered yet.
            _assert_forwarded_safely(text)


@fuzz_settings(150)
@given(raw=st.one_of(st.binary(max_size=2000), st.text(max_size=500).map(str.encode)),
       content_type=st.sampled_from(["application/json", "text/plain", "application/x-www-form-urlencoded",
                                     "multipart/form-data; boundary=x", "application/json; charset=latin-1"]))
def test_raw_bodies(harness: Harness, raw: bytes, content_type: str) -> None:
    status, headers, body, elapsed = harness.post("/api/chat", raw, content_type=content_type)
    _check_chat_response(status, headers, body, elapsed, FAST_LATENCY_LIMIT_S)


def test_button_payload_only_when_offered_and_shortcut_never_typed(harness: Harness) -> None:
    session = _session()
    status, *_ = harness.post("/api/chat", json.dumps({"session": session, "payload": "/affirm"}).encode())
    assert status == 400  # not offered yet
    harness.post("/api/chat", json.dumps({"session": session, "message": "/greet"}).encode())
    assert harness.rasa.received[session] == ["greet"]
    # The fake offered "/affirm" as a button; clicking it is the one way a "/" reaches Rasa.
    status, *_ = harness.post("/api/chat", json.dumps({"session": session, "payload": "/affirm"}).encode())
    assert status == 200
    assert harness.rasa.received[session][-1] == "/affirm"


@fuzz_settings(100)
@given(value=st.one_of(st.sampled_from(HOSTILE[:40]), st.text(max_size=60)).filter(
    lambda v: not any(0xD800 <= ord(c) <= 0xDFFF for c in v)))
def test_pages_do_not_reflect_html(harness: Harness, value: str) -> None:
    for path in ("/", "/staff/login"):
        status, headers, text = harness.get(path, {"lang": value, "embed": value, "msg": value, "next": value})
        assert status < 500
        if "<" in value and len(value) > 3:
            assert value not in text, f"{path} reflected input unescaped"


def test_chat_script_renders_text_not_html() -> None:
    script = (REPO / "bot" / "web" / "static" / "chat.js").read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in script, f"chat.js uses {sink}"


def test_fuzz_volume(harness: Harness, request: pytest.FixtureRequest) -> None:
    """The issue asks for at least 2,000 messages; count what the fuzz tests above really sent."""
    selected = {item.name for item in request.session.items}
    if not {"test_typed_messages", "test_any_json_body", "test_raw_bodies"} <= selected:
        pytest.skip("only part of the fuzz suite was selected")
    assert harness.sent >= MIN_FAST_MESSAGES


# --- The real stack: fewer messages, and a look into the tracker afterwards ---

_SHORT_HOSTILE = [m for m in HOSTILE if len(m) <= 2000]
# Every hostile piece alone, then mixed into ordinary Finnish as a parent might paste it.
STACK_SAMPLE = _SHORT_HOSTILE + [f"onko Oulussa perhekahvilaa {m} kiitos" for m in _SHORT_HOSTILE[:45]]


@pytest.fixture(scope="module")
def fuzz_stack(shared_stack: Stack) -> Stack:
    return shared_stack


def _post_stack(stack: Stack, body: bytes) -> tuple[int, dict[str, str], bytes, float]:
    request = urllib.request.Request(f"{stack.web_url}/api/chat", data=body,
                                     headers={"Content-Type": "application/json"})
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=60) as resp:
            status, headers, data = resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as error:
        status, headers, data = error.code, dict(error.headers), error.read()
    return status, headers, data, time.perf_counter() - started


@pytest.mark.slow
@pytest.mark.model
def test_real_stack_survives_hostile_messages(fuzz_stack: Stack) -> None:
    sent = 0
    for message in STACK_SAMPLE:
        status, headers, body, elapsed = _post_stack(
            fuzz_stack, json.dumps({"session": _session(), "message": message}).encode())
        data = _check_chat_response(status, headers, body, elapsed, STACK_LATENCY_LIMIT_S)
        assert not (data or {}).get("degraded"), f"the stack failed on {message[:60]!r}"
        sent += 1
    assert sent == len(STACK_SAMPLE) >= 100
    assert fuzz_stack.process.poll() is None, "the stack died"


@pytest.mark.slow
@pytest.mark.model
@fuzz_settings(60)
@given(message=MESSAGES.filter(lambda m: len(m) <= 3000))
def test_real_stack_random_messages(fuzz_stack: Stack, message: str) -> None:
    status, headers, body, elapsed = _post_stack(
        fuzz_stack, json.dumps({"session": _session(), "message": message}).encode())
    _check_chat_response(status, headers, body, elapsed, STACK_LATENCY_LIMIT_S)


@pytest.mark.slow
@pytest.mark.model
def test_typed_shortcuts_neither_trigger_intents_nor_set_slots(fuzz_stack: Stack) -> None:
    session = _session()
    for message in ("/inform{\"municipality\":\"Zanzibar\"}", "/ask_more_places{\"results_offset\": 99}",
                    "/greet", "/restart"):
        status, *_ = _post_stack(fuzz_stack, json.dumps({"session": session, "message": message}).encode())
        assert status == 200
    with sqlite3.connect(Path(fuzz_stack.env["PERHEOPAS_VAR"]) / "tracker.db") as conn:
        rows = [json.loads(r[0]) for r in conn.execute("SELECT data FROM events WHERE sender_id = ?", (session,))]
    users = [e for e in rows if e.get("event") == "user"]
    assert len(users) == 4
    for event in users:
        assert not str(event.get("text", "")).startswith("/")
        assert not str((event.get("parse_data") or {}).get("text", "")).startswith("/")
    slots = [e for e in rows if e.get("event") == "slot"]
    assert not [e for e in slots if e.get("value") in ("Zanzibar", 99, 99.0)], slots
    assert not [e for e in rows if e.get("event") == "restart"]
