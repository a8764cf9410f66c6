"""Staff log-in in two steps: the password, then a TOTP code (or, the first time, enrolling an authenticator app).

- The password step opens only a short "pending" session, good for nothing but the code step.
- The code step replaces it by a full session with a new token; a code is accepted once (no replay).
- Every attempt of either step counts against a back-off keyed by (user name, client address) before any
  password hash or code is checked; argon2 runs in a small bounded pool of its own (bot/web/login_guard.py).
- Refusals are audited without the address, the password or the code (staff_store.refusal).
"""

from __future__ import annotations

import hmac
import math
import secrets
from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp_jinja2
import segno
from aiohttp import web
from markupsafe import Markup
from sqlalchemy.orm import Session

from bot.callbacks import staff_store
from bot.web.common import DATABASE_KEY, SETTINGS_KEY, client_key, same_origin
from bot.web.login_guard import HashingBusy, HashingPool, LoginBackoff

LOGIN_PATH = "/staff/login"
SECOND_FACTOR_PATH = "/staff/login/code"
LOGIN_CSRF_MAX_AGE = 3600
# Long enough to open an authenticator app (or install one while enrolling), short enough to be no session.
PENDING_LOGIN = timedelta(minutes=10)

LOGIN_GUARD_KEY = web.AppKey("login_guard", LoginBackoff)
HASHING_POOL_KEY = web.AppKey("hashing_pool", HashingPool)

LOGIN_FLASH = {
    "logged_out": "Olet kirjautunut ulos.",
    "expired": "Istuntosi on päättynyt. Kirjaudu uudelleen.",
}
WRONG_PASSWORD = "Käyttäjätunnus tai salasana on väärin."
WRONG_CODE = "Koodi on väärä tai jo käytetty. Kirjoita koodi, jonka sovellus näyttää nyt."
DISABLED = "Käyttäjätunnuksesi on poistettu käytöstä. Ota yhteyttä ylläpitoon."
BUSY = "Kirjautumisia on juuri nyt liikaa. Yritä hetken kuluttua uudelleen."
FORM_EXPIRED = "Lomake vanheni. Kirjaudu uudelleen."


def cookie_names(secure: bool) -> tuple[str, str]:
    """(session cookie, log-in CSRF cookie); the __Host- prefix pins them to this host and path /, over TLS."""
    prefix = "__Host-" if secure else ""
    return f"{prefix}perheopas-staff", f"{prefix}perheopas-login"


def forget_cookie(response: web.StreamResponse, name: str, secure: bool) -> None:
    # Browsers ignore a __Host- cookie's deletion unless it carries the same Secure attribute.
    response.set_cookie(name, "", max_age=0, expires="Thu, 01 Jan 1970 00:00:00 GMT", path="/", secure=secure,
                        httponly=True, samesite="Strict")


def _set_session_cookie(request: web.Request, response: web.StreamResponse, token: str, lifetime: timedelta) -> None:
    settings = request.app[SETTINGS_KEY]
    response.set_cookie(cookie_names(settings.cookie_secure)[0], token, max_age=int(lifetime.total_seconds()),
                        path="/", httponly=True, secure=settings.cookie_secure, samesite="Strict")


def locked_out_text(seconds: float) -> str:
    return f"Liian monta epäonnistunutta yritystä. Yritä uudelleen {max(1, math.ceil(seconds / 60))} minuutin kuluttua."


async def _refuse(request: web.Request, username: str, action: str) -> None:
    await request.app[DATABASE_KEY].run(staff_store.refusal, username, action, staff_store.utc_now())


# --- step 1: the password -----------------------------------------------------------------------------------


def _login_page(request: web.Request, error: str | None = None, status: int = 200,
                username: str = "", retry_after: float = 0.0) -> web.Response:
    settings = request.app[SETTINGS_KEY]
    _, login_cookie = cookie_names(settings.cookie_secure)
    token = secrets.token_urlsafe(32)
    response = aiohttp_jinja2.render_template(
        "staff_login.html", request,
        {"csrf_token": token, "error": error, "flash": LOGIN_FLASH.get(request.query.get("msg", "")),
         "username": username}, status=status,
    )
    response.set_cookie(login_cookie, token, max_age=LOGIN_CSRF_MAX_AGE, path="/", httponly=True,
                        secure=settings.cookie_secure, samesite="Strict")
    if retry_after:
        response.headers["Retry-After"] = str(math.ceil(retry_after))
    return response


async def login_form(request: web.Request) -> web.StreamResponse:
    return _login_page(request)


