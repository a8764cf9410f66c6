"""The learned second opinion of the safety triage (bot/safety/learned.py, bot/safety/learn.py).

The figures it reaches on the independent sets are held by tests/test_safety_sets.py; here: the scorer computes
what scikit-learn computes, the bundled model matches its training inputs, a bad model file fails at load, and
the triage combines the two layers as documented (S1, S6, S8).
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bot.safety import learn
from bot.safety.learn import THRESHOLDS
from bot.safety.learned import (
    HEADS,
    WORD_MARK,
    LearnedModel,
    LearnedModelError,
    default_model,
    features,
    load_model,
)
from bot.safety.triage import (
    CRISIS,
    DANGER,
    HARM_THOUGHTS,
    LEARNED_DANGER,
    LEARNED_VETO,
    NONE,
    Triage,
    crisis_patterns,
    default_patterns,
    triage,
    triage_with,
    young_patterns,
)

REPO = Path(__file__).resolve().parent.parent

# Fictional training messages for the parity test: enough for every n-gram the test texts use to repeat.
TINY = [
    ("se löi mua taas ja pelkään", (1, 0, 0)),
    ("mies uhkaa tappaa mut jos lähden", (1, 0, 0)),
    ("pelkään mennä kotiin, se lyö", (1, 0, 0)),
    ("en halua enää elää", (0, 1, 0)),
    ("haluan kuolla, en jaksa enää", (0, 1, 0)),
    ("pelottavia ajatuksia vauvan satuttamisesta", (0, 0, 1)),
    ("pelkään että satutan vauvaa", (0, 0, 1)),
    ("missä on perhekahvila oulussa", (0, 0, 0)),
    ("taapero lyö leikeissä muita lapsia", (0, 0, 0)),
    ("mihin aikaan neuvola on auki", (0, 0, 0)),
    ("lapsi ei nuku ja olen väsynyt", (0, 0, 0)),
    ("eroneuvontaa kaipaisin oulussa", (0, 0, 0)),
]


def _sklearn_fit() -> tuple[object, list[object]]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectoriser = TfidfVectorizer(analyzer=features, sublinear_tf=True, min_df=1)
    matrix = vectoriser.fit_transform([text for text, _ in TINY])
    heads = [LogisticRegression(C=10.0, max_iter=2000).fit(matrix, [labels[h] for _, labels in TINY])
             for h in range(len(HEADS))]
    return vectoriser, heads


def test_features_fold_like_the_patterns_and_mark_words() -> None:
    assert features("MÄ PELKÄÄN!!!") == features("ma pelkaan")
    grams = features("se lyö a")
    assert " se " in grams and " a " in grams and grams.count(" a ") == 1  # a short word counts once
    assert f"{WORD_MARK}se" in grams and f"{WORD_MARK}se lyo" in grams
    assert not any(WORD_MARK in gram for gram in grams if not gram.startswith(WORD_MARK))
    assert features("") == [] and features("!!! ...") == []


def test_the_scorer_computes_what_sklearn_computes(tmp_path: Path) -> None:
    vectoriser, heads = _sklearn_fit()
    path = tmp_path / "model.json.gz"
    learn.save_model(learn.export(vectoriser, heads, "test", len(TINY)), path)
    model = load_model(path)
    texts = ["se löi mua", "Pelkään! Se lyö taas", "en jaksa elää", "neuvola oulussa auki?", "xyz", "",
             "vauvan satuttamisesta pelottavia pelottavia ajatuksia"]
    expected = {head: fitted.predict_proba(vectoriser.transform(texts))[:, 1]  # type: ignore[attr-defined]
                for head, fitted in zip(HEADS, heads, strict=True)}
    for index, text in enumerate(texts):
        got = model.scores(text)
        for head in HEADS:
            assert getattr(got, head) == pytest.approx(expected[head][index], abs=1e-5), (text, head)


def test_saving_is_reproducible(tmp_path: Path) -> None:
    vectoriser, heads = _sklearn_fit()
    first, second = tmp_path / "a.json.gz", tmp_path / "b.json.gz"
    learn.save_model(learn.export(vectoriser, heads, "x", 1), first)
    learn.save_model(learn.export(vectoriser, heads, "x", 1), second)
    assert first.read_bytes() == second.read_bytes()


def test_the_bundled_model_matches_its_training_inputs() -> None:
    """A change to the development safety sets, the NLU data or the training settings needs a retrained model."""
    assert learn.is_fresh(), "bot/safety/data/learned_triage.json.gz is stale: run `python -m bot safety-train`"


def test_the_training_inputs_hold_no_evaluation_set() -> None:
    files = [path.relative_to(REPO).as_posix() for path in learn.input_files()]
    assert any(name.startswith("tests/safety_sets/dev/") for name in files)
    assert any(name.startswith("data/nlu/") for name in files)
    for name in files:
        assert not name.startswith(("tests/nlu", "tests/safety_sets/heldout", "tests/safety_sets/fresh")), name
        assert "/generated/" not in name


def test_the_check_command_reports_a_fresh_model() -> None:
    done = subprocess.run([sys.executable, "-m", "bot", "safety-train", "--check"], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "matches its training inputs" in done.stdout


def test_nlu_examples_lose_their_entity_annotations(tmp_path: Path) -> None:
    path = tmp_path / "nlu.yml"
    path.write_text('version: "3.1"\nnlu:\n- intent: violence_experiencing\n  examples: |\n'
                    '    - asun [Oulussa](municipality) ja se lyö\n'
                    '    - [Espoo]{"entity": "municipality"} pelottaa\n'
                    '- intent: violence_shelter\n  examples: |\n    - turvakoti\n'
                    '- intent: neuvola\n  examples: |\n    - neuvola [Oulu](municipality:Oulu)\n',
                    encoding="utf-8")
    examples = learn.nlu_examples([path])
    assert [(e.text, e.labels) for e in examples] == [
        ("asun Oulussa ja se lyö", (1, 0, 0)), ("Espoo pelottaa", (1, 0, 0)), ("neuvola Oulu", (0, 0, 0))]


@pytest.mark.parametrize("content", [
    b"", b"not gzip", gzip.compress(b"{not json", mtime=0), gzip.compress(b"[]", mtime=0),
    gzip.compress(json.dumps({"format": 99}).encode(), mtime=0),
], ids=["empty", "not-gzip", "not-json", "not-a-mapping", "wrong-format"])
def test_a_bad_model_file_fails_at_load(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.json.gz"
    path.write_bytes(content)
    with pytest.raises(LearnedModelError):
        load_model(path)


def test_a_model_with_the_wrong_width_fails_at_load(tmp_path: Path) -> None:
    data = {"format": 1, "heads": list(HEADS), "fingerprint": "x", "intercepts": [0, 0, 0],
            "thresholds": dict(THRESHOLDS.__dict__), "vocabulary": {" a": [1.0, 2.0]}}
    path = tmp_path / "narrow.json.gz"
    path.write_bytes(gzip.compress(json.dumps(data).encode(), mtime=0))
    with pytest.raises(LearnedModelError, match="idf"):
        load_model(path)


def test_a_missing_model_file_fails_at_load(tmp_path: Path) -> None:
    with pytest.raises(LearnedModelError, match="cannot read"):
        load_model(tmp_path / "nothing.json.gz")


def _model(gram_weights: dict[str, tuple[float, float, float]], intercepts: tuple[float, float, float] = (-4, -4, -4),
           ) -> LearnedModel:
    """A hand-made model: each listed n-gram with idf 1 and the given weights per head."""
    vocabulary = {gram: (1.0, *weights) for gram, weights in gram_weights.items()}
    return LearnedModel(vocabulary, intercepts, THRESHOLDS, "test")


def _triage(text: str, model: LearnedModel | None) -> Triage:
    return triage_with(text, default_patterns(), crisis_patterns(), young_patterns(), model)


def test_a_sure_model_adds_danger_the_patterns_missed_with_the_immediacy_cue() -> None:
    sure = _model({f"{WORD_MARK}kurpitsa": (20.0, 0.0, 0.0)})
    later = _triage("kurpitsa", sure)
    assert later.route == DANGER and later.danger.matched == (LEARNED_DANGER,) and not later.danger.immediate
    assert later.pattern_language is None  # the reply's language comes from the message, not from patterns
    now = _triage("kurpitsa nyt", sure)
    assert now.route == DANGER and now.danger.immediate
    assert _triage("kurpitsa", _model({})).route == NONE


def test_an_unsure_model_vetoes_a_pattern_hit_but_never_an_immediate_one() -> None:
    doubtful = _model({}, intercepts=(-6.0, -6.0, -6.0))
    told = "mieheni löi minua eilen"
    assert _triage(told, None).route == DANGER
    vetoed = _triage(told, doubtful)
    assert vetoed.route == NONE and vetoed.danger.matched == (LEARNED_VETO,)
    immediate = _triage("hän lyö minua juuri nyt, auttakaa", doubtful)
    assert immediate.route == DANGER and immediate.danger.immediate


def test_a_sure_model_adds_a_crisis_of_the_likelier_kind() -> None:
    own = _triage("kurpitsa", _model({f"{WORD_MARK}kurpitsa": (0.0, 20.0, 5.0)}))
    assert own.route == CRISIS and own.crisis == "suicide"
    baby = _triage("kurpitsa", _model({f"{WORD_MARK}kurpitsa": (0.0, 5.0, 20.0)}))
    assert baby.route == HARM_THOUGHTS and baby.crisis == "harm_thoughts"


def test_the_crisis_patterns_keep_their_kind() -> None:
    """A crisis the patterns saw keeps the patterns' kind (a close one stays a close one)."""
    verdict = _triage("tyttäreni viiltelee itseään", _model({}, intercepts=(0.0, 6.0, 6.0)))
    assert verdict.crisis == "close_one"


@pytest.mark.parametrize("text, route", [
    # Fictional messages the pattern files do not cover, in words of their own.
    ("en näe enää mitään järkeä tässä kaikessa, olisi helpompaa olla olematta", CRISIS),
    ("kun hän juo, joudun lukitsemaan makuuhuoneen oven", DANGER),
])
def test_the_bundled_model_on_messages_the_patterns_alone_judge_otherwise(text: str, route: str) -> None:
    patterns_alone = _triage(text, None).route
    assert patterns_alone != route
    assert triage(text).route == route


def test_the_bundled_model_loads_once() -> None:
    assert default_model() is default_model()
    assert len(default_model().vocabulary) > 10_000
