"""No message text in Rasa's logs, at any level (safety rule S3).

Rasa 3.6 logs through structlog, and some of its events carry what a person wrote: the REST channel logs the whole
message at ERROR whenever a turn is cancelled or fails (`rest.message.received.timeout` / `.failure`), which
happens each time the gateway's timeout drops a connection; at DEBUG many events carry texts, slots and trackers.
Rasa's own hook for this (`_anonymizer`, first in its structlog processors) does nothing without Rasa Pro. Here
that processor is replaced, before Rasa configures its logging, by one that keeps only an event's name, level and
plain numbers and withholds every other value. Pattern redaction (bot.safety.redact) cannot do this: no pattern
recognises a name or a description of violence.

Unlike the speed-ups, this fails closed: if Rasa's logging set-up is not the one this was made for, Rasa is not
started (`python -m bot.rasa_ext` exits with the reason), because it could then log texts again.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

from bot.rasa_ext.speedups import fingerprint

WITHHELD = "[withheld]"
MAX_FRAMES = 6

#: Keys of structlog events whose values name what happened, never what a person wrote.
SAFE_KEYS = frozenset({
    "event", "event_key", "event_info", "level", "log_level", "timestamp", "logger", "stack", "exception",
    "action_name", "intent_name", "policy_name", "policy_type", "loop_name", "slot_name", "model", "model_id",
    "component", "node_name", "status", "code", "sender_id",
})

#: The function whose processor list starts with `_anonymizer`, with the fingerprint of its source when this module
#: was written (Rasa 3.6.21).
CONFIGURE = "rasa.utils.log_utils:configure_structlog"
CONFIGURE_FINGERPRINT = "80c9dcfa47c776b5"


class LogPrivacyError(RuntimeError):
    """Rasa's logging is not the one this module was made for, so Rasa might log what people write."""


def withhold_texts(_logger: Any, _method: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """A structlog processor: every value but the event's name, level and plain numbers becomes WITHHELD, and an
    exception becomes its type and where it was raised (Rasa renders tracebacks with every frame's locals, and
    an exception's message may quote its input)."""
    exc_info = event_dict.pop("exc_info", None)
    if exc_info:
        event_dict["exception"] = exception_summary(exc_info)
    for key, value in list(event_dict.items()):
        if key in SAFE_KEYS or value is None or isinstance(value, bool | int | float):
            continue
        event_dict[key] = WITHHELD
    return event_dict


def exception_summary(exc_info: Any) -> str:
    """"TypeError at file.py:12 in f <- caller.py:3 in g": an exception without its message or any frame's locals."""
    if exc_info is True:
        exc_info = sys.exc_info()
    error = exc_info if isinstance(exc_info, BaseException) else (
        exc_info[1] if isinstance(exc_info, tuple) and len(exc_info) == 3 else None)
    if error is None:
        return WITHHELD
    frames = traceback.extract_tb(error.__traceback__)[-MAX_FRAMES:]
    where = " <- ".join(f"{Path(frame.filename).name}:{frame.lineno} in {frame.name}" for frame in reversed(frames))
    return f"{type(error).__name__} at {where}" if where else type(error).__name__


def install() -> None:
    """Put withhold_texts where Rasa's structlog configuration takes its anonymiser; call before Rasa's main."""
    from rasa.utils import log_utils

    try:
        found = fingerprint(CONFIGURE)
    except (ImportError, AttributeError, KeyError, TypeError, OSError) as error:
        raise LogPrivacyError(f"{CONFIGURE} is gone ({error})") from error
    if found != CONFIGURE_FINGERPRINT or not hasattr(log_utils, "_anonymizer"):
        raise LogPrivacyError(
            f"{CONFIGURE} changed (fingerprint {found}, made for {CONFIGURE_FINGERPRINT}); review "
            f"{__name__} so that Rasa's structured logs still withhold message texts"
        )
    log_utils._anonymizer = withhold_texts
