"""The staff console at /staff: the callback queue (new, claimed, done), notes and the audit log.

Security model:
- /staff is reachable only from the addresses in PERHEOPAS_STAFF_ALLOW, when it is set;
- every route under /staff except the log-in page needs a valid server-side session (deny by default), and
  a session that has passed only the password may do nothing but the second factor (bot/web/staff_login.py);
- session cookies are HttpOnly, SameSite=Strict, Secure (configurable for local http tests), and expire;
- every POST carries a CSRF token: the session's own, or on the log-in form a double-submit cookie;
- failed log-ins back off per user name and client address (bot/web/login_guard.py).
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.callbacks import staff_store
from bot.callbacks.models import CallbackRequest
from bot.callbacks.queue import claim_callback, complete_callback, list_callbacks
from bot.callbacks.retention import deleted_soon, deletion_day
from bot.callbacks.vocabulary import CALL, CALLBACK_STATUSES, LANGUAGES, SMS, VIOLENCE_TOPIC
from bot.stats import counters
from bot.web import staff_login, staff_stats
from bot.web.common import DATABASE_KEY, SETTINGS_KEY, address_allowed, client_key, same_origin, ui_texts
from bot.web.staff_login import LOGIN_PATH, SECOND_FACTOR_PATH, cookie_names, forget_cookie
from core import clock
from core.phone import national_phone

log = logging.getLogger("perheopas.staff")

# The only /staff paths reachable without a session. tests/test_staff_routes.py walks the router against this.
PUBLIC_STAFF_PATHS = frozenset({LOGIN_PATH})
CALLBACK_ID = r"{callback_id:[0-9a-f]{32}}"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


FLASH = {
    "claimed": "Pyyntö on nyt sinun hoidossasi.",
    "conflict": "Joku muu ehti ottaa tämän pyynnön hoitoon, joten sitä ei annettu sinulle.",
    "note_saved": "Muistiinpano tallennettu.",
    "not_yours": "Pyyntö ei ole sinun hoidossasi, joten sitä ei muutettu.",
    "done": "Pyyntö merkitty hoidetuksi.",
}
STATUS_LABELS = {"new": "Uudet", "claimed": "Hoidossa", "done": "Hoidetut"}
METHOD_LABELS = {CALL: "Soitto", SMS: "Tekstiviesti"}
LANGUAGE_LABELS = {"fi": "suomi", "sv": "ruotsi", "en": "englanti"}
# S9: how staff contact a person who lives with violence. The bot promises exactly this before the request is
# stored (callback.ask_leave_message_*, callback.saved_safety_* in actions/data/texts.yml): keep the two in step.
SAFE_CONTACT_STEPS = (
    "Ota yhteyttä vain silloin, kun hän kertoi sen olevan turvallista.",
    "Jos puhelimeen vastaa joku muu, älä kerro asiaa. Sano vain, että soitat perhekeskuksesta.",
    "Tekstiviesti: lähetä perhekeskuksen numerosta ja kirjoita vain \"Perhekeskus\" ja että hän voi vastata, "
    "kun hänelle sopii. Älä kerro aihetta äläkä mainitse väkivaltaa.",
    "Vastaajaviesti, jos sen saa jättää: kerro vain, että perhekeskuksesta soitettiin. Älä kerro aihetta.",
    "Jos viestiä ei saa jättää, älä jätä vastaajaviestiä äläkä lähetä toista tekstiviestiä.",
)
ACTION_LABELS = {
    "login": "kirjautui sisään",
    "login_failed": "epäonnistunut kirjautuminen",
    "login_blocked": "kirjautuminen estetty (liian monta yritystä)",
    "login_disabled": "kirjautuminen estetty (tunnus poistettu käytöstä)",
    "code_failed": "väärä tunnistuskoodi",
    "not_allowed": "pääsy estetty (verkko ei ole sallittu)",
    "totp_enrolled": "otti käyttöön kaksivaiheisen tunnistautumisen",
    "totp_reset": "kaksivaiheinen tunnistautuminen nollattiin",
    "user_disabled": "tunnus poistettiin käytöstä",
    "logout": "kirjautui ulos",
    "view_queue": "katsoi jonoa",
    "view_audit": "katsoi tapahtumalokia",
    "view_stats": "katsoi tilastoja",
    "export_stats": "latasi tilastot CSV-tiedostona",
    "stats_refused": "yritti avata tilastot ilman koordinaattorin oikeuksia",
    "claim": "otti hoitoon",
    "claim_conflict": "yritti ottaa jo varatun",
    "note": "tallensi muistiinpanon",
    "done": "merkitsi hoidetuksi",
    "user_added": "käyttäjä luotiin",
    "password_set": "salasana vaihdettiin",
}


def helsinki(moment: datetime | None, naive_is_utc: bool = False) -> str:
    """'24.11.2026 klo 13.05' in Helsinki time; naive values are Helsinki (callbacks) or UTC (staff tables)."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = staff_store.as_utc(moment) if naive_is_utc else moment.replace(tzinfo=clock.HELSINKI)
    local = moment.astimezone(clock.HELSINKI)
    return f"{local.day}.{local.month}.{local.year} klo {local.hour}.{local.minute:02d}"


