"""Ranked, display-ready queries over the independent PTV fixture, identical on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import pytest
from catalog_helpers import NOW
from sqlalchemy.orm import Session

from catalog.query import (
    UnknownMunicipalityError,
    UnknownTopicError,
    find_services,
    national_services,
    search_text,
)
from core.clock import HELSINKI


def names(records: list) -> list[str]:
    return [r.channel_name for r in records]


def at(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=HELSINKI)


KEMPELE_ORDER = [
    "Kempeleen avoin päiväkoti",
    "Perhekahvila Linnakangas",
    "Kohtaamispaikkojen infopuhelin",
    "Verkkoperhekahvila-chat",
]


@pytest.mark.parametrize("form", ["Kempeleessä", "Kempeleestä", "kempele", "KEMPELE", "244", "Kempele "])
def test_kempele_local_then_regional_then_national(imported: Session, form: str) -> None:
    records = find_services(imported, "kohtaamispaikka", form, now=NOW)
    assert names(records) == KEMPELE_ORDER
    assert [r.match for r in records] == ["local", "local", "regional", "national"]
    assert [r.scope for r in records] == ["local", "local", "regional", "national"]
    assert all(r.municipality in ("Kempele", None) for r in records)  # nothing local from Oulu


def test_oulu_gets_its_own_cafe(imported: Session) -> None:
    assert names(find_services(imported, "kohtaamispaikka", "Oulussa", now=NOW))[:2] == [
        "Perhekahvila Meri-Toppila",
        "Kohtaamispaikkojen infopuhelin",
    ]


def test_nearby_services_in_the_same_wellbeing_area_are_optional(imported: Session) -> None:
    plain = find_services(imported, "kohtaamispaikka", "Limingassa", now=NOW)
    assert names(plain) == ["Kohtaamispaikkojen infopuhelin", "Verkkoperhekahvila-chat"]
    nearby = find_services(imported, "kohtaamispaikka", "Limingassa", now=NOW, include_nearby=True, limit=10)
    assert names(nearby) == [
        "Kohtaamispaikkojen infopuhelin",
        "Kempeleen avoin päiväkoti",
        "Perhekahvila Linnakangas",
        "Perhekahvila Meri-Toppila",
        "Verkkoperhekahvila-chat",
    ]
    assert [r.match for r in nearby] == ["regional", "nearby", "nearby", "nearby", "national"]


def test_other_wellbeing_area_gets_only_national(imported: Session) -> None:
    assert names(find_services(imported, "kohtaamispaikka", "Tampereella", now=NOW)) == ["Verkkoperhekahvila-chat"]


def test_without_municipality_only_national(imported: Session) -> None:
    assert names(find_services(imported, "kohtaamispaikka", None, now=NOW)) == ["Verkkoperhekahvila-chat"]
    assert names(national_services(imported, "eroauttaminen", now=NOW)) == ["Erotilanteen tietopaketti"]


def test_region_expanded_service_reaches_every_municipality_of_the_region(imported: Session) -> None:
    for place in ("Kuusamossa", "Ylivieskassa", "Hailuodossa"):
        found = find_services(imported, "sovittelu", place, now=NOW)
        assert names(found) == ["Sovittelun puhelin", "Erotilanteen tietopaketti"], place
        assert [r.match for r in found] == ["regional", "national"]
    assert names(find_services(imported, "sovittelu", "Nokialla", now=NOW)) == ["Erotilanteen tietopaketti"]


def test_record_is_display_ready(imported: Session) -> None:
    cafe = find_services(imported, "kohtaamispaikka", "Kempele", now=NOW)[1]
    assert cafe.channel_id == "c40a1b2c-3d4e-4f50-9a61-000000000001"
    assert cafe.service_name == "Avoin perhetoiminta Kempeleessä ja Oulussa"
    assert cafe.kind == "location"
    assert cafe.municipality == "Kempele"
    assert cafe.organisation == "Testialueen hyvinvointialue"
    assert cafe.address == "Linnakankaantie 3, 90440 Kempele"
    assert cafe.lat == pytest.approx(64.9075, abs=1e-4) and cafe.lon == pytest.approx(25.53, abs=1e-4)
    assert cafe.phones == (("040 123 4567", "normaali puhelumaksu"),)  # the fax number is left out
    assert cafe.languages == ("fi", "sv")
    assert {"kohtaamispaikka", "vertaistuki"} <= set(cafe.topics)
    assert cafe.description == "Perhekahvila Kempeleen Linnakankaalla. Tervetuloa ilman ilmoittautumista."
    assert cafe.hours_text == "ma ja ke 9.00–11.30"
    assert cafe.open_now is True and cafe.open_until == at("2026-11-23 11:30") and cafe.next_opening is None
    assert cafe.source == "ptv" and cafe.last_verified == date(2025, 9, 10) and cafe.is_example is False
    data = json.loads(json.dumps(cafe.to_dict()))
    assert data["open_until"] == "2026-11-23T11:30:00+02:00"
    assert data["phones"] == [["040 123 4567", "normaali puhelumaksu"]]

    day_care = find_services(imported, "kohtaamispaikka", "Kempele", now=NOW)[0]
    assert day_care.open_now is False and day_care.next_opening == at("2026-11-24 09:00")
    assert day_care.url == "https://www.example.fi/kempele/avoin-paivakoti"
    assert day_care.email == "avoin.paivakoti@example.fi"
    assert day_care.phones == ()


def test_christmas_and_exceptional_hours(imported: Session) -> None:
    def cafe(now: datetime) -> Any:
        return next(
            r for r in find_services(imported, "kohtaamispaikka", "Kempele", now=now) if "Linnakangas" in r.channel_name
        )

    before = cafe(at("2026-12-23 09:30"))  # Wednesday: exceptional 10–12 instead of 9–11.30
    assert before.open_now is False and before.next_opening == at("2026-12-23 10:00")
    assert "poikkeusaukiolo 23.12.: 10.00–12.00" in before.hours_notes
    assert cafe(at("2026-12-23 11:45")).open_now is True
    eve = cafe(at("2026-12-24 10:00"))
    assert eve.open_now is False and eve.next_opening == at("2026-12-28 09:00")
    midsummer = cafe(at("2026-06-19 10:00"))
    assert midsummer.open_now is False and midsummer.next_opening == at("2026-06-22 09:00")


def test_open_at_filter(imported: Session) -> None:
    tuesday_night = at("2026-11-24 21:30")
    assert names(find_services(imported, "kohtaamispaikka", "Kempele", open_at=tuesday_night, now=NOW)) == [
        "Verkkoperhekahvila-chat"
    ]
    saturday_past_midnight = at("2026-11-28 00:30")  # the Friday chat runs over midnight
    assert names(find_services(imported, "kohtaamispaikka", "Kempele", open_at=saturday_past_midnight, now=NOW)) == [
        "Verkkoperhekahvila-chat"
    ]
    monday_morning = at("2026-11-23 10:00")
    assert names(find_services(imported, "kohtaamispaikka", "Kempele", open_at=monday_morning, now=NOW)) == [
        "Perhekahvila Linnakangas",
        "Kohtaamispaikkojen infopuhelin",
    ]


def test_language_filter(imported: Session) -> None:
    assert names(find_services(imported, "kohtaamispaikka", "Kempele", language="sv", now=NOW)) == [
        "Perhekahvila Linnakangas"
    ]
    assert find_services(imported, "kohtaamispaikka", "Kempele", language="en", now=NOW) == []


def test_age_filter_keeps_services_without_an_age_limit(imported: Session) -> None:
    assert names(find_services(imported, "kohtaamispaikka", "Kempele", age=4, now=NOW)) == KEMPELE_ORDER


def test_paging(imported: Session) -> None:
    first = find_services(imported, "kohtaamispaikka", "Kempele", now=NOW, limit=2)
    second = find_services(imported, "kohtaamispaikka", "Kempele", now=NOW, limit=2, offset=2)
    assert names(first) + names(second) == KEMPELE_ORDER


def test_unknown_input_raises(imported: Session) -> None:
    with pytest.raises(UnknownTopicError, match="kohtaamispaikka"):
        find_services(imported, "kahvila", "Kempele", now=NOW)
    with pytest.raises(UnknownMunicipalityError):
        find_services(imported, "kohtaamispaikka", "Atlantis", now=NOW)


def test_empty_catalogue_returns_nothing(session: Session) -> None:
    assert find_services(session, "kohtaamispaikka", "Kempele", now=NOW) == []


def test_free_text_search(imported: Session) -> None:
    found = search_text(imported, "perhekahvila Kempeleessä", now=NOW)
    assert found[0].channel_name == "Perhekahvila Linnakangas"
    assert "Perhekahvila Meri-Toppila" not in names(found)
    assert names(search_text(imported, "sovittelua", now=NOW))[0] == "Sovittelun puhelin"
    assert names(search_text(imported, "erotilanteessa apua", now=NOW))[0] == "Erotilanteen tietopaketti"
    assert search_text(imported, "xyzzy plugh", now=NOW) == []
    assert search_text(imported, "ja on", now=NOW) == []


RESULTS: dict[str, list[Any]] = {}


def test_backends_agree(imported: Session, db_url: str) -> None:
    """The same battery of queries gives identical records on SQLite and PostgreSQL."""
    battery = []
    for topic in ("kohtaamispaikka", "eroauttaminen", "sovittelu", "vertaistuki", "palveluohjaus"):
        for place in (None, "Kempele", "Oulu", "Liminka", "Tampere"):
            for nearby in (False, True):
                records = find_services(imported, topic, place, now=NOW, limit=20, include_nearby=nearby)
                battery.append([r.to_dict() for r in records])
    battery.append([r.to_dict() for r in search_text(imported, "perhekahvila chat", limit=10, now=NOW)])
    RESULTS[db_url.split(":", 1)[0]] = battery
    if len(RESULTS) == 2:
        sqlite, postgres = (RESULTS[k] for k in sorted(RESULTS, key=lambda k: not k.startswith("sqlite")))
        assert sqlite == postgres
