"""Scale-out: two Rasa processes share a PostgreSQL tracker store and a Redis lock store behind the gateway.

The slow part starts real PostgreSQL and Redis servers on loopback (Debian packages, installed when missing and
root), one action server, two Rasa processes with deploy/endpoints.production.yml, and the web app with both
Rasa URLs. A conversation that alternates between the processes keeps its state and slots, and no message is
lost or stored twice, also when two messages of one conversation reach both processes at the same moment.
The fast part checks the gateway's round-robin, sticky routing and fail-over against fake Rasa servers.
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from parts import Parts, Proc, parts_environment, post_json
from servers import (
    PostgresServer,
    RedisServer,
    ServerUnavailable,
    start_postgres,
    start_redis,
    stop_postgres,
    stop_redis,
)
from stack import MODEL, REPO, free_port, prepare_database

from bot.rasa_ext.tracker_store import USER_TEXT_PLACEHOLDER
from bot.web.gateway import Gateway

PRODUCTION_ENDPOINTS = REPO / "deploy" / "endpoints.production.yml"


# --- fast: the gateway's round-robin ---

async def test_gateway_round_robin_and_fail_over() -> None:
    seen: list[tuple[str, str]] = []

    def fake(name: str) -> web.Application:
        async def webhook(request: web.Request) -> web.Response:
            body = await request.json()
            seen.append((name, body["message"]))
            return web.json_response([{"text": f"{name}: {body['message']}"}])

        app = web.Application()
        app.router.add_post("/webhooks/rest/webhook", webhook)
        return app

    server_a, server_b = TestServer(fake("a")), TestServer(fake("b"))
    await server_a.start_server()
    await server_b.start_server()
    dead = f"http://127.0.0.1:{free_port()}"
    gateway = Gateway(f"{server_a.make_url('')}, {server_b.make_url('')},{dead}", routing="round-robin")
    try:
        session = uuid.uuid4().hex
        for i in range(6):
            status, body = await gateway.handle(session, f"viesti {i}", None)
            assert status == 200 and not body.get("degraded")
            gateway.sessions[session].sent_at.clear()  # the rate limit is not what this test is about
        # Each message went to exactly one process, in turn; the refused one was passed to the next in line.
        assert [m for _, m in seen] == [f"viesti {i}" for i in range(6)]
        assert {name for name, _ in seen} == {"a", "b"}
        assert [name for name, _ in seen][:2] == ["a", "b"]
    finally:
        await gateway.close()
        await server_a.close()
        await server_b.close()


async def test_gateway_with_every_rasa_down_gives_the_safety_reply() -> None:
    gateway = Gateway(f"http://127.0.0.1:{free_port()},http://127.0.0.1:{free_port()}")
    try:
        status, body = await gateway.handle(uuid.uuid4().hex, "hei", None)
    finally:
        await gateway.close()
    assert status == 200 and body["degraded"]
    assert "112" in body["messages"][0]["text"] and "080 005 005" in body["messages"][0]["text"]


def test_production_endpoints_expand_every_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    from rasa.core.utils import read_endpoints_from_path

    values = {
        "PERHEOPAS_ACTIONS_URL": "http://actions:5055/webhook",
        "PERHEOPAS_TRACKER_DB": "postgresql://rasa:secret@db:5432/perheopas_tracker",
        "PERHEOPAS_REDIS_HOST": "redis", "PERHEOPAS_REDIS_PORT": "6379", "PERHEOPAS_REDIS_PASSWORD": "",
        "PERHEOPAS_REDIS_DB": "1", "PERHEOPAS_ACTIONS_TOKEN": "s" * 32,
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    endpoints = read_endpoints_from_path(PRODUCTION_ENDPOINTS)
    assert endpoints.tracker_store.type == "bot.rasa_ext.tracker_store.AnonymizingTrackerStore"
    assert endpoints.tracker_store.kwargs["db"] == values["PERHEOPAS_TRACKER_DB"]
    assert endpoints.lock_store.type == "bot.rasa_ext.lock_store.AtomicRedisLockStore"
    assert endpoints.lock_store.url == "redis"
    assert endpoints.lock_store.kwargs["port"] == "6379" and endpoints.lock_store.kwargs["db"] == "1"
    assert endpoints.action.url == values["PERHEOPAS_ACTIONS_URL"]
    assert endpoints.action.headers == {"X-Perheopas-Actions-Token": values["PERHEOPAS_ACTIONS_TOKEN"]}


# --- slow: real PostgreSQL, Redis and two Rasa processes ---

@dataclass
class Cluster:
    parts: Parts
    rasa: list[Proc]
    postgres: PostgresServer
    redis: RedisServer
    tracker_url: str

    def rasa_url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.rasa[index].env['PERHEOPAS_RASA_PORT']}"

    def say(self, index: int, sender: str, message: str) -> list[dict[str, Any]]:
        status, replies = post_json(f"{self.rasa_url(index)}/webhooks/rest/webhook",
                                    {"sender": sender, "message": message}, timeout=120)
        assert status == 200
        return list(replies)

    def events(self, sender: str) -> list[dict[str, Any]]:
        from sqlalchemy import create_engine, text

        engine = create_engine(self.tracker_url, future=True)
        try:
            with engine.connect() as conn:
                rows = conn.execute(text("SELECT data FROM events WHERE sender_id = :s ORDER BY id"), {"s": sender})
                return [json.loads(row[0]) for row in rows]
        finally:
            engine.dispose()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    if not MODEL.exists():
        pytest.fail(f"no trained model at {MODEL}")
    try:
        postgres = start_postgres()
        redis = start_redis()
    except ServerUnavailable as exc:
        pytest.skip(f"PostgreSQL or Redis unavailable: {exc}")
    workdir = tmp_path_factory.mktemp("scaleout")
    app_url = postgres.create_database("perheopas_app")
    tracker_url = postgres.create_database("perheopas_tracker").replace("postgresql+psycopg2://", "postgresql://")
    env = parts_environment(workdir, {
        "DATABASE_URL": app_url,
        "PERHEOPAS_TRACKER_DB": tracker_url,
        "PERHEOPAS_REDIS_HOST": "127.0.0.1",
        "PERHEOPAS_REDIS_PORT": str(redis.port),
        "PERHEOPAS_REDIS_PASSWORD": "",
        "PERHEOPAS_REDIS_DB": "1",
        "PERHEOPAS_NOW": "2026-11-24T13:00:00+02:00",
    })
    prepare_database(env)
    parts = Parts(workdir, env)
    rasa_procs: list[Proc] = []
    try:
        python = sys.executable
        actions_port = env["PERHEOPAS_ACTIONS_PORT"]
        parts.procs["actions"] = Proc(
            "actions", [python, "-m", "bot", "actions", "--port", actions_port], dict(env),
            workdir / "actions.log", f"http://127.0.0.1:{actions_port}/health").start(wait=False)
        for index in range(2):
            port = str(free_port())
            proc = Proc(
                f"rasa{index}",
                [python, "-m", "bot.rasa_ext", "run", "--model", str(MODEL), "--port", port, "--credentials",
                 "credentials.yml", "--endpoints", str(PRODUCTION_ENDPOINTS), "--cors", "[]"],
                {**env, "PERHEOPAS_RASA_PORT": port}, workdir / f"rasa{index}.log", f"http://127.0.0.1:{port}/")
            rasa_procs.append(proc.start(wait=False))  # both load their model side by side
            parts.procs[proc.name] = proc
        for proc in rasa_procs:
            proc.ready()
        parts.procs["actions"].ready()
        urls = ",".join(f"http://127.0.0.1:{p.env['PERHEOPAS_RASA_PORT']}" for p in rasa_procs)
        web_port = env["PERHEOPAS_WEB_PORT"]
        parts.procs["web"] = Proc(
            "web", [python, "-m", "bot", "web", "--port", web_port],
            {**env, "PERHEOPAS_RASA_URL": urls, "PERHEOPAS_RASA_ROUTING": "round-robin"}, workdir / "web.log",
            f"http://127.0.0.1:{web_port}/health").start()
        yield Cluster(parts, rasa_procs, postgres, redis, tracker_url)
    finally:
        for proc in reversed(list(parts.procs.values())):
            proc.stop()
        stop_redis(redis)
        stop_postgres(postgres)


def _texts(replies: list[dict[str, Any]]) -> str:
    return "\n".join(str(r.get("text", "")) for r in replies)


def _user_message_ids(events: list[dict[str, Any]]) -> list[str]:
    """The stored user messages, by id: the store keeps no text (USER_TEXT_PLACEHOLDER), so ids tell them apart."""
    users = [e for e in events if e.get("event") == "user"]
    assert all(e.get("text") == USER_TEXT_PLACEHOLDER for e in users), "a user's text was stored"
    return [str(e.get("message_id")) for e in users]


def _slot(events: list[dict[str, Any]], name: str) -> Any:
    value = None
    for event in events:
        if event.get("event") == "slot" and event.get("name") == name:
            value = event.get("value")
    return value


def _hammer_lock(store: Any, conversation: str, counter_key: str, rounds: int) -> None:
    """Read-modify-write a Redis counter inside Rasa's conversation lock, the way a turn updates a tracker."""
    import time

    async def run() -> None:
        for _ in range(rounds):
            async with store.lock(conversation, wait_time_in_seconds=0.01):
                value = int(store.red.get(counter_key) or 0)
                time.sleep(0.001)  # a turn takes time; without the lock the other writer would slip in here
                store.red.set(counter_key, value + 1)

    asyncio.run(run())


