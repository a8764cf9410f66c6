"""The conversation's language while an action runs (S10).

Rasa's `reply_language` slot (set from the gateway's decision, core/language.py) names it; `in_reply_language`
decorates each action's `run` so that every text, date and catalogue record the action writes follows it without
passing the language through every function. A context variable keeps concurrent actions apart.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any, TypeVar

from rasa_sdk import Tracker

from core.language import DEFAULT_LANGUAGE, normalise_language

#: The conversation's language while an action runs (see in_reply_language); Finnish outside any run.
REPLY_LANGUAGE: ContextVar[str] = ContextVar("reply_language", default=DEFAULT_LANGUAGE)

Run = TypeVar("Run", bound=Callable[..., Awaitable[Any]])


def in_reply_language(run: Run) -> Run:
    """Decorates an action's `run`: every text it writes is in the conversation's `reply_language`."""

    @functools.wraps(run)
    async def wrapper(self: Any, dispatcher: Any, tracker: Tracker, domain: Any) -> Any:
        token = REPLY_LANGUAGE.set(normalise_language(tracker.get_slot("reply_language")) or DEFAULT_LANGUAGE)
        try:
            return await run(self, dispatcher, tracker, domain)
        finally:
            REPLY_LANGUAGE.reset(token)

    return wrapper  # type: ignore[return-value]


def reply_language() -> str:
    return REPLY_LANGUAGE.get()
