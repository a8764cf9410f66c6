"""Rasa's HTTP API stays closed in the configuration `make run` uses (DESIGN.md; Rasa < 3.6.21 had an RCE there).

Rasa is started with exactly the argv and environment of `python -m bot run` (bot.ops.run.children), then every
route of the HTTP API is tried: none may answer with success. The REST channel, which the gateway needs,
still works.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from parts import LISTEN, Parts, post_json, running_parts, tcp_local_addresses
from stack import MODEL

from bot.ops.run import children
from core.settings import Ports

pytestmark = [pytest.mark.slow, pytest.mark.model]

SENDER = "api-closed-probe"
API_ROUTES = [
    ("GET", "/status"), ("GET", "/domain"), ("GET", "/version"),
    ("GET", f"/conversations/{SENDER}/tracker"), ("GET", f"/conversations/{SENDER}/story"),
    ("POST", f"/conversations/{SENDER}/tracker/events"), ("PUT", f"/conversations/{SENDER}/tracker/events"),
    ("POST", f"/conversations/{SENDER}/messages"), ("POST", f"/conversations/{SENDER}/execute"),
    ("POST", f"/conversations/{SENDER}/trigger_intent"), ("POST", f"/conversations/{SENDER}/predict"),
    ("POST", "/model/parse"), ("POST", "/model/train"), ("POST", "/model/predict"),
    ("POST", "/model/test/stories"), ("POST", "/model/test/intents"), ("PUT", "/model"), ("DELETE", "/model"),
]
CLOSED = {401, 403, 404, 405}


@pytest.fixture(scope="module")
def rasa_only(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Parts]:
    with running_parts(tmp_path_factory.mktemp("apiclosed"), only=("rasa",), prepare=False) as parts:
        yield parts


def test_make_run_starts_rasa_without_the_api_or_cors() -> None:
    rasa = next(c for c in children(Ports(), MODEL) if c.name == "rasa")
    assert "--enable-api" not in rasa.argv
    assert "--auth-token" not in rasa.argv  # no token either: the API is simply not there
    assert rasa.argv[rasa.argv.index("--cors") + 1] == "[]"


@pytest.mark.parametrize(("method", "path"), API_ROUTES)
def test_api_route_is_unreachable(rasa_only: Parts, method: str, path: str) -> None:
    body = b'{"text": "hei", "name": "greet", "event": "user", "model_file": "/tmp/x.tar.gz"}'
    request = urllib.request.Request(f"{rasa_only.rasa_url}{path}", data=body if method != "GET" else None,
                                     method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as resp:
            status = resp.status
    except urllib.error.HTTPError as error:
        status = error.code
    assert status in CLOSED, f"{method} {path} answered {status}"


def test_rest_channel_still_answers(rasa_only: Parts) -> None:
    status, replies = post_json(f"{rasa_only.rasa_url}/webhooks/rest/webhook", {"sender": SENDER, "message": "moi"})
    assert status == 200
    assert isinstance(replies, list)  # the action server is not running here, so no content is promised


def test_rasa_listens_on_loopback_only(rasa_only: Parts) -> None:
    """Neither Rasa nor (by SANIC_HOST) the action server has authentication, so neither listens outside."""
    rasa = next(c for c in children(Ports(), MODEL) if c.name == "rasa")
    assert rasa.argv[rasa.argv.index("--interface") + 1] == "127.0.0.1"
    assert rasa_only.env["SANIC_HOST"] == "127.0.0.1"
    assert set(tcp_local_addresses(int(rasa_only.env["PERHEOPAS_RASA_PORT"]), LISTEN)) == {"0100007F"}  # 127.0.0.1
