"""The staff console: log-in, sessions, CSRF, rate limiting, the queue, claims, notes and the audit log.

The second factor itself (enrolment, codes, replay, lock-out) is tested in tests/test_staff_2fa.py.
"""

from __future__ import annotations

import asyncio
import html
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyotp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from webapp_helpers import DEAD_RASA, add_callback, csrf_from, make_test_engine, session, web_client

from bot.callbacks import staff_store
from bot.callbacks.models import AuditLog, CallbackRequest, StaffSession, StaffUser
from bot.callbacks.queue import NewCallback, create_callback
from bot.web.app import create_app
from bot.web.common import WebSettings
from bot.web.staff import PUBLIC_STAFF_PATHS, SAFE_CONTACT_STEPS, cookie_names

REPO = Path(__file__).resolve().parent.parent
PASSWORD = "kahvi-ja-pulla-2025"
# Fictional users' TOTP secrets, enrolled directly in the fixture so most tests skip the enrolment pages.
TOTP_SECRETS = {"aino": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "eero": "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU"}
# Routes anyone may reach: the chat, its APIs (messages, contact requests, feedback), static files, the health
# check and the log-in page.
PUBLIC_ROUTES = {"/", "/api/chat", "/api/callback", "/api/feedback", "/health", "/static"} | set(PUBLIC_STAFF_PATHS)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_test_engine(tmp_path)
    with session(engine) as db:
        for name in ("aino", "eero"):
            user, _ = staff_store.add_user(db, name, PASSWORD, staff_store.utc_now())
            user.totp_secret = TOTP_SECRETS[name]
        db.commit()
    yield engine
    engine.dispose()


@pytest.fixture
async def client(engine: Engine) -> AsyncIterator[TestClient]:
    async with web_client(engine) as c:
        yield c


def current_code(username: str, steps_ahead: int = 0) -> str:
    totp = pyotp.TOTP(TOTP_SECRETS[username])
    return totp.at(datetime.now(timezone.utc), counter_offset=steps_ahead)


async def login(client: TestClient, username: str = "aino", password: str = PASSWORD, steps_ahead: int = 0) -> str:
    """Log in with the password and the current code; return the CSRF token of the new session's pages."""
    form = await client.get("/staff/login")
    token = csrf_from(await form.text())
    resp = await client.post("/staff/login", data={"username": username, "password": password, "csrf_token": token},
                             allow_redirects=False)
    assert resp.status == 303, await resp.text()
    assert resp.headers["Location"] == "/staff/login/code"
    code_token = csrf_from(await (await client.get("/staff/login/code")).text())
    resp = await client.post("/staff/login/code", allow_redirects=False,
                             data={"code": current_code(username, steps_ahead), "csrf_token": code_token})
    assert resp.status == 303 and resp.headers["Location"] == "/staff", await resp.text()
    queue = await client.get("/staff")
    assert queue.status == 200
    return csrf_from(await queue.text())


def audit_actions(engine: Engine) -> list[tuple[str, str, str | None]]:
    with session(engine) as db:
        rows = db.execute(select(AuditLog).order_by(AuditLog.id)).scalars().all()
        return [(r.username, r.action, r.callback_id) for r in rows]


# --- every route needs a session ----------------------------------------------------------------------------


def _sample_path(resource: web.AbstractResource) -> str:
    info = resource.get_info()
    if "path" in info:
        return str(info["path"])
    if "formatter" in info:
        return str(info["formatter"]).replace("{callback_id}", "0" * 32)
    return str(info.get("prefix", resource.canonical))


async def test_every_route_except_the_public_ones_requires_a_session(engine: Engine) -> None:
    app = create_app(DEAD_RASA, settings=WebSettings(cookie_secure=False), engine=engine)
    async with TestClient(TestServer(app)) as client:
        checked = 0
        for resource in app.router.resources():
            if resource.canonical in PUBLIC_ROUTES:
                continue
            path = _sample_path(resource)
            for route in resource:
                if route.method == "*":
                    continue
                resp = await client.request(route.method, path, allow_redirects=False,
                                            data={"csrf_token": "x", "note": "x"})
                if route.method in ("GET", "HEAD"):
                    assert resp.status == 303 and resp.headers["Location"].startswith("/staff/login"), path
                else:
                    assert resp.status == 401, (route.method, path, resp.status)
                checked += 1
        # The console's own routes: the queue and the audit log (GET, HEAD), logout, claim, note and done.
        assert checked >= 8


