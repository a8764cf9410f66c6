"""The bundled sample catalogue: national numbers, crisis services, examples marked, topics for the bot."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from catalog_helpers import NOW
from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.cli import validation_report
from catalog.importer import load_sample
from catalog.models import Channel
from catalog.query import crisis_services, find_services, national_services
from core.clock import HELSINKI


def at(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=HELSINKI)


def names(records: list) -> list[str]:
    return [r.channel_name for r in records]


def test_loads_only_into_an_empty_catalogue(sample: Session) -> None:
    assert load_sample(sample, if_empty=True) is None


def test_every_channel_has_a_topic_and_a_way_to_reach_it(sample: Session) -> None:
    report = validation_report(sample)
    assert report["no_topic"] == [] and report["no_area"] == [] and report["no_contact"] == []


def test_local_and_regional_entries_are_marked_as_examples(sample: Session) -> None:
    rows = sample.execute(select(Channel.scope, Channel.is_example, Channel.last_verified, Channel.source_url)).all()
    assert all(row.is_example for row in rows if row.scope != "national")
    national = [row for row in rows if row.scope == "national"]
    assert len(national) == 13  # 6 for the first three paths, 7 for the rest of the family centre (issue 15)
    assert all(not row.is_example and row.last_verified and row.source_url for row in national)


@pytest.mark.parametrize(
    ("name", "number", "hours"),
    [
        ("Nollalinja", "080 005 005", "avoinna aina"),
        ("Hätänumero 112", "112", "avoinna aina"),
        ("MIELI Kriisipuhelin", "09 2525 0111", "avoinna aina"),
        # Weekly hours from public sources of 2021–2023 (catalog/data/sample/README.md).
        ("Rikosuhripäivystyksen auttava puhelin", "116 006", "ma–pe 9.00–20.00"),
    ],
)
def test_national_numbers(sample: Session, name: str, number: str, hours: str) -> None:
    records = [r for topic in ("lahisuhdevakivalta", "paivystys") for r in national_services(sample, topic, now=NOW)]
    record = next(r for r in records if r.channel_name == name)
    assert record.phones[0][0] == number
    assert record.scope == "national" and record.is_example is False
    assert record.hours_text == hours
    assert record.open_now is True  # NOW is a Monday at 10


def test_nollalinja_is_open_on_christmas_eve_night(sample: Session) -> None:
    record = next(
        r
        for r in national_services(sample, "lahisuhdevakivalta", now=at("2026-12-24 03:00"))
        if r.channel_name == "Nollalinja"
    )
    assert record.open_now is True and record.phones == (("080 005 005", "maksuton, numero ei näy"),)
    assert set(record.languages) == {"fi", "sv", "en"}


@pytest.mark.parametrize(
    ("place", "first"),
    [
        ("Oulussa", "Pohjois-Pohjanmaan sosiaali- ja kriisipäivystys"),
        ("Kuusamosta", "Pohjois-Pohjanmaan sosiaali- ja kriisipäivystys"),
        ("Tampereella", "Pirkanmaan sosiaali- ja kriisipäivystys"),
        ("Hervanta", "Pirkanmaan sosiaali- ja kriisipäivystys"),
    ],
)
def test_crisis_services_regional_then_112_then_nollalinja(sample: Session, place: str, first: str) -> None:
    records = crisis_services(sample, place, now=NOW)
    assert names(records) == [first, "Hätänumero 112", "Nollalinja"]
    assert records[0].hours_text == "avoinna aina" and records[0].scope == "regional"


@pytest.mark.parametrize("place", [None, "", "Atlantis", "Helsingissä"])
def test_crisis_services_never_fail(sample: Session, place: str | None) -> None:
    assert names(crisis_services(sample, place, now=NOW)) == ["Hätänumero 112", "Nollalinja"]


@pytest.mark.parametrize(
    ("topic", "place", "expected"),
    [
        ("turvakoti", "Kempeleessä", "Oulun turvakoti"),
        ("turvakoti", "Nokialla", "Tampereen turvakoti"),
        ("vakivallan_tekija", "Raahessa", "Puhelin väkivaltaa käyttäneille"),
        ("lastenvalvoja", "Oulussa", "Lastenvalvojat, Oulu"),
        ("perheneuvonta", "Raahessa", "Raahen perheneuvola"),
        ("perheneuvonta", "Siikajoella", "Raahen perheneuvola"),
        ("tapaamispaikka", "Limingassa", "Tapaamispaikka, Oulu"),
        ("sovittelu", "Ylöjärvellä", "Perheasioiden sovittelun ajanvaraus"),
        ("eroneuvonta", "Lempäälässä", "Eroneuvonnan puhelin"),
        ("kohtaamispaikka", "Hervannassa", "Hervannan perhekahvila"),
        ("kohtaamispaikka", "Tuirassa", "Avoin päiväkoti Otto, Oulun keskusta"),
        ("anonyymi_chat", "Muhoksella", "Perhekeskuksen chat"),
        # The rest of the family centre (issue 15).
        ("neuvola", "Tuirassa", "Tuiran neuvola"),
        ("neuvola", "Kempeleessä", "Neuvolan puhelinneuvonta"),
        ("perheneuvola", "Oulussa", "Oulun perheneuvola"),
        ("perhetyo", "Nokialla", "Lapsiperheiden kotipalvelun ja perhetyön neuvonta"),
        ("varhaiskasvatus", "Tampereella", "Varhaiskasvatuksen asiakaspalvelu, Tampere"),
        ("mielenterveys", "Oulussa", "Mielenterveys- ja päihdepiste, Oulu"),
        ("paihteet", "Lempäälässä", "Mielenterveys- ja päihdeneuvonta"),
        ("toimeentulo", "Raahessa", "Sosiaalityön puhelinneuvonta"),
        ("talousneuvonta", "Ylöjärvellä", "Talous- ja velkaneuvonta, Pirkanmaa"),
        ("oppilashuolto", "Kuusamossa", "Oppilashuollon puhelin"),
        ("palveluohjaus", "Limingassa", "Perheneuvolan neuvontapuhelin"),
    ],
)
def test_topics_the_bot_asks_for(sample: Session, topic: str, place: str, expected: str) -> None:
    assert find_services(sample, topic, place, now=NOW)[0].channel_name == expected


def test_age_filter_on_children_groups(sample: Session) -> None:
    assert names(find_services(sample, "lasten_ryhma", "Oulu", age=9, now=NOW)) == [
        "Lasten eroryhmä 7–12-vuotiaille, Oulu"
    ]
    assert find_services(sample, "lasten_ryhma", "Oulu", age=15, now=NOW) == []
    teen = find_services(sample, "lasten_ryhma", "Kangasala", age=15, now=NOW)
    assert names(teen) == ["Nuorten eroryhmä 13–17-vuotiaille, Tampere"]
    assert (teen[0].min_age, teen[0].max_age) == (13, 17)


def test_tuira_cafe_hours_and_christmas_break(sample: Session) -> None:
    cafe = next(
        r
        for r in find_services(sample, "kohtaamispaikka", "Oulu", now=at("2026-12-10 10:00"), limit=10)
        if r.channel_name == "Perhekahvila Tuira"
    )
    assert cafe.hours_text == "ma–pe 9.00–12.00, ke 17.00–19.00"
    assert cafe.open_now is True
    assert "suljettu 21.12.–6.1.2027" in cafe.hours_notes
    during = next(
        r
        for r in find_services(sample, "kohtaamispaikka", "Oulu", now=at("2026-12-28 10:00"), limit=10)
        if r.channel_name == "Perhekahvila Tuira"
    )
    assert during.open_now is False and during.next_opening == at("2027-01-07 09:00")


def test_summer_closure_in_hervanta(sample: Session) -> None:
    cafe = find_services(sample, "kohtaamispaikka", "Hervanta", now=at("2027-07-05 10:00"))[0]
    assert cafe.open_now is False and cafe.next_opening == at("2027-08-09 09:00")


def test_over_midnight_phone_line(sample: Session) -> None:
    line = next(
        r
        for r in find_services(sample, "lahisuhdevakivalta", "Tampere", now=at("2026-11-28 01:00"), limit=10)
        if r.channel_name == "Lähisuhdeväkivaltatyön ilta- ja yöpuhelin"
    )
    assert line.open_now is True and line.open_until == at("2026-11-28 02:00")
    assert line.hours_text == "pe 18.00 – la 2.00, la 18.00 – su 2.00"


def test_example_numbers_are_obviously_not_real(sample: Session) -> None:
    for record in find_services(sample, "lahisuhdevakivalta", "Oulu", now=NOW, limit=20):
        if record.is_example:
            assert all(" 0100 " in number for number, _ in record.phones), record.phones


def test_last_verified_dates(sample: Session) -> None:
    record = national_services(sample, "hatanumero", now=NOW)[0]
    assert record.last_verified == date(2026, 11, 24) and record.source_url == "https://112.fi"


@pytest.mark.parametrize(
    ("topic", "expected"),
    [
        ("toimeentulo", {"Kelan perustoimeentulotuki"}),
        ("talousneuvonta", {"Takuusäätiö"}),
        ("paihteet", {"Päihdelinkki"}),
        ("mielenterveys", {"MIELI Kriisipuhelin", "Mielenterveystalo.fi", "Äimä ry"}),
        ("vanhemmuus", {"MLL:n Vanhempainpuhelin"}),
        ("terveysneuvonta", {"Päivystysapu 116117"}),
    ],
)
def test_national_pointers_of_the_family_centre(sample: Session, topic: str, expected: set[str]) -> None:
    records = national_services(sample, topic, now=NOW)
    assert set(names(records)) == expected
    assert all(r.scope == "national" and not r.is_example and r.source_url for r in records)


def test_real_national_services_carry_no_number_we_could_not_check(sample: Session) -> None:
    """Only Päivystysapu's 116117 is given; the others send the parent to their own page (S4)."""
    topics = ("toimeentulo", "talousneuvonta", "paihteet", "vanhemmuus", "terveysneuvonta")
    phones = {r.channel_name: r.phones for topic in topics for r in national_services(sample, topic, now=NOW)}
    assert phones.pop("Päivystysapu 116117")[0][0].replace(" ", "") == "116117"
    assert all(not numbers for numbers in phones.values()), phones


def test_separation_services_are_not_the_family_guidance_clinic(sample: Session) -> None:
    found = names(find_services(sample, "perheneuvola", "Oulu", now=NOW, limit=10))
    assert "Oulun perheneuvola" in found
    assert not [name for name in found if "ero" in name.lower().split()[0]], found
