"""Issue 19's acceptance, in-process: conversations through the actions and the web app are counted, the counts
come out of `python -m bot stats --json` and the coordinators' dashboard, and no text or id reaches the counters."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from action_fixtures import make_tracker, run
from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from test_staff import PASSWORD, TOTP_SECRETS, login
from webapp_helpers import web_client

from actions.actions import ActionFallbackHelp, ActionShowServices
from actions.callback_steps import ActionSubmitCallback
from bot.callbacks import staff_store
from bot.callbacks.models import CallbackRequest
from bot.safety.triage import triage
from bot.stats.models import StatCount
from bot.web import counting

REPO = Path(__file__).resolve().parents[2]
OFFICE = "2026-11-24T13:00:00+02:00"  # a Tuesday afternoon
EVENING = "2026-11-24T22:00:00+02:00"  # the same day, after hours
DANGER = "mieheni uhkaa tappaa minut"
CRISIS = "haluan tappaa itseni"
WEB_PHONE, WEB_ALIAS = "050 765 4321", "Kerttu"
CHAT_ALIAS = "Maija"
UNKNOWN_PLACE = "Salaisenpaikankylä"  # tests/actions/test_action_callback.py FILLED


def _session_id(n: int) -> str:
    return f"stats-session-{n:04d}-abcdef"


def _places(municipality: str) -> dict[str, str]:
    return {"service_need": "kohtaamispaikka", "municipality": municipality}


async def _through_the_actions() -> None:
    for _ in range(6):  # meeting places where the sample catalogue has them
        await run(ActionShowServices(), make_tracker(slots=_places("Kempele")))
    for _ in range(5):  # and where it has none: a catalogue gap
        await run(ActionShowServices(), make_tracker(slots=_places("Tyrnävä")))
    outcome = await run(ActionShowServices(), make_tracker(slots={"service_need": "ero_talk", "municipality": "Oulu"}))
    assert outcome.messages[-1]["custom"] == {"feedback_topic": "eroneuvonta"}, "the chat asks for feedback"
    for _ in range(2):
        await run(ActionFallbackHelp(), make_tracker("blaa blaa", "nlu_fallback", slots=_places("Kempele")))
    # A slot filled from an entity no resolver knew holds the person's own words: counted without it.
    await run(ActionFallbackHelp(), make_tracker("blaa", "nlu_fallback", slots={"municipality": UNKNOWN_PLACE}))
    filled = {"cb_topic": "eroauttaminen", "cb_contact_method": "call", "cb_time_window": "morning",
              "cb_consent": True, "cb_alias": CHAT_ALIAS, "cb_phone": "given"}
    outcome = await run(ActionSubmitCallback(), make_tracker("040 123 4567", "inform", slots=filled))
    assert "Kiitos" in outcome.text or "Maija" in outcome.text


async def test_conversations_are_counted_anonymously_and_reported(
        sessions: sessionmaker[Session], catalogue_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    with sessions() as db:
        db.execute(delete(StatCount))
        for name, role in (("aino", "coordinator"), ("eero", "worker")):
            user, _ = staff_store.add_user(db, name, PASSWORD, staff_store.utc_now(), replace=True, role=role)
            user.totp_secret = TOTP_SECRETS[name]
            user.totp_last_step = None
        db.commit()
    await _through_the_actions()
    sent_ids = [_session_id(n) for n in range(11)]
    async with web_client(catalogue_engine) as client:
        for index, session_id in enumerate(sent_ids):
            monkeypatch.setenv("PERHEOPAS_NOW", OFFICE if index < 5 else EVENING)
            resp = await client.post("/api/chat", json={"session": session_id, "message": "moi"})
            assert resp.status == 200
        for session_id, text in ((sent_ids[0], DANGER), (sent_ids[6], CRISIS)):
            assert (await client.post("/api/chat", json={"session": session_id, "message": text})).status == 200
        for n in range(11):
            body = {"session": sent_ids[n], "topic": "kohtaamispaikka", "rating": "up" if n < 6 else "down",
                    "reason": None if n < 6 else "not_near", "lang": "sv"}
            resp = await client.post("/api/feedback", json=body)
            assert resp.status == 201 and "Tack" in (await resp.json())["message"]
        refused = [
            ({"topic": "vapaa teksti", "rating": "up"}, {}),  # not a catalogue topic
            ({"topic": "kohtaamispaikka", "rating": "down", "reason": "tieto oli väärin, soita 0401234567"}, {}),
            ({"topic": "kohtaamispaikka", "rating": "up", "reason": "not_near"}, {}),  # a reason only with 👎
            ({"topic": "kohtaamispaikka", "rating": "up"}, {"Origin": "https://evil.example"}),
        ]
        for body, headers in refused:
            resp = await client.post("/api/feedback", json={"session": sent_ids[1], **body}, headers=headers)
            assert resp.status in (400, 403), body
        resp = await client.post("/api/callback", json={
            "session": sent_ids[2], "lang": "fi", "topic": "kohtaamispaikka", "contact_method": "call",
            "phone": WEB_PHONE, "time_window": "any", "alias": WEB_ALIAS, "municipality": "", "consent": True})
        assert resp.status == 201, await resp.text()

        monkeypatch.setenv("PERHEOPAS_NOW", EVENING)
        assert (await client.get("/staff/stats", allow_redirects=False)).status == 303  # no session: log in first
        csrf = await login(client, "aino")
        with sessions() as db:
            callback_ids = [row.id for row in db.execute(select(CallbackRequest)).scalars()]
        assert len(callback_ids) == 2
        for callback_id in callback_ids:
            await client.post(f"/staff/callbacks/{callback_id}/claim", data={"csrf_token": csrf})
            await client.post(f"/staff/callbacks/{callback_id}/done", data={"csrf_token": csrf, "note": "soitettu"})
        await counting.flush(client.server.app)

        page = await client.get("/staff/stats?since=2026-11-01")
        assert page.status == 200
        html = await page.text()
        for expected in ("Aiheet viikoittain", "Katvealueet", "Tyrnävä", "&lt; 5", 'src="/staff/stats/aiheet.svg'):
            assert expected in html
        chart = await client.get("/staff/stats/tunnit.svg?since=2026-11-01")
        assert chart.status == 200 and chart.content_type == "image/svg+xml"
        assert (await chart.text()).lstrip().startswith("<?xml")
        exported = await client.get("/staff/stats.csv?since=2026-11-01")
        assert exported.status == 200 and "attachment" in exported.headers["Content-Disposition"]
        rows = list(csv.reader(io.StringIO((await exported.read()).decode("utf-8-sig"))))
        assert ["catalogue_gaps", "2026-11-01..2026-11-24", "kohtaamispaikka", "Tyrnävä", "5"] in rows
        assert ["yhteensä", "2026-11-01..2026-11-24", "safety_replies", "", "< 5"] in rows

    async with web_client(catalogue_engine) as worker:
        await login(worker, "eero")
        assert (await worker.get("/staff/stats")).status == 403
        assert (await worker.get("/staff/stats.csv")).status == 403
        assert "Tilastot" not in await (await worker.get("/staff")).text()

    env = {**os.environ, "DATABASE_URL": str(catalogue_engine.url), "PERHEOPAS_NOW": EVENING}
    done = subprocess.run([sys.executable, "-m", "bot", "stats", "--json", "--since", "2026-11-01"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout)
    totals = figures["totals"]
    assert totals["conversations"] == 11 and totals["conversations_after_hours"] == 6
    assert totals["messages"] == 13
    assert totals["searches"] == 12 and totals["fallbacks"] == 3
    assert totals["callbacks_created"] == totals["callbacks_claimed"] == totals["callbacks_done"] == 2
    assert totals["feedback_up"] == 6 and totals["feedback_down"] == 5
    assert totals["mean_minutes_to_first_contact"] is not None
    assert figures["safety_replies"] == {triage(DANGER).route: 1, triage(CRISIS).route: 1}
    assert figures["conversations_by_hour"] == {"13": {"office": 5}, "22": {"after_hours": 6}}
    assert figures["topics_by_week"]["2026-W48"]["kohtaamispaikka"] == 11
    assert {"topic": "kohtaamispaikka", "municipality": "Tyrnävä", "searches": 5} in figures["catalogue_gaps"]
    assert figures["feedback_by_topic"]["kohtaamispaikka"] == {"up": 6, "down": 5, "not_near": 5}
    suppressed = subprocess.run([sys.executable, "-m", "bot", "stats", "--json", "--suppress"], cwd=REPO, env=env,
                                capture_output=True, text=True, timeout=120)
    assert json.loads(suppressed.stdout)["totals"]["fallbacks"] == "< 5"

    # Nothing from the conversations is in the counters: no text, no session or request id, no number, no name.
    with sessions() as db:
        stored = [" ".join(str(v) for v in row) for row in
                  db.execute(select(StatCount.day, StatCount.metric, StatCount.key1, StatCount.key2))]
    everything = "\n".join(stored).lower()
    secrets = [*sent_ids, *callback_ids, DANGER, CRISIS, "moi", "blaa", "0401234567", "4567", "7654321", WEB_ALIAS,
               CHAT_ALIAS, UNKNOWN_PLACE, "test-sender", "aino", "eero", "soitettu", "22:00", "13:00"]
    assert [s for s in secrets if s.lower() in everything] == []
