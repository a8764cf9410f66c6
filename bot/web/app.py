"""The aiohttp web app: chat page, chat gateway, the chat's contact-request endpoint and the staff console."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web
from markupsafe import Markup, escape
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.callbacks.office_hours import callback_deadline, format_day_fi, next_callback_day
from bot.callbacks.queue import create_callback
from bot.callbacks.vocabulary import CONTACT_METHODS, TIME_WINDOWS, TOPICS
from bot.safety import triage
from bot.safety.texts import safety_text
from bot.stats import counters
from bot.web import counting, staff
from bot.web.common import (
    DATABASE_KEY,
    HERE,
    LANGUAGES,
    SETTINGS_KEY,
    Database,
    WebSettings,
    client_key,
    pick_language,
    same_origin,
    ui_texts,
    web_texts,
)
from bot.web.contact_form import new_callback, validate_contact_form
from bot.web.gateway import SESSION_ID, Gateway
from bot.web.hardening import refuse_risky_bodies
from core import clock, language
from core.ratelimit import SlidingWindowLimiter
from core.settings import Ports

log = logging.getLogger("perheopas.web")

GATEWAY_KEY = web.AppKey("gateway", Gateway)
CHAT_LIMIT_KEY = web.AppKey("chat_limit", SlidingWindowLimiter)
CHAT_WINDOW_SECONDS = 10.0
CALLBACK_LIMITS_KEY = web.AppKey("callback_limits", tuple)

# A person may need a second try (a typo noticed later), not a hundred.
CALLBACKS_PER_SESSION = (3, 3600.0)
CALLBACKS_PER_CLIENT = (20, 3600.0)
MAX_JSON_BYTES = 16 * 1024

# Texts the page script needs; everything else is rendered by the template.
SCRIPT_TEXTS = ("me", "bot", "network_error", "new_tab", "cb_has_errors", "cb_failed", "typing", "fb_question",
                "fb_yes", "fb_no", "fb_reason_question", "fb_reason_not_near", "fb_reason_wrong_info",
                "fb_reason_not_answered", "fb_skip_reason", "fb_failed")


def content_security_policy(frame_ancestors: str) -> str:
    return (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        f"font-src 'self'; form-action 'self'; frame-ancestors {frame_ancestors}; base-uri 'none'; "
        "manifest-src 'none'; object-src 'none'"
    )


@web.middleware
async def security_headers(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        response: web.StreamResponse = await handler(request)
    except web.HTTPException as exc:
        response = exc
        _apply_security_headers(request, response)
        raise
    _apply_security_headers(request, response)
    return response


def _apply_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    is_chat = request.path == "/"
    frame_ancestors = request.app[SETTINGS_KEY].frame_ancestors if is_chat else "'none'"
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy(frame_ancestors))
    headers.setdefault("X-Content-Type-Options", "nosniff")
    # same-origin: no other site learns that someone came from here, and same-site POSTs keep their
    # Origin header (under no-referrer browsers send "Origin: null", which the CSRF check must refuse).
    headers.setdefault("Referrer-Policy", "same-origin")
    if frame_ancestors in ("'self'", "'none'"):
        headers.setdefault("X-Frame-Options", "SAMEORIGIN" if frame_ancestors == "'self'" else "DENY")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), interest-cohort=()")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Cross-Origin-Resource-Policy", "same-origin")
    # Browsers ignore HSTS over plain http, so it is harmless in local use and right behind TLS.
    headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    # Nothing here may be cached: a shared computer must not keep the chat or the staff queue.
    headers.setdefault("Cache-Control", "no-store")


def emergency_line(text: str) -> Markup:
    """The emergency sentence with tappable numbers; the translated text itself is escaped."""
    return Markup(escape(text)).format(
        n112=Markup('<a href="tel:112">112</a>'),
        nollalinja=Markup('<a href="tel:+35880005005">080 005 005</a>'),
    )


@aiohttp_jinja2.template("chat.html")
async def chat_page(request: web.Request) -> dict[str, Any]:
    lang = pick_language(request)
    texts = ui_texts(lang)
    return {
        "lang": lang,
        "t": texts,
        "languages": web_texts()["languages"],
        "emergency": emergency_line(texts["emergency"]),
        "embed": request.query.get("embed") == "1",
        "quick_exit_url": request.app[SETTINGS_KEY].quick_exit_url,
        "script_texts": {key: texts[key] for key in SCRIPT_TEXTS},
        "topics": TOPICS,
        "methods": CONTACT_METHODS,
        "time_windows": TIME_WINDOWS,
    }


async def _json_body(request: web.Request) -> dict[str, Any] | None:
    if request.content_type != "application/json" or (request.content_length or 0) > MAX_JSON_BYTES:
        return None
    try:
        body = await request.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


async def chat_api(request: web.Request) -> web.Response:
    if not same_origin(request):
        return web.json_response({"error": "cross_origin", "messages": []}, status=403)
    body = await _json_body(request)
    if body is None:
        return web.json_response({"error": "bad_json", "messages": []}, status=400)
    limit = request.app[CHAT_LIMIT_KEY]
    if limit.limit and not limit.allow(client_key(request)):
        # A session id is the client's to pick, so a script could rotate it; this counts the client itself.
        return web.json_response({"error": "rate_limited", "messages": [{"text": safety_text("rate_limited")}]},
                                 status=429)
    text = body.get("message")
    payload = body.get("payload")
    page_language = body.get("lang")
    status, reply = await request.app[GATEWAY_KEY].handle(
        str(body.get("session", "")),
        text if isinstance(text, str) else None,
        payload if isinstance(payload, str) else None,
        page_language if isinstance(page_language, str) else None,
    )
    return web.json_response(reply, status=status)


def callback_day_text(due: date, today: date, lang: str) -> str:
    """How the confirmation names the callback day in the user's language."""
    texts = ui_texts(lang)
    if due == today:
        return texts["day_today"]
    if due == today + timedelta(days=1):
        return texts["day_tomorrow"]
    if lang == "fi":
        return format_day_fi(due)
    data = web_texts()
    months = (data.get("months") or {}).get(lang) or [str(number) for number in range(1, 13)]
    return str(data["day_format"][lang]).format(
        weekday=data["weekdays"][lang][due.weekday()], day=due.day, month=due.month, month_name=months[due.month - 1]
    )