async def test_public_routes_are_exactly_the_expected_ones(engine: Engine) -> None:
    app = create_app(DEAD_RASA, settings=WebSettings(cookie_secure=False), engine=engine)
    canonical = {r.canonical for r in app.router.resources()}
    assert canonical >= PUBLIC_ROUTES
    assert all(c.startswith("/staff") for c in canonical - PUBLIC_ROUTES)


# --- log-in -------------------------------------------------------------------------------------------------


async def test_login_sets_a_strict_httponly_expiring_cookie(engine: Engine) -> None:
    async with web_client(engine, cookie_secure=True) as client:
        form = await client.get("/staff/login")
        token = csrf_from(await form.text())
        login_cookie = cookie_names(True)[1]
        resp = await client.post("/staff/login", allow_redirects=False,
                                 data={"username": "aino", "password": PASSWORD, "csrf_token": token},
                                 cookies={login_cookie: token})
        assert resp.status == 303
        header = next(h for h in resp.headers.getall("Set-Cookie") if h.startswith("__Host-perheopas-staff="))
        # The password alone opens a ten-minute pending session, good only for the code step.
        for attribute in ("HttpOnly", "SameSite=Strict", "Secure", "Path=/", "Max-Age=600"):
            assert attribute in header, header
        pending = header.split(";")[0].split("=", 1)[1]
        session_cookie = cookie_names(True)[0]
        page = await client.get("/staff/login/code", cookies={session_cookie: pending})
        resp = await client.post("/staff/login/code", allow_redirects=False, cookies={session_cookie: pending},
                                 data={"code": current_code("aino"), "csrf_token": csrf_from(await page.text())})
        assert resp.status == 303
        header = next(h for h in resp.headers.getall("Set-Cookie") if h.startswith("__Host-perheopas-staff="))
        for attribute in ("HttpOnly", "SameSite=Strict", "Secure", "Path=/", "Max-Age=28800"):
            assert attribute in header, header
        assert pending not in header, "the full session gets a new token"


async def test_wrong_password_is_refused_and_audited(client: TestClient, engine: Engine) -> None:
    token = csrf_from(await (await client.get("/staff/login")).text())
    resp = await client.post("/staff/login",
                             data={"username": "aino", "password": "väärä salasana", "csrf_token": token})
    assert resp.status == 401
    assert "väärin" in await resp.text()
    assert ("aino", "login_failed", None) in audit_actions(engine)
    assert (await client.get("/staff", allow_redirects=False)).status == 303


async def test_login_form_needs_its_csrf_token(client: TestClient) -> None:
    await client.get("/staff/login")
    resp = await client.post("/staff/login", data={"username": "aino", "password": PASSWORD, "csrf_token": "forged"})
    assert resp.status == 403
    assert (await client.get("/staff", allow_redirects=False)).status == 303


async def test_login_is_rate_limited(client: TestClient, engine: Engine) -> None:
    for _ in range(5):
        token = csrf_from(await (await client.get("/staff/login")).text())
        resp = await client.post("/staff/login", data={"username": "aino", "password": "x" * 12, "csrf_token": token})
        assert resp.status == 401
    token = csrf_from(await (await client.get("/staff/login")).text())
    resp = await client.post("/staff/login", data={"username": "aino", "password": PASSWORD, "csrf_token": token})
    assert resp.status == 429
    assert "Liian monta" in await resp.text()
    assert ("aino", "login_blocked", None) in audit_actions(engine)
    # Another user from the same address is not locked out by aino's failures.
    await login(client, "eero")


async def test_unknown_user_cannot_log_in(client: TestClient) -> None:
    token = csrf_from(await (await client.get("/staff/login")).text())
    resp = await client.post("/staff/login", data={"username": "mallory", "password": PASSWORD, "csrf_token": token})
    assert resp.status == 401


