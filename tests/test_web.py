"""The chat page, its security headers and the contact-request endpoint, through aiohttp's test client."""

from __future__ import annotations

import gzip
import logging
import re
import zlib
from collections.abc import AsyncIterator, Iterator
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy.engine import Engine
from webapp_helpers import HELSINKI_FRIDAY_NIGHT, callback_rows, make_test_engine, web_client

from bot.web.app import callback_day_text
from bot.web.common import LANGUAGES, WebSettings, safe_http_url, web_texts

BOT_DIR = Path(__file__).resolve().parent.parent / "bot" / "web"
SESSION = "0123456789abcdef0123456789abcdef"
VALID_FORM = {
    "session": SESSION, "lang": "fi", "topic": "eroauttaminen", "contact_method": "sms",
    "phone": "040 123 4567", "time_window": "morning", "alias": "Maija", "municipality": "Kempele",
    "consent": True,
}


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_test_engine(tmp_path)
    yield engine
    engine.dispose()


@pytest.fixture
async def client(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[TestClient]:
    monkeypatch.setenv("PERHEOPAS_NOW", HELSINKI_FRIDAY_NIGHT)
    async with web_client(engine) as c:
        yield c


class _Focusables(HTMLParser):
    """Collects focusable elements in document order, and every URL the page would load or link to."""

    def __init__(self) -> None:
        super().__init__()
        self.focusable: list[dict[str, str | None]] = []
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in ("a", "button", "input", "textarea", "select") and a.get("type") != "hidden":
            self.focusable.append({"tag": tag, **a})
        for name in ("href", "src", "action"):
            if a.get(name):
                self.urls.append(str(a[name]))


async def test_chat_page_is_finnish_with_quick_exit_first(client: TestClient) -> None:
    resp = await client.get("/")
    assert resp.status == 200
    html = await resp.text()
    assert '<html lang="fi">' in html
    assert "automaattinen chat-opas" in html
    parser = _Focusables()
    parser.feed(html)
    assert parser.focusable[0]["id"] == "quick-exit"
    assert parser.focusable[0]["href"] == "https://yle.fi/saa"


async def test_page_loads_nothing_from_third_parties(client: TestClient) -> None:
    html = await (await client.get("/")).text()
    parser = _Focusables()
    parser.feed(html)
    exit_url = "https://yle.fi/saa"
    for url in parser.urls:
        assert url == exit_url or url.startswith(("/", "tel:")), url
    for path in (BOT_DIR / "static").iterdir():
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"url\(\s*['\"]?(https?:)?//", text), path
        assert "innerHTML" not in text and "eval(" not in text, path


@pytest.mark.parametrize("lang, phrase", [("sv", "Lämna snabbt"), ("en", "Quick exit"), ("fi", "Poistu nopeasti")])
async def test_ui_languages(client: TestClient, lang: str, phrase: str) -> None:
    html = await (await client.get(f"/?lang={lang}")).text()
    assert f'<html lang="{lang}">' in html
    assert phrase in html


async def test_unknown_language_falls_back_to_finnish_without_echo(client: TestClient) -> None:
    html = await (await client.get("/?lang=<script>alert(1)</script>")).text()
    assert '<html lang="fi">' in html
    assert "<script>alert" not in html


def test_every_ui_text_exists_in_every_language() -> None:
    for key, variants in web_texts()["texts"].items():
        assert set(LANGUAGES) <= set(variants), key


@pytest.mark.parametrize("path", ["/", "/static/chat.js", "/staff/login", "/no-such-page", "/health"])
async def test_security_headers_everywhere(client: TestClient, path: str) -> None:
    resp = await client.get(path)
    csp = resp.headers["Content-Security-Policy"]
    assert "default-src 'none'" in csp
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors" in csp and "base-uri 'none'" in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "same-origin"
    assert resp.headers["Cache-Control"] == "no-store"
    assert "Permissions-Policy" in resp.headers


async def test_staff_pages_cannot_be_framed_but_chat_can_be_embedded(engine: Engine) -> None:
    async with web_client(engine, frame_ancestors="'self' https://perhekeskus.example.fi") as c:
        chat = await c.get("/")
        assert "frame-ancestors 'self' https://perhekeskus.example.fi" in chat.headers["Content-Security-Policy"]
        staff = await c.get("/staff/login")
        assert "frame-ancestors 'none'" in staff.headers["Content-Security-Policy"]
        assert staff.headers["X-Frame-Options"] == "DENY"


def test_quick_exit_url_must_be_http() -> None:
    with pytest.raises(ValueError):
        safe_http_url("javascript:alert(1)")
    with pytest.raises(ValueError):
        safe_http_url("/relative")
    assert safe_http_url("https://yle.fi/saa") == "https://yle.fi/saa"


