"""Measured speed-ups for Rasa 3.6 inside its own process; same behaviour, less CPU per message.

Rasa checks every custom action's reply against a JSON schema with `jsonschema.validate`, which first
validates the schema itself against the JSON Schema meta-schema, on every call. In the load benchmark
(bench/load.py, profiled with py-spy) that was about a fifth of the Rasa process's CPU time. Here the schema is
checked once and validators are reused; each event is checked against the one branch of the schema's oneOf that
its type names, and a reply that does not pass that gets the full check, so it raises the same ValidationError
with Rasa's own explanation appended.

Rasa also opens a new HTTP client session, and so a new TCP connection, for every call to the action server
(`async with self.session()` in `EndpointConfig.request`), and the action server accepts each one anew. Here
`EndpointConfig.session` hands out one kept session per endpoint and event loop instead, with keep-alive
connections closed after `ACTION_KEEPALIVE_SECONDS` idle: shorter than the
action server's own keep-alive (Sanic's 5 s), so a connection is never reused just as the server drops it.
A request is never retried: a call that fails fails as before (an action must not run twice).

Rasa's NLU joins the sparse features of its featurizers pairwise with `scipy.sparse.hstack`, a general block
builder that costs about a millisecond per pair; a turn joins several pairs per classifier. Here two matrices
are joined as COO arrays directly: the same matrix, dtype and format.

Reading a stored conversation or an action's reply turns each event dictionary back into an event, and Rasa finds
the event class by walking every subclass of `Event` for each one. Here the class found for a type name is
remembered; names not found are looked up the long way every time, as before.

Rasa runs each of its TensorFlow models (DIET, ResponseSelector, TED) through a `tf.function` with a fixed input
signature, one message at a time. Calling that function costs TensorFlow's dispatch: it canonicalises the nested
inputs, matches them against its cache of traced graphs and casts them, which took about a fifth of the Rasa
process's CPU time under load, more than the models' arithmetic. Here the function Rasa makes is wrapped: a batch
whose arrays have exactly the signature's dtypes and compatible shapes goes straight to the one graph that
signature traced; anything else goes through the `tf.function` as before, so it fails as before.

Loading a model for serving, Rasa builds each network by training it for one step on one example (`model.fit`),
which traces the whole training graph with its gradients, and only then loads the trained weights over it. That
was two thirds of the time Rasa took to load the model. Here a model loaded for prediction only (not for
fine-tuning) gets its weights from the checkpoint as its layers are built by the first prediction, which Rasa
makes at load anyway: the same weights, no training graph and no optimizer state held in memory.

Applied once at the Rasa entry point (`python -m bot.rasa_ext`, which the stack and `rasa test` use), never from a
storage class. Each patch is guarded: it names the Rasa and TensorFlow versions it was made for and a fingerprint of
the source of every function it replaces or relies on, and it skips itself with a logged warning when either
differs, so an upgrade loses speed, never behaviour. `PERHEOPAS_RASA_SPEEDUPS=off` turns them all off;
a comma-separated list of names (PATCHES) turns on only those.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import inspect
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import aiohttp
import numpy as np
from scipy.sparse import coo_matrix

log = logging.getLogger("perheopas.rasa_speedups")

ACTION_KEEPALIVE_SECONDS = 2.0
_SESSION_ATTR = "_perheopas_session"


@lru_cache(maxsize=1)
def _validators_by_event() -> tuple[Any, dict[str, Any]] | None:
    """Validators for a reply without its events, and for one event of each type; None if the schema is not the
    one these were made for.

    The schema checks each event against a oneOf of 23 branches told apart by the `event` constant, so for an
    event whose type has a branch, "exactly one branch matches" is "its own branch matches". A reply that these
    validators pass is valid; any other reply gets the full check, and so Rasa's own error.
    """
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    try:
        item = schema["properties"]["events"]["items"]
        branches = item["oneOf"]
        consts = [branch["properties"]["event"]["const"] for branch in branches]
    except (KeyError, TypeError):
        return None
    if len(set(consts)) != len(consts) or set(item) != {"type", "properties", "required", "oneOf"}:
        return None
    cls = validator_for(schema)
    base = {key: value for key, value in item.items() if key != "oneOf"}
    per_event = {const: cls({"allOf": [base, branch]}) for const, branch in zip(consts, branches, strict=True)}
    rest = {**schema, "properties": {**schema["properties"], "events": {"type": "array"}}}
    return cls(rest), per_event


def _quickly_valid(result: Any) -> bool:
    """True only if the reply is certainly valid under Rasa's schema; False means "check it fully"."""
    validators = _validators_by_event()
    if validators is None or not isinstance(result, dict):
        return False
    rest, per_event = validators
    if not rest.is_valid(result):
        return False
    for event in result.get("events") or []:
        validator = per_event.get(str(event.get("event"))) if isinstance(event, dict) else None
        if validator is None or not validator.is_valid(event):
            return False
    return True


