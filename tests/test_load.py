"""The load benchmark in its short mode (bench/load.py --short), and the Rasa speed-up it relies on.

The short run checks that the benchmark works end to end and that a busy evening passes without errors; the
latency and throughput goals are judged on the full run (bench/LOAD_RESULTS.md), since a one-minute run on a
shared CI machine is too noisy to fail a build on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
from stack import REPO

GOOD_REPLIES = [
    {"events": [{"event": "slot", "name": "municipality", "value": "Oulu"}], "responses": [{"text": "Hei"}]},
    {"events": [], "responses": []},
    {"events": [{"event": "action", "name": "action_listen"}], "responses": [{"text": "x", "buttons": []}]},
]
BAD_REPLIES = [{"events": "nope"}, {"events": [{"no_event_key": 1}]}, {"events": [{"event": 42}]}]


def _outcome(action: object, reply: dict[str, object]) -> str:
    try:
        action._validate_action_result(reply)  # type: ignore[attr-defined]
        return "ok"
    except jsonschema.ValidationError as error:
        return f"invalid: {error.message}"


@contextlib.contextmanager
def _speedups_applied() -> Iterator[None]:
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.events import Event
    from rasa.shared.nlu.training_data.features import Features
    from rasa.utils.endpoints import EndpointConfig
    from rasa.utils.tensorflow.models import RasaModel

    from bot.rasa_ext import speedups as rasa_speedups

    originals = (RemoteAction._validate_action_result, EndpointConfig.session, Features._combine_sparse_features,
                 Event.__dict__["resolve_by_type"], RasaModel._rasa_predict, RasaModel.__dict__["load"])
    try:
        assert rasa_speedups.apply()
        yield
    finally:
        (RemoteAction._validate_action_result, EndpointConfig.session,  # type: ignore[method-assign]
         Features._combine_sparse_features, Event.resolve_by_type, RasaModel._rasa_predict, RasaModel.load) = originals


@pytest.mark.parametrize("seed", range(6))
def test_sparse_feature_join_equals_scipy_hstack(seed: int) -> None:
    import numpy as np
    import scipy.sparse

    from bot.rasa_ext.speedups import hstack_pair

    rng = np.random.default_rng(seed)
    rows = int(rng.integers(1, 12))
    formats, dtypes = ["coo", "csr", "csc"], [np.float32, np.float64, np.int64]
    left = scipy.sparse.random(rows, int(rng.integers(1, 300)), density=0.05, format=formats[seed % 3],
                               dtype=dtypes[seed % 3], random_state=seed)
    right = scipy.sparse.random(rows, int(rng.integers(1, 300)), density=0.1 if seed % 2 else 0.0,
                                format=formats[(seed + 1) % 3], dtype=np.float32, random_state=seed + 1)
    expected, joined = scipy.sparse.hstack([left, right]), hstack_pair(left, right)
    assert joined.format == expected.format == "coo"
    assert joined.dtype == expected.dtype and joined.shape == expected.shape
    assert (joined.toarray() == expected.toarray()).all()


def _assert_same_outputs(fast: object, plain: object) -> None:
    """Equal structure and equal values (float outputs to the last bit: the same graph runs on the same input)."""
    import numpy as np
    import tensorflow as tf

    fast_flat, plain_flat = tf.nest.flatten(fast), tf.nest.flatten(plain)
    tf.nest.assert_same_structure(fast, plain)
    for left, right in zip(fast_flat, plain_flat, strict=True):
        assert left.dtype == right.dtype and left.shape == right.shape
        assert np.array_equal(np.asarray(left), np.asarray(right))


def test_fast_predict_step_gives_what_the_tf_function_gives() -> None:
    import numpy as np
    import tensorflow as tf

    from bot.rasa_ext.speedups import FastPredictStep

    weights = tf.Variable(np.arange(12, dtype=np.float32).reshape(4, 3))

    def predict_step(batch: list[tf.Tensor]) -> dict[str, object]:
        return {"scores": tf.tensordot(batch[0], weights, axes=1), "ids": batch[1] * 2, "diagnostic": {"n": batch[2]}}

    batch = (np.ones((1, 5, 4), np.float32), np.array([3, 4], np.int64), np.zeros((1, 2), np.float32))
    signature = [[tf.TensorSpec([None, None, 4], tf.float32), tf.TensorSpec([None], tf.int64),
                  tf.TensorSpec([None, 2], tf.float32)]]
    function = tf.function(predict_step, input_signature=signature)
    step = FastPredictStep(function)
    other_lengths = (np.full((2, 7, 4), 0.5, np.float32), np.array([1], np.int64), np.ones((2, 2), np.float32))
    for each in (batch, other_lengths):
        assert step.fits(each)
        _assert_same_outputs(step(each), function(each))
    # A batch the signature's graph would not take as it is goes through the tf.function: cast as it casts (int32
    # ids), refused as it refuses (a wrong width, a missing array).
    wrong_dtype = (batch[0], batch[1].astype(np.int32), batch[2])
    wrong_width = (np.ones((1, 5, 3), np.float32), batch[1], batch[2])
    refused = 0
    for other in (wrong_dtype, wrong_width, batch[:2]):
        assert not step.fits(other)
        try:
            expected = function(other)
        except (TypeError, ValueError) as error:
            refused += 1
            with pytest.raises(type(error)):
                step(other)
        else:
            _assert_same_outputs(step(other), expected)
    assert refused == 2


def _network_weights(agent: object) -> dict[str, object]:
    """Every weight of the agent's networks, by graph node, position and name."""
    from rasa.utils.tensorflow.models import RasaModel

    weights: dict[str, object] = {}
    nodes = agent.processor.graph_runner._instantiated_nodes  # type: ignore[attr-defined]
    for node_name, node in nodes.items():
        model = getattr(node._component, "model", None)
        if isinstance(model, RasaModel):
            for index, weight in enumerate(model.weights):
                weights[f"{node_name}/{index}/{weight.name}"] = weight.numpy()
    return weights


