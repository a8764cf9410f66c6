"""Privacy (safety rule S3): redaction, the anonymising tracker store, retention, and an end-to-end search.

The fast part checks the pure redaction rules table by table, the tracker store against a SQLite file, and
`python -m bot purge` with PERHEOPAS_NOW. The slow part holds a scripted conversation full of fictional personal
data with the real stack, then searches the tracker database and every log: zero hits.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from stack import REPO, Stack

from bot.rasa_ext.tracker_store import USER_TEXT_PLACEHOLDER, AnonymizingTrackerStore
from bot.safety.redact import contains_personal_data, redact_data, redact_text

# --- Fictional personal data: made-up numbers, codes and addresses that belong to nobody. ---
PHONE_FI = "040 123 4567"
PHONE_FI_COMPACT = "0401234567"
PHONE_E164 = "+358 50 987 6543"
PHONE_SE = "+46 70 123 45 67"
PHONE_LOCAL = "123 4567"
EMAIL = "maija.meikalainen@esimerkki.fi"
EMAIL_OBFUSCATED = "teppo.testaaja(at)esimerkki.fi"
HETU_OLD = "131052-308T"
HETU_NEW = "010594Y9032"
HETU_2000 = "020502A902X"
IBAN = "FI21 1234 5600 0007 85"
IBAN_COMPACT = "FI2112345600000785"

# Every needle the end-to-end search looks for, in the forms a leak could take. None is shorter than six
# characters, so timestamps and random ids in the files cannot match by chance.
NEEDLES = [
    "123 4567", "1234567", "123-4567", "987 6543", "9876543", "70 123 45 67", "701234567",
    "meikalainen", "maija.", "teppo.testaaja", "esimerkki",
    "131052-308", "308t", "010594y", "y9032", "020502a", "a902x",
    "1234 5600", "12345600000785", "0007 85",
    # Free text no pattern recognises: a name, an address, a date of birth, digits spelled out or split up.
    "Jarkko Vuorimaa", "Vuorimaa", "Kuusiluodontie", "14.3.1987", "nolla neljä nolla", "viisi kuusi seitsemän",
    "ja sitten 7654321",
]

REDACTION_CASES = [
    # (text, what must disappear, what must stay)
    (f"soita mulle {PHONE_FI} iltaisin", PHONE_FI, "iltaisin"),
    (f"numero {PHONE_FI_COMPACT}", PHONE_FI_COMPACT, "numero"),
    (f"tai {PHONE_E164}", "987 6543", "tai"),
    (f"ruotsalainen liittymä {PHONE_SE}", "45 67", "ruotsalainen"),
    (f"numeroni on {PHONE_LOCAL}", PHONE_LOCAL, "numeroni on"),
    ("puh. (09) 123 4567", "123 4567", "puh"),
    ("00358 40 765 4321 on työnumero", "765 4321", "työnumero"),
    ("soita +1 (555) 010-9999", "010-9999", "soita"),
    (f"sposti {EMAIL} kiitos", EMAIL, "kiitos"),
    (f"tai {EMAIL_OBFUSCATED}", "teppo.testaaja", "tai"),
    ("MAIJA.Meikäläinen@Esimerkki.FI", "Meikäläinen", ""),
    (f"hetu {HETU_OLD}", HETU_OLD, "hetu"),
    (f"lapsen tunnus {HETU_NEW}", HETU_NEW, "lapsen tunnus"),
    (f"vauvan {HETU_2000} ja {HETU_2000.lower()}", "902", "vauvan"),
    ("uuden merkin tunnus 150320B123C", "150320B123C", "uuden"),
    (f"tili {IBAN}", "5600", "tili"),
    (f"tili {IBAN_COMPACT}", IBAN_COMPACT, "tili"),
    ("DE89 3704 0044 0532 0130 00", "0532", ""),
    # Shaped like a henkilötunnus, whatever its date or check character.
    ("tunnus 320599-123X", "320599", "tunnus"),
    ("tunnus 999999A999Z", "999999", "tunnus"),
    ("väärin kirjoitettu 010190 - 123A", "010190", "kirjoitettu"),
    ("vanha 311299+123Q ja uusi 010101X1234", "123Q", "uusi"),
    # Phone numbers next to dates and times are still found.
    ("soita 040 123 4567 klo 9.00-15.00", "123 4567", "klo 9.00-15.00"),
    ("numero 0401234567, 1.12.2026", "0401234567", "1.12.2026"),
]

KEPT_CASES = [
    # Ordinary words and the bot's own texts must survive: opening hours, dates, addresses, ages.
    "Onko Kempeleessä perhekahvilaa?",
    "Auki ma–pe 9.00-15.00, seuraavan kerran 24.11.2026.",
    "Kauppakatu 12, 90100 Oulu",
    "Minulla on 3 lasta, 2, 5 ja 11 vuotta.",
    "on12 lasta ja koira",
    "Soita hätänumeroon 112.",
    "Lapsi on 0–3-vuotias, kello 12.30.",
    # Dates and times are never taken for phone numbers.
    "Tapaaminen 2026-11-24 klo 9:00-15:00.",
    "Viesti lähetetty 2014-01-01 12:34.",  # a peer's anonymiser test: a timestamp is not a phone number
    "Syntynyt 24/11/2026, laskettu aika 24-11-2026.",
    "Ryhmä 12/2025 - 03/2026, ma 8.12. klo 9.00–15.00.",
    "Auki 1.12.-24.12.2026 ja 27.12.2026 - 6.1.2027.",
]


@pytest.mark.parametrize(("text", "gone", "kept"), REDACTION_CASES)
def test_personal_data_is_redacted(text: str, gone: str, kept: str) -> None:
    redacted = redact_text(text)
    assert gone.lower() not in redacted.lower()
    assert kept in redacted
    assert "[" in redacted


@pytest.mark.parametrize("text", KEPT_CASES)
def test_ordinary_text_is_kept(text: str) -> None:
    assert redact_text(text) == text
    assert not contains_personal_data(text)


def test_redact_data_keeps_structure_and_names() -> None:
    event = {"event": "user", "text": f"hetu {HETU_OLD}", "message_id": "0401234567abcdef",
             "parse_data": {"intent": {"name": "request_callback", "confidence": 0.9},
                            "entities": [{"entity": "phone", "value": PHONE_FI, "start": 0, "end": 12}]},
             "metadata": {"notes": [EMAIL]}}
    redacted = redact_data(event)
    assert redacted["message_id"] == "0401234567abcdef"
    assert redacted["parse_data"]["intent"] == {"name": "request_callback", "confidence": 0.9}
    assert redacted["parse_data"]["entities"][0]["entity"] == "phone"
    dumped = json.dumps(redacted, ensure_ascii=False)
    for needle in (HETU_OLD, PHONE_FI, EMAIL):
        assert needle not in dumped


def test_log_filter_removes_echoed_bodies_and_personal_data() -> None:
    import io
    import logging

    from bot.safety.redact import install_log_redaction

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger = logging.getLogger("perheopas.test.redaction")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.INFO)
    try:
        assert install_log_redaction() >= 1
        assert install_log_redaction() == 0  # idempotent
        try:
            raise RuntimeError("500, Internal Server Error, body='{\"text\": \"mun mies lyö mua\"}'")
        except RuntimeError:
            logger.exception("action failed for %s", f"tunnus {HETU_OLD}, {EMAIL}")
        logger.info("soita %s", PHONE_FI)
    finally:
        logger.removeHandler(handler)
    output = stream.getvalue()
    for leaked in ("mun mies", HETU_OLD, EMAIL, PHONE_FI):
        assert leaked not in output
    assert "body not logged" in output and "RuntimeError" in output and "[puhelinnumero]" in output


# --- The tracker store ---

DOMAIN = Domain.from_dict({
    "intents": ["request_callback"],
    "slots": {
        "phone": {"type": "text", "mappings": [{"type": "custom"}]},
        "municipality": {"type": "text", "mappings": [{"type": "custom"}]},
    },
})


async def test_tracker_store_writes_only_redacted_events(tmp_path: Path) -> None:
    db = tmp_path / "tracker.db"
    store = AnonymizingTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(db))
    user_text = f"Soita {PHONE_FI} tai laita {EMAIL}, hetu {HETU_NEW}, tili {IBAN}"
    tracker = DialogueStateTracker.from_events("privacy-unit", [
        ActionExecuted("action_listen"),
        UserUttered(user_text, intent={"name": "request_callback", "confidence": 1.0},
                    parse_data={"text": user_text, "intent": {"name": "request_callback", "confidence": 1.0},
                                "entities": [{"entity": "phone", "value": PHONE_FI}]}),
        SlotSet("phone", PHONE_E164),
        SlotSet("municipality", "Oulu"),
        BotUttered(f"Soitamme numeroon {PHONE_E164}."),
    ], slots=DOMAIN.slots)
    # Within the running turn the real values are still there for the form to use.
    assert tracker.get_slot("phone") == PHONE_E164
    await store.save(tracker)

    # WAL mode: new rows may still sit in tracker.db-wal, so read every file of the database.
    raw = "".join(path.read_bytes().decode("utf-8", "replace") for path in tmp_path.glob("tracker.db*"))
    assert "[puhelinnumero]" in raw
    for needle in (PHONE_FI, "1234567", "987 6543", EMAIL, HETU_NEW, "5600"):
        assert needle not in raw

    restored = await store.retrieve("privacy-unit")
    assert restored is not None
    assert restored.get_slot("municipality") == "Oulu"
    assert restored.get_slot("phone") == "[puhelinnumero]"
    assert restored.latest_message is not None
    assert restored.latest_message.intent.get("name") == "request_callback"
    assert restored.latest_message.text == USER_TEXT_PLACEHOLDER  # nothing the person wrote is kept
    assert "laita" not in raw and "tili" not in raw

    # A second save appends only the new events, once.
    restored.update(UserUttered("kiitos", intent={"name": "request_callback", "confidence": 1.0}))
    await store.save(restored)
    with sqlite3.connect(db) as conn:
        count = conn.execute("SELECT COUNT(*) FROM events WHERE sender_id='privacy-unit'").fetchone()[0]
    assert count == len(restored.events)


def test_tracker_store_accepts_a_database_url(tmp_path: Path) -> None:
    db = tmp_path / "url.db"
    store = AnonymizingTrackerStore(domain=DOMAIN, dialect="sqlite", db=f"sqlite:///{db}")
    assert str(store.engine.url).endswith("url.db")
    assert db.exists()


def test_endpoints_use_the_anonymizing_store_with_expanded_variables(monkeypatch: pytest.MonkeyPatch,
                                                                     tmp_path: Path) -> None:
    from rasa.core.utils import read_endpoints_from_path

    monkeypatch.setenv("PERHEOPAS_TRACKER_DB", str(tmp_path / "tracker.db"))
    monkeypatch.setenv("PERHEOPAS_ACTIONS_URL", "http://127.0.0.1:5055/webhook")
    monkeypatch.setenv("PERHEOPAS_ACTIONS_TOKEN", "t" * 32)
    endpoints = read_endpoints_from_path(REPO / "endpoints.yml")
    assert endpoints.tracker_store.type == "bot.rasa_ext.tracker_store.AnonymizingTrackerStore"
    # Rasa expands ${VARS} only in unquoted YAML; a quoted one would name a file "${PERHEOPAS_TRACKER_DB}".
    assert endpoints.tracker_store.kwargs["db"] == str(tmp_path / "tracker.db")
    assert endpoints.action.url == "http://127.0.0.1:5055/webhook"
    assert endpoints.action.headers == {"X-Perheopas-Actions-Token": "t" * 32}


# --- Retention: python -m bot purge ---

NOW = datetime(2026, 11, 24, 13, 0, tzinfo=timezone(timedelta(hours=2)))


def _make_app_db(path: Path) -> None:
    from sqlalchemy import create_engine

    from bot.callbacks.models import CallbackRequest

    engine = create_engine(f"sqlite:///{path}", future=True)
    CallbackRequest.__table__.create(engine)
    rows = [
        # (id, status, created days ago, done days ago)
        ("done_old", "done", 45, 31),
        ("done_recent", "done", 20, 10),
        ("new_old", "new", 60, None),
        ("claimed_old", "claimed", 60, None),
        # Past the hard maximum age (90 days by default), whatever the status.
        ("new_expired", "new", 95, None),
        ("claimed_expired", "claimed", 91, None),
    ]
    with engine.begin() as conn:
        for rid, status, created, done in rows:
            created_at = (NOW - timedelta(days=created)).astimezone(timezone.utc)
            conn.execute(CallbackRequest.__table__.insert().values(
                id=rid, created_at=created_at, topic="eroauttaminen", contact_method="call",
                phone="+358401234567", time_window="aamu", urgent=False, consent_at=created_at,
                consent_notice_version="test", callback_due=date(2026, 1, 1), status=status,
                done_at=None if done is None else (NOW - timedelta(days=done)).astimezone(timezone.utc),
            ))
    engine.dispose()


def _make_tracker_db(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, "
                     "type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255), "
                     "action_name VARCHAR(255), data TEXT)")
        conversations = {"talk_old": [40, 35], "talk_spanning": [40, 2], "talk_new": [1, 0]}
        for sender, ages in conversations.items():
            for age in ages:
                ts = (NOW - timedelta(days=age)).timestamp()
                conn.execute("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, 'user', ?, ?)",
                             (sender, ts, json.dumps({"text": f"secret-{sender}"})))


def _purge(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = dict(os.environ)
    full_env.update({
        "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}",
        "PERHEOPAS_TRACKER_DB": str(tmp_path / "tracker.db"),
        "PERHEOPAS_VAR": str(tmp_path),
        "PERHEOPAS_NOW": NOW.isoformat(),
    })
    full_env.pop("PERHEOPAS_CALLBACK_RETENTION_DAYS", None)
    full_env.pop("PERHEOPAS_CONVERSATION_RETENTION_DAYS", None)
    full_env.pop("PERHEOPAS_CALLBACK_MAX_DAYS", None)
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "bot", "purge", *args], cwd=REPO, env=full_env,
                          capture_output=True, text=True, timeout=120)


def _remaining(tmp_path: Path) -> tuple[set[str], set[str]]:
    with sqlite3.connect(tmp_path / "app.db") as conn:
        callbacks = {row[0] for row in conn.execute("SELECT id FROM callback_requests")}
    with sqlite3.connect(tmp_path / "tracker.db") as conn:
        senders = {row[0] for row in conn.execute("SELECT DISTINCT sender_id FROM events")}
    return callbacks, senders


def test_purge_defaults_to_30_days(tmp_path: Path) -> None:
    _make_app_db(tmp_path / "app.db")
    _make_tracker_db(tmp_path / "tracker.db")
    done = _purge(tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Deleted 1 handled contact requests, 1 conversations (2 events), 2 contact requests older" in done.stdout
    callbacks, senders = _remaining(tmp_path)
    # Unhandled requests stay until the hard maximum age (90 days), then go whatever their status.
    assert callbacks == {"done_recent", "new_old", "claimed_old"}
    # A conversation goes only when its last message is old.
    assert senders == {"talk_spanning", "talk_new"}
    assert b"secret-talk_old" not in (tmp_path / "tracker.db").read_bytes()


def test_purge_days_are_configurable_by_option_and_environment(tmp_path: Path) -> None:
    _make_app_db(tmp_path / "app.db")
    _make_tracker_db(tmp_path / "tracker.db")
    done = _purge(tmp_path, "--callbacks-days", "7", env={"PERHEOPAS_CONVERSATION_RETENTION_DAYS": "1"})
    assert done.returncode == 0, done.stderr
    callbacks, senders = _remaining(tmp_path)
    assert callbacks == {"new_old", "claimed_old"}
    assert senders == {"talk_new"}


def test_purge_follows_perheopas_now(tmp_path: Path) -> None:
    _make_app_db(tmp_path / "app.db")
    _make_tracker_db(tmp_path / "tracker.db")
    earlier = (NOW - timedelta(days=60)).isoformat()
    done = _purge(tmp_path, env={"PERHEOPAS_NOW": earlier})
    assert done.returncode == 0, done.stderr
    callbacks, senders = _remaining(tmp_path)
    assert callbacks == {"done_old", "done_recent", "new_old", "claimed_old", "new_expired", "claimed_expired"}
    assert senders == {"talk_old", "talk_spanning", "talk_new"}


async def test_purge_removes_old_conversations_from_the_live_tracker_store(tmp_path: Path) -> None:
    """The store Rasa really writes (WAL mode, open connections): purged text is gone from every file."""
    _make_app_db(tmp_path / "app.db")
    store = AnonymizingTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(tmp_path / "tracker.db"))
    for sender, age in (("live_old", 45), ("live_new", 1)):
        ts = (NOW - timedelta(days=age)).timestamp()
        tracker = DialogueStateTracker.from_events(sender, [
            ActionExecuted("action_listen", timestamp=ts),
            BotUttered(f"muistiinpano-{sender} perhekahvilasta", timestamp=ts),  # user texts are never stored
        ], slots=DOMAIN.slots)
        await store.save(tracker)
    done = _purge(tmp_path)
    assert done.returncode == 0, done.stderr
    assert "1 conversations (2 events)" in done.stdout
    raw = b"".join(path.read_bytes() for path in tmp_path.glob("tracker.db*"))
    assert b"muistiinpano-live_old" not in raw
    assert b"muistiinpano-live_new" in raw
    assert await store.retrieve("live_old") is None
    assert await store.retrieve("live_new") is not None


def test_purge_without_a_tracker_database_yet(tmp_path: Path) -> None:
    _make_app_db(tmp_path / "app.db")
    done = _purge(tmp_path)
    assert done.returncode == 0, done.stderr


def test_purge_refuses_negative_days(tmp_path: Path) -> None:
    _make_app_db(tmp_path / "app.db")
    assert _purge(tmp_path, "--callbacks-days", "-1").returncode == 2
    assert _purge(tmp_path, "--callbacks-max-days", "0").returncode == 2
    bad = _purge(tmp_path, env={"PERHEOPAS_CALLBACK_MAX_DAYS": "kolme kuukautta"})
    assert bad.returncode == 2 and "PERHEOPAS_CALLBACK_MAX_DAYS" in bad.stderr


def test_purge_deletes_requests_past_the_maximum_age_in_every_status(tmp_path: Path) -> None:
    _make_app_db(tmp_path / "app.db")
    _make_tracker_db(tmp_path / "tracker.db")
    done = _purge(tmp_path, env={"PERHEOPAS_CALLBACK_MAX_DAYS": "50"})
    assert done.returncode == 0, done.stderr
    assert _remaining(tmp_path)[0] == {"done_recent"}
    _make_app_db(tmp_path / "again.db")
    done = _purge(tmp_path, "--callbacks-max-days", "92",
                  env={"DATABASE_URL": f"sqlite:///{tmp_path / 'again.db'}"})
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(tmp_path / "again.db") as conn:
        assert {row[0] for row in conn.execute("SELECT id FROM callback_requests")} == {
            "done_recent", "new_old", "claimed_old", "claimed_expired"}


# --- End to end: a conversation full of fictional personal data through the real stack ---

SCRIPT = [
    "moi",
    f"mun numero on {PHONE_FI} ja sähköposti {EMAIL}",
    f"henkilötunnukseni on {HETU_OLD} ja lapsen {HETU_NEW}",
    f"voitteko soittaa numeroon {PHONE_E164} tai {PHONE_SE}",
    f"tilinumero {IBAN} ja {IBAN_COMPACT}, vauvan tunnus {HETU_2000}",
    f"numeroni on {PHONE_LOCAL}, sposti {EMAIL_OBFUSCATED}",
    "haluan että minulle soitetaan",
    f"{PHONE_FI_COMPACT}",
    f"{EMAIL}",
    "mun mies lyö mua, soita 0401234567",
    "Mieheni Jarkko Vuorimaa uhkailee minua, asumme Kuusiluodontie 9 B 12:ssa",
    "olen syntynyt 14.3.1987 ja numero on nolla neljä nolla viisi kuusi seitsemän",
    "040 ja sitten 7654321",
    "etsin perhekahvilaa Oulussa",
    "kiitos hei",
]


@pytest.fixture(scope="module")
def privacy_stack(fresh_shared_stack: Stack) -> Stack:
    # The shared stack before any other module talks to it: the search below would also find the needle "esimerkki"
    # in the sample catalogue's "(Esimerkkitieto, ...)" that other modules' conversations put into the tracker.
    return fresh_shared_stack


def _chat(stack: Stack, session: str, message: str) -> dict[str, object]:
    body = json.dumps({"session": session, "message": message}).encode()
    request = urllib.request.Request(f"{stack.web_url}/api/chat", data=body,
                                     headers={"Content-Type": "application/json"})
    started = time.monotonic()
    with urllib.request.urlopen(request, timeout=60) as resp:
        reply = dict(json.loads(resp.read()))
    # The gateway allows a session 8 messages in 10 s; a person types slower than this script.
    time.sleep(max(0.0, 1.3 - (time.monotonic() - started)))
    return reply


def _hits(blob: str) -> list[str]:
    lowered = blob.lower()
    return [needle for needle in NEEDLES if needle.lower() in lowered]


@pytest.mark.slow
@pytest.mark.model
def test_no_personal_data_in_tracker_or_logs(privacy_stack: Stack) -> None:
    session = "privacy0session0" + "a" * 16
    for message in SCRIPT:
        _chat(privacy_stack, session, message)
    # The same data straight at Rasa's REST channel, the way a second client could send it.
    for message in SCRIPT[1:6]:
        privacy_stack.say("privacy-direct-0001", message)

    workdir = Path(privacy_stack.env["PERHEOPAS_VAR"])
    tracker_files = sorted(workdir.glob("tracker.db*"))
    assert tracker_files, "the tracker database was not written"
    with sqlite3.connect(workdir / "tracker.db") as conn:
        senders = {row[0] for row in conn.execute("SELECT DISTINCT sender_id FROM events")}
        user_texts = [row[0] for row in conn.execute("SELECT data FROM events WHERE type_name='user'")]
    assert session in senders and "privacy-direct-0001" in senders
    assert user_texts and all(json.loads(text)["text"] == USER_TEXT_PLACEHOLDER for text in user_texts)

    for path in tracker_files:
        hits = _hits(path.read_bytes().decode("utf-8", "replace"))
        assert not hits, f"{path.name} holds personal data: {hits}"

    logs = [privacy_stack.log_path, *workdir.rglob("*.log")]
    for path in logs:
        hits = _hits(path.read_text(encoding="utf-8", errors="replace"))
        assert not hits, f"{path.name} holds personal data: {hits}"


@pytest.mark.slow
@pytest.mark.model
def test_logs_carry_no_message_text_at_info(privacy_stack: Stack) -> None:
    marker = "Kvartsikello Zanzibarissa huomenna"
    _chat(privacy_stack, "privacy0session1" + "b" * 16, marker)
    privacy_stack.say("privacy-direct-0002", marker)
    log = privacy_stack.log()
    for word in ("Kvartsikello", "Zanzibar"):
        assert word not in log, "message text reached a log at INFO"
    assert re.search(r"ready in", log)


def _send_and_hang_up(port: int, body: bytes) -> None:
    """A request to Rasa's REST channel whose client leaves at once, as at a gateway timeout: Rasa cancels the turn."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(b"POST /webhooks/rest/webhook HTTP/1.1\r\nHost: rasa\r\nContent-Type: application/json\r\n"
                     b"Content-Length: %d\r\n\r\n" % len(body) + body)
        time.sleep(0.005)


