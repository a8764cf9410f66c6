"""Reading typed answers: ages, languages, form choices (word lists in actions/data/answers.yml)."""

from __future__ import annotations

import pytest

from actions.needs import load_needs
from actions.parsing import answers, choose, is_skip, parse_age, parse_language


@pytest.mark.parametrize("text, years", [
    ("2-vuotias", 2), ("3v", 3), ("5 vuotta", 5), ("kolmevuotias", 3), ("yksivuotias", 1), ("1v", 1),
    ("6kk", 0), ("3 kk", 0), ("puolivuotias", 0), ("vauva", 0), ("vauvaa", 0), ("vastasyntynyt", 0),
    ("taapero", 2), ("leikki-ikäisille", 4), ("alle kouluikäinen", 4), ("esikoululainen", 6),
    ("koululainen", 9), ("teini", 15), ("teini-ikäinen", 15), ("14-vuotias", 14), ("8", 8),
    ("Oulu", None), ("", None), ("40", None),
])
def test_age(text: str, years: int | None) -> None:
    assert parse_age(text) == years


@pytest.mark.parametrize("text, code", [
    ("ruotsiksi", "sv"), ("på svenska", "sv"), ("englanniksi", "en"), ("in English", "en"),
    ("englanninkielistä", "en"), ("venäjäksi", "ru"), ("ukrainaksi", "uk"), ("suomeksi", "fi"),
    ("selkosuomeksi", "fi"), ("arabiaksi", "ar"), ("somaliksi", "so"), ("Oulu", None),
])
def test_language(text: str, code: str | None) -> None:
    assert parse_language(text) == code


@pytest.mark.parametrize("group, text, value", [
    ("contact_method", "tekstiviestillä", "sms"), ("contact_method", "tekstari", "sms"),
    ("contact_method", "soittakaa mieluummin", "call"), ("contact_method", "en tiedä", None),
    ("time_window", "aamupäivällä", "morning"), ("time_window", "iltapäivisin", None),
    ("time_window", "iltapäivällä", "afternoon"), ("time_window", "milloin vain", "any"),
    ("urgency", "tarvitsen apua nyt", "urgent"), ("urgency", "voi odottaa maanantaihin", "later"),
    ("consent", "kyllä hyväksyn", "yes"), ("consent", "en hyväksy", "no"), ("consent", "ei", "no"),
    ("topic", "lastenvalvoja", "eroauttaminen"), ("topic", "mies lyö", "lahisuhdevakivalta"),
])
def test_choices(group: str, text: str, value: str | None) -> None:
    assert choose(text, answers()[group]) == value


def test_consent_words_are_strings() -> None:
    """YAML reads bare yes/no as booleans; the consent lists must hold words."""
    for words in answers()["consent"].values():
        assert all(isinstance(w, str) for w in words)
    assert set(answers()["consent"]) == {"yes", "no"}


@pytest.mark.parametrize("text, skip", [("ohita", True), ("En halua kertoa", True), ("Maija", False)])
def test_skip(text: str, skip: bool) -> None:
    assert is_skip(text) is skip


def test_needs_file_is_consistent() -> None:
    from catalog.topics import load_topics

    topics = set(load_topics().topics)
    for need in load_needs().values():
        assert set(need.topics) <= topics, need.name
        assert set(need.national_topics) <= topics, need.name
