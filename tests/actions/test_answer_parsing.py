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


# --- Swedish and English answers (S10) -------------------------------------------------------------------------

@pytest.mark.parametrize("text, years", [
    ("2 år", 2), ("min dotter är 3 år", 3), ("treåring", 3), ("tre år", 3), ("ett år", 1), ("6 månader", 0),
    ("6 mån", 0), ("bebis", 0), ("nyfödd", 0), ("förskolebarn", 6), ("skolbarn", 9), ("tonåring", 15),
    ("under skolåldern", 4), ("hon går i daghem", 4), ("förskolan", 6),
    ("2 years", 2), ("she is 3 years old", 3), ("three-year-old", 3), ("a two year old", 2), ("6 months", 0),
    ("baby", 0), ("toddler", 2), ("teenager", 15), ("under school age", 4), ("school age", 9),
    ("Vaasa", None), ("sixty", None),
])
def test_age_in_swedish_and_english(text: str, years: int | None) -> None:
    assert parse_age(text) == years


@pytest.mark.parametrize("text, code", [
    ("på finska", "fi"), ("engelska", "en"), ("ryska", "ru"), ("arabiska", "ar"), ("in Russian", "ru"),
    ("Estonian", "et"), ("samiska", "se"), ("Persian", "fa"), ("kurdiska", "ku"),
])
def test_language_named_in_swedish_and_english(text: str, code: str) -> None:
    assert parse_language(text) == code


def test_language_names_follow_the_reply_language() -> None:
    from actions.parsing import language_adverb, language_name

    assert [language_name("sv", lang) for lang in ("fi", "sv", "en")] == ["ruotsi", "svenska", "Swedish"]
    assert [language_adverb("so", lang) for lang in ("fi", "sv", "en")] == ["somaliksi", "på somaliska", "in Somali"]
    assert language_name("xx", "sv") == "xx"
    for code, entry in answers()["languages"].items():
        assert set(entry["names"]) == set(entry["adverbs"]) == {"sv", "en"}, code


@pytest.mark.parametrize("group, text, value, refused", [
    ("contact_method", "ring mig", "call", set()),
    ("contact_method", "ett samtal", "call", set()),
    ("contact_method", "skicka ett sms", "sms", set()),
    ("contact_method", "textmeddelande", "sms", set()),
    ("contact_method", "messa mig", "sms", set()),
    ("contact_method", "inte samtal utan sms", "sms", {"call"}),
    ("contact_method", "ring inte och skicka inte sms", None, {"call", "sms"}),
    ("contact_method", "det gör inget om ni ringer", "call", set()),
    ("contact_method", "phone call please", "call", set()),
    ("contact_method", "send me a message", "sms", set()),
    ("contact_method", "I can't take calls, text me", "sms", {"call"}),
    ("contact_method", "neither call nor text", None, {"call", "sms"}),
    ("contact_method", "I don't mind if you call", "call", set()),
    ("time_window", "på förmiddagen", "morning", set()),
    ("time_window", "eftermiddag", "afternoon", set()),
    ("time_window", "i morgon eftermiddag", "afternoon", set()),
    ("time_window", "inte på förmiddagen", "afternoon", {"morning"}),
    ("time_window", "det spelar ingen roll", "any", set()),
    ("time_window", "det kvittar", "any", set()),
    ("time_window", "in the morning", "morning", set()),
    ("time_window", "afternoons are better", "afternoon", set()),
    ("time_window", "not in the morning", "afternoon", {"morning"}),
    ("time_window", "doesn't matter", "any", set()),
    ("time_window", "whenever", "any", set()),
    ("urgency", "jag behöver hjälp nu", "urgent", set()),
    ("urgency", "det är akut", "urgent", set()),
    ("urgency", "det kan vänta", "later", set()),
    ("urgency", "det kan inte vänta", "urgent", {"later"}),
    ("urgency", "ingen brådska", "later", set()),
    ("urgency", "I need help now", "urgent", set()),
    ("urgency", "it can wait", "later", set()),
    ("urgency", "not urgent", "later", {"urgent"}),
    ("urgency", "no rush", "later", set()),
    ("urgency", "it can't wait", "urgent", {"later"}),
    ("consent", "jag godkänner", "yes", set()),
    ("consent", "ja tack", "yes", set()),
    ("consent", "okej", "yes", set()),
    ("consent", "gärna", "yes", set()),
    ("consent", "visst inte", "no", {"yes"}),
    ("consent", "jag godkänner inte", "no", {"yes"}),
    ("consent", "nej", "no", set()),
    ("consent", "yes, I agree", "yes", set()),
    ("consent", "I don't agree", "no", {"yes"}),
    ("consent", "I disagree", "no", set()),
    ("consent", "not sure", None, set()),
    ("leave_message", "ja, det går bra", "yes", set()),
    ("leave_message", "lämna inget meddelande", "no", set()),
    ("leave_message", "gärna", "yes", set()),
    ("leave_message", "helst inte", "no", set()),
    ("leave_message", "yes, that's fine", "yes", set()),
    ("leave_message", "you can leave a message", "yes", set()),
    ("topic", "skilsmässa", "eroauttaminen", set()),
    ("topic", "min man slår mig", "lahisuhdevakivalta", set()),
    ("topic", "han misshandlar mig", "lahisuhdevakivalta", set()),
    ("topic", "babyklubben", "kohtaamispaikka", set()),
    ("topic", "mötesplatser", "kohtaamispaikka", set()),
    ("topic", "divorce and custody", "eroauttaminen", set()),
    ("topic", "something else", "muu", set()),
])
def test_swedish_and_english_answers(group: str, text: str, value: str | None, refused: set[str]) -> None:
    said = read_choice(text, answers()[group], opposites(group))
    assert (said.value, set(said.refused)) == (value, refused)


@pytest.mark.parametrize("group, text, value", [
    # Finnish "ja" is "and": a question about the notice is no consent, and "no" is a Finnish filler word.
    ("consent", "kuka näkee tiedot ja kauanko", None),
    ("consent", "no joo", None),
    ("contact_method", "soittakaa ja jättäkää viesti", None),
    ("leave_message", "mieheni lukee viestit ja kuuntelee vastaajan", None),
    ("urgency", "nyt ei ole kiire", "later"),
    ("time_window", "huomenna iltapäivällä", "afternoon"),
])
def test_new_words_do_not_change_finnish_answers(group: str, text: str, value: str | None) -> None:
    assert choose(text, answers()[group], group) == value


@pytest.mark.parametrize("text, skip", [
    ("hoppa över", True), ("jag vill inte säga", True), ("helst inte", True), ("I'd rather not say", True),
    ("skip", True), ("I don't want to say", True), ("Maja", False), ("Anna-Lena", False),
])
def test_skip_in_swedish_and_english(text: str, skip: bool) -> None:
    assert is_skip(text) is skip


@pytest.mark.parametrize("text", ["avbryt", "Hej", "thanks", "cancel", "nej"])
def test_words_that_are_no_name(text: str) -> None:
    from actions.callback import looks_like_name

    assert not looks_like_name(text)


def test_leave_message_any_no_wins_in_every_language() -> None:
    """S9: a "no" beside a "yes" is a no (the rule actions/callback.py applies)."""
    no_words = {"no": answers()["leave_message"]["no"]}
    for text in ("ja, men lämna inget meddelande", "yes but you can't leave a message", "okay, not a voicemail",
                 "please don't leave a message"):
        assert read_choice(text, no_words).value == "no", text
