"""Faults: the stack keeps answering safely when its parts fail, and never confirms a request it did not store.

The stack runs part by part (tests/parts.py: the argv and environment of `make run`), so one part can be
SIGKILLed or restarted while the others keep running. The tests run in file order and each first puts the
stack into the state it needs:

1. 500 contact requests submitted at once, the action server SIGKILLed part-way: every request the bot
   confirmed is in the database, once.
2. action server down: a danger message still gets 112 and Nollalinja first; other messages an honest reply.
3. application database unreachable: the actions answer with national services and say the local search is down.
4. Rasa down: the gateway's static safety reply.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import yaml
from parts import Parts, running_parts
from stack import REPO, free_port

NOW = "2026-11-24T13:00:00+02:00"  # a Tuesday afternoon: family-centre staff are in
SUBMISSIONS = 500
KILL_AFTER_CONFIRMED = 25  # low enough to land while most submissions are still in flight
CONFIRMED = "Pyyntösi on tallennettu"
PHONE_QUESTION = "Mihin numeroon"
# Answers for the contact-request form's questions, by button title; otherwise the first button that does not
# cancel, or typed text when there are no buttons (the municipality question).
PREFERRED_BUTTONS = ("Asia voi odottaa", "Erotilanne", "Soitto", "Mihin aikaan tahansa", "Kyllä, hyväksyn", "Ohita")
NOLLALINJA = "080 005 005"


# --- fast: the gateway's answers when Rasa fails, with Rasa faked ---

async def _gateway_reply(rasa_reply: list[dict[str, Any]] | None, message: str) -> tuple[int, dict[str, Any]]:
    from aiohttp import web
    from aiohttp.test_utils import TestServer

    from bot.web.gateway import Gateway

    async def webhook(request: web.Request) -> web.Response:
        return web.json_response(rasa_reply)

    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", webhook)
    server = TestServer(app)
    await server.start_server()
    url = str(server.make_url("")) if rasa_reply is not None else f"http://127.0.0.1:{free_port()}"
    gateway = Gateway(url, timeout_seconds=5)
    try:
        return await gateway.handle(uuid.uuid4().hex, message, None)
    finally:
        await gateway.close()
        await server.close()


@pytest.mark.parametrize("rasa_reply", [None, [], [{"custom": {"x": 1}}], [{"text": ""}]],
                         ids=["rasa-down", "empty", "no-text", "blank-text"])
@pytest.mark.parametrize("message", ["hei", "mun mies lyö mua"])
async def test_gateway_never_answers_with_silence(rasa_reply: list[dict[str, Any]] | None, message: str) -> None:
    status, body = await _gateway_reply(rasa_reply, message)
    assert status == 200 and body["degraded"] is True
    first = body["messages"][0]["text"]
    assert "112" in first and NOLLALINJA in first
    assert body["messages"][0]["custom"]["show_callback_form"] is True


async def test_danger_gets_the_emergency_lead_even_when_rasa_forgets_it() -> None:
    status, body = await _gateway_reply([{"text": "Kerro lisää."}], "mun mies lyö mua ja pelkään")
    assert status == 200
    first = body["messages"][0]["text"]
    assert "112" in first and NOLLALINJA in first


@pytest.mark.parametrize("message,numbers", [
    ("en halua enää elää", ("112", "09 2525 0111")),
    ("jag vill inte leva längre", ("112", "09 2525 0112")),
    ("pelottavia ajatuksia että satutan vauvaa", ("09 2525 0111", "116 117")),
    ("isä lyö äitiä ja minua", ("112", NOLLALINJA, "116 111")),
    ("mua kiusataan koulussa", ("116 111",)),
])
@pytest.mark.parametrize("rasa_reply", [None, [{"text": "Kerro lisää."}]], ids=["rasa-down", "rasa-forgets"])
async def test_crisis_and_young_writers_get_their_lead_whatever_rasa_does(
        rasa_reply: list[dict[str, Any]] | None, message: str, numbers: tuple[str, ...]) -> None:
    """S6, S7: the gateway's deterministic layer gives the first reply's numbers when Rasa is down or forgets."""
    status, body = await _gateway_reply(rasa_reply, message)
    assert status == 200
    first = body["messages"][0]["text"]
    assert all(number in first for number in numbers)
    if rasa_reply is None:
        assert body["messages"][0]["custom"]["show_callback_form"] is True


async def test_crisis_with_violence_gets_nollalinja_right_after_the_crisis_line() -> None:
    from bot.safety.texts import safety_text

    crisis = {"text": safety_text("crisis_lead")}
    status, body = await _gateway_reply([crisis], "mieheni lyö minua enkä halua enää elää")
    assert status == 200
    texts = [m["text"] for m in body["messages"]]
    assert "09 2525 0111" in texts[0] and NOLLALINJA in texts[1]


async def test_a_swedish_danger_message_gets_the_swedish_lead_when_rasa_is_down() -> None:
    status, body = await _gateway_reply(None, "min man slår mig och jag är rädd")
    first = body["messages"][0]["text"]
    assert first.startswith("Om du är i fara nu") and "Nollinjen 080 005 005" in first


# --- slow: the real processes ---

@pytest.fixture(scope="module")
def parts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Parts]:
    with running_parts(tmp_path_factory.mktemp("faults"), {"PERHEOPAS_NOW": NOW}) as started:
        yield started


def _text(replies: list[dict[str, Any]]) -> str:
    return "\n".join(str(r.get("text", "")) for r in replies)


def _fictional_phone(index: int) -> str:
    """Distinct, valid Finnish mobile numbers for the test: 040 1nnnnnn."""
    return f"040 1{index:06d}"


def _drive_to_phone_question(parts: Parts, sender: str) -> None:
    replies = parts.say(sender, "/request_callback")
    for _ in range(14):
        text = _text(replies)
        if PHONE_QUESTION in text:
            return
        buttons = [b for r in replies for b in r.get("buttons") or []]
        if buttons:
            chosen = next((b for title in PREFERRED_BUTTONS for b in buttons if b["title"] == title), None)
            chosen = chosen or next(b for b in buttons if "cancel" not in b["payload"])
            replies = parts.say(sender, chosen["payload"])
        else:
            replies = parts.say(sender, "Oulu")
    raise AssertionError(f"the form never asked for the phone number; last reply: {_text(replies)}")


def _clone_conversation(tracker_db: Path, source: str, targets: list[str]) -> None:
    """Copy one stored conversation to many senders, so 500 parents stand at the phone question at once."""
    with sqlite3.connect(tracker_db, timeout=30) as conn:
        rows = conn.execute("SELECT type_name, timestamp, intent_name, action_name, data FROM events "
                            "WHERE sender_id = ? ORDER BY id", (source,)).fetchall()
        assert rows
        conn.executemany(
            "INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(target, *row) for target in targets for row in rows],
        )


def _stored_phones(app_db: Path) -> list[str]:
    with sqlite3.connect(app_db, timeout=30) as conn:
        return [row[0] for row in conn.execute("SELECT phone FROM callback_requests")]


def _e164(phone: str) -> str:
    return "+358" + re.sub(r"\D", "", phone)[1:]


async def _submit_all(parts: Parts, senders: list[str], phones: list[str]) -> dict[str, str]:
    """Send every phone number at once; SIGKILL the action server once KILL_AFTER_CONFIRMED were confirmed."""
    replies: dict[str, str] = {}
    confirmed = 0
    killed = asyncio.Event()

    async def submit(http: aiohttp.ClientSession, sender: str, phone: str) -> None:
        nonlocal confirmed
        try:
            async with http.post(f"{parts.rasa_url}/webhooks/rest/webhook",
                                 json={"sender": sender, "message": phone}) as resp:
                body = await resp.json(content_type=None) if resp.status == 200 else []
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            body = [{"text": f"<{type(error).__name__}>"}]
        replies[phone] = _text(body)
        if CONFIRMED in replies[phone]:
            confirmed += 1
            if confirmed >= KILL_AFTER_CONFIRMED and not killed.is_set():
                killed.set()
                parts.actions.kill()  # SIGKILL to the process group: no clean shutdown, no flush

    connector = aiohttp.TCPConnector(limit=SUBMISSIONS)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=300)) as http:
        await asyncio.gather(*(submit(http, s, p) for s, p in zip(senders, phones, strict=True)))
    return replies


@pytest.mark.slow
@pytest.mark.model
def test_every_confirmed_contact_request_is_stored(parts: Parts) -> None:
    template = "cb-template-" + uuid.uuid4().hex[:8]
    _drive_to_phone_question(parts, template)
    senders = [f"cb-{i:04d}-{uuid.uuid4().hex[:8]}" for i in range(SUBMISSIONS)]
    _clone_conversation(parts.workdir / "tracker.db", template, senders)
    phones = [_fictional_phone(i) for i in range(SUBMISSIONS)]

    started = time.monotonic()
    replies = asyncio.run(_submit_all(parts, senders, phones))
    elapsed = time.monotonic() - started

    kinds = Counter(text[:70] for text in replies.values())
    assert not parts.actions.alive(), f"the action server was never killed: too few confirmations. Replies: {kinds}"
    confirmed = {_e164(p) for p, text in replies.items() if CONFIRMED in text}
    stored = _stored_phones(parts.workdir / "app.db")
    assert len(stored) == len(set(stored)), "a contact request was stored twice"
    missing = confirmed - set(stored)
    assert not missing, f"{len(missing)} confirmed requests are not in the database"
    assert KILL_AFTER_CONFIRMED <= len(confirmed) < SUBMISSIONS, "the kill did not land part-way"
    print(f"\n{SUBMISSIONS} submissions in {elapsed:.1f} s: {len(confirmed)} confirmed, {len(stored)} stored, "
          f"{len(set(stored) - confirmed)} stored but not confirmed (killed between commit and reply)")


@pytest.mark.slow
@pytest.mark.model
def test_action_server_down_danger_still_gets_112_and_nollalinja(parts: Parts) -> None:
    parts.actions.kill()
    for i, message in enumerate(["mun mies lyö mua ja pelkään", "puoliso uhkaa tappaa minut", "apua se lyö"]):
        status, body = parts.chat(f"danger{i}" + uuid.uuid4().hex, message)
        assert status == 200
        first = str(body["messages"][0].get("text", ""))
        assert "112" in first and NOLLALINJA in first, f"{message!r} got: {first}"


@pytest.mark.slow
@pytest.mark.model
def test_action_server_down_other_messages_get_an_honest_reply(parts: Parts) -> None:
    parts.actions.kill()
    for message in ["etsin perhekahvilaa Oulussa", "mistä saan apua eroon", "haluan että minulle soitetaan"]:
        status, body = parts.chat(uuid.uuid4().hex, message)
        assert status == 200
        text = _text(body["messages"])
        assert text.strip(), f"{message!r} got no reply at all"
        # Honest: says it cannot help right now (or asks to try again) and gives a number to call.
        assert re.search(r"\d{3} \d{3} \d{3}|\b112\b", text), f"{message!r} got no number: {text}"
        assert re.search(r"(?i)pahoittel|valitettavasti|juuri nyt|uudelleen|hetken", text), \
            f"{message!r} got no honest note: {text}"


def _unavailable_texts() -> list[str]:
    """Texts the actions use when the catalogue cannot be searched: every texts.yml key naming unavailability."""
    data = yaml.safe_load((REPO / "actions" / "data" / "texts.yml").read_text(encoding="utf-8"))
    found: list[str] = []

    def walk(node: Any, key: str = "") -> None:
        if isinstance(node, dict):
            for k, v in node.items():
                walk(v, str(k))
        elif isinstance(node, str) and re.search(r"unavailable|search_down|db_down|catalog_down", key):
            found.append(node.split("{")[0].strip()[:60])

    walk(data)
    return [t for t in found if t]


@pytest.mark.slow
@pytest.mark.model
def test_database_unreachable_actions_answer_with_national_services(parts: Parts) -> None:
    dead_db = f"postgresql+psycopg2://perheopas@127.0.0.1:{free_port()}/perheopas"
    parts.restart("actions", {"DATABASE_URL": dead_db})
    notes = _unavailable_texts()
    assert notes, "actions/data/texts.yml has no text for 'the local search is down' (a key named *unavailable*)"
    for message in ["etsin perhekahvilaa Oulussa", "mistä saan apua eroon Tampereella"]:
        status, body = parts.chat(uuid.uuid4().hex, message)
        assert status == 200 and not body.get("degraded")
        text = _text(body["messages"])
        assert NOLLALINJA in text or "Nollalinja" in text, f"no national service in: {text}"
        assert any(note in text for note in notes), f"does not say the local search is down: {text}"


@pytest.mark.slow
@pytest.mark.model
def test_rasa_down_gateway_gives_the_safety_reply(parts: Parts) -> None:
    parts.rasa.kill()
    for message in ["hei", "mun mies lyö mua"]:
        status, body = parts.chat(uuid.uuid4().hex, message)
        assert status == 200 and body.get("degraded") is True
        first = str(body["messages"][0].get("text", ""))
        assert "112" in first and NOLLALINJA in first
    assert parts.web.alive()


@pytest.mark.slow
@pytest.mark.model
def test_logs_of_the_faults_hold_no_phone_numbers(parts: Parts) -> None:
    """The 500 numbers went through every process; none may appear in a log (S3)."""
    for name, proc in parts.procs.items():
        log = proc.log()
        # The national part without its leading 0 matches both 040 1000123 and +358401000123.
        leaked = [p for p in (_fictional_phone(i) for i in range(SUBMISSIONS)) if re.sub(r"\D", "", p)[1:] in log]
        assert not leaked, f"{name}.log holds phone numbers: {leaked[:3]}"
