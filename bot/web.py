"""The aiohttp web app: chat page, chat gateway and (later) the staff console."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import aiohttp_jinja2
import jinja2
from aiohttp import web

from bot.gateway import Gateway

HERE = Path(__file__).parent
GATEWAY_KEY = web.AppKey("gateway", Gateway)

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "font-src 'self'; form-action 'self'; frame-ancestors 'self'; base-uri 'none'"
)


@web.middleware
async def security_headers(request: web.Request, handler: Any) -> web.StreamResponse:
    response: web.StreamResponse = await handler(request)
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    response.headers.setdefault("Cache-Control", "no-store")
    return response


@aiohttp_jinja2.template("chat.html")
async def chat_page(request: web.Request) -> dict[str, Any]:
    return {}


async def chat_api(request: web.Request) -> web.Response:
    try:
        body = await request.json()
    except ValueError:
        return web.json_response({"error": "bad_json", "messages": []}, status=400)
    if not isinstance(body, dict):
        return web.json_response({"error": "bad_json", "messages": []}, status=400)
    text = body.get("message")
    payload = body.get("payload")
    status, reply = await request.app[GATEWAY_KEY].handle(
        str(body.get("session", "")),
        text if isinstance(text, str) else None,
        payload if isinstance(payload, str) else None,
    )
    return web.json_response(reply, status=status)


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def _close_gateway(app: web.Application) -> None:
    await app[GATEWAY_KEY].close()


def create_app(rasa_url: str) -> web.Application:
    # 64 kB is far above the chat's own limit; bigger bodies are refused before they are read.
    app = web.Application(middlewares=[security_headers], client_max_size=64 * 1024)
    app[GATEWAY_KEY] = Gateway(rasa_url)
    app.on_cleanup.append(_close_gateway)
    aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True)
    app.router.add_get("/", chat_page)
    app.router.add_post("/api/chat", chat_api)
    app.router.add_get("/health", health)
    app.router.add_static("/static/", HERE / "static")
    return app


def serve(host: str, port: int) -> None:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    rasa_port = int(os.environ.get("PERHEOPAS_RASA_PORT", "5005"))
    rasa_url = os.environ.get("PERHEOPAS_RASA_URL", f"http://127.0.0.1:{rasa_port}")
    # access_log=None: request lines could reveal timing patterns of a person; nothing here needs them.
    web.run_app(create_app(rasa_url), host=host, port=port, access_log=None, print=None)