@pytest.mark.slow
@pytest.mark.parametrize("workers", [2, 6])
def test_atomic_lock_store_serialises_one_conversation_across_processes(redis_server: RedisServer,
                                                                         workers: int) -> None:
    from rasa.utils.endpoints import EndpointConfig

    from bot.rasa_ext.lock_store import AtomicRedisLockStore

    conversation, counter, rounds = "lock-" + uuid.uuid4().hex, "counter-" + uuid.uuid4().hex, 40
    config = EndpointConfig(url="127.0.0.1", type="bot.rasa_ext.lock_store.AtomicRedisLockStore",
                            port=str(redis_server.port), db="1", password="", key_prefix="perheopas")
    # One store per worker, as one per Rasa process.
    stores = [AtomicRedisLockStore(endpoint_config=config) for _ in range(workers)]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for job in [pool.submit(_hammer_lock, store, conversation, counter, rounds) for store in stores]:
            job.result()
    assert int(stores[0].red.get(counter)) == workers * rounds
    assert stores[0].get_lock(conversation) is None  # the last one out removed the lock


@pytest.fixture(scope="module")
def redis_server() -> Iterator[RedisServer]:
    try:
        server = start_redis()
    except ServerUnavailable as exc:
        pytest.skip(f"Redis unavailable: {exc}")
    yield server
    stop_redis(server)


