"""What the chat pages and the staff console share: settings, the database handle, UI texts, origin checks."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import yaml
from aiohttp import web
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from bot.callbacks.retention import DEFAULT_MAX_DAYS, max_days_from_env
from core.db import make_engine, make_session_factory
from core.language import LANGUAGES

HERE = Path(__file__).parent
WEB_TEXTS_FILE = HERE / "data" / "web_texts.yml"
DEFAULT_QUICK_EXIT_URL = "https://yle.fi/saa"

T = TypeVar("T")
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
# An origin as CSP writes it: scheme, host (a name or an IPv4 address) and an optional port; no path, no wildcard.
ORIGIN = re.compile(r"^https?://(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*"
                    r"(?::[0-9]{1,5})?$")


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    return value not in ("0", "false", "no", "off")


def safe_http_url(url: str) -> str:
    """The URL itself if it is absolute http(s); anything else (javascript:, data:, relative) is refused."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not an absolute http(s) URL: {url!r}")
    return url


def frame_ancestors_list(value: str) -> str:
    """PERHEOPAS_FRAME_ANCESTORS as a CSP source list: 'self', 'none' (alone) or http(s) origins, else ValueError.

    The value goes verbatim into a header, so anything else (a ';' starting another directive, 'unsafe-inline',
    a wildcard, a path) is refused at start-up rather than weakening the policy.
    """
    items = [item for item in re.split(r"[\s,]+", value.strip()) if item]
    if not items:
        return "'self'"
    wrong = [item for item in items if item not in ("'self'", "'none'") and not ORIGIN.match(item.lower())]
    if wrong:
        raise ValueError(f"PERHEOPAS_FRAME_ANCESTORS: {', '.join(map(repr, wrong))} is not 'self', 'none' or an "
                         "http(s) origin such as https://perhekeskus.example.fi")
    if "'none'" in items and len(items) > 1:
        raise ValueError("PERHEOPAS_FRAME_ANCESTORS: 'none' cannot be combined with other sources")
    return " ".join(dict.fromkeys(item if item.startswith("'") else item.lower() for item in items))


def staff_networks(value: str) -> tuple[IPNetwork, ...]:
    """PERHEOPAS_STAFF_ALLOW ('10.0.0.0/8,127.0.0.1') as networks; empty means every address may reach /staff."""
    networks = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"PERHEOPAS_STAFF_ALLOW: {item!r} is not an IP address or network") from None
    return tuple(networks)


def address_allowed(address: str, networks: tuple[IPNetwork, ...]) -> bool:
    """True if no allowlist is set or the address is in it; an address that does not parse is never allowed."""
    if not networks:
        return True
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip.version == network.version and ip in network for network in networks)


@dataclass(frozen=True)
class WebSettings:
    """Deployment choices for the web app, read from the environment at start-up."""

    quick_exit_url: str = DEFAULT_QUICK_EXIT_URL
    # CSP frame-ancestors for the chat page, so a family-centre site can embed it ("'self' https://x.fi").
    frame_ancestors: str = "'self'"
    # Secure cookies need HTTPS; only local http tests turn this off.
    cookie_secure: bool = True
    staff_session_hours: float = 8.0
    staff_idle_minutes: float = 30.0
    # Reverse proxies whose X-Forwarded-For is believed (PERHEOPAS_TRUSTED_PROXIES); none by default.
    trusted_proxies: tuple[IPNetwork, ...] = ()
    # Chat messages per client (an address, or an IPv6 /64) in 10 s across all its sessions, since a session id is
    # the client's to pick: five busy sessions' worth (the gateway allows one session 8), for a family centre's
    # shared computer or a household behind one address. 0 turns it off (load tests from one address).
    chat_per_client: int = 40
    # Addresses that may reach /staff at all; empty allows every address (login and 2FA still apply).
    staff_allow: tuple[IPNetwork, ...] = ()
    # The hard limit on keeping a contact request; the queue warns a week before the purge deletes one.
    callback_max_days: int = DEFAULT_MAX_DAYS

    @classmethod
    def from_env(cls) -> WebSettings:
        return cls(
            quick_exit_url=safe_http_url(os.environ.get("PERHEOPAS_QUICK_EXIT_URL", DEFAULT_QUICK_EXIT_URL)),
            frame_ancestors=frame_ancestors_list(os.environ.get("PERHEOPAS_FRAME_ANCESTORS", "'self'")),
            cookie_secure=_flag("PERHEOPAS_COOKIE_SECURE", True),
            staff_session_hours=float(os.environ.get("PERHEOPAS_STAFF_SESSION_HOURS", "8")),
            staff_idle_minutes=float(os.environ.get("PERHEOPAS_STAFF_IDLE_MINUTES", "30")),
            trusted_proxies=parse_networks(os.environ.get("PERHEOPAS_TRUSTED_PROXIES", ""),
                                           "PERHEOPAS_TRUSTED_PROXIES"),
            chat_per_client=int(os.environ.get("PERHEOPAS_CHAT_PER_CLIENT", "40")),
            staff_allow=staff_networks(os.environ.get("PERHEOPAS_STAFF_ALLOW", "")),
            callback_max_days=max_days_from_env(),
        )