@pytest.mark.slow
@pytest.mark.model
def test_no_message_text_in_any_log_when_turns_fail(privacy_stack: Stack) -> None:
    """Cancelled turns, bad payloads and failing requests: Rasa logs those at ERROR with the message unless its
    structured logs withhold texts (bot/rasa_ext/log_privacy.py)."""
    marker = "Korallikalastaja Tuusniemellä"
    rasa_port = int(privacy_stack.rasa_url.rsplit(":", 1)[1])
    for round_ in range(4):
        _send_and_hang_up(rasa_port, json.dumps({"sender": f"hangup-{round_}", "message": marker}).encode())
        time.sleep(0.5)
    bad_bodies: list[object] = [{"sender": "bad-1", "message": [marker]}, {"sender": ["x"], "message": marker},
                                {"sender": "bad-3", "message": {"text": marker}}, f"{{'{marker}'"]
    for body in bad_bodies:
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        for url in (f"{privacy_stack.rasa_url}/webhooks/rest/webhook", f"{privacy_stack.web_url}/api/chat"):
            request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
            with contextlib.suppress(urllib.error.URLError, OSError):
                urllib.request.urlopen(request, timeout=30).read()
    _chat(privacy_stack, "privacy0session2" + "c" * 16, marker)
    time.sleep(2)
    workdir = Path(privacy_stack.env["PERHEOPAS_VAR"])
    log = privacy_stack.log() + "".join(p.read_text(encoding="utf-8", errors="replace") for p in workdir.rglob("*.log"))
    assert "rest.message.received" in log, "no turn was cancelled; the test did not test anything"
    for word in ("Korallikalastaja", "Tuusniem"):
        assert word not in log, "message text reached a log"


