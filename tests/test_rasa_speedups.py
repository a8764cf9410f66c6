"""The Rasa speed-ups (bot/rasa_ext/speedups.py): the same behaviour as Rasa's own code, and guarded.

Each speed-up must give what Rasa gives; each must skip itself, with a warning, when the code it replaces or relies
on is not what it was made for; the switch turns them off; and the conversation store never falls back to memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from stack import MODEL, REPO

from bot.rasa_ext import speedups as rasa_speedups

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


def _rasa_own() -> list[tuple[Any, str, Any]]:
    """(class, attribute, Rasa's own value) of what each speed-up replaces, taken as this module is collected: before
    any test in this process can apply the speed-ups, which then stay (the NLU floors apply them through
    bench/nlu_bench.py)."""
    found = []
    for patch in rasa_speedups.PATCHES:
        module_name, qualname = next(iter(patch.fingerprints)).split(":")  # the replaced function comes first
        owner_name, attribute = qualname.rsplit(".", 1)
        owner = getattr(importlib.import_module(module_name), owner_name)
        own = owner.__dict__[attribute]
        assert getattr(own, "__func__", own).__module__ != rasa_speedups.__name__, f"{patch.name} applied already"
        found.append((owner, attribute, own))
    return found


RASA_OWN = _rasa_own()


@contextlib.contextmanager
def _rasa_as_it_is() -> Iterator[None]:
    """Rasa's own code in place while the block runs, speed-ups applied before or not; then as it was again."""
    before = [(owner, attribute, owner.__dict__[attribute]) for owner, attribute, _ in RASA_OWN]
    for owner, attribute, own in RASA_OWN:
        setattr(owner, attribute, own)
    try:
        yield
    finally:
        for owner, attribute, value in before:
            setattr(owner, attribute, value)


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
        assert set(rasa_speedups.apply("on").values()) == {"applied"}
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
    Rasa's own call on the same batch. Rasa is as it is even when an earlier test in this process applied the
    speed-ups (the NLU floors do)."""
    import gc

    import numpy as np
    from rasa.core.agent import Agent
    from stack import MODEL

    from bot.rasa_ext.speedups import FastPredictStep

    with _rasa_as_it_is():
        assert not [patch.name for patch in rasa_speedups.PATCHES if rasa_speedups.installed(patch)]
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


def test_rasa_as_it_is_puts_rasas_own_code_back_for_a_while() -> None:
    with _speedups_applied():
        with _rasa_as_it_is():
            assert not [patch.name for patch in rasa_speedups.PATCHES if rasa_speedups.installed(patch)]
        assert all(rasa_speedups.installed(patch) for patch in rasa_speedups.PATCHES)


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
        assert set(rasa_speedups.apply().values()) == {"applied"}  # idempotent
        after = [_outcome(action, reply) for reply in GOOD_REPLIES + BAD_REPLIES]
    assert after == before
    assert before[: len(GOOD_REPLIES)] == ["ok"] * len(GOOD_REPLIES)
    assert all(outcome.startswith("invalid") for outcome in before[len(GOOD_REPLIES):])


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


# --- The guards: versions, fingerprints, the switch, and a store that never falls back to memory ---------------


def test_every_speed_up_was_made_for_the_installed_rasa_and_tensorflow() -> None:
    """Fails on an upgrade, in CI rather than in production: review each patch, then its fingerprints."""
    from bot.rasa_ext import speedups

    for patch in speedups.PATCHES:
        assert speedups._versions_differ(patch) is None, patch.name
        assert speedups._fingerprints_differ(patch) is None, patch.name


@pytest.fixture
def originals_restored() -> Iterator[None]:
    """Put Rasa's own functions back after a test that applies speed-ups."""
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.events import Event
    from rasa.shared.nlu.training_data.features import Features
    from rasa.utils.endpoints import EndpointConfig
    from rasa.utils.tensorflow.models import RasaModel

    saved = [(owner, name, owner.__dict__[name]) for owner, name in (
        (RemoteAction, "_validate_action_result"), (EndpointConfig, "session"),
        (Features, "_combine_sparse_features"), (Event, "resolve_by_type"), (RasaModel, "_rasa_predict"),
        (RasaModel, "load"))]
    yield
    for owner, name, value in saved:
        setattr(owner, name, value)


def test_a_speed_up_whose_target_changed_is_skipped_with_a_warning(
        originals_restored: None, caplog: pytest.LogCaptureFixture) -> None:
    from rasa.core.actions.action import RemoteAction

    from bot.rasa_ext import speedups

    original = RemoteAction._validate_action_result

    def upgraded(self: object, result: dict[str, object]) -> bool:  # what a new Rasa might ship instead
        return bool(original(self, result))

    RemoteAction._validate_action_result = upgraded  # type: ignore[method-assign]
    with caplog.at_level("WARNING", logger=speedups.log.name):
        outcomes = speedups.apply("on")
    assert outcomes["action_schema"].startswith("skipped: rasa.core.actions.action:RemoteAction."
                                                "_validate_action_result changed")
    assert RemoteAction._validate_action_result is upgraded
    assert {name: outcome for name, outcome in outcomes.items() if name != "action_schema"} == {
        name: "applied" for name in speedups.PATCH_NAMES if name != "action_schema"}
    assert "Rasa speed-up action_schema skipped" in caplog.text
    action = RemoteAction.__new__(RemoteAction)
    assert [_outcome(action, reply) for reply in GOOD_REPLIES] == ["ok"] * len(GOOD_REPLIES)


def test_a_speed_up_made_for_another_rasa_version_is_skipped(
        originals_restored: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    import rasa
    from rasa.shared.core.events import Event

    from bot.rasa_ext import speedups

    before = Event.__dict__["resolve_by_type"]
    monkeypatch.setattr(rasa, "__version__", "3.7.0")
    with caplog.at_level("WARNING", logger=speedups.log.name):
        outcomes = speedups.apply("event_classes")
    assert outcomes["event_classes"] == "skipped: Rasa is 3.7.0, not 3.6.21"
    assert Event.__dict__["resolve_by_type"] is before
    assert "Rasa speed-up event_classes skipped: Rasa is 3.7.0" in caplog.text


def test_a_target_that_is_gone_skips_its_speed_up(originals_restored: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.rasa_ext import speedups

    gone = speedups.Patch("predict_step", {"tensorflow.python.no_such_module:ConcreteFunction._call_flat": "0"},
                          lambda: pytest.fail("installed a patch whose target is gone"))
    monkeypatch.setattr(speedups, "PATCHES", (gone,))
    assert speedups.apply("on")["predict_step"].startswith(
        "skipped: tensorflow.python.no_such_module:ConcreteFunction._call_flat is gone (ModuleNotFoundError")


@pytest.mark.parametrize(("setting", "expected"), [
    (None, "all"), ("on", "all"), ("ALL", "all"), ("off", ()), ("none", ()), ("0", ()),
    ("sparse_hstack, event_classes", ("sparse_hstack", "event_classes")),
    ("event_classes,no_such_patch", ("event_classes",)),
])
def test_the_switch_selects_speed_ups_by_name(setting: str | None, expected: object) -> None:
    from bot.rasa_ext import speedups

    wanted = speedups.PATCH_NAMES if expected == "all" else expected
    assert set(speedups.selected(setting)) == set(wanted)  # type: ignore[arg-type]


def test_switched_off_speed_ups_leave_rasa_as_it_is(originals_restored: None, monkeypatch: pytest.MonkeyPatch) -> None:
    from rasa.core.actions.action import RemoteAction

    from bot.rasa_ext import speedups

    before = RemoteAction.__dict__["_validate_action_result"]
    monkeypatch.setenv(speedups.ENV_SWITCH, "off")
    assert set(speedups.apply().values()) == {"off"}
    assert RemoteAction.__dict__["_validate_action_result"] is before
    monkeypatch.setenv(speedups.ENV_SWITCH, "action_schema")
    outcomes = speedups.apply()
    assert outcomes["action_schema"] == "applied" and outcomes["sparse_hstack"] == "off"


def test_rasa_makes_the_anonymising_store_and_never_a_memory_one(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rasa 3.6 serves from memory when a custom store's constructor raises ImportError or AttributeError; ours
    turns those into TrackerStoreError, which Rasa does not swallow."""
    from rasa.core.tracker_store import InMemoryTrackerStore, TrackerStore
    from rasa.utils.endpoints import EndpointConfig

    from bot.rasa_ext import tracker_store

    config = EndpointConfig(type="bot.rasa_ext.tracker_store.AnonymizingTrackerStore", db=str(tmp_path / "t.db"))
    store = TrackerStore.create(config)
    inner = getattr(store, "_tracker_store", store)
    assert isinstance(inner, tracker_store.AnonymizingTrackerStore)

    for error in (ImportError("No module named 'tensorflow.python.moved'"), AttributeError("no attribute 'x'")):
        def failing(error: Exception = error) -> None:
            raise error

        monkeypatch.setattr(tracker_store, "install_log_redaction", failing)
        with pytest.raises(tracker_store.TrackerStoreError, match="would fall back to an in-memory store"):
            made = TrackerStore.create(config)
            assert not isinstance(getattr(made, "_tracker_store", made), InMemoryTrackerStore)


def test_rasa_is_not_started_when_its_tracker_store_cannot_be_imported(tmp_path: Path) -> None:
    from bot.rasa_ext.__main__ import tracker_store_problem

    endpoints = tmp_path / "endpoints.yml"
    endpoints.write_text("tracker_store:\n  type: bot.rasa_ext.no_such_module.Store\n", encoding="utf-8")
    problem = tracker_store_problem(endpoints)
    assert problem is not None and "bot.rasa_ext.no_such_module.Store" in problem
    endpoints.write_text("tracker_store:\n  type: bot.rasa_ext.tracker_store.AnonymizingTrackerStore\n",
                         encoding="utf-8")
    assert tracker_store_problem(endpoints) is None
    endpoints.write_text("tracker_store:\n  type: sql\n", encoding="utf-8")
    assert tracker_store_problem(endpoints) is None
    assert tracker_store_problem(REPO / "endpoints.yml") is None


# --- Through a running Rasa --------------------------------------------------------------------------------------

CHANGED_TARGET = """
from rasa.core.actions.action import RemoteAction

original = RemoteAction._validate_action_result


def upgraded(self, result):  # a Rasa whose replaced function changed
    return original(self, result)


RemoteAction._validate_action_result = upgraded
{then}
"""
START_OUR_RASA = "from bot.rasa_ext.__main__ import main\nmain()\n"
BROKEN_STORE = """
import bot.rasa_ext.tracker_store as store


def moved():
    raise ImportError("No module named 'tensorflow.python.moved'")


store.install_log_redaction = moved
""" + START_OUR_RASA


def _our_rasa_through(script: Path, workdir: Path, parts: object) -> object:
    """The stack's Rasa child, started through a script that alters Rasa first and then runs our entry point."""
    from parts import Proc

    from bot.ops.run import children
    from core.settings import Ports

    env = dict(parts.env)  # type: ignore[attr-defined]
    ports = Ports(int(env["PERHEOPAS_ACTIONS_PORT"]), int(env["PERHEOPAS_RASA_PORT"]), int(env["PERHEOPAS_WEB_PORT"]))
    rasa = next(child for child in children(ports, MODEL) if child.name == "rasa")
    assert rasa.argv[1:3] == ["-m", "bot.rasa_ext"], rasa.argv
    env["PYTHONPATH"] = str(REPO)
    return Proc("rasa", [rasa.argv[0], str(script), *rasa.argv[3:]], env, workdir / "rasa.log", rasa.ready_url)


@pytest.mark.slow
@pytest.mark.model
def test_a_mismatched_fingerprint_skips_the_patch_and_the_stack_still_answers(tmp_path: Path) -> None:
    from parts import running_parts

    script = tmp_path / "changed_rasa.py"
    script.write_text(CHANGED_TARGET.format(then=START_OUR_RASA), encoding="utf-8")
    with running_parts(tmp_path, {"PERHEOPAS_NOW": "2026-11-24T13:00:00+02:00"}, only=("actions",)) as parts:
        rasa = _our_rasa_through(script, tmp_path, parts)
        parts.procs["rasa"] = rasa.start()  # type: ignore[attr-defined]
        replies = parts.say("speedup-guard", "Missä on perhekahvila Oulussa?")
        texts = " ".join(str(reply.get("text") or "") for reply in replies)
        log = rasa.log()  # type: ignore[attr-defined]
    assert "Rasa speed-up action_schema skipped" in log and "_validate_action_result changed" in log
    assert "predict_step applied" in log
    assert "Oulu" in texts, texts  # the search action ran, and Rasa checked its reply with its own code
    assert "Failed to validate" not in log and "Encountered an exception" not in log


@pytest.mark.slow
@pytest.mark.model
def test_rasa_stops_rather_than_serve_from_memory(tmp_path: Path) -> None:
    import subprocess

    from parts import running_parts

    script = tmp_path / "broken_store.py"
    script.write_text(BROKEN_STORE, encoding="utf-8")
    with running_parts(tmp_path, only=("actions",), prepare=False) as parts:
        rasa = _our_rasa_through(script, tmp_path, parts)
        done = subprocess.run(rasa.argv, env=rasa.env, cwd=REPO, capture_output=True, text=True,  # type: ignore
                              timeout=300)
    assert "TrackerStoreError" in done.stderr and "would fall back to an in-memory store" in done.stderr
    assert "Rasa server is up and running" not in done.stderr + done.stdout


# --- Message texts withheld from Rasa's structured logs (bot/rasa_ext/log_privacy.py) ----------------------------


def test_rasa_structured_log_events_keep_their_name_and_withhold_texts() -> None:
    from bot.rasa_ext.log_privacy import WITHHELD, withhold_texts

    event = {"event": "rest.message.received.failure", "level": "error", "text": "Mieheni Jari lyö minua",
             "tracker_latest_message": {"text": "x"}, "rasa_events": ["a"], "len_extraction_events": 2,
             "action_name": "action_search", "sender_id": "abc", "confidence": 0.5, "flag": None}
    assert withhold_texts(None, "error", dict(event)) == {
        **event, "text": WITHHELD, "tracker_latest_message": WITHHELD, "rasa_events": WITHHELD}


def test_log_privacy_is_in_place_for_the_installed_rasa_and_fails_closed_when_it_changes(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from rasa.utils import log_utils

    from bot.rasa_ext import log_privacy

    monkeypatch.setattr(log_utils, "_anonymizer", log_utils._anonymizer)
    log_privacy.install()
    assert log_utils._anonymizer is log_privacy.withhold_texts
    monkeypatch.setattr(log_privacy, "CONFIGURE_FINGERPRINT", "0" * 16)
    with pytest.raises(log_privacy.LogPrivacyError, match="withhold message texts"):
        log_privacy.install()


def test_rasa_is_not_started_when_its_logs_could_carry_texts(monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.rasa_ext import __main__ as entry
    from bot.rasa_ext import log_privacy

    monkeypatch.setattr(log_privacy, "CONFIGURE_FINGERPRINT", "0" * 16)
    with pytest.raises(SystemExit, match="Rasa not started: .*configure_structlog changed"):
        entry.main(["run", "--endpoints", str(REPO / "endpoints.yml")])


def test_an_exception_in_a_structured_log_keeps_its_type_and_place_but_not_its_message_or_locals() -> None:
    from bot.rasa_ext.log_privacy import withhold_texts

    def receive(text: str) -> None:
        raise TypeError(f"cannot handle {text}")

    try:
        receive("Mieheni Jari lyö minua")
    except TypeError as error:
        logged = withhold_texts(None, "exception", {"event": "rest.message.received.failure", "exc_info": error})
    assert "exc_info" not in logged
    assert logged["exception"].startswith("TypeError at test_rasa_speedups.py:")
    assert " in receive <- " in logged["exception"] and "Jari" not in str(logged)
