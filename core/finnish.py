"""Finnish text helpers shared by the catalogue, the actions and the NLU tokenizer.

People type Finnish on keyboards without ä and ö, inflect every word, and the bot must still find what they mean.
This module is the one place for the three tools that deal with that: folding diacritics away, a crude search
stem, and one libvoikko handle for the whole process (it is costly to open and not safe to share between threads).

Two folds exist on purpose; each caller's exact behaviour is pinned by tests/test_finnish.py:

* :func:`fold` lower-cases (``str.lower``, so "ß" stays) and drops marks after *compatibility* decomposition
  ("ﬁ" -> "fi"). Answers, topics and the catalogue's search text use it.
* :func:`strip_diacritics` only drops marks after *canonical* decomposition and leaves case alone. The
  municipality index keys use it on text that is already case-folded.

The danger detector (bot/safety/danger.py) keeps its own normalisation: it case-folds, strips a fixed list of mark
ranges and runs on every message; its measured alarm rates are tied to exactly that.
"""

from __future__ import annotations

import functools
import logging
import threading
import unicodedata
from collections.abc import Mapping
from typing import Any

logger = logging.getLogger(__name__)

# --------------------------------------------------------------------------
# Diacritics

# The letters Finnish, Swedish and loan words use, mapped directly: most text needs no Unicode decomposition.
_FOLD_TABLE = str.maketrans("äöåüéèáàâêëïîôûçñ", "aoaueeaaaeeiioucn")


def fold(text: str | None) -> str:
    """Lower case without diacritics (ä→a, ö→o, å→a): how users type when the keyboard is not Finnish.

    ``str.lower`` (not casefold) and NFKD: "Straße" -> "straße", "ﬁ" -> "fi". None reads as "".
    """
    folded = (text or "").lower().translate(_FOLD_TABLE)
    if folded.isascii():
        return folded
    decomposed = unicodedata.normalize("NFKD", folded)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@functools.lru_cache(maxsize=65536)
def strip_diacritics(text: str) -> str:
    """``text`` without combining marks, case unchanged: 'hämeenlinnassa' -> 'hameenlinnassa', 'Ä' -> 'A'.

    Canonical decomposition (NFD) only, so compatibility characters such as "ﬁ" stay as they are. Cached: the
    municipality index folds the same tokens over and over.
    """
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


# --------------------------------------------------------------------------
# Search stem

# Case endings without diacritics, longest first; stripping one and a little more leaves a prefix that
# inflected forms share despite consonant gradation ("erotilanteessa" and "erotilanne" → "erotilan…").
_ENDINGS = (
    "issa",
    "illa",
    "ista",
    "ilta",
    "ille",
    "iksi",
    "ssa",
    "sta",
    "lla",
    "lta",
    "lle",
    "ksi",
    "tta",
    "ina",
    "ita",
    "ja",
    "na",
    "an",
    "en",
    "in",
    "on",
    "un",
    "yn",
    "ta",
    "a",
    "n",
    "t",
)


def search_stem(token: str) -> str:
    """A crude Finnish search stem of a folded token: "turvakotiin" → "turvako", "sovittelua" → "sovitte".

    Meant for substring search over folded text, where a short common prefix is enough; it is not a lemma.
    """
    for ending in _ENDINGS:
        if token.endswith(ending) and len(token) - len(ending) >= 4:
            token = token[: -len(ending)]
            break
    if len(token) >= 8:
        return token[:-2]
    if len(token) >= 6:
        return token[:-1]
    return token


# --------------------------------------------------------------------------
# Voikko


class VoikkoUnavailableError(RuntimeError):
    """libvoikko or its Finnish dictionary is missing (raised only by :meth:`Voikko.require`)."""


Analysis = Mapping[str, str]


class Voikko:
    """One libvoikko handle, opened on first use and used by one thread at a time.

    Failure-tolerant: without libvoikko, or when it fails on a word, :meth:`analyze` answers with no analyses, so
    callers degrade to their rules. A caller that cannot work without it (a model trained on lemmas) calls
    :meth:`require` at start-up instead.
    """

    def __init__(self, language: str = "fi", cache_size: int = 16384) -> None:
        self._language = language
        # A libvoikko handle must not be used by two threads at once; the same lock guards opening it.
        self._lock = threading.Lock()
        self._handle: Any = None
        self._error: str | None = None
        self._tried = False
        self._cached_analyze = functools.lru_cache(maxsize=cache_size)(self._analyze_uncached)

    def _get(self) -> Any:
        if not self._tried:
            with self._lock:
                if not self._tried:
                    self._handle, self._error = self._open()
                    if self._error:
                        logger.info("Voikko not available: %s", self._error)
                    self._tried = True
        return self._handle

    def _open(self) -> tuple[Any, str | None]:
        try:
            import libvoikko
        except ImportError:
            return None, "PyPI package 'libvoikko' is missing"
        try:
            return libvoikko.Voikko(self._language), None
        except OSError:
            return None, "libvoikko cannot open a Finnish dictionary; install Debian packages libvoikko1 and voikko-fi"
        except Exception as exc:  # noqa: BLE001 - any other failure also means "no Voikko"
            return None, f"libvoikko failed to start: {exc}"

    def available(self) -> bool:
        """True when libvoikko and its dictionary could be opened here."""
        return self._get() is not None

    def require(self) -> None:
        """Open the handle now; raise VoikkoUnavailableError (saying what to install) when it cannot be."""
        if self._get() is None:
            raise VoikkoUnavailableError(self._error or "libvoikko is not available")

    def analyze(self, word: str) -> tuple[Analysis, ...]:
        """Voikko's analyses of one word, the most common reading first; empty when unknown or unavailable."""
        if self._get() is None:
            return ()
        return self._cached_analyze(word)

    def _analyze_uncached(self, word: str) -> tuple[Analysis, ...]:
        try:
            with self._lock:
                analyses = self._handle.analyze(word)
            return tuple(analyses)
        except Exception:  # noqa: BLE001 - a Voikko error must not break a chat turn (nor log the user's word)
            return ()


#: The process's one Finnish Voikko.
VOIKKO = Voikko("fi")
