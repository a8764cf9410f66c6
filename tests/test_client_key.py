"""Per-client limits count the real client behind trusted proxies only, and an IPv6 client by its /64."""

from __future__ import annotations

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from bot.web.common import SETTINGS_KEY, WebSettings, client_address, client_key, parse_networks

PROXIES = parse_networks("10.0.0.0/8, 127.0.0.1", "PERHEOPAS_TRUSTED_PROXIES")


@pytest.mark.parametrize(("peer", "forwarded", "expected"), [
    ("198.51.100.7", [], "198.51.100.7"),  # no proxy
    ("198.51.100.7", ["203.0.113.9"], "198.51.100.7"),  # a client's own header is not believed
    ("10.0.0.2", ["203.0.113.9"], "203.0.113.9"),  # the proxy says who it serves
    ("10.0.0.2", ["1.2.3.4, 203.0.113.9"], "203.0.113.9"),  # the client forged the first hop
    ("10.0.0.2", ["1.2.3.4", "203.0.113.9, 10.0.0.3"], "203.0.113.9"),  # two proxies, two headers
    ("10.0.0.2", ["10.0.0.4"], "10.0.0.4"),  # every hop trusted: the farthest
    ("10.0.0.2", [], "10.0.0.2"),
    ("10.0.0.2", ["garbage"], "garbage"),
])
def test_the_client_address_behind_trusted_proxies(peer: str, forwarded: list[str], expected: str) -> None:
    assert client_address(peer, forwarded, PROXIES) == expected


def _request(peer: str, forwarded: str | None = None, trusted: str = "") -> web.Request:
    app = web.Application()
    app[SETTINGS_KEY] = WebSettings(trusted_proxies=parse_networks(trusted, "PERHEOPAS_TRUSTED_PROXIES"))
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    request = make_mocked_request("POST", "/api/callback", headers=headers, app=app)
    return request.clone(remote=peer)


def test_without_trusted_proxies_the_peer_is_the_client() -> None:
    assert client_key(_request("10.0.0.2", "203.0.113.9")) == "10.0.0.2"
    assert client_key(_request("10.0.0.2", "203.0.113.9", trusted="10.0.0.0/8")) == "203.0.113.9"


def test_an_ipv6_client_is_counted_by_its_64() -> None:
    first = client_key(_request("2001:db8:1:2::10"))
    assert first == client_key(_request("2001:db8:1:2:ffff::1")) == "2001:db8:1:2::/64"
    assert client_key(_request("2001:db8:1:3::10")) != first
    assert client_key(_request("::ffff:198.51.100.7")) == "198.51.100.7"


def test_a_bad_proxy_setting_is_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PERHEOPAS_TRUSTED_PROXIES", "10.0.0.0/8, proxy.example")
    with pytest.raises(ValueError, match="PERHEOPAS_TRUSTED_PROXIES: 'proxy.example'"):
        WebSettings.from_env()
