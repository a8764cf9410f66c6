"""Several Rasa processes on one machine: ports, supervisor children, environment and the gateway's sticky routing."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from stack import free_port

from bot.ops.run import children, main
from bot.web.gateway import Gateway
from core.settings import Ports, default_rasa_processes, rasa_environment

MODEL = Path("models/perheopas.tar.gz")


def test_rasa_processes_listen_on_consecutive_ports() -> None:
    ports = Ports(actions=6055, rasa=6005, web=9000, rasa_processes=3)
    assert ports.rasa_ports == [6005, 6006, 6007]
    assert ports.rasa_urls == ["http://127.0.0.1:6005", "http://127.0.0.1:6006", "http://127.0.0.1:6007"]


def test_default_is_one_rasa_process_per_core_at_most_two(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PERHEOPAS_RASA_PROCESSES", raising=False)
    for cores, expected in ((None, 1), (1, 1), (2, 2), (8, 2)):
        monkeypatch.setattr("os.cpu_count", lambda cores=cores: cores)
        assert default_rasa_processes() == expected
        assert Ports.from_env().rasa_processes == expected


@pytest.mark.parametrize("value", ["0", "-1", "kaksi", "17", "1.5"])
def test_a_bad_process_count_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("PERHEOPAS_RASA_PROCESSES", value)
    with pytest.raises(ValueError, match="PERHEOPAS_RASA_PROCESSES"):
        Ports.from_env()


def test_make_run_refuses_a_bad_process_count_before_starting_anything(
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setenv("PERHEOPAS_RASA_PROCESSES", "kaksi")
    assert main() == 2
    assert "PERHEOPAS_RASA_PROCESSES must be a whole number" in caplog.text


def test_supervisor_loads_the_rasa_processes_side_by_side_then_starts_the_web_app() -> None:
    started = children(Ports(rasa=6005, rasa_processes=2), MODEL)
    assert [c.name for c in started] == ["actions", "rasa", "rasa-2", "web"]
    assert [c.load_with_next for c in started] == [False, True, False, False]
    rasa, rasa2 = started[1], started[2]
    assert rasa.argv[rasa.argv.index("--port") + 1] == "6005" and rasa.ready_url == "http://127.0.0.1:6005/"
    assert rasa2.argv[rasa2.argv.index("--port") + 1] == "6006" and rasa2.ready_url == "http://127.0.0.1:6006/"
    assert all("--enable-api" not in c.argv for c in started)


def test_environment_points_the_gateway_at_every_process_with_sticky_routing(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("PERHEOPAS_RASA_URL", "PERHEOPAS_RASA_ROUTING", "PERHEOPAS_RASA_PROCESSES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PERHEOPAS_VAR", str(tmp_path))
    env = rasa_environment(Ports(rasa=6005, rasa_processes=2))
    assert env["PERHEOPAS_RASA_URL"] == "http://127.0.0.1:6005,http://127.0.0.1:6006"
    assert env["PERHEOPAS_RASA_ROUTING"] == "sticky"
    assert env["PERHEOPAS_RASA_PROCESSES"] == "2"


def test_unknown_routing_is_refused() -> None:
    with pytest.raises(ValueError, match="round-robin"):
        Gateway("http://127.0.0.1:1", routing="random")
    with pytest.raises(ValueError, match="no Rasa URL"):
        Gateway(" , ")


async def test_sticky_routing_keeps_each_conversation_on_one_process_and_spreads_conversations() -> None:
    """Rasa's in-memory lock store is per process, so one conversation must never be on two at once."""
    seen: dict[str, set[str]] = {}

    def fake(name: str) -> web.Application:
        async def webhook(request: web.Request) -> web.Response:
            body = await request.json()
            seen.setdefault(body["sender"], set()).add(name)
            return web.json_response([{"text": "selvä"}])

        app = web.Application()
        app.router.add_post("/webhooks/rest/webhook", webhook)
        return app

    servers = [TestServer(fake("a")), TestServer(fake("b"))]
    for server in servers:
        await server.start_server()
    gateway = Gateway(",".join(str(server.make_url("")) for server in servers))
    try:
        sessions = [uuid.uuid4().hex for _ in range(40)]
        for turn in range(3):
            for session in sessions:
                status, body = await gateway.handle(session, f"viesti {turn}", None)
                assert status == 200 and not body.get("degraded")
    finally:
        await gateway.close()
        for server in servers:
            await server.close()
    assert all(len(processes) == 1 for processes in seen.values()), "a conversation moved between processes"
    assert {name for processes in seen.values() for name in processes} == {"a", "b"}


async def test_sticky_routing_passes_a_conversation_on_when_its_process_refuses() -> None:
    async def webhook(request: web.Request) -> web.Response:
        return web.json_response([{"text": "selvä"}])

    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", webhook)
    live = TestServer(app)
    await live.start_server()
    dead = f"http://127.0.0.1:{free_port()}"
    gateway = Gateway(f"{dead},{live.make_url('')}")
    try:
        # Whichever process a conversation belongs to, it gets an answer while one process is down.
        for _ in range(10):
            status, body = await gateway.handle(uuid.uuid4().hex, "hei", None)
            assert status == 200 and not body.get("degraded")
    finally:
        await gateway.close()
        await live.close()