async def test_logout_ends_the_session_on_the_server(client: TestClient, engine: Engine) -> None:
    csrf = await login(client)
    cookie = client.session.cookie_jar.filter_cookies(client.make_url("/"))[cookie_names(False)[0]].value
    resp = await client.post("/staff/logout", data={"csrf_token": csrf}, allow_redirects=False)
    assert resp.status == 303
    with session(engine) as db:
        assert db.execute(select(StaffSession)).first() is None
    # The old cookie value is worthless now.
    resp = await client.get("/staff", cookies={cookie_names(False)[0]: cookie}, allow_redirects=False)
    assert resp.status == 303


@pytest.mark.parametrize("column", ["expires_at", "last_seen_at"])
async def test_expired_or_idle_sessions_end(client: TestClient, engine: Engine, column: str) -> None:
    await login(client)
    past = datetime.now(timezone.utc) - timedelta(hours=9)
    with session(engine) as db:
        db.execute(update(StaffSession).values({column: past}))
        db.commit()
    resp = await client.get("/staff", allow_redirects=False)
    assert resp.status == 303
    assert resp.headers["Location"] == "/staff/login?msg=expired"


async def test_disabled_user_loses_access(client: TestClient, engine: Engine) -> None:
    await login(client)
    with session(engine) as db:
        db.execute(update(StaffUser).where(StaffUser.username == "aino").values(disabled=True))
        db.commit()
    assert (await client.get("/staff", allow_redirects=False)).status == 303


# --- CSRF on the console's forms ----------------------------------------------------------------------------


async def test_posts_without_the_session_csrf_token_are_refused(client: TestClient, engine: Engine) -> None:
    callback_id = add_callback(engine)
    await login(client)
    resp = await client.post(f"/staff/callbacks/{callback_id}/claim", data={"csrf_token": "guess"})
    assert resp.status == 403
    resp = await client.post(f"/staff/callbacks/{callback_id}/claim", data={})
    assert resp.status == 403
    with session(engine) as db:
        assert db.get(CallbackRequest, callback_id).status == "new"


async def test_cross_site_posts_are_refused_even_with_the_token(client: TestClient, engine: Engine) -> None:
    callback_id = add_callback(engine)
    csrf = await login(client)
    resp = await client.post(f"/staff/callbacks/{callback_id}/claim", data={"csrf_token": csrf},
                             headers={"Origin": "https://evil.example"})
    assert resp.status == 403


# --- the queue ----------------------------------------------------------------------------------------------


async def test_queue_claim_note_done_and_audit(client: TestClient, engine: Engine) -> None:
    callback_id = add_callback(engine)
    csrf = await login(client)
    page = await (await client.get("/staff")).text()
    assert 'href="tel:+358401234567"' in page and "040 1234567" in page
    assert "Ero ja tuki erotilanteessa" in page and "Testi" in page

    resp = await client.post(f"/staff/callbacks/{callback_id}/claim", data={"csrf_token": csrf})
    assert "Pyyntö on nyt sinun hoidossasi" in await resp.text()
    resp = await client.post(f"/staff/callbacks/{callback_id}/note", data={"csrf_token": csrf, "note": "Ei vastannut."})
    assert "Muistiinpano tallennettu" in await resp.text()
    resp = await client.post(f"/staff/callbacks/{callback_id}/done",
                             data={"csrf_token": csrf, "note": "Soitettu, sovittu käynti."})
    assert "merkitty hoidetuksi" in await resp.text()

    with session(engine) as db:
        row = db.get(CallbackRequest, callback_id)
        assert (row.status, row.claimed_by, row.note) == ("done", "aino", "Soitettu, sovittu käynti.")
        assert row.done_at is not None
    actions = audit_actions(engine)
    for action in ("login", "view_queue", "claim", "note", "done"):
        assert any(a == ("aino", action, callback_id if action in ("claim", "note", "done") else None)
                   for a in actions), action

    audit_page = await (await client.get("/staff/audit")).text()
    assert "otti hoitoon" in audit_page and "merkitsi hoidetuksi" in audit_page
    assert "+358401234567" not in audit_page and "040 1234567" not in audit_page


