"""Two-stage fallback: first a request to rephrase, then a catalogue text search and a callback."""

from __future__ import annotations

from action_fixtures import make_tracker, run
from sqlalchemy.orm import Session, sessionmaker

from actions.actions import ActionFallbackHelp
from catalog.query import search_text
from core.clock import now as clock_now

FIRST_FALLBACK = [
    {"event": "user", "text": "blaa", "parse_data": {"intent": {"name": "nlu_fallback"}}},
    {"event": "action", "name": "action_extract_slots"},
    {"event": "action", "name": "action_fallback_help"},
    {"event": "bot", "text": "En ihan ymmärtänyt."},
]


async def test_first_fallback_asks_to_rephrase(sessions: sessionmaker[Session]) -> None:
    outcome = await run(ActionFallbackHelp(), make_tracker("blaa blaa", "nlu_fallback"))
    assert "toisin sanoin" in outcome.text
    assert "/find_kohtaamispaikka" in outcome.payloads


async def test_second_fallback_searches_the_catalogue_and_offers_a_callback(sessions: sessionmaker[Session]) -> None:
    typed = "lastenvalvoja Oulu"
    with sessions() as session:
        found = [r.channel_name for r in search_text(session, typed, limit=3, now=clock_now())]
    assert found, "sample data changed"
    outcome = await run(ActionFallbackHelp(), make_tracker(typed, "nlu_fallback", history=FIRST_FALLBACK))
    assert found[0] in outcome.text
    assert "/request_callback" in outcome.payloads


async def test_second_fallback_without_results_says_so(sessions: sessionmaker[Session]) -> None:
    outcome = await run(ActionFallbackHelp(), make_tracker("qwerty zxcv", "nlu_fallback", history=FIRST_FALLBACK))
    assert "enkä löytänyt" in outcome.text
    assert "/request_callback" in outcome.payloads


async def test_fallback_after_another_answer_starts_again(sessions: sessionmaker[Session]) -> None:
    history = [{"event": "user", "text": "moi", "parse_data": {"intent": {"name": "greet"}}},
               {"event": "action", "name": "utter_greet"}]
    outcome = await run(ActionFallbackHelp(), make_tracker("blaa", "nlu_fallback", history=history))
    assert "toisin sanoin" in outcome.text