async def _conversation(agent: object) -> list[object]:
    """What the agent makes of a short conversation: every parse, and every reply with the policy's prediction."""
    said: list[object] = []
    for text in ("moi", "etsin perhekahvilaa Oulussa", "mitä perhekeskus tarkoittaa", "oletko ihminen",
                 "me ollaan eroamassa", "kiitos"):
        parse = await agent.parse_message(text)  # type: ignore[attr-defined]
        said.append({key: parse[key] for key in ("intent", "entities", "intent_ranking", "response_selector")
                     if key in parse})
        said.append(await agent.handle_text(text, sender_id="speed-up-test"))  # type: ignore[attr-defined]
    return said


@pytest.mark.slow
@pytest.mark.model
def test_production_model_loads_and_predicts_as_rasa_does_with_the_speed_ups(monkeypatch: pytest.MonkeyPatch) -> None:
    """The production model loaded by Rasa as it is, then with the speed-ups: the same weights in every network
    (DIET, FAQ selector, TED), the same parses and replies, and every network call of the fast step equal to
    Rasa's own call on the same batch."""
    import gc

    import numpy as np
    from rasa.core.agent import Agent
    from stack import MODEL

    from bot.rasa_ext.speedups import FastPredictStep

    rasa_agent = Agent.load(str(MODEL))
    rasa_said = asyncio.run(_conversation(rasa_agent))
    rasa_weights = _network_weights(rasa_agent)
    del rasa_agent
    gc.collect()

    compared: list[bool] = []
    fast_call = FastPredictStep.__call__

    def checking_call(self: FastPredictStep, batch_in: tuple) -> object:
        fast = fast_call(self, batch_in)
        _assert_same_outputs(fast, self.function(batch_in))
        compared.append(self.fits(batch_in))
        return fast

    monkeypatch.setattr(FastPredictStep, "__call__", checking_call)
    with _speedups_applied():
        fast_agent = Agent.load(str(MODEL))
        fast_said = asyncio.run(_conversation(fast_agent))
        fast_weights = _network_weights(fast_agent)

    assert sorted(fast_weights) == sorted(rasa_weights) and len(rasa_weights) > 50
    differing = [key for key, value in rasa_weights.items() if not np.array_equal(value, fast_weights[key])]
    assert not differing
    assert fast_said == rasa_said
    assert rasa_said[0]["intent"]["name"] == "greet" and rasa_said[4]["intent"]["name"] == "faq"
    assert len(compared) > 20 and all(compared)