async def test_tracker_store_reads_and_counts_the_latest_session_as_rasa_does(tmp_path: Path) -> None:
    """The store's own statements select what Rasa's SQLTrackerStore selects: the latest session only."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.events import SessionStarted

    store = AnonymizingTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(tmp_path / "tracker.db"))
    plain = SQLTrackerStore(domain=DOMAIN, dialect="sqlite", db=str(tmp_path / "tracker.db"))
    tracker = DialogueStateTracker.from_events("sessions", [
        ActionExecuted("action_session_start", timestamp=1.0), SessionStarted(timestamp=1.0),
        ActionExecuted("action_listen", timestamp=2.0), UserUttered("ensimmäinen", timestamp=3.0),
        ActionExecuted("action_session_start", timestamp=10.0), SessionStarted(timestamp=10.0),
        ActionExecuted("action_listen", timestamp=11.0), UserUttered("toinen", timestamp=12.0),
    ], slots=DOMAIN.slots)
    await plain.save(tracker)  # the first session written by Rasa's own store
    ours = await store.retrieve("sessions")
    theirs = await plain.retrieve("sessions")
    assert ours is not None and theirs is not None
    assert [e.as_dict() for e in ours.events] == [e.as_dict() for e in theirs.events]
    assert ours.latest_message is not None and ours.latest_message.text == "toinen"

    ours.update(UserUttered("kolmas", timestamp=13.0))
    await store.save(ours)  # appends only the one new event after what the latest session holds
    with sqlite3.connect(tmp_path / "tracker.db") as conn:
        texts = [json.loads(row[0]).get("text") for row in conn.execute(
            "SELECT data FROM events WHERE sender_id='sessions' AND type_name='user' ORDER BY id")]
    assert texts == ["ensimmäinen", "toinen", USER_TEXT_PLACEHOLDER]  # ours keeps no text; Rasa's kept two
    full = await store.retrieve_full_tracker("sessions")
    assert full is not None and len(full.events) == 9


def test_record_redaction_scrubs_records_for_handlers_made_later() -> None:
    """The action server's way (bot/ops/actions_server.py): handlers configured after the redaction still get
    scrubbed records, exception text included."""
    import io
    import logging

    from bot.safety.redact import install_record_redaction

    original_factory = logging.getLogRecordFactory()
    stream = io.StringIO()
    logger = logging.getLogger("perheopas.test.record_redaction")
    logger.propagate = False
    logger.setLevel(logging.INFO)
    try:
        assert install_record_redaction()
        assert not install_record_redaction()  # idempotent
        handler = logging.StreamHandler(stream)  # made after the redaction, as Sanic's are
        logger.addHandler(handler)
        try:
            raise ValueError(f"could not parse {PHONE_FI} or {EMAIL}")
        except ValueError:
            logger.exception("action failed for %s", f"tunnus {HETU_OLD}")
        logger.info("soita %s", PHONE_FI)
        logger.removeHandler(handler)
    finally:
        logging.setLogRecordFactory(original_factory)
    output = stream.getvalue()
    assert "action failed for" in output and "ValueError" in output
    for leaked in (HETU_OLD, EMAIL, PHONE_FI):
        assert leaked not in output


def test_stack_serves_actions_through_the_redacting_entry_point() -> None:
    from bot.ops.run import children
    from core.settings import Ports

    actions = next(child for child in children(Ports(), Path("models/x.tar.gz"), "127.0.0.1")
                   if child.name == "actions")
    assert actions.argv[1:4] == ["-m", "bot", "actions"]
