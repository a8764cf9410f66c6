"""Issue 17, beyond the second factor: the /staff allowlist, bounded refusal audit rows, the retention warning,
private files under var/, and the web details (no phone autocomplete, frame-ancestors validated at start-up)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from test_staff import PASSWORD, TOTP_SECRETS, login
from webapp_helpers import add_callback, csrf_from, make_test_engine, session, web_client

from bot.callbacks import staff_store
from bot.callbacks.models import AuditLog, CallbackRequest
from bot.callbacks.retention import deleted_soon, deletion_day
from bot.web.common import WebSettings, address_allowed, frame_ancestors_list, staff_networks
from core import clock
from core.db import make_engine

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_test_engine(tmp_path)
    with session(engine) as db:
        user, _ = staff_store.add_user(db, "aino", PASSWORD, staff_store.utc_now())
        user.totp_secret = TOTP_SECRETS["aino"]
        db.commit()
    yield engine
    engine.dispose()


def audit_rows(engine: Engine) -> list[AuditLog]:
    with session(engine) as db:
        return list(db.execute(select(AuditLog).order_by(AuditLog.id)).scalars().all())


# --- the /staff allowlist -----------------------------------------------------------------------------------


async def test_staff_paths_outside_the_allowlist_get_403_and_an_audit_row(engine: Engine) -> None:
    async with web_client(engine, staff_allow=staff_networks("10.0.0.0/8, 192.168.1.20")) as client:
        for path in ("/staff", "/staff/login", "/staff/audit", "/staff/login/code"):
            resp = await client.get(path, allow_redirects=False)
            assert resp.status == 403, path
        resp = await client.post("/staff/login", data={"username": "aino", "password": PASSWORD})
        assert resp.status == 403
        # The chat is not behind the allowlist.
        assert (await client.get("/")).status == 200
    rows = audit_rows(engine)
    assert [r.action for r in rows if r.action != "user_added"] == ["not_allowed"] * 5
    assert all("127.0.0.1" not in f"{r.username}{r.detail}" for r in rows)


async def test_allowed_addresses_reach_the_console(engine: Engine) -> None:
    async with web_client(engine, staff_allow=staff_networks("10.0.0.0/8,127.0.0.1")) as client:
        await login(client)


def test_allowlist_parsing_and_matching() -> None:
    networks = staff_networks("10.0.0.0/8, 127.0.0.1 ,2001:db8::/32")
    assert address_allowed("10.20.30.40", networks) and address_allowed("127.0.0.1", networks)
    assert address_allowed("::ffff:10.1.2.3", networks) and address_allowed("2001:db8::5", networks)
    assert not address_allowed("192.168.1.1", networks) and not address_allowed("unknown", networks)
    assert address_allowed("192.168.1.1", staff_networks("")), "unset allows every address"
    with pytest.raises(ValueError, match="PERHEOPAS_STAFF_ALLOW"):
        staff_networks("10.0.0.0/8,intranet")


# --- refusal rows: no address, password or code; bounded -----------------------------------------------------


async def test_refusal_rows_hold_no_address_password_or_code(engine: Engine) -> None:
    secrets = ["väärä-salasana-99", "kahvi-ja-pulla-2025"]  # a mistyped password, and one typed as the name
    async with web_client(engine) as client:
        for username, password in (("aino", secrets[0]), (secrets[1], "mitä-tahansa-123")):
            token = csrf_from(await (await client.get("/staff/login")).text())
            await client.post("/staff/login", data={"username": username, "password": password, "csrf_token": token})
        token = csrf_from(await (await client.get("/staff/login")).text())
        await client.post("/staff/login", data={"username": "aino", "password": PASSWORD, "csrf_token": token})
        page = await client.get("/staff/login/code")
        await client.post("/staff/login/code", data={"code": "000001", "csrf_token": csrf_from(await page.text())})
    rows = [r for r in audit_rows(engine) if r.action in staff_store.REFUSALS]
    assert [(r.username, r.action) for r in rows] == [("aino", "login_failed"), ("-", "login_failed"),
                                                       ("aino", "code_failed")]
    text = " ".join(f"{r.username} {r.detail} {r.callback_id}" for r in rows)
    for secret in (*secrets, "000001", "127.0.0.1"):
        assert secret not in text


def test_refusal_rows_are_capped_and_staff_actions_are_not(engine: Engine) -> None:
    now = staff_store.utc_now()
    with session(engine) as db:
        for _ in range(40):
            staff_store.refusal(db, "aino", "login_failed", now, keep=10)
        staff_store.audit(db, "aino", "view_queue", now)
        refusals = db.execute(select(func.count()).select_from(AuditLog)
                              .where(AuditLog.action.in_(staff_store.REFUSALS))).scalar_one()
        assert refusals == 10
        assert db.execute(select(func.count()).where(AuditLog.action == "user_added")).scalar_one() == 1


# --- retention: the hard maximum age, and the queue's warning -------------------------------------------------


async def test_queue_warns_about_requests_deleted_within_a_week(engine: Engine) -> None:
    old_id, new_id = add_callback(engine), add_callback(engine, phone="+358501234567")
    with session(engine) as db:
        db.execute(update(CallbackRequest).where(CallbackRequest.id == old_id)
                   .values(created_at=clock.now() - timedelta(days=85)))
        db.execute(update(CallbackRequest).where(CallbackRequest.id == new_id).values(created_at=clock.now()))
        db.commit()
    async with web_client(engine) as client:
        await login(client)
        page = await (await client.get("/staff")).text()
    old_card = page.split(f'id="cb-{old_id}"')[1].split("</li>")[0]
    new_card = page.split(f'id="cb-{new_id}"')[1].split("</li>")[0]
    assert "poistetaan automaattisesti" in old_card and "enintään 90 päivää" in old_card
    assert "poistetaan automaattisesti" not in new_card


def test_deletion_day_and_warning_window() -> None:
    made = clock.now().replace(hour=12) - timedelta(days=83)
    today = clock.now().date()
    assert deletion_day(made, 90) == (made + timedelta(days=90)).date()
    assert deleted_soon(made, 90, today)
    assert not deleted_soon(made, 100, today)


def test_settings_read_the_maximum_age(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERHEOPAS_CALLBACK_MAX_DAYS", "30")
    assert WebSettings.from_env().callback_max_days == 30
    monkeypatch.setenv("PERHEOPAS_CALLBACK_MAX_DAYS", "0")
    with pytest.raises(ValueError, match="PERHEOPAS_CALLBACK_MAX_DAYS"):
        WebSettings.from_env()


# --- files under var/ are the service user's alone ----------------------------------------------------------


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_sqlite_files_are_created_0600_whatever_the_umask(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        engine = make_engine(f"sqlite:///{tmp_path / 'var' / 'app.db'}")
        with engine.connect() as conn:
            conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
            conn.commit()
            for name in ("app.db", "app.db-wal", "app.db-shm"):
                assert _mode(tmp_path / "var" / name) == 0o600, name
        engine.dispose()
    finally:
        os.umask(previous)
    assert _mode(tmp_path / "var") == 0o700


def test_cli_commands_create_private_files(tmp_path: Path) -> None:
    make_test_engine(tmp_path).dispose()
    (tmp_path / "v").mkdir()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}", "PERHEOPAS_VAR": str(tmp_path / "v"),
           "PERHEOPAS_TRACKER_DB": str(tmp_path / "v" / "tracker.db")}
    # umask 022 outside, as a shell usually has it; the command itself tightens it for what it and Rasa create.
    done = subprocess.run(["sh", "-c", f"umask 022 && exec {sys.executable} -m bot purge"], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert _mode(tmp_path / "app.db") == 0o600
    # Rasa's tracker database, opened here by a plain engine (as Rasa opens it), is created under the umask.
    assert _mode(tmp_path / "v" / "tracker.db") == 0o600
    created = [p for p in (tmp_path / "v").rglob("*") if p.is_file()]
    assert all(_mode(p) == 0o600 for p in created), [(p.name, oct(_mode(p))) for p in created]


# --- web details ------------------------------------------------------------------------------------------


async def test_contact_form_phone_field_is_not_autofilled(engine: Engine) -> None:
    async with web_client(engine) as client:
        page = await (await client.get("/")).text()
    phone_input = page.split('id="cb-phone"')[1].split(">")[0]
    assert 'autocomplete="off"' in phone_input


@pytest.mark.parametrize("value, header", [
    ("'self'", "'self'"),
    ("", "'self'"),
    ("'none'", "'none'"),
    ("'self' https://perhekeskus.example.fi", "'self' https://perhekeskus.example.fi"),
    ("'self', HTTPS://Perhekeskus.example.fi:8443 http://localhost:8000",
     "'self' https://perhekeskus.example.fi:8443 http://localhost:8000"),
])
def test_frame_ancestors_accepts_origins(value: str, header: str) -> None:
    assert frame_ancestors_list(value) == header


@pytest.mark.parametrize("value", [
    "'self'; script-src *", "*", "https://*.example.fi", "https://perhekeskus.example.fi/chat", "javascript:alert(1)",
    "'unsafe-inline'", "data:", "perhekeskus.example.fi", "'none' https://perhekeskus.example.fi", "ftp://example.fi",
])
def test_frame_ancestors_refuses_anything_else(value: str) -> None:
    with pytest.raises(ValueError, match="PERHEOPAS_FRAME_ANCESTORS"):
        frame_ancestors_list(value)


def test_web_app_refuses_to_start_with_a_bad_frame_ancestors(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
           "PERHEOPAS_FRAME_ANCESTORS": "'self'; script-src 'unsafe-inline'"}
    done = subprocess.run([sys.executable, "-m", "bot", "web", "--port", "9"], env=env, cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "configuration error: PERHEOPAS_FRAME_ANCESTORS" in done.stderr