def test_events_resolve_to_the_same_classes_with_the_speed_up() -> None:
    from rasa.shared.core.events import Event, SlotSet

    names = ["user", "bot", "slot", "action", "active_loop", "session_started", "restart", "followup"]
    before = [Event.resolve_by_type(name) for name in names]
    with _speedups_applied():
        for _ in range(2):  # the second round comes from the remembered classes
            assert [Event.resolve_by_type(name) for name in names] == before
        assert Event.resolve_by_type("topic") is None
        assert Event.resolve_by_type("no_such_event", default=SlotSet) is SlotSet
        with pytest.raises(ValueError, match="Unknown event name"):
            Event.resolve_by_type("no_such_event")
        assert isinstance(Event.from_parameters({"event": "slot", "name": "age", "value": "2"}), SlotSet)
    assert Event.resolve_by_type("slot") is SlotSet


def test_rasa_combines_sparse_features_the_same_with_the_speed_up() -> None:
    import numpy as np
    import scipy.sparse
    from rasa.shared.nlu.training_data.features import Features

    def combined() -> np.ndarray:
        first = Features(scipy.sparse.random(4, 50, density=0.2, format="coo", random_state=1), "sequence", "text",
                         "a")
        first.combine_with_features(Features(scipy.sparse.random(4, 30, density=0.2, format="coo", random_state=2),
                                             "sequence", "text", "b"))
        with pytest.raises(ValueError, match="sequence dimensions"):
            first.combine_with_features(Features(scipy.sparse.random(3, 5, format="coo"), "sequence", "text", "c"))
        return first.features.toarray()

    before = combined()
    with _speedups_applied():
        after = combined()
    assert (before == after).all() and before.shape == (4, 80)


async def test_action_endpoint_keeps_its_connection_and_fails_as_rasa_does() -> None:
    """One kept-alive connection for many calls; errors raise Rasa's ClientResponseError; a restarted server is
    reached again after the idle time (the kept connection is closed before the server would drop it)."""
    from aiohttp import web
    from rasa.utils.endpoints import ClientResponseError, EndpointConfig

    from bot.rasa_ext import speedups as rasa_speedups

    peers: list[object] = []

    async def webhook(request: web.Request) -> web.Response:
        peers.append(request.transport.get_extra_info("peername") if request.transport else None)
        body = await request.json()
        if body.get("fail"):
            return web.json_response({"error": "no"}, status=500)
        return web.json_response({"echo": body["n"]})

    async def serve(port: int = 0) -> tuple[web.AppRunner, int]:
        app = web.Application()
        app.router.add_post("/webhook", webhook)
        runner = web.AppRunner(app, keepalive_timeout=5)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", port)
        await site.start()
        return runner, site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    runner, port = await serve()
    with _speedups_applied():
        endpoint = EndpointConfig(url=f"http://127.0.0.1:{port}/webhook")
        try:
            assert [await endpoint.request(json={"n": n}) for n in range(5)] == [{"echo": n} for n in range(5)]
            assert len(set(peers)) == 1, peers
            with pytest.raises(ClientResponseError) as failed:
                await endpoint.request(json={"fail": True})
            assert failed.value.status == 500
            await runner.cleanup()
            await asyncio.sleep(rasa_speedups.ACTION_KEEPALIVE_SECONDS + 0.5)
            runner, _ = await serve(port)
            assert await endpoint.request(json={"n": 7}) == {"echo": 7}
        finally:
            await runner.cleanup()
            kept = getattr(endpoint, "_perheopas_session", None)
            if kept is not None:
                await kept[1].close()


