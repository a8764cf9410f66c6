"""The action server is closed to all but Rasa: loopback by default, and a shared secret on every request."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from parts import LISTEN, parts_environment, tcp_local_addresses, wait_http
from stack import REPO, free_port

from bot.ops.actions_server import ACTIONS_TOKEN_HEADER, allowed, token_problem
from core.settings import Ports, rasa_environment

TOKEN = "k" * 40
LOOPBACK = ("0100007F", "00000000000000000000000001000000")  # 127.0.0.1 and ::1 as /proc/net/tcp writes them


@pytest.mark.parametrize(("path", "presented", "ok"), [
    ("/health", None, True), ("/webhook", TOKEN, True), ("/webhook", None, False), ("/webhook", "", False),
    ("/webhook", TOKEN[:-1], False), ("/actions", None, False), ("/webhook/", TOKEN + "x", False),
])
def test_only_the_health_check_is_open_without_the_secret(path: str, presented: str | None, ok: bool) -> None:
    assert allowed(path, presented, TOKEN) is ok


def test_a_missing_or_short_secret_is_refused() -> None:
    assert token_problem(None) and token_problem("") and token_problem("short")
    assert token_problem(TOKEN) is None


def test_each_start_of_the_stack_gets_its_own_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PERHEOPAS_ACTIONS_TOKEN", raising=False)
    first, second = rasa_environment(Ports()), rasa_environment(Ports())
    assert token_problem(first["PERHEOPAS_ACTIONS_TOKEN"]) is None
    assert first["PERHEOPAS_ACTIONS_TOKEN"] != second["PERHEOPAS_ACTIONS_TOKEN"]
    monkeypatch.setenv("PERHEOPAS_ACTIONS_TOKEN", TOKEN)
    assert rasa_environment(Ports())["PERHEOPAS_ACTIONS_TOKEN"] == TOKEN


def _post(url: str, headers: dict[str, str]) -> int:
    body = json.dumps({"next_action": "action_submit_callback", "sender_id": "forged",
                       "tracker": {"sender_id": "forged", "slots": {}, "events": [], "latest_message": {}},
                       "domain": {}}).encode()
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.mark.slow
def test_the_running_action_server_refuses_forged_calls_and_listens_on_loopback(tmp_path: Path) -> None:
    env = parts_environment(tmp_path, {"PERHEOPAS_ACTIONS_TOKEN": TOKEN})
    env.pop("SANIC_HOST", None)  # the server's own default, not the stack's
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "bot", "actions", "--port", str(port)], cwd=REPO, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_http(f"http://127.0.0.1:{port}/health", 120)
        listening = tcp_local_addresses(port, LISTEN)
        assert listening and all(address in LOOPBACK for address in listening), listening
        webhook = f"http://127.0.0.1:{port}/webhook"
        assert _post(webhook, {}) == 403
        assert _post(webhook, {ACTIONS_TOKEN_HEADER: "k" * 39}) == 403
        assert _post(webhook, {ACTIONS_TOKEN_HEADER: TOKEN}) != 403  # reaches rasa_sdk, which judges the body
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.mark.slow
def test_the_action_server_does_not_start_without_a_secret(tmp_path: Path) -> None:
    env = parts_environment(tmp_path)
    env.pop("PERHEOPAS_ACTIONS_TOKEN")
    done = subprocess.run([sys.executable, "-m", "bot", "actions", "--port", str(free_port())], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0 and "PERHEOPAS_ACTIONS_TOKEN must be set" in done.stderr