@lru_cache(maxsize=1)
def _action_response_validator() -> Any:
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
    from jsonschema import ValidationError
    from jsonschema.exceptions import best_match
    from rasa.shared.constants import DOCS_BASE_URL

    if _quickly_valid(result):
        return True
    try:
        # What jsonschema.validate does after its schema check: raise the most relevant error.
        error = best_match(_action_response_validator().iter_errors(result))
        if error is not None:
            raise error
        return True
    except ValidationError as error:
        error.message += (
            ". Failed to validate Action server response from API, make sure your response from the Action "
            f"endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise error


def _kept_session(endpoint: Any) -> aiohttp.ClientSession:
    """This endpoint's session on the running event loop, made with the settings of EndpointConfig.session()."""
    loop = asyncio.get_running_loop()
    kept: tuple[asyncio.AbstractEventLoop, aiohttp.ClientSession] | None = endpoint.__dict__.get(_SESSION_ATTR)
    if kept is not None and kept[0] is loop and not kept[1].closed:
        return kept[1]
    from rasa.core.constants import DEFAULT_REQUEST_TIMEOUT

    auth = None
    if endpoint.basic_auth:
        auth = aiohttp.BasicAuth(endpoint.basic_auth["username"], endpoint.basic_auth["password"])
    session = aiohttp.ClientSession(
        headers=endpoint.headers, auth=auth, timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
        connector=aiohttp.TCPConnector(keepalive_timeout=ACTION_KEEPALIVE_SECONDS),
    )
    endpoint.__dict__[_SESSION_ATTR] = (loop, session)
    return session


class _KeptSession:
    """What `async with endpoint.session()` enters: the kept session, left open on exit."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self._session = session

    async def __aenter__(self) -> aiohttp.ClientSession:
        return self._session

    async def __aexit__(self, *_exc: object) -> None:
        return None


def _session(self: Any) -> _KeptSession:
    """EndpointConfig.session, for Rasa's `async with self.session() as session:` in EndpointConfig.request."""
    return _KeptSession(_kept_session(self))


def hstack_pair(left: Any, right: Any) -> Any:
    """`scipy.sparse.hstack([left, right])` for two sparse matrices with the same number of rows, as COO."""
    a, b = left.tocoo(copy=False), right.tocoo(copy=False)
    dtype = np.result_type(a.dtype, b.dtype)
    return coo_matrix(
        (np.concatenate([a.data, b.data]).astype(dtype, copy=False),
         (np.concatenate([a.row, b.row]), np.concatenate([a.col, b.col + a.shape[1]]))),
        shape=(a.shape[0], a.shape[1] + b.shape[1]),
    )


def _combine_sparse_features(self: Any, additional_features: Any) -> None:
    """Features._combine_sparse_features of Rasa 3.6 with hstack_pair."""
    if self.features.shape[0] != additional_features.features.shape[0]:
        raise ValueError(
            f"Cannot combine sparse features as sequence dimensions do not "
            f"match: {self.features.shape[0]} != {additional_features.features.shape[0]}."
        )
    self.features = hstack_pair(self.features, additional_features.features)
    self._cached_fingerprint = None


_event_classes: dict[str, type] = {}
_original_resolve_by_type: Any = None


def _resolve_event_by_type(type_name: str, default: type | None = None) -> type | None:
    """Event.resolve_by_type of Rasa 3.6, remembering the classes it found."""
    found = _event_classes.get(type_name)
    if found is not None:
        return found
    resolved: type | None = _original_resolve_by_type(type_name, default)
    if resolved is not None and resolved is not default:
        _event_classes[type_name] = resolved
    return resolved


class FastPredictStep:
    """Rasa's `tf.function` predict step, with the one graph of its input signature called directly."""

    def __init__(self, function: Any) -> None:
        self.function = function
        self.specs: list[Any] = list(function.input_signature[0])
        self._graph: Any = None

    def fits(self, batch_in: Any) -> bool:
        """True if the batch is one the signature's graph takes as it is: same count, dtypes and compatible shapes."""
        if len(batch_in) != len(self.specs):
            return False
        for array, spec in zip(batch_in, self.specs, strict=True):
            if not isinstance(array, np.ndarray) or array.dtype != spec.dtype.as_numpy_dtype:
                return False
            if not spec.shape.is_compatible_with(array.shape):
                return False
        return True

    def __call__(self, batch_in: Any) -> Any:
        if not self.fits(batch_in):
            return self.function(batch_in)
        import tensorflow as tf

        if self._graph is None:
            self._graph = self.function.get_concrete_function()
        tensors = [tf.convert_to_tensor(array) for array in batch_in]
        # What the graph's own __call__ does after checking the structure that fits() checked.
        return self._graph._call_flat(tensors, self._graph.captured_inputs)


_original_rasa_predict: Any = None


def _rasa_predict(self: Any, batch_in: Any) -> Any:
    """RasaModel._rasa_predict of Rasa 3.6; the predict step Rasa made on its first call is then wrapped once."""
    outputs = _original_rasa_predict(self, batch_in)
    step = self._tf_predict_step
    if step is not None and not isinstance(step, FastPredictStep):
        self._tf_predict_step = FastPredictStep(step)
    return outputs


_original_load: Any = None


def _load(cls: Any, model_file_name: str, model_data_example: Any, predict_data_example: Any = None,
          finetune_mode: bool = False, *args: Any, **kwargs: Any) -> Any:
    """RasaModel.load of Rasa 3.6; for serving, the weights are restored as the first prediction builds the layers.

    Keras restores a TensorFlow-format checkpoint into layers not built yet when they are built. Only the optimizer's
    state in the checkpoint stays unused, which serving never needs (`expect_partial`).
    """
    if finetune_mode or predict_data_example is None:
        return _original_load.__func__(cls, model_file_name, model_data_example, predict_data_example,
                                       finetune_mode, *args, **kwargs)
    model = cls(*args, **kwargs)
    model.load_weights(model_file_name).expect_partial()
    model.run_inference(predict_data_example)
    return model


ENV_SWITCH = "PERHEOPAS_RASA_SPEEDUPS"
RASA_VERSION = "3.6.21"
TENSORFLOW_VERSIONS = ("2.12.",)


@dataclass(frozen=True)
class Patch:
    """One speed-up: what it replaces and relies on, with the fingerprints of that code when it was made."""

    name: str
    #: "module:Qualified.name" of each function replaced or relied on, the replaced one first, with the first 16 hex
    #: digits of the SHA-256 of its source as installed when the patch was written.
    fingerprints: dict[str, str]
    install: Callable[[], None]
    uses_tensorflow: bool = False


def _target(path: str) -> Any:
    """The function behind "module:Class.attr", unwrapped from staticmethod and classmethod."""
    module_name, qualname = path.split(":")
    owner: Any = importlib.import_module(module_name)
    *outer, last = qualname.split(".")
    for part in outer:
        owner = getattr(owner, part)
    found = owner.__dict__[last] if isinstance(owner, type) else getattr(owner, last)
    return getattr(found, "__func__", found)


def fingerprint(path: str) -> str:
    """The first 16 hex digits of the SHA-256 of the source of the function at "module:Qualified.name"."""
    return hashlib.sha256(inspect.getsource(_target(path)).encode("utf-8")).hexdigest()[:16]


def _install_action_schema() -> None:
    from rasa.core.actions.action import RemoteAction

    RemoteAction._validate_action_result = _validate_action_result


def _install_action_session() -> None:
    from rasa.utils.endpoints import EndpointConfig

    EndpointConfig.session = _session


def _install_sparse_hstack() -> None:
    from rasa.shared.nlu.training_data.features import Features

    Features._combine_sparse_features = _combine_sparse_features


def _install_event_classes() -> None:
    from rasa.shared.core.events import Event

    global _original_resolve_by_type
    _original_resolve_by_type = Event.resolve_by_type
    Event.resolve_by_type = staticmethod(_resolve_event_by_type)


def _install_predict_step() -> None:
    from rasa.utils.tensorflow.models import RasaModel

    global _original_rasa_predict
    _original_rasa_predict = RasaModel._rasa_predict
    RasaModel._rasa_predict = _rasa_predict


def _install_load_without_training() -> None:
    from rasa.utils.tensorflow.models import RasaModel

    global _original_load
    _original_load = RasaModel.__dict__["load"]
    RasaModel.load = classmethod(_load)


_MONOMORPHIC = "tensorflow.python.eager.polymorphic_function.monomorphic_function"

PATCHES: tuple[Patch, ...] = (
    Patch("action_schema", {
        "rasa.core.actions.action:RemoteAction._validate_action_result": "f8cdb4be68123961",
        "rasa.core.actions.action:RemoteAction.action_response_format_spec": "091b74aa3738d126",
    }, _install_action_schema),
    Patch("action_session", {
        "rasa.utils.endpoints:EndpointConfig.session": "e55aa13d9d4fb4bc",
        "rasa.utils.endpoints:EndpointConfig.request": "ccdb778aed8208e2",
    }, _install_action_session),
    Patch("sparse_hstack", {
        "rasa.shared.nlu.training_data.features:Features._combine_sparse_features": "9837d864e5983243",
    }, _install_sparse_hstack),
    Patch("event_classes", {
        "rasa.shared.core.events:Event.resolve_by_type": "b5cf570fa7f286c7",
    }, _install_event_classes),
    Patch("predict_step", {
        "rasa.utils.tensorflow.models:RasaModel._rasa_predict": "7f745b0f9cb647c9",
        "rasa.utils.tensorflow.models:RasaModel._dynamic_signature": "60490a3a5493f782",
        f"{_MONOMORPHIC}:ConcreteFunction._call_flat": "227de9e319ab2b74",
    }, _install_predict_step, uses_tensorflow=True),
    Patch("load_without_training", {
        "rasa.utils.tensorflow.models:RasaModel.load": "84fd81c0fdd01a80",
        "rasa.utils.tensorflow.models:RasaModel.run_inference": "e628d03665d82d9d",
    }, _install_load_without_training, uses_tensorflow=True),
)
PATCH_NAMES = tuple(patch.name for patch in PATCHES)

def installed(patch: Patch) -> bool:
    """Whether the function this patch replaces is ours now (so a second apply() leaves it alone)."""
    try:
        return getattr(_target(next(iter(patch.fingerprints))), "__module__", "") == __name__
    except (ImportError, AttributeError, KeyError):
        return False


def selected(setting: str | None) -> tuple[str, ...]:
    """The patch names a PERHEOPAS_RASA_SPEEDUPS value turns on: unset, "on" or "all" all of them; "off" none."""
    value = (setting or "on").strip().lower()
    if value in ("on", "all", "1", "true", "yes"):
        return PATCH_NAMES
    if value in ("off", "none", "0", "false", "no"):
        return ()
    names = tuple(name.strip() for name in value.split(",") if name.strip())
    unknown = sorted(set(names) - set(PATCH_NAMES))
    if unknown:
        log.warning("%s names unknown speed-ups %s; known: %s", ENV_SWITCH, unknown, ", ".join(PATCH_NAMES))
    return tuple(name for name in PATCH_NAMES if name in names)


def _versions_differ(patch: Patch) -> str | None:
    import rasa

    if rasa.__version__ != RASA_VERSION:
        return f"Rasa is {rasa.__version__}, not {RASA_VERSION}"
    if patch.uses_tensorflow:
        import tensorflow as tf

        if not tf.__version__.startswith(TENSORFLOW_VERSIONS):
            return f"TensorFlow is {tf.__version__}, not {' or '.join(v + 'x' for v in TENSORFLOW_VERSIONS)}"
    return None


def _fingerprints_differ(patch: Patch) -> str | None:
    for path, expected in patch.fingerprints.items():
        try:
            found = fingerprint(path)
        except (ImportError, AttributeError, KeyError, TypeError, OSError) as error:
            return f"{path} is gone ({type(error).__name__}: {error})"
        if found != expected:
            return f"{path} changed (fingerprint {found}, made for {expected})"
    return None


def apply(setting: str | None = None) -> dict[str, str]:
    """Install the selected speed-ups once per process; returns each patch's outcome: "applied", "off" or why
    it was skipped. `setting` defaults to the PERHEOPAS_RASA_SPEEDUPS environment variable."""
    wanted = selected(os.environ.get(ENV_SWITCH) if setting is None else setting)
    outcomes: dict[str, str] = {}
    for patch in PATCHES:
        if installed(patch):
            outcomes[patch.name] = "applied"
            continue
        if patch.name not in wanted:
            outcomes[patch.name] = "off"
            continue
        reason = _versions_differ(patch) or _fingerprints_differ(patch)
        if reason:
            log.warning("Rasa speed-up %s skipped: %s. Rasa runs as it is, only slower; review the patch in %s.",
                        patch.name, reason, __name__)
            outcomes[patch.name] = f"skipped: {reason}"
            continue
        patch.install()
        outcomes[patch.name] = "applied"
    log.info("Rasa speed-ups: %s", ", ".join(f"{name} {outcome.split(':')[0]}" for name, outcome in outcomes.items()))
    return outcomes
