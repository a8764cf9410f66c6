"""Shared helpers for the web app's fast tests: a database with the schema, the app on aiohttp's test server."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date, datetime
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

import bot.callbacks.models  # noqa: F401  (registers the bot's tables on Base)
import catalog.models  # noqa: F401
from bot.callbacks.models import CallbackRequest
from bot.callbacks.queue import NewCallback, create_callback
from bot.web.app import create_app
from bot.web.common import WebSettings
from core.db import Base, make_engine, make_session_factory

# A port nothing listens on: the gateway finds Rasa down and answers with the safety reply.
DEAD_RASA = "http://127.0.0.1:9"
HELSINKI_FRIDAY_NIGHT = "2025-12-19T23:00:00+02:00"
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_test_engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'app.db'}")
    Base.metadata.create_all(engine)
    return engine


@asynccontextmanager
async def web_client(engine: Engine, rasa_url: str = DEAD_RASA, **settings: object) -> AsyncIterator[TestClient]:
    options: dict[str, object] = {"cookie_secure": False}
    options.update(settings)
    app = create_app(rasa_url, settings=WebSettings(**options), engine=engine)  # type: ignore[arg-type]
    client = TestClient(TestServer(app))
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()


def session(engine: Engine) -> Session:
    return make_session_factory(engine)()


def add_callback(engine: Engine, phone: str = "+358401234567", topic: str = "eroauttaminen") -> str:
    with session(engine) as db:
        row = create_callback(db, NewCallback(
            topic=topic, contact_method="call", phone_e164=phone, time_window="morning",
            callback_due=date(2025, 12, 22), consent_notice_version="test", alias="Testi",
        ), datetime.fromisoformat(HELSINKI_FRIDAY_NIGHT))
        return str(row.id)


def callback_rows(engine: Engine) -> list[CallbackRequest]:
    with session(engine) as db:
        return list(db.query(CallbackRequest).all())


def csrf_from(html: str) -> str:
    match = CSRF_FIELD.search(html)
    assert match, "no CSRF field in the page"
    return match.group(1)