@dataclass
class Database:
    """The application database, opened at start-up (nothing connects at import time)."""

    engine: Engine | None = None
    factory: sessionmaker | None = field(default=None, repr=False)
    owned: bool = False

    def open(self) -> None:
        if self.engine is None:
            self.engine = make_engine()
            self.owned = True
        self.factory = make_session_factory(self.engine)

    def close(self) -> None:
        if self.owned and self.engine is not None:
            self.engine.dispose()

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run `fn(session, *args)` in a worker thread, so a slow database never blocks the chat."""
        factory = self.factory
        if factory is None:
            raise RuntimeError("database not opened")

        def call() -> T:
            with factory() as session:
                return fn(session, *args)

        return await asyncio.to_thread(call)


SETTINGS_KEY = web.AppKey("settings", WebSettings)
DATABASE_KEY = web.AppKey("database", Database)


@lru_cache(maxsize=1)
def web_texts() -> dict[str, Any]:
    with WEB_TEXTS_FILE.open(encoding="utf-8") as handle:
        data: dict[str, Any] = yaml.safe_load(handle)
    for key, variants in data["texts"].items():
        missing = [lang for lang in LANGUAGES if lang not in variants]
        if missing:
            raise ValueError(f"{WEB_TEXTS_FILE.name}: {key} lacks {missing}")
    return data


def ui_texts(lang: str) -> dict[str, str]:
    """Every UI string in one language (Finnish when the language is unknown)."""
    lang = lang if lang in LANGUAGES else "fi"
    return {key: str(variants[lang] or "") for key, variants in web_texts()["texts"].items()}


def pick_language(request: web.Request) -> str:
    """The UI language from ?lang= (fi, sv, en); Finnish otherwise. No cookie: the chat keeps no state."""
    lang = request.query.get("lang", "fi")
    return lang if lang in LANGUAGES else "fi"


def same_origin(request: web.Request) -> bool:
    """False when a browser says the request comes from another site (a cross-site form or script)."""
    origin = request.headers.get("Origin")
    if origin is None:
        # Browsers send Origin on every POST they make; its absence means a non-browser client such as curl.
        return True
    return urlsplit(origin).netloc == request.host


#: An IPv6 client is counted by its /64: one household or phone gets a whole /64 and may pick any address in it.
IPV6_CLIENT_PREFIX = 64


def parse_networks(value: str, setting: str) -> tuple[IPNetwork, ...]:
    """Comma-separated addresses or networks ("10.0.0.5, 10.1.0.0/16, ::1"); a clear error names the setting."""
    networks = []
    for item in (part.strip() for part in value.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError as error:
            raise ValueError(f"{setting}: {item!r} is not an IP address or network") from error
    return tuple(networks)


def client_address(peer: str | None, forwarded_for: list[str], trusted: tuple[IPNetwork, ...]) -> str | None:
    """The client's address: the peer's, unless the peer is a trusted proxy; then the nearest address in
    X-Forwarded-For that is not a trusted proxy (a client can put anything in the header, so only what trusted
    proxies appended counts)."""
    hops = [peer or ""] + [hop.strip() for header in reversed(forwarded_for) for hop in reversed(header.split(","))]
    for hop in hops:
        try:
            address = ipaddress.ip_address(hop)
        except ValueError:
            return hop or None  # not an address: a unix socket peer or a garbled header, counted as it is
        if not any(address in network for network in trusted):
            return str(address)
    return hops[-1] or None  # every hop trusted: the farthest one


def client_key(request: web.Request) -> str:
    """What per-client limits count: the client's address (behind trusted proxies, see client_address), an IPv6
    address by its /64."""
    settings = request.app.get(SETTINGS_KEY)
    trusted = settings.trusted_proxies if settings is not None else ()
    address = client_address(request.remote, request.headers.getall("X-Forwarded-For", []), trusted)
    if address is None:
        return "unknown"
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/{IPV6_CLIENT_PREFIX}", strict=False))
    return str(parsed)