async def test_two_workers_cannot_claim_the_same_request(engine: Engine) -> None:
    callback_id = add_callback(engine)
    async with web_client(engine) as aino, web_client(engine) as eero:
        csrf_a, csrf_e = await login(aino, "aino"), await login(eero, "eero")
        results = await asyncio.gather(
            aino.post(f"/staff/callbacks/{callback_id}/claim", data={"csrf_token": csrf_a}),
            eero.post(f"/staff/callbacks/{callback_id}/claim", data={"csrf_token": csrf_e}),
        )
        texts = [await r.text() for r in results]
    assert sum("Pyyntö on nyt sinun hoidossasi" in t for t in texts) == 1
    assert sum("Joku muu ehti" in t for t in texts) == 1
    with session(engine) as db:
        assert db.get(CallbackRequest, callback_id).claimed_by in ("aino", "eero")
    assert sorted(a[1] for a in audit_actions(engine) if a[2] == callback_id) == ["claim", "claim_conflict"]


async def test_only_the_claimer_can_note_or_finish(engine: Engine) -> None:
    callback_id = add_callback(engine)
    async with web_client(engine) as aino, web_client(engine) as eero:
        csrf_a, csrf_e = await login(aino, "aino"), await login(eero, "eero")
        await aino.post(f"/staff/callbacks/{callback_id}/claim", data={"csrf_token": csrf_a})
        for action in ("note", "done"):
            resp = await eero.post(f"/staff/callbacks/{callback_id}/{action}", data={"csrf_token": csrf_e, "note": "x"})
            assert "ei ole sinun hoidossasi" in await resp.text()
    with session(engine) as db:
        row = db.get(CallbackRequest, callback_id)
        assert (row.status, row.note) == ("claimed", None)


async def test_queue_output_is_escaped(client: TestClient, engine: Engine) -> None:
    callback_id = add_callback(engine)
    with session(engine) as db:
        db.execute(update(CallbackRequest).values(alias="<script>alert(1)</script>"))
        db.commit()
    await login(client)
    page = await (await client.get("/staff")).text()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page
    assert callback_id in page


async def test_violence_request_shows_safe_time_message_wish_and_the_safe_contact_steps(
        client: TestClient, engine: Engine) -> None:
    """S9: staff see when contact is safe, whether a message may be left, and how to send a neutral text."""
    with session(engine) as db:
        create_callback(db, NewCallback(
            topic="lahisuhdevakivalta", contact_method="sms", phone_e164="+358501123456", time_window="own",
            callback_due=datetime(2025, 12, 22).date(), consent_notice_version="test",
            safe_time="kun lapset ovat koulussa", may_leave_message=False,
        ), datetime(2025, 12, 19, 23, tzinfo=timezone.utc))
    add_callback(engine)  # another topic: no safety block
    await login(client)
    page = await (await client.get("/staff")).text()
    assert "Turvallinen aika" in page and "kun lapset ovat koulussa" in page
    assert "Ei saa – älä jätä viestiä" in page
    assert page.count("Turvallinen yhteydenotto") == 1
    for step in SAFE_CONTACT_STEPS:
        assert step in html.unescape(page)
    assert "Kieli</dt><dd>suomi" in page
    assert 'href="tel:+358501123456"' in page


async def test_the_queue_filters_by_language(client: TestClient, engine: Engine) -> None:
    """S10: staff find the requests to answer in Swedish or English; rows from before languages count as Finnish."""
    with session(engine) as db:
        for language, phone in (("sv", "+358501000001"), ("en", "+358501000002"), (None, "+358501000003")):
            create_callback(db, NewCallback(
                topic="eroauttaminen", contact_method="call", phone_e164=phone, time_window="any",
                callback_due=datetime(2025, 12, 22).date(), consent_notice_version="test", language=language or "fi",
            ), datetime(2025, 12, 19, 10, tzinfo=timezone.utc))
        db.execute(update(CallbackRequest).where(CallbackRequest.phone == "+358501000003").values(language=None))
        db.commit()
    await login(client)
    swedish = await (await client.get("/staff?status=new&language=sv")).text()
    assert "tel:+358501000001" in swedish and "tel:+358501000002" not in swedish
    assert '<option value="sv" selected>ruotsi</option>' in swedish
    finnish = await (await client.get("/staff?status=new&language=fi")).text()
    assert "tel:+358501000003" in finnish and "tel:+358501000001" not in finnish
    every = await (await client.get("/staff?status=new&language=xx")).text()
    assert all(f"tel:+35850100000{n}" in every for n in (1, 2, 3))