def test_action_reply_validation_speed_up_keeps_rasa_behaviour() -> None:
    from rasa.core.actions.action import RemoteAction

    from bot.rasa_ext import speedups as rasa_speedups

    action = RemoteAction.__new__(RemoteAction)
    before = [_outcome(action, reply) for reply in GOOD_REPLIES + BAD_REPLIES]
    with _speedups_applied():
        assert rasa_speedups.apply()  # idempotent
        after = [_outcome(action, reply) for reply in GOOD_REPLIES + BAD_REPLIES]
    assert after == before
    assert before[: len(GOOD_REPLIES)] == ["ok"] * len(GOOD_REPLIES)
    assert all(outcome.startswith("invalid") for outcome in before[len(GOOD_REPLIES):])


@pytest.mark.slow
@pytest.mark.model
def test_short_load_benchmark(tmp_path: Path) -> None:
    out = tmp_path / "load.json"
    done = subprocess.run([sys.executable, "bench/load.py", "--short", "--json", str(out)], cwd=REPO,
                          capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    print(done.stdout)
    result = json.loads(out.read_text(encoding="utf-8"))
    evening, ours, reference = result["busy_evening"], result["saturation"], result["reference"]
    assert evening["messages"] >= 50 and evening["errors"] == 0, evening
    assert ours["messages"] > 0 and ours["errors"] == 0, ours
    assert reference["messages"] > 0 and reference["errors"] == 0, reference
    assert result["ratio"] > 0
    processes = result["settings"]["rasa_processes"]
    rasa_names = ["rasa", *(f"rasa-{i}" for i in range(2, processes + 1))]
    moodbot_names = [f"moodbot-{i} (reference)" for i in range(1, processes + 1)]
    for name in ("actions", "web", *rasa_names, *moodbot_names, "load generator"):
        assert result["peak_rss_mib"][name] > 0, name
    # The load generator is a small asyncio client; a figure near Rasa's would mean it measured someone else.
    assert result["peak_rss_mib"]["load generator"] < 500, result["peak_rss_mib"]
    for key in ("p50", "p95", "p99"):
        assert f"{key} ms" in result["report"]


def test_quick_reply_check_agrees_with_the_full_schema() -> None:
    """Replies the quick check passes are exactly the valid ones among many shapes, good and bad."""
    from rasa.core.actions.action import RemoteAction

    from bot.rasa_ext.speedups import _quickly_valid

    schema = RemoteAction.action_response_format_spec()
    events = [
        {"event": "slot", "name": "age", "value": 3}, {"event": "slot", "name": "age"}, {"event": "slot"},
        {"event": "action", "name": "utter_greet"}, {"event": "active_loop", "name": None},
        {"event": "bot", "text": "Hei", "data": {}}, {"event": "bot", "text": 5},
        {"event": "user", "text": "moi", "parse_data": {"intent": {"name": "greet", "confidence": 1}}},
        {"event": "user", "parse_data": {"intent": {"name": 3}}}, {"event": "followup", "name": "x"},
        {"event": "nonsense"}, {"event": 42}, {"no_event": 1}, "slot", None,
        {"event": "slot", "name": "x", "value": 1, "timestamp": "yesterday"},
        {"event": "reset_slots"}, {"event": "session_started", "metadata": {"a": 1}},
    ]
    replies: list[object] = [{"events": [e], "responses": []} for e in events]
    replies += [{"events": events[:2]}, {"events": [events[0], events[3]]}, {"responses": [{"text": "x"}]},
                {"responses": ["x"]}, {"events": "nope"}, {}, [], "x"]
    full = jsonschema.validators.validator_for(schema)(schema)
    for reply in replies:
        assert _quickly_valid(reply) == full.is_valid(reply), reply