async def callback_api(request: web.Request) -> web.Response:
    """Store a contact request left in the web chat's own form (used when the conversation cannot run)."""
    if not same_origin(request):
        return web.json_response({"error": "cross_origin"}, status=403)
    body = await _json_body(request)
    if body is None:
        return web.json_response({"error": "bad_json"}, status=400)
    lang = str(body["lang"]) if body.get("lang") in LANGUAGES else "fi"
    texts = ui_texts(lang)
    session_id = str(body.get("session", ""))
    if not SESSION_ID.match(session_id):
        return web.json_response({"error": "bad_session", "message": texts["cb_failed"]}, status=400)

    clean, errors = validate_contact_form(body)
    if errors:
        return web.json_response({
            "error": "invalid",
            "message": texts["cb_has_errors"],
            "fields": {name: texts[err.key].format(**dict(err.values)) for name, err in errors.items()},
        }, status=422)
    assert clean is not None

    per_session, per_client = request.app[CALLBACK_LIMITS_KEY]
    if per_session.blocked(session_id) or per_client.blocked(client_key(request)):
        return web.json_response({"error": "rate_limited", "message": texts["cb_rate_limited"]}, status=429)

    now = clock.now()
    due = next_callback_day(now)
    request_row = new_callback(clean, due, str(web_texts()["consent_notice_version"]), language=lang)
    try:
        await request.app[DATABASE_KEY].run(create_callback, request_row, now)
    except SQLAlchemyError as error:
        # The parent is told it failed and given numbers; the request data is never logged.
        log.error("contact request could not be stored: %s", type(error).__name__)
        return web.json_response({"error": "storage", "message": texts["cb_failed"]}, status=503)
    per_session.hit(session_id)
    per_client.hit(client_key(request))
    request.app[counting.COUNTS_KEY].add(counters.count_at(now, counters.CALLBACK_CREATED, clean["topic"],
                                                           counters.WEB_FORM))
    log.info("contact request stored (web form)")
    # The promise is the service's 1–3 working days; only their last day is named, as it is certain (S9).
    message = texts["cb_saved"].format(day=callback_day_text(callback_deadline(now), now.date(), lang))
    return web.json_response({"ok": True, "message": message}, status=201)


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _database_ctx(app: web.Application) -> AsyncIterator[None]:
    database = app[DATABASE_KEY]
    database.open()
    yield
    database.close()


async def _gateway_ctx(app: web.Application) -> AsyncIterator[None]:
    # The language models (about 1 s), the safety patterns and the learned triage model (about 1 s) load at start,
    # not on the first person's message; a broken pattern or model file fails here.
    await asyncio.to_thread(language.warm_up)
    await asyncio.to_thread(triage.warm_up)
    yield
    await app[GATEWAY_KEY].close()


def create_app(rasa_url: str, settings: WebSettings | None = None, engine: Engine | None = None,
               rasa_routing: str = "sticky") -> web.Application:
    """Build the app; the database engine comes from DATABASE_URL at start-up unless one is passed in."""
    # 64 kB is far above the chat's own limit; bigger bodies are refused before they are read.
    app = web.Application(middlewares=[security_headers, refuse_risky_bodies, staff.require_staff_session],
                          client_max_size=64 * 1024)
    app[SETTINGS_KEY] = settings or WebSettings.from_env()
    app[DATABASE_KEY] = Database(engine=engine)
    counts = counters.CounterBuffer()
    app[GATEWAY_KEY] = Gateway(rasa_url, routing=rasa_routing, counts=counts)
    app[CHAT_LIMIT_KEY] = SlidingWindowLimiter(app[SETTINGS_KEY].chat_per_client, CHAT_WINDOW_SECONDS)
    app[CALLBACK_LIMITS_KEY] = (SlidingWindowLimiter(*CALLBACKS_PER_SESSION),
                                SlidingWindowLimiter(*CALLBACKS_PER_CLIENT))
    app.cleanup_ctx.append(_database_ctx)
    app.cleanup_ctx.append(_gateway_ctx)
    counting.setup(app, counts)
    aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True)
    app.router.add_get("/", chat_page)
    app.router.add_post("/api/chat", chat_api)
    app.router.add_post("/api/callback", callback_api)
    app.router.add_get("/health", health)
    app.router.add_static("/static/", HERE / "static")
    staff.setup(app)
    return app


def serve(host: str, port: int) -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    rasa_url = os.environ.get("PERHEOPAS_RASA_URL") or ",".join(Ports.from_env().rasa_urls)
    try:
        settings = WebSettings.from_env()
    except ValueError as error:
        # A setting that would weaken a header or an allowlist stops the start, naming the variable.
        log.error("configuration error: %s", error)
        raise SystemExit(2) from None
    app = create_app(rasa_url, settings=settings, rasa_routing=os.environ.get("PERHEOPAS_RASA_ROUTING", "sticky"))
    # access_log=None: request lines could reveal timing patterns of a person; nothing here needs them.
    web.run_app(app, host=host, port=port, access_log=None, print=None)
