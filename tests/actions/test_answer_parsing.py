"""Reading typed answers: ages, languages, form choices (word lists in actions/data/answers.yml)."""

from __future__ import annotations

import pytest

from actions.needs import load_needs
from actions.parsing import answers, choose, is_skip, opposites, parse_age, parse_language, read_choice


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


# --- negation and mixed answers (S9): one matcher for every question -------------------------------------------

@pytest.mark.parametrize("group, text, value, refused", [
    ("contact_method", "älä soita", "sms", {"call"}),
    ("contact_method", "Älkää soittako", "sms", {"call"}),
    ("contact_method", "ei soittoa, vain tekstiviesti", "sms", {"call"}),
    ("contact_method", "ei puhelua", "sms", {"call"}),
    ("contact_method", "tekstari käy mut ei soittoa", "sms", {"call"}),
    ("contact_method", "soitto ei käy", "sms", {"call"}),
    ("contact_method", "en halua että soitatte", "sms", {"call"}),
    ("contact_method", "don't call", "sms", {"call"}),
    ("contact_method", "please don’t call me, send a text", "sms", {"call"}),
    ("contact_method", "ring inte", "sms", {"call"}),
    ("contact_method", "ring mig inte", "sms", {"call"}),
    ("contact_method", "ei tekstiviestiä vaan soitto", "call", {"sms"}),
    ("contact_method", "ei soittoa eikä tekstiviestiä", None, {"call", "sms"}),
    ("contact_method", "älä soita äläkä laita viestiä", None, {"call", "sms"}),
    ("contact_method", "ei haittaa jos soitatte", "call", set()),
    ("contact_method", "soittakaa, ei haittaa", "call", set()),
    ("contact_method", "en tiedä", None, set()),
    ("urgency", "ei ole kiire", "later", {"urgent"}),
    ("urgency", "ei kiirettä", "later", set()),
    ("urgency", "ei mikään kiire", "later", {"urgent"}),
    ("urgency", "voi odottaa", "later", set()),
    ("urgency", "ei voi odottaa", "urgent", {"later"}),
    ("urgency", "ei hätää", "later", set()),
    ("urgency", "tarvitsen sosiaalityöntekijää kiireesti, asun Oulussa", "urgent", set()),
    ("urgency", "det är brådskande", "urgent", set()),
    ("urgency", "it's urgent", "urgent", set()),
    ("time_window", "ei sovi aamulla", "afternoon", {"morning"}),
    ("time_window", "aamupäivä ei käy", "afternoon", {"morning"}),
    ("time_window", "ei aamulla vaan iltapäivällä", "afternoon", {"morning"}),
    ("time_window", "ei aamulla eikä iltapäivällä", None, {"morning", "afternoon"}),
    ("time_window", "ei väliä", "any", set()),
    ("consent", "ei", "no", set()),
    ("consent", "en hyväksy", "no", set()),
    ("consent", "kyllä, ei haittaa", "yes", set()),
    ("leave_message", "älä jätä viestiä", "no", set()),
    ("leave_message", "ei saa", "no", set()),
    ("leave_message", "saa jättää", "yes", set()),
    ("topic", "ei väkivaltaa, erotilanne vain", "eroauttaminen", {"lahisuhdevakivalta"}),
])
def test_negation_and_mixed_answers(group: str, text: str, value: str | None, refused: set[str]) -> None:
    said = read_choice(text, answers()[group], opposites(group))
    assert (said.value, set(said.refused)) == (value, refused)
    assert choose(text, answers()[group], group) == value


def test_every_question_has_its_words_and_opposites_name_options() -> None:
    data = answers()
    for group, table in data["opposites"].items():
        assert set(table) | set(table.values()) <= set(data[group]), group
    assert {"words", "clause_words", "idioms"} <= set(data["negation"])
