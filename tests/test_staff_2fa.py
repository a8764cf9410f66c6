"""Staff sign-in hardening: the TOTP second factor, its enrolment, no replay, the back-off and the hashing pool."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pyotp
import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import select
from sqlalchemy.engine import Engine
from test_staff import PASSWORD, TOTP_SECRETS, audit_actions, current_code, login
from webapp_helpers import csrf_from, make_test_engine, session, web_client

from bot.callbacks import staff_store
from bot.callbacks.models import AuditLog, StaffSession, StaffUser
from bot.web import staff_login
from bot.web.login_guard import HashingBusy, HashingPool, LoginBackoff

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """aino has enrolled a second factor; uusi (new) has only a password."""
    engine = make_test_engine(tmp_path)
    with session(engine) as db:
        aino, _ = staff_store.add_user(db, "aino", PASSWORD, staff_store.utc_now())
        aino.totp_secret = TOTP_SECRETS["aino"]
        staff_store.add_user(db, "uusi", PASSWORD, staff_store.utc_now())
        db.commit()
    yield engine
    engine.dispose()


@pytest.fixture
async def client(engine: Engine) -> AsyncIterator[TestClient]:
    async with web_client(engine) as c:
        yield c


async def password_step(client: TestClient, username: str, password: str = PASSWORD) -> int:
    token = csrf_from(await (await client.get("/staff/login")).text())
    resp = await client.post("/staff/login", allow_redirects=False,
                             data={"username": username, "password": password, "csrf_token": token})
    return resp.status


async def code_step(client: TestClient, code: str) -> tuple[int, str]:
    page = await client.get("/staff/login/code")
    resp = await client.post("/staff/login/code", allow_redirects=False,
                             data={"code": code, "csrf_token": csrf_from(await page.text())})
    return resp.status, await resp.text()


def stored_user(engine: Engine, name: str) -> StaffUser:
    with session(engine) as db:
        return db.execute(select(StaffUser).where(StaffUser.username == name)).scalar_one()


# --- enrolment ----------------------------------------------------------------------------------------------


async def test_a_user_without_a_second_factor_enrols_after_the_password(client: TestClient, engine: Engine) -> None:
    assert await password_step(client, "uusi") == 303
    page = await (await client.get("/staff/login/code")).text()
    assert "Ota käyttöön kaksivaiheinen tunnistautuminen" in page
    # The QR code is inline SVG made here: no image URL, no third party.
    assert "<svg" in page and "<img" not in page and "http" not in page.split("<main", 1)[1].split("</main>")[0]
    secret = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page)
    assert secret, "the secret is shown in text for typing"
    secret_value = secret.group(1).replace(" ", "")
    assert stored_user(engine, "uusi").totp_secret is None, "nothing is stored before a code confirms it"
    # Before the code, the console itself stays closed.
    resp = await client.get("/staff", allow_redirects=False)
    assert resp.status == 303 and resp.headers["Location"] == "/staff/login/code"

    status, text = await code_step(client, "000000" if pyotp.TOTP(secret_value).now() != "000000" else "111111")
    assert status == 401 and "Koodi on väärä" in text
    status, _ = await code_step(client, pyotp.TOTP(secret_value).now())
    assert status == 303
    assert (await client.get("/staff", allow_redirects=False)).status == 200
    assert stored_user(engine, "uusi").totp_secret == secret_value
    actions = [a[1] for a in audit_actions(engine) if a[0] == "uusi"]
    assert "totp_enrolled" in actions and "code_failed" in actions and actions.index("login") > 0


async def test_after_enrolment_the_password_alone_opens_nothing(client: TestClient) -> None:
    assert await password_step(client, "aino") == 303
    for path in ("/staff", "/staff/audit"):
        resp = await client.get(path, allow_redirects=False)
        assert resp.status == 303 and resp.headers["Location"] == "/staff/login/code", path
    page = await (await client.get("/staff/login/code")).text()
    assert "Kirjoita tunnistuskoodi" in page and "<svg" not in page and TOTP_SECRETS["aino"][:4] not in page


async def test_wrong_code_is_refused_and_audited_without_the_code(client: TestClient, engine: Engine) -> None:
    assert await password_step(client, "aino") == 303
    wrong = "123456" if current_code("aino") != "123456" else "654321"
    status, text = await code_step(client, wrong)
    assert status == 401 and "Koodi on väärä" in text
    assert ("aino", "code_failed", None) in audit_actions(engine)
    with session(engine) as db:
        rows = db.execute(select(AuditLog)).scalars().all()
        assert all(wrong not in f"{r.username}{r.detail or ''}" for r in rows)


async def test_a_code_cannot_be_replayed_in_its_window(engine: Engine) -> None:
    async with web_client(engine) as first, web_client(engine) as second:
        code = current_code("aino")
        assert await password_step(first, "aino") == 303
        assert (await code_step(first, code))[0] == 303
        assert await password_step(second, "aino") == 303
        status, text = await code_step(second, code)
        assert status == 401 and "jo käytetty" in text
        # The next step's code (allowed clock drift) still works.
        assert (await code_step(second, current_code("aino", steps_ahead=1)))[0] == 303


def test_codes_within_one_step_of_drift_match_and_others_do_not() -> None:
    secret = TOTP_SECRETS["aino"]
    now = datetime(2026, 12, 14, 9, 0, 10, tzinfo=timezone.utc)
    totp = pyotp.TOTP(secret)
    for offset, matches in ((-2, False), (-1, True), (0, True), (1, True), (2, False)):
        code = totp.at(now, counter_offset=offset)
        assert (staff_store.matching_step(secret, code, now) is not None) == matches, offset
    assert staff_store.matching_step(secret, "12345x", now) is None
    assert staff_store.matching_step(secret, "", now) is None


# --- the CLI ------------------------------------------------------------------------------------------------


def _cli(engine_path: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{engine_path}"}
    return subprocess.run([sys.executable, "-m", "bot", "staff", *args], input=stdin, text=True,
                          capture_output=True, env=env, cwd=REPO, timeout=120)


async def test_cli_reset_2fa_and_disable_user_end_sessions(tmp_path: Path, engine: Engine) -> None:
    async with web_client(engine) as c:
        await login(c, "aino")
        done = _cli(tmp_path / "app.db", "reset-2fa", "aino")
        assert done.returncode == 0, done.stderr
        assert (await c.get("/staff", allow_redirects=False)).status == 303
        assert stored_user(engine, "aino").totp_secret is None
        assert await password_step(c, "aino") == 303
        assert "Ota käyttöön" in await (await c.get("/staff/login/code")).text()

        done = _cli(tmp_path / "app.db", "disable-user", "aino")
        assert done.returncode == 0, done.stderr
        with session(engine) as db:
            assert db.execute(select(StaffSession)).first() is None
        assert await password_step(c, "aino") == 403
        assert ("aino", "login_disabled", None) in audit_actions(engine)
    assert _cli(tmp_path / "app.db", "disable-user", "tuntematon").returncode == 1
    assert _cli(tmp_path / "app.db", "reset-2fa", "tuntematon").returncode == 1


# --- back-off and the hashing pool --------------------------------------------------------------------------


def test_backoff_is_per_user_and_address_and_grows_exponentially() -> None:
    now = [0.0]
    guard = LoginBackoff(free_failures=3, base_seconds=30, max_seconds=600, clock=lambda: now[0])
    assert [guard.attempt("aino", "10.0.0.1") for _ in range(3)] == [0, 0, 0]
    assert guard.attempt("aino", "10.0.0.1") == 30
    # Neither another worker at the same address nor aino at another address is locked out.
    assert guard.attempt("eero", "10.0.0.1") == 0
    assert guard.attempt("aino", "10.0.0.2") == 0
    delays = []
    for _ in range(6):
        now[0] += guard.retry_after("aino", "10.0.0.1")
        assert guard.attempt("aino", "10.0.0.1") == 0
        delays.append(guard.retry_after("aino", "10.0.0.1"))
    assert delays == [60, 120, 240, 480, 600, 600]
    guard.succeeded("aino", "10.0.0.1")
    assert guard.attempt("aino", "10.0.0.1") == 0


async def test_a_flood_of_guesses_is_refused_before_hashing(client: TestClient, engine: Engine,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    hashed = []
    real_verify = staff_store.verify_password

    def counting_verify(stored: str | None, password: str) -> bool:
        hashed.append(password)
        return real_verify(stored, password)

    monkeypatch.setattr(staff_store, "verify_password", counting_verify)
    statuses = await asyncio.gather(*(password_step(client, "aino", f"arvaus-{i:04d}-xx") for i in range(20)))
    assert sorted(set(statuses)) == [401, 429]
    assert len(hashed) == 5, "only the free tries reach argon2"
    # Today's code on the right password is refused too while locked: the back-off covers both steps.
    assert await password_step(client, "aino") == 429
    assert ("aino", "login_blocked", None) in audit_actions(engine)


async def test_hashing_pool_refuses_beyond_its_bound() -> None:
    pool = HashingPool(workers=1, max_waiting=2)
    release = threading.Event()
    try:
        running = [asyncio.ensure_future(pool.run(release.wait, 5)) for _ in range(2)]
        await asyncio.sleep(0.05)
        with pytest.raises(HashingBusy):
            await pool.run(release.wait, 5)
        release.set()
        assert await asyncio.gather(*running) == [True, True]
        assert await pool.run(lambda: 42) == 42
    finally:
        release.set()
        pool.close()


async def test_login_answers_busy_when_the_hashing_pool_is_full(engine: Engine,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(staff_login, "HashingPool", lambda: HashingPool(workers=1, max_waiting=0))
    async with web_client(engine) as client:
        token = csrf_from(await (await client.get("/staff/login")).text())
        resp = await client.post("/staff/login", data={"username": "aino", "password": PASSWORD, "csrf_token": token})
        assert resp.status == 503 and "liikaa" in await resp.text()


def test_pending_sessions_expire_quickly(engine: Engine) -> None:
    now = datetime.now(timezone.utc)
    with session(engine) as db:
        user = db.execute(select(StaffUser).where(StaffUser.username == "aino")).scalar_one()
        token, _ = staff_store.create_session(db, user, now, staff_login.PENDING_LOGIN, stage="pending")
        assert staff_store.load_session(db, token, now, timedelta(minutes=30)).stage == "pending"
        assert staff_store.load_session(db, token, now + timedelta(minutes=11), timedelta(minutes=30)) is None