def _aware(moment: datetime) -> datetime:
    """A contact request's time with its zone (SQLite gives it back naive, in Helsinki time)."""
    return moment if moment.tzinfo else moment.replace(tzinfo=clock.HELSINKI)


def _is_staff_path(path: str) -> bool:
    return path == "/staff" or path.startswith("/staff/")


@web.middleware
async def require_staff_session(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Deny by default under /staff: wrong network, no page; no valid session, no page; no CSRF token, no change."""
    if not _is_staff_path(request.path):
        return await handler(request)
    settings = request.app[SETTINGS_KEY]
    database = request.app[DATABASE_KEY]
    if not address_allowed(client_key(request), settings.staff_allow):
        await database.run(staff_store.refusal, "-", "not_allowed", staff_store.utc_now())
        raise web.HTTPForbidden(text="Henkilöstön sivuille ei pääse tästä verkosta.")
    if request.path in PUBLIC_STAFF_PATHS:
        return await handler(request)
    session_cookie = cookie_names(settings.cookie_secure)[0]
    token = request.cookies.get(session_cookie, "")
    idle = timedelta(minutes=settings.staff_idle_minutes)
    who = await database.run(staff_store.load_session, token, staff_store.utc_now(), idle) if token else None
    if who is None:
        if request.method in ("GET", "HEAD"):
            response = web.HTTPSeeOther(LOGIN_PATH + ("?msg=expired" if token else ""))
            if token:
                forget_cookie(response, session_cookie, settings.cookie_secure)
            raise response
        raise web.HTTPUnauthorized(text="Kirjaudu sisään.")
    # A pending session (password only) reaches the code step and nothing else; a full one has no use for it.
    if (who.stage == "pending") != (request.path == SECOND_FACTOR_PATH):
        if request.method in ("GET", "HEAD"):
            raise web.HTTPSeeOther(SECOND_FACTOR_PATH if who.stage == "pending" else "/staff")
        raise web.HTTPUnauthorized(text="Kirjaudu sisään.")
    if request.method not in ("GET", "HEAD"):
        if not same_origin(request):
            raise web.HTTPForbidden(text="Pyyntö tuli toiselta sivustolta.")
        form = await request.post()
        sent = str(form.get("csrf_token", ""))
        if not hmac.compare_digest(sent.encode(), who.csrf_token.encode()):
            raise web.HTTPForbidden(text="Lomakkeen tarkiste puuttuu tai on vanhentunut. Lataa sivu uudelleen.")
    request["staff"] = who
    return await handler(request)


def _who(request: web.Request) -> staff_store.LoggedIn:
    who: staff_store.LoggedIn = request["staff"]
    return who


# --- log-out ------------------------------------------------------------------------------------------------


async def logout(request: web.Request) -> web.StreamResponse:
    settings = request.app[SETTINGS_KEY]
    session_cookie, _ = cookie_names(settings.cookie_secure)
    token = request.cookies.get(session_cookie, "")
    who = _who(request)

    def end(db: Session) -> None:
        staff_store.end_session(db, token)
        staff_store.audit(db, who.username, "logout", staff_store.utc_now())

    await request.app[DATABASE_KEY].run(end)
    response = web.HTTPSeeOther(LOGIN_PATH + "?msg=logged_out")
    forget_cookie(response, session_cookie, settings.cookie_secure)
    raise response


# --- the queue ----------------------------------------------------------------------------------------------


def _queue_data(db: Session, status: str, username: str, language: str | None = None) -> dict[str, Any]:
    rows = list_callbacks(db, status, language)
    counts = dict(db.execute(select(CallbackRequest.status, func.count()).group_by(CallbackRequest.status)).all())
    staff_store.audit(db, username, "view_queue", staff_store.utc_now(), detail=status)
    return {"rows": rows, "counts": {s: int(counts.get(s, 0)) for s in CALLBACK_STATUSES}}


async def queue(request: web.Request) -> web.StreamResponse:
    status = request.query.get("status", "new")
    if status not in CALLBACK_STATUSES:
        status = "new"
    language = request.query.get("language") or None
    if language not in LANGUAGES:
        language = None
    who = _who(request)
    data = await request.app[DATABASE_KEY].run(_queue_data, status, who.username, language)
    texts = ui_texts("fi")
    max_days = request.app[SETTINGS_KEY].callback_max_days
    today = clock.now().date()
    return aiohttp_jinja2.render_template("staff_queue.html", request, {
        "who": who,
        "csrf_token": who.csrf_token,
        "status": status,
        "statuses": CALLBACK_STATUSES,
        "language": language,
        "languages": LANGUAGES,
        "status_labels": STATUS_LABELS,
        "counts": data["counts"],
        "rows": data["rows"],
        "flash": FLASH.get(request.query.get("msg", "")),
        "topic_label": lambda topic: texts.get(f"topic_{topic}", topic),
        "time_label": lambda window: texts.get(f"time_{window}", window),
        "method_label": lambda method: METHOD_LABELS.get(method, method),
        "language_label": lambda code: LANGUAGE_LABELS.get(code or "fi", code),
        "violence_topic": VIOLENCE_TOPIC,
        "safe_contact_steps": SAFE_CONTACT_STEPS,
        "when": helsinki,
        "day": lambda d: f"{d.day}.{d.month}.{d.year}" if d else "",
        "phone": national_phone,
        "max_days": max_days,
        "deleted_soon": lambda row: deleted_soon(row.created_at, max_days, today),
        "deletion_day": lambda row: deletion_day(row.created_at, max_days),
    })


def _redirect(status: str, msg: str, callback_id: str | None = None) -> web.HTTPSeeOther:
    anchor = f"#cb-{callback_id}" if callback_id else ""
    return web.HTTPSeeOther(f"/staff?status={status}&msg={msg}{anchor}")


async def claim(request: web.Request) -> web.StreamResponse:
    callback_id = request.match_info["callback_id"]
    who = _who(request)

    def run(db: Session) -> bool:
        now = clock.now()
        won = claim_callback(db, callback_id, who.username, now)
        staff_store.audit(db, who.username, "claim" if won else "claim_conflict", staff_store.utc_now(), callback_id)
        row = db.get(CallbackRequest, callback_id) if won else None
        if row is not None:
            # Time to first contact, as the figures keep it: a bucket and minutes, with the topic only.
            counters.record(db, *counters.claim_counts(row.topic, _aware(row.created_at), now))
        return won

    won = await request.app[DATABASE_KEY].run(run)
    raise _redirect("claimed", "claimed", callback_id) if won else _redirect("new", "conflict")


async def save_note(request: web.Request) -> web.StreamResponse:
    callback_id = request.match_info["callback_id"]
    who = _who(request)
    note = str((await request.post()).get("note", "")).strip()

    def run(db: Session) -> bool:
        saved = staff_store.save_note(db, callback_id, who.username, note)
        if saved:
            staff_store.audit(db, who.username, "note", staff_store.utc_now(), callback_id)
        return saved

    saved = await request.app[DATABASE_KEY].run(run)
    raise _redirect("claimed", "note_saved" if saved else "not_yours", callback_id)


async def mark_done(request: web.Request) -> web.StreamResponse:
    callback_id = request.match_info["callback_id"]
    who = _who(request)
    note = str((await request.post()).get("note", "")).strip()[: staff_store.MAX_NOTE_CHARS] or None

    def run(db: Session) -> bool:
        now = clock.now()
        done = complete_callback(db, callback_id, who.username, note, now)
        if done:
            staff_store.audit(db, who.username, "done", staff_store.utc_now(), callback_id)
            row = db.get(CallbackRequest, callback_id)
            if row is not None:
                counters.record(db, counters.count_at(now, counters.CALLBACK_DONE, row.topic))
        return done

    done = await request.app[DATABASE_KEY].run(run)
    raise _redirect("done", "done", callback_id) if done else _redirect("claimed", "not_yours", callback_id)


def _audit_data(db: Session, username: str) -> list[staff_store.AuditLog]:
    rows = list(staff_store.recent_audit(db))
    staff_store.audit(db, username, "view_audit", staff_store.utc_now())
    return rows


async def audit_page(request: web.Request) -> web.StreamResponse:
    who = _who(request)
    rows = await request.app[DATABASE_KEY].run(_audit_data, who.username)
    return aiohttp_jinja2.render_template("staff_audit.html", request, {
        "who": who,
        "csrf_token": who.csrf_token,
        "rows": rows,
        "action_label": lambda action: ACTION_LABELS.get(action, action),
        "detail_label": lambda detail: STATUS_LABELS.get(detail or "", detail or ""),
        "when": lambda moment: helsinki(moment, naive_is_utc=True),
    })


def setup(app: web.Application) -> None:
    """Register the console's routes; `require_staff_session` must be among the app's middlewares."""
    staff_login.setup(app)
    staff_stats.setup(app)
    app.router.add_post("/staff/logout", logout)
    app.router.add_get("/staff", queue)
    app.router.add_post(f"/staff/callbacks/{CALLBACK_ID}/claim", claim)
    app.router.add_post(f"/staff/callbacks/{CALLBACK_ID}/note", save_note)
    app.router.add_post(f"/staff/callbacks/{CALLBACK_ID}/done", mark_done)
    app.router.add_get("/staff/audit", audit_page)