def test_safe_contact_steps_keep_what_the_bot_promises() -> None:
    """The bot's SMS and voicemail promises (actions/data/texts.yml) are what staff are told to do."""
    from actions import render

    steps = " ".join(SAFE_CONTACT_STEPS)
    assert '"Perhekeskus"' in render.text("callback.ask_leave_message_sms") and '"Perhekeskus"' in steps
    assert "väkival" in render.text("callback.ask_leave_message_sms") and "väkivaltaa" in steps
    assert "perhekeskuksesta soitettiin" in render.text("callback.ask_leave_message_call")
    assert "perhekeskuksesta soitettiin" in steps
    assert "joku muu" in render.text("callback.saved_safety_call") and "joku muu" in steps
    assert "älä jätä vastaajaviestiä äläkä lähetä toista tekstiviestiä" in steps


# --- users --------------------------------------------------------------------------------------------------


def test_passwords_are_argon2_hashes(engine: Engine) -> None:
    with session(engine) as db:
        user = db.execute(select(StaffUser).where(StaffUser.username == "aino")).scalar_one()
        assert user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash
        assert staff_store.check_password(db, "aino", PASSWORD) is not None
        assert staff_store.check_password(db, "aino", PASSWORD + "x") is None


def test_weak_passwords_and_bad_names_are_refused(engine: Engine) -> None:
    with session(engine) as db:
        with pytest.raises(staff_store.StaffError):
            staff_store.add_user(db, "ville", "lyhyt", staff_store.utc_now())
        with pytest.raises(staff_store.StaffError):
            staff_store.add_user(db, "Ville Virtanen!", PASSWORD, staff_store.utc_now())
        with pytest.raises(staff_store.StaffError):
            staff_store.add_user(db, "aino", PASSWORD, staff_store.utc_now())


def _cli(tmp_path: Path, *args: str, stdin: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}"}
    return subprocess.run([sys.executable, "-m", "bot", "staff", "add-user", *args], input=stdin, text=True,
                          capture_output=True, env=env, cwd=REPO, timeout=120)


def test_cli_add_user_reads_the_password_from_stdin(tmp_path: Path, engine: Engine) -> None:
    done = _cli(tmp_path, "kaisa", stdin="pitkä-ja-hyvä-salasana\n")
    assert done.returncode == 0, done.stderr
    assert "pitkä-ja-hyvä-salasana" not in done.stdout + done.stderr
    with session(engine) as db:
        assert staff_store.check_password(db, "kaisa", "pitkä-ja-hyvä-salasana") is not None
    assert _cli(tmp_path, "kaisa", stdin="toinen-pitkä-salasana\n").returncode == 1
    assert _cli(tmp_path, "kaisa", "--replace", stdin="toinen-pitkä-salasana\n").returncode == 0
    assert _cli(tmp_path, "lyhyt", stdin="abc\n").returncode == 1


def test_migration_creates_the_staff_tables_as_modelled(tmp_path: Path) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import create_engine

    from core.db import Base

    url = f"sqlite:///{tmp_path / 'migrated.db'}"
    subprocess.run([sys.executable, "-m", "catalog", "--database-url", url, "migrate"], cwd=REPO, check=True,
                   capture_output=True, timeout=120)
    staff_tables = {"staff_users", "staff_sessions", "staff_audit_log"}
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    finally:
        engine.dispose()

    def table_of(diff: object) -> str:
        # Alembic reports ("add_table", Table), ("add_index", Index), ("add_column", schema, table, Column)...
        # and column changes as a list of ("modify_type", schema, table, column, ...).
        item = diff[0] if isinstance(diff, list) else diff
        assert isinstance(item, tuple)
        kind, rest = item[0], item[1:]
        if kind.startswith("modify_") or kind in ("add_column", "remove_column"):
            return str(rest[1])
        obj = rest[0]
        return str(obj.table.name if hasattr(obj, "table") else obj.name)

    assert [d for d in diffs if table_of(d) in staff_tables] == []