async def login(request: web.Request) -> web.StreamResponse:
    settings = request.app[SETTINGS_KEY]
    session_cookie, login_cookie = cookie_names(settings.cookie_secure)
    if not same_origin(request):
        raise web.HTTPForbidden(text="Pyyntö tuli toiselta sivustolta.")
    form = await request.post()
    username = str(form.get("username", "")).strip().lower()[:60]
    password = str(form.get("password", ""))
    sent = str(form.get("csrf_token", ""))
    expected = request.cookies.get(login_cookie, "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        return _login_page(request, FORM_EXPIRED, status=403, username=username)

    # Counted before the hash is checked: a burst of guesses is refused here, cheaply, not after argon2.
    wait = request.app[LOGIN_GUARD_KEY].attempt(username, client_key(request))
    if wait:
        await _refuse(request, username, "login_blocked")
        return _login_page(request, locked_out_text(wait), status=429, username=username, retry_after=wait)

    database = request.app[DATABASE_KEY]
    user = await database.run(staff_store.password_record, username)
    try:
        matches = await request.app[HASHING_POOL_KEY].run(
            staff_store.verify_password, user.password_hash if user is not None else None, password)
    except HashingBusy:
        return _login_page(request, BUSY, status=503, username=username, retry_after=5)
    if user is None or not matches:
        await _refuse(request, username, "login_failed")
        return _login_page(request, WRONG_PASSWORD, status=401, username=username)
    if user.disabled:
        await _refuse(request, username, "login_disabled")
        return _login_page(request, DISABLED, status=403, username=username)
    if staff_store.needs_rehash(user.password_hash):
        await database.run(staff_store.set_password_hash, user.id, password)

    enrol_secret = staff_store.new_totp_secret() if user.totp_secret is None else None

    def start(db: Session) -> str:
        token, _ = staff_store.create_session(db, user, staff_store.utc_now(), PENDING_LOGIN, stage="pending",
                                              enrol_secret=enrol_secret)
        return token

    token = await database.run(start)
    response = web.HTTPSeeOther(SECOND_FACTOR_PATH)
    _set_session_cookie(request, response, token, PENDING_LOGIN)
    forget_cookie(response, login_cookie, settings.cookie_secure)
    raise response


# --- step 2: the code, or enrolling an authenticator app ----------------------------------------------------


def qr_svg(uri: str) -> Markup:
    """The otpauth URI as an inline SVG QR code, made here: the secret never leaves the server for a QR service."""
    return Markup(segno.make(uri, error="m").svg_inline(scale=4, border=4, dark="#000", light="#fff"))


def grouped(secret: str) -> str:
    """'JBSW Y3DP EHPK 3PXP': a secret typed by hand is easier to read in groups of four."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


async def _pending(request: web.Request) -> tuple[staff_store.StaffUser, str | None]:
    token = request.cookies.get(cookie_names(request.app[SETTINGS_KEY].cookie_secure)[0], "")
    found = await request.app[DATABASE_KEY].run(staff_store.pending_second_factor, token)
    if found is None or (found[0].totp_secret is None and found[1] is None):
        raise web.HTTPSeeOther(LOGIN_PATH + "?msg=expired")
    return found


def _second_factor_page(request: web.Request, user: staff_store.StaffUser, enrol_secret: str | None,
                        error: str | None = None, status: int = 200, retry_after: float = 0.0) -> web.Response:
    enrolling = user.totp_secret is None and enrol_secret is not None
    context = {"csrf_token": request["staff"].csrf_token, "error": error, "enrolling": enrolling}
    if enrolling:
        assert enrol_secret is not None
        context.update(qr=qr_svg(staff_store.provisioning_uri(enrol_secret, user.username)),
                       secret=grouped(enrol_secret))
    response = aiohttp_jinja2.render_template("staff_second_factor.html", request, context, status=status)
    if retry_after:
        response.headers["Retry-After"] = str(math.ceil(retry_after))
    return response


async def second_factor_form(request: web.Request) -> web.StreamResponse:
    user, enrol_secret = await _pending(request)
    return _second_factor_page(request, user, enrol_secret)


async def second_factor(request: web.Request) -> web.StreamResponse:
    user, enrol_secret = await _pending(request)
    code = str((await request.post()).get("code", ""))[:20]
    guard = request.app[LOGIN_GUARD_KEY]
    client = client_key(request)
    wait = guard.attempt(user.username, client)
    if wait:
        await _refuse(request, user.username, "login_blocked")
        return _second_factor_page(request, user, enrol_secret, locked_out_text(wait), status=429, retry_after=wait)

    database = request.app[DATABASE_KEY]
    now = staff_store.utc_now()
    if user.totp_secret is None and enrol_secret is not None:
        accepted = await database.run(staff_store.confirm_enrolment, user.id, enrol_secret, code, now)
    else:
        accepted = await database.run(staff_store.use_code, user.id, code, now)
    if not accepted:
        await _refuse(request, user.username, "code_failed")
        return _second_factor_page(request, user, enrol_secret, WRONG_CODE, status=401)

    guard.succeeded(user.username, client)
    lifetime = timedelta(hours=request.app[SETTINGS_KEY].staff_session_hours)
    pending_token = request.cookies.get(cookie_names(request.app[SETTINGS_KEY].cookie_secure)[0], "")
    token, _ = await database.run(staff_store.complete_login, pending_token, user, now, lifetime)
    response = web.HTTPSeeOther("/staff")
    _set_session_cookie(request, response, token, lifetime)
    raise response


async def _hashing_pool_ctx(app: web.Application) -> AsyncIterator[None]:
    yield
    app[HASHING_POOL_KEY].close()


def setup(app: web.Application) -> None:
    """The log-in routes and their in-memory guards; `staff.require_staff_session` gates the code step."""
    app[LOGIN_GUARD_KEY] = LoginBackoff()
    app[HASHING_POOL_KEY] = HashingPool()
    app.cleanup_ctx.append(_hashing_pool_ctx)
    app.router.add_get(LOGIN_PATH, login_form)
    app.router.add_post(LOGIN_PATH, login)
    app.router.add_get(SECOND_FACTOR_PATH, second_factor_form)
    app.router.add_post(SECOND_FACTOR_PATH, second_factor)
