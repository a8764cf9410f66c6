"""End to end: the real stack answers over Rasa's REST channel and through the web gateway."""

from __future__ import annotations

import json
import os
import signal
import urllib.request
import zlib
from pathlib import Path

import pytest
from parts import ESTABLISHED, LISTEN, tcp_local_addresses
from stack import Stack

pytestmark = [pytest.mark.slow, pytest.mark.model]


@pytest.fixture(scope="module")
def stack(shared_stack: Stack) -> Stack:
    # The shared stack (tests/stack.py): a fixed weekday afternoon, so opening-hours text in the answers is
    # deterministic, and two Rasa processes, as `make run` starts on a machine with two cores or more.
    return shared_stack


def texts(replies: list[dict[str, object]]) -> str:
    return "\n".join(str(r.get("text", "")) for r in replies)


def test_greeting_is_finnish_and_says_it_is_automated(stack: Stack) -> None:
    reply = texts(stack.say("greet-1", "moi"))
    assert "Perheopas" in reply
    assert "automaattinen" in reply


def test_meeting_place_in_municipality_comes_from_the_catalogue(stack: Stack) -> None:
    reply = texts(stack.say("kp-1", "onko Kempeleessä perhekahvilaa"))
    assert "Kempele" in reply
    assert "Aukioloajat" in reply


def test_meeting_place_asks_for_missing_municipality(stack: Stack) -> None:
    first = texts(stack.say("kp-2", "etsin perhekahvilaa"))
    assert "kunnasta" in first
    second = texts(stack.say("kp-2", "Oulussa"))
    assert "Oulu" in second


def test_unknown_text_gets_a_fallback(stack: Stack) -> None:
    reply = texts(stack.say("fb-1", "qwerty zxcv asdf"))
    assert reply  # never silent


def test_danger_leads_with_emergency_numbers(stack: Stack) -> None:
    reply = stack.say("danger-1", "mun mies lyö mua ja pelkään")
    first = str(reply[0].get("text", ""))
    assert "112" in first and "080 005 005" in first
    payloads = [str(b.get("payload")) for m in reply for b in m.get("buttons", [])]  # type: ignore[attr-defined]
    assert '/inform{"need": "vv_shelter"}' in payloads
    # Rasa renders entity payloads without logging an interpolation error (which carried slot values).
    assert "interpolat" not in stack.log().lower()


def test_gateway_forwards_and_guards(stack: Stack) -> None:
    body = json.dumps({"session": "a" * 32, "message": "hei"}).encode()
    req = urllib.request.Request(f"{stack.web_url}/api/chat", data=body,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        data = json.loads(resp.read())
    assert "automaattinen" in texts(data["messages"])


def _chat(stack: Stack, session: str, message: str) -> dict[str, object]:
    body = json.dumps({"session": session, "message": message}).encode()
    req = urllib.request.Request(f"{stack.web_url}/api/chat", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as resp:
        data: dict[str, object] = json.loads(resp.read())
    assert not data.get("degraded")
    return data


def test_both_rasa_processes_serve_and_a_conversation_keeps_its_slots(stack: Stack) -> None:
    """The supervisor started two Rasa processes; the gateway spreads conversations over both (sticky)."""
    rasa_ports = [stack.rasa_port, stack.rasa_port + 1]
    assert f"Rasa :{rasa_ports[0]} :{rasa_ports[1]}" in stack.log()
    for port in rasa_ports:
        assert set(tcp_local_addresses(port, LISTEN)) == {"0100007F"}  # loopback only
    sessions = [f"{index:02d}".ljust(32, "s") for index in range(12)]
    assert {zlib.crc32(s.encode()) % 2 for s in sessions} == {0, 1}  # the gateway's routing: both get some
    answered_on: set[int] = set()
    for session in sessions:
        _chat(stack, session, "etsin perhekahvilaa")
        # The gateway keeps its connection alive, so the process that just answered holds one from the web app.
        answered_on |= {port for port in rasa_ports if tcp_local_addresses(port, ESTABLISHED)}
    assert answered_on == set(rasa_ports)
    for session in sessions[:3]:
        reply = _chat(stack, session, "Oulussa")
        assert "Oulu" in texts(reply["messages"])  # type: ignore[arg-type]


def test_stack_stops_on_sigterm_without_orphans(shared_stack_to_stop: Stack) -> None:
    """The shared stack, after the other tests have used it, is the one stopped here."""
    s = shared_stack_to_stop
    children = _child_pids(s.process.pid)
    assert len(children) >= 3
    s.process.send_signal(signal.SIGTERM)
    assert s.process.wait(timeout=30) == 0
    for pid in children:
        assert not _alive(pid), f"child {pid} survived the supervisor"


def _child_pids(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
