"""Dated public facts in the sample's national files: help for people who use violence, helpline hours.

Nettiturvakoti's Apua väkivaltaan -chat (Ensi- ja turvakotien liitto) is the nationwide answer for the
bot's vv_perpetrator need outside the two sample regions; Rikosuhripäivystys 116 006 has weekday hours
and must never look like a 24/7 line (catalog/data/sample/README.md says where the facts come from).
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.models import Channel
from catalog.query import ServiceRecord, crisis_services, find_services, national_services

REPO = Path(__file__).resolve().parents[2]
CHAT = "Apua väkivaltaan -chat"
RIKU = "Rikosuhripäivystyksen auttava puhelin"
# Explicit Helsinki offsets: +02:00 in winter, +03:00 in summer.
TUESDAY_10 = datetime.fromisoformat("2026-12-15T10:00:00+02:00")
SUNDAY_EVENING = datetime.fromisoformat("2026-12-13T19:00:00+02:00")


def by_name(records: list[ServiceRecord], name: str) -> ServiceRecord:
    found = [r for r in records if r.channel_name == name]
    assert found, [r.channel_name for r in records]
    return found[0]


def riku(session: Session, now: datetime) -> ServiceRecord:
    return by_name(national_services(session, "lahisuhdevakivalta", now=now), RIKU)


# --- Nettiturvakoti: Apua väkivaltaan -chat -----------------------------------------------------------


@pytest.mark.parametrize("place", ["Kuopio", "Kuopiossa", "Helsingissä", "Rovaniemellä"])
def test_perpetrator_help_outside_the_sample_regions(sample: Session, place: str) -> None:
    records = find_services(sample, "vakivallan_tekija", place, now=TUESDAY_10)
    assert [r.channel_name for r in records] == [CHAT]
    chat = records[0]
    assert (chat.kind, chat.scope, chat.match) == ("chat", "national", "national")
    assert chat.organisation == "Ensi- ja turvakotien liitto"
    assert chat.url == "https://nettiturvakoti.fi" and chat.source_url == "https://nettiturvakoti.fi"
    assert chat.last_verified == date(2026, 12, 7) and chat.is_example is False


def test_chat_has_no_invented_hours_or_number(sample: Session) -> None:
    chat = find_services(sample, "vakivallan_tekija", "Kuopio", now=TUESDAY_10)[0]
    assert chat.phones == () and chat.hours_text is None and chat.hours_notes == ()
    assert chat.open_now is None and chat.next_opening is None
    assert chat.description is not None
    assert "väkivaltaa käyttäville" in chat.description and "arkisin" in chat.description
    assert "nettiturvakoti.fi" in chat.description


@pytest.mark.parametrize("topic", ["vakivallan_tekija", "lahisuhdevakivalta", "vakivaltatyo", "anonyymi_chat"])
def test_chat_is_found_nationwide_for_violence_topics(sample: Session, topic: str) -> None:
    assert CHAT in [r.channel_name for r in national_services(sample, topic, now=TUESDAY_10)]
    assert CHAT in [r.channel_name for r in find_services(sample, topic, "Kuopio", now=TUESDAY_10, limit=20)]


@pytest.mark.parametrize("topic", ["turvakoti", "paivystys", "auttava_puhelin", "eroauttaminen"])
def test_chat_is_not_a_shelter_or_an_emergency_line(sample: Session, topic: str) -> None:
    assert CHAT not in [r.channel_name for r in national_services(sample, topic, now=TUESDAY_10)]


def test_local_perpetrator_line_still_comes_first_in_the_sample_region(sample: Session) -> None:
    records = find_services(sample, "vakivallan_tekija", "Raahessa", now=TUESDAY_10, limit=10)
    assert records[0].channel_name == "Puhelin väkivaltaa käyttäneille"
    assert records[-1].channel_name == CHAT and records[-1].match == "national"


def test_crisis_services_are_unchanged(sample: Session) -> None:
    names = [r.channel_name for r in crisis_services(sample, "Kuopio", now=SUNDAY_EVENING)]
    assert names == ["Hätänumero 112", "Nollalinja"]


def test_chat_names_and_descriptions_in_three_languages(sample: Session) -> None:
    chat = sample.execute(select(Channel).where(Channel.name_fi == CHAT)).scalar_one()
    assert chat.name_sv and chat.name_en
    for text in (chat.summary_fi, chat.summary_sv, chat.summary_en):
        assert text and "nettiturvakoti.fi" in text
    assert "vardagar" in chat.summary_sv and "weekdays" in chat.summary_en
    assert "använder våld" in chat.summary_sv and "people who use it" in chat.summary_en
    for text in (chat.description_fi, chat.description_sv, chat.description_en):
        assert text and "18" in text  # the separate chat for children and young people


def test_perpetrator_search_from_the_command_line(sample: Session, db_url: str) -> None:
    sample.commit()
    env = {**os.environ, "DATABASE_URL": db_url, "PERHEOPAS_NOW": TUESDAY_10.isoformat(), "PYTHONPATH": str(REPO)}
    result = subprocess.run(
        [sys.executable, "-m", "catalog", "search", "--topic", "vakivallan_tekija", "--municipality", "Kuopio"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    entries = [line for line in result.stdout.splitlines() if line[:1].isdigit()]
    assert entries == [f"1. {CHAT} [chat, national]"]
    assert "https://nettiturvakoti.fi" in result.stdout and "puh." not in result.stdout


# --- Rikosuhripäivystys 116 006: weekday hours, not 24/7 -----------------------------------------------


def test_rikosuhripaivystys_is_not_always_open(sample: Session) -> None:
    record = riku(sample, TUESDAY_10)
    assert record.phones[0][0] == "116 006"
    assert record.hours_text == "ma–pe 9.00–20.00"
    assert record.hours_text != "avoinna aina"


def test_rikosuhripaivystys_closed_on_sunday_evening(sample: Session) -> None:
    record = riku(sample, SUNDAY_EVENING)
    assert record.open_now is False
    assert record.next_opening == datetime.fromisoformat("2026-12-14T09:00:00+02:00")


def test_rikosuhripaivystys_open_on_tuesday_at_ten(sample: Session) -> None:
    record = riku(sample, TUESDAY_10)
    assert record.open_now is True
    assert record.open_until == datetime.fromisoformat("2026-12-15T20:00:00+02:00")


@pytest.mark.parametrize(
    ("moment", "open_now"),
    [
        ("2027-06-08T10:00:00+03:00", True),  # a Tuesday in summer time
        ("2027-06-08T08:59:00+03:00", False),
        ("2027-06-11T20:00:00+03:00", False),  # Friday, closing time
        ("2027-06-12T12:00:00+03:00", False),  # Saturday
        ("2026-12-15T08:30:00+00:00", True),  # 10.30 in Helsinki
    ],
)
def test_rikosuhripaivystys_hours_across_offsets(sample: Session, moment: str, open_now: bool) -> None:
    assert riku(sample, datetime.fromisoformat(moment)).open_now is open_now


def test_only_always_open_phone_lines_are_offered_as_round_the_clock(sample: Session) -> None:
    for record in national_services(sample, "lahisuhdevakivalta", now=SUNDAY_EVENING):
        if record.kind == "phone" and record.hours_text == "avoinna aina":
            assert record.channel_name in {"Nollalinja"}, record.channel_name
