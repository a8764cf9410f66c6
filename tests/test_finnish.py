"""core.finnish: the one Finnish text module. These tests pin what each caller relied on before the duplicates
were merged (actions/parsing.py, catalog/topics.py, catalog/municipalities.py, catalog/query.py, the tokenizer)."""

from __future__ import annotations

import threading
import time
import unicodedata
from typing import Any

import pytest

from bot.safety.danger import normalise
from core.finnish import Voikko, VoikkoUnavailableError, fold, search_stem, strip_diacritics

TRICKY = ["Straße", "ﬁnlandia", "Hämeenlinnassa ÅÄÖ", "İstanbul", "Ǆ", "ÉCOLE", "a\u0308iti", "Ñandú", "", "ÆØ ½ ²"]


def _old_answer_fold(text: str) -> str:
    """actions/parsing.py's fold before the merge: lower(), NFKD, marks dropped."""
    text = unicodedata.normalize("NFKD", (text or "").lower())
    return "".join(ch for ch in text if not unicodedata.combining(ch))


@pytest.mark.parametrize("text", TRICKY)
def test_fold_is_the_answers_and_topics_fold(text: str) -> None:
    # catalog/topics.py's fold was the same with a translate-table fast path for common letters.
    assert fold(text) == _old_answer_fold(text)


def test_fold_lowers_rather_than_casefolds_and_decomposes_compatibility_characters() -> None:
    assert fold("Lähisuhdeväkivalta ÅÄÖ") == "lahisuhdevakivalta aao"
    assert fold("Straße") == "straße"  # lower(), not casefold(): the catalogue's search text was built so
    assert fold("ﬁnlandia") == "finlandia"  # NFKD
    assert fold(None) == ""


def test_strip_diacritics_keeps_case_and_compatibility_characters() -> None:
    # The municipality index folds text that is already case-folded, with canonical decomposition only.
    assert strip_diacritics("Hämeenlinnassa ÅÄÖ") == "Hameenlinnassa AAO"
    assert strip_diacritics("hämeenlinnassa") == "hameenlinnassa"
    assert strip_diacritics("ﬁnlandia") == "ﬁnlandia"
    assert strip_diacritics("Straße") == "Straße"


def test_the_danger_detector_keeps_its_own_casefolding_normalisation() -> None:
    # bot/safety/danger.py does not use core.finnish: its patterns and measured rates rest on casefold().
    assert normalise("Straße") == "strasse"
    assert normalise("Hämeenlinnassa ÅÄÖ!") == "hameenlinnassa aao"


@pytest.mark.parametrize(
    ("token", "stem"),
    [
        ("turvakotiin", "turvako"),
        ("sovittelua", "sovitte"),
        ("erotilanteessa", "erotilant"),
        ("erotilanne", "erotilan"),
        ("perhekahvila", "perhekahv"),
        ("ja", "ja"),
    ],
)
def test_search_stem(token: str, stem: str) -> None:
    assert search_stem(token) == stem


class _Handle:
    """A stand-in libvoikko handle that notices being used by two threads at once."""

    def __init__(self) -> None:
        self.busy = False
        self.overlaps = 0

    def analyze(self, word: str) -> list[dict[str, str]]:
        if word == "boom":
            raise RuntimeError("libvoikko crashed")
        if self.busy:
            self.overlaps += 1
        self.busy = True
        time.sleep(0.001)
        self.busy = False
        return [{"BASEFORM": word.rstrip("n"), "CLASS": "nimisana"}]


class _FakeVoikko(Voikko):
    def __init__(self, handle: Any, error: str | None = None) -> None:
        super().__init__()
        self._fake = (handle, error)

    def _open(self) -> tuple[Any, str | None]:
        return self._fake


def test_voikko_failures_mean_no_analyses() -> None:
    voikko = _FakeVoikko(_Handle())
    assert voikko.available()
    assert voikko.analyze("talon") == ({"BASEFORM": "talo", "CLASS": "nimisana"},)
    assert voikko.analyze("boom") == ()


def test_voikko_unavailable_is_tolerated_unless_required() -> None:
    voikko = _FakeVoikko(None, "PyPI package 'libvoikko' is missing")
    assert not voikko.available()
    assert voikko.analyze("talon") == ()
    with pytest.raises(VoikkoUnavailableError, match="libvoikko"):
        voikko.require()


def test_voikko_handle_is_used_by_one_thread_at_a_time() -> None:
    handle = _Handle()
    voikko = _FakeVoikko(handle)
    threads = [threading.Thread(target=lambda n=n: [voikko.analyze(f"w{n}-{i}") for i in range(30)]) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert handle.overlaps == 0