@pytest.mark.slow
@pytest.mark.model
def test_conversation_alternating_between_processes_keeps_state_and_slots(cluster: Cluster) -> None:
    sender = "scale-" + uuid.uuid4().hex[:12]
    script = ["moi", "etsin perhekahvilaa", "Oulussa", "kiitos"]
    replies = [cluster.say(i % 2, sender, message) for i, message in enumerate(script)]
    # The question was asked by one process and answered on the other: the form's state travelled.
    assert "Oulu" in _texts(replies[2])
    events = cluster.events(sender)
    ids = _user_message_ids(events)
    assert len(ids) == len(script) == len(set(ids))
    assert _slot(events, "municipality") == "Oulu"
    bot_texts = [e.get("text") for e in events if e.get("event") == "bot" and e.get("text")]
    # The REST channel sends a reply's custom payload (the feedback topic) as a message of its own.
    assert len(bot_texts) == sum(1 for r in replies for message in r if message.get("text"))


@pytest.mark.slow
@pytest.mark.model
def test_simultaneous_messages_on_both_processes_are_all_kept_once(cluster: Cluster) -> None:
    """Two messages of one conversation at the same moment, one on each process: Redis's lock orders them."""
    senders = ["pair-" + uuid.uuid4().hex[:12] for _ in range(4)]
    rounds = 3
    sent: dict[str, list[str]] = {s: [] for s in senders}
    with ThreadPoolExecutor(max_workers=2 * len(senders)) as pool:
        for r in range(rounds):
            jobs = []
            for s in senders:
                for index in range(2):
                    message = f"moi {r}-{index}"
                    sent[s].append(message)
                    jobs.append(pool.submit(cluster.say, index, s, message))
            for job in jobs:
                job.result()
    for s in senders:
        stored = _user_message_ids(cluster.events(s))
        assert len(stored) == len(sent[s]), f"{s}: lost or duplicated messages"
        assert len(stored) == len(set(stored))


@pytest.mark.slow
@pytest.mark.model
def test_gateway_round_robin_over_both_processes(cluster: Cluster) -> None:
    session = uuid.uuid4().hex
    script = ["moi", "etsin perhekahvilaa", "Oulussa"]
    last: dict[str, Any] = {}
    for message in script:
        status, last = post_json(f"{cluster.parts.web_url}/api/chat", {"session": session, "message": message},
                                 timeout=120)
        assert status == 200 and not last.get("degraded")
    assert "Oulu" in _texts(last["messages"])
    events = cluster.events(session)
    assert len(_user_message_ids(events)) == len(script)
    assert _slot(events, "municipality") == "Oulu"


@pytest.mark.slow
@pytest.mark.model
def test_one_rasa_process_lost_the_other_carries_on(cluster: Cluster) -> None:
    session = uuid.uuid4().hex
    post_json(f"{cluster.parts.web_url}/api/chat", {"session": session, "message": "etsin perhekahvilaa"}, 120)
    cluster.rasa[0].kill()
    for message in ("Oulussa", "kiitos"):
        status, body = post_json(f"{cluster.parts.web_url}/api/chat", {"session": session, "message": message}, 120)
        assert status == 200
        assert not body.get("degraded"), "the gateway did not pass the message to the live process"
    assert _slot(cluster.events(session), "municipality") == "Oulu"