def test_settings_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERHEOPAS_COOKIE_SECURE", "0")
    monkeypatch.setenv("PERHEOPAS_QUICK_EXIT_URL", "https://www.ilmatieteenlaitos.fi/")
    settings = WebSettings.from_env()
    assert settings.cookie_secure is False
    assert settings.quick_exit_url == "https://www.ilmatieteenlaitos.fi/"
    monkeypatch.setenv("PERHEOPAS_QUICK_EXIT_URL", "javascript:alert(1)")
    with pytest.raises(ValueError):
        WebSettings.from_env()


# --- the gateway through the web app ------------------------------------------------------------------------


async def test_rasa_down_gives_safety_reply_and_the_form(client: TestClient) -> None:
    resp = await client.post("/api/chat", json={"session": SESSION, "message": "hei"})
    assert resp.status == 200
    body = await resp.json()
    assert body["degraded"] is True
    text = body["messages"][0]["text"]
    assert "112" in text and "080 005 005" in text
    assert body["messages"][0]["custom"]["show_callback_form"] is True


async def test_chat_refuses_cross_site_posts_and_non_json(client: TestClient) -> None:
    for origin in ("https://evil.example", "null"):
        resp = await client.post("/api/chat", json={"session": SESSION, "message": "hei"}, headers={"Origin": origin})
        assert resp.status == 403
        resp = await client.post("/api/callback", json=VALID_FORM, headers={"Origin": origin})
        assert resp.status == 403
    same = await client.post("/api/chat", json={"session": SESSION, "message": "hei"},
                             headers={"Origin": str(client.make_url("")).rstrip("/")})
    assert same.status == 200
    resp = await client.post("/api/chat", data="message=hei",
                             headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status == 400


async def test_too_long_message_gets_a_clear_answer(client: TestClient) -> None:
    resp = await client.post("/api/chat", json={"session": SESSION, "message": "a" * 2001})
    assert resp.status == 413
    said = (await resp.json())["messages"][0]["text"]
    assert said.startswith("Jos olet vaarassa, soita 112.") and "liian pitkä" in said  # 112 first (S2)


async def test_chat_rate_limit_gets_a_clear_answer(client: TestClient) -> None:
    statuses = []
    for _ in range(9):
        resp = await client.post("/api/chat", json={"session": SESSION, "message": "hei"})
        statuses.append(resp.status)
    assert statuses[-1] == 429
    said = (await resp.json())["messages"][0]["text"]
    assert said.startswith("Jos olet vaarassa, soita 112.") and "odota hetki" in said  # 112 first (S2)


# --- the contact request ------------------------------------------------------------------------------------


async def test_contact_request_is_stored_with_consent(client: TestClient, engine: Engine,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    resp = await client.post("/api/callback", json=VALID_FORM)
    assert resp.status == 201, await resp.text()
    body = await resp.json()
    # Friday 23:00 before Christmas week: handled from Monday 22.12.; the promise of 1–3 working days ends on
    # the third office day, Monday 29.12. (24.–26.12. are holidays), and no earlier day is named (S9).
    assert "1–3 arkipäivän kuluessa, viimeistään maanantaina 29.12." in body["message"]
    assert "huomenna" not in body["message"]
    [row] = callback_rows(engine)
    assert row.phone == "+358401234567"
    assert row.contact_method == "sms" and row.topic == "eroauttaminen" and row.time_window == "morning"
    assert row.alias == "Maija" and row.municipality == "Kempele"
    assert row.status == "new" and row.consent_at is not None
    assert row.consent_notice_version == web_texts()["consent_notice_version"]
    assert row.callback_due == date(2025, 12, 22)
    assert "401234567" not in caplog.text and "Maija" not in caplog.text


@pytest.mark.parametrize("change, field", [
    ({"consent": False}, "consent"),
    ({"consent": "true"}, "consent"),
    ({"phone": "12345"}, "phone"),
    ({"phone": "+46 70 123 45 67"}, "phone"),
    ({"phone": "09 2525 0111"}, "phone"),  # a landline cannot take a text message
    ({"topic": "jotain"}, "topic"),
    ({"time_window": None}, "time_window"),
    ({"alias": "<script>"}, "alias"),
    ({"municipality": "x" * 61}, "municipality"),
])
async def test_contact_request_is_refused_with_a_reason(client: TestClient, engine: Engine,
                                                        change: dict[str, Any], field: str) -> None:
    resp = await client.post("/api/callback", json={**VALID_FORM, **change})
    assert resp.status == 422
    body = await resp.json()
    assert field in body["fields"]
    assert body["fields"][field]
    assert callback_rows(engine) == []


async def test_landline_is_fine_for_a_call(client: TestClient, engine: Engine) -> None:
    resp = await client.post("/api/callback", json={**VALID_FORM, "contact_method": "call", "phone": "09 2525 0111"})
    assert resp.status == 201
    assert callback_rows(engine)[0].phone == "+358925250111"


async def test_swedish_form_errors_and_confirmation(client: TestClient, engine: Engine) -> None:
    bad = await client.post("/api/callback", json={**VALID_FORM, "lang": "sv", "consent": False})
    assert "samtycke" in (await bad.json())["fields"]["consent"]
    good = await client.post("/api/callback", json={**VALID_FORM, "lang": "sv"})
    message = (await good.json())["message"]
    assert "inom 1–3 vardagar, senast måndag 29.12." in message
    good_row = callback_rows(engine)[0]
    assert good_row.language == "sv"  # staff see the language of each request (S10, contract 6)


async def test_contact_requests_are_rate_limited_per_session(client: TestClient, engine: Engine) -> None:
    for _ in range(3):
        assert (await client.post("/api/callback", json=VALID_FORM)).status == 201
    resp = await client.post("/api/callback", json=VALID_FORM)
    assert resp.status == 429
    assert "112" in (await resp.json())["message"]
    assert len(callback_rows(engine)) == 3


async def test_contact_request_needs_a_session_id(client: TestClient) -> None:
    resp = await client.post("/api/callback", json={**VALID_FORM, "session": "x"})
    assert resp.status == 400


async def test_storage_failure_is_told_honestly(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("PERHEOPAS_NOW", HELSINKI_FRIDAY_NIGHT)
    broken = make_test_engine(tmp_path / "broken")
    from sqlalchemy import text

    with broken.begin() as conn:
        conn.execute(text("DROP TABLE callback_requests"))
    async with web_client(broken) as c:
        resp = await c.post("/api/callback", json=VALID_FORM)
        assert resp.status == 503
        message = (await resp.json())["message"]
    assert "ei valitettavasti voitu tallentaa" in message and "080 005 005" in message
    assert "401234567" not in caplog.text


@pytest.mark.parametrize("today, due, lang, expected", [
    (date(2025, 12, 22), date(2025, 12, 22), "fi", "tänään"),
    (date(2025, 12, 22), date(2025, 12, 23), "fi", "huomenna"),
    (date(2025, 12, 24), date(2025, 12, 29), "fi", "maanantaina 29.12."),
    (date(2025, 12, 24), date(2025, 12, 29), "en", "Monday 29 December"),
    (date(2025, 12, 24), date(2025, 12, 29), "sv", "måndag 29.12."),
])
def test_callback_day_wording(today: date, due: date, lang: str, expected: str) -> None:
    assert callback_day_text(due, today, lang) == expected


# aiohttp 3.9 (pinned by Rasa) lacks the fixes for request decompression bombs and multipart size limits; the app
# refuses such bodies before any handler reads them (bot/web/hardening.py).
@pytest.mark.parametrize("path", ["/api/chat", "/api/callback", "/staff/login"])
@pytest.mark.parametrize(("headers", "body"), [
    ({"Content-Type": "application/json", "Content-Encoding": "gzip"}, gzip.compress(b"{}" + b" " * 200_000, mtime=0)),
    ({"Content-Type": "application/json", "Content-Encoding": "deflate"}, zlib.compress(b"{}")),
    ({"Content-Type": "application/x-www-form-urlencoded", "Content-Encoding": "br, gzip"}, b"x"),
    ({"Content-Type": "multipart/form-data; boundary=b"},
     b"--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\n" + b"y" * 200_000 + b"\r\n--b--\r\n"),
])
async def test_compressed_and_multipart_bodies_are_refused(client: TestClient, path: str,
                                                           headers: dict[str, str], body: bytes) -> None:
    response = await client.post(path, data=body, headers=headers)
    assert response.status == 415
    assert (await response.json())["error"] == "unsupported_body"


async def test_identity_encoding_is_read_as_usual(client: TestClient) -> None:
    response = await client.post("/api/chat", data=b"not json",
                                 headers={"Content-Type": "application/json", "Content-Encoding": "identity"})
    assert response.status == 400


async def test_a_client_that_rotates_session_ids_is_still_limited(engine: Engine) -> None:
    """The per-session limit counts a session id the client picks; the per-client one counts the client."""
    async with web_client(engine, chat_per_client=5) as client:
        statuses = []
        for n in range(7):
            response = await client.post("/api/chat", json={"session": f"rotating{n:012d}session", "message": "moi"})
            statuses.append(response.status)
        assert 429 not in statuses[:5] and statuses[5:] == [429, 429]
        body = await (await client.post("/api/chat", json={"session": "another0000000session", "message": "x"})).json()
        assert "112" in body["messages"][0]["text"]
