"""Services shown in Swedish and English (issue 16): import, storage, records, queries and the fallback to Finnish.

`data/ptv_languages/` is a small PTV sample written for this: a family-counselling service with Finnish, Swedish
and English texts, Swedish street names and a Swedish phone charge; a second service with only a Finnish text
in most fields, and odd or missing language codes ("SV", "sv-FI", "en-GB", "se", "", a null Swedish value,
language codes longer than the column). Every organisation, address and number in it is made up.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from catalog_helpers import NOW
from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.display import decode
from catalog.importer import import_paths
from catalog.models import Channel, ChannelLanguage, Phone, Service
from catalog.query import crisis_services, find_services, national_services, search_text
from catalog.records import LANGUAGE_FIELDS, ServiceRecord, display_language

LANG_DIR = Path(__file__).resolve().parent / "data" / "ptv_languages"
LOCATION = "c40a1b2c-3d4e-4f50-9a61-100000000001"
PHONE = "c40a1b2c-3d4e-4f50-9a61-100000000002"
WEB = "c40a1b2c-3d4e-4f50-9a61-100000000003"


@pytest.fixture()
def languages(session: Session) -> Session:
    report = import_paths(session, [LANG_DIR])
    assert report.added == {"service": 2, "channel": 3} and not report.skipped
    return session


def records(session: Session, shown_in: str, **kwargs: Any) -> dict[str, ServiceRecord]:
    found = find_services(session, "perheneuvonta", "Oulu", now=NOW, display_language=shown_in, **kwargs)
    return {record.channel_id: record for record in found}


def channel(session: Session, source_id: str) -> Channel:
    return session.execute(select(Channel).where(Channel.source_id == source_id)).scalar_one()


# --- import and storage -------------------------------------------------------------------------------


def test_swedish_and_english_texts_are_stored_and_derived(languages: Session) -> None:
    location = channel(languages, LOCATION)
    assert (location.service_name_fi, location.service_name_sv, location.service_name_en) == (
        "Testialueen perheneuvola",
        "Testområdets familjerådgivning",
        "Test area family counselling",
    )
    assert location.short_description_sv == "Familjerådgivningens kontor i centrum. Tidsbokning per telefon."
    # No English summary on the channel: its service's English summary, as Finnish takes the service's.
    assert location.short_description_en == "Counselling for families on raising children and everyday family life."
    assert location.municipality_name_sv == "Uleåborg"
    web = channel(languages, WEB)
    assert web.service_name_sv is None and web.short_description_sv is None and web.short_description_en is None
    assert web.service_name_en == "Family counselling online"  # from "en-GB"


def test_odd_and_missing_language_codes_do_not_break_the_import(languages: Session) -> None:
    online = languages.execute(select(Service).where(Service.name_fi == "Perheneuvonnan verkkopalvelu")).scalar_one()
    # A null or blank Swedish value is no Swedish text; "se" (Northern Sami) and "" are not kept as columns.
    assert online.name_sv is None and online.summary_sv is None
    assert online.name_en == "Family counselling online"
    assert online.languages == "fi,sv,en"
    assert channel(languages, PHONE).name_sv == "Familjerådgivningens telefon"  # "SV"
    phone_id = channel(languages, PHONE).id
    offered = set(
        languages.execute(select(ChannelLanguage.language).where(ChannelLanguage.channel_id == phone_id)).scalars()
    )
    # "SV" and "sv-FI" are Swedish; two long unknown codes cut to the column's 8 characters are one row.
    assert offered == {"fi", "sv", "xx-longc"}
    phone_languages = set(languages.execute(select(Phone.language).where(Phone.channel_id == phone_id)).scalars())
    assert phone_languages == {"fi", "zz-a-ver"}


def test_reimport_changes_nothing(languages: Session) -> None:
    report = import_paths(languages, [LANG_DIR])
    assert report.unchanged == {"service": 2, "channel": 3} and not report.added and not report.updated


def test_plain_codes_win_over_odd_spellings(session: Session, tmp_path: Path) -> None:
    data = json.loads((LANG_DIR / "channels.json").read_text(encoding="utf-8"))
    data[0]["serviceChannelNames"].insert(0, {"language": "sv-FI", "value": "Fel namn", "type": "Name"})
    (tmp_path / "channels.json").write_text(json.dumps(data), encoding="utf-8")
    import_paths(session, [tmp_path / "channels.json"])
    assert channel(session, LOCATION).name_sv == "Familjerådgivningen Testgatan"


def test_swedish_street_names_and_phone_charges_are_kept_for_display(languages: Session) -> None:
    stored = decode(channel(languages, LOCATION).display_json)
    assert stored.address == "Testikatu 5, 90100 Oulu"
    assert stored.in_language("fi") == ("Testikatu 5, 90100 Oulu", (("08 0100 7100", "pvm/mpm"),), ())
    assert stored.in_language("sv") == ("Testgatan 5, 90100 Uleåborg", (("08 0100 7100", "lna/msa"),), ())
    # No English street name or charge: the Finnish ones, and the Finnish charge text is noted.
    assert stored.in_language("en") == ("Testikatu 5, 90100 Oulu", (("08 0100 7100", "pvm/mpm"),), ("phones",))
    free = decode(channel(languages, PHONE).display_json)
    assert [charge for _n, charge in (free.in_language(lang)[1][0] for lang in ("fi", "sv", "en"))] == [
        "maksuton",
        "avgiftsfri",
        "free of charge",
    ]


def test_display_stored_before_translations_notes_finnish_phone_charges() -> None:
    legacy = decode('{"address": "Testikatu 5, 90100 Oulu", "phones": [["08 0100 7100", "maksuton"]], "hours": []}')
    assert legacy.in_language("sv") == ("Testikatu 5, 90100 Oulu", (("08 0100 7100", "maksuton"),), ("phones",))
    assert legacy.in_language("fi")[2] == ()
    assert decode('{"phones": [["112", ""]]}').in_language("en")[2] == ()


# --- records in three languages --------------------------------------------------------------------------


def test_finnish_records_have_finnish_texts_and_no_language_keys(languages: Session) -> None:
    found = records(languages, "fi")
    location = found[LOCATION]
    assert (location.channel_name, location.service_name) == ("Perheneuvola Testikatu", "Testialueen perheneuvola")
    assert location.hours_text == "ma–pe 9.00–12.00" and location.hours_notes == ("suljettu 4.12.",)
    assert all(r.display_language == r.text_language == "fi" and r.fallback_fields == () for r in found.values())
    plain = location.to_dict()
    assert not set(LANGUAGE_FIELDS) & set(plain)
    assert plain == {k: v for k, v in location.to_dict(with_language=True).items() if k not in LANGUAGE_FIELDS}
    default = find_services(languages, "perheneuvonta", "Oulu", now=NOW)
    assert [r.to_dict() for r in default] == [r.to_dict() for r in found.values()]


def test_swedish_records(languages: Session) -> None:
    found = records(languages, "sv")
    location = found[LOCATION]
    assert location.channel_name == "Familjerådgivningen Testgatan"
    assert location.service_name == "Testområdets familjerådgivning"
    assert location.description == "Familjerådgivningens kontor i centrum. Tidsbokning per telefon."
    assert location.address == "Testgatan 5, 90100 Uleåborg" and location.municipality == "Uleåborg"
    assert location.phones == (("08 0100 7100", "lna/msa"),)
    assert location.hours_text == "mån–fre 9.00–12.00" and location.hours_notes == ("stängt 4.12.",)
    assert (location.display_language, location.text_language, location.fallback_fields) == ("sv", "sv", ())
    phone = found[PHONE]
    assert phone.hours_text == "alltid öppet" and phone.open_now is True and phone.open_until is None
    assert phone.description == "Samtalsstöd för familjer i fostran och vardag."
    assert phone.phones == (("08 0100 7200", "avgiftsfri"),) and phone.text_language == "sv"


def test_english_records(languages: Session) -> None:
    found = records(languages, "en")
    location = found[LOCATION]
    assert location.channel_name == "Family counselling centre, Testikatu"
    assert location.service_name == "Test area family counselling"
    assert location.hours_text == "Mon–Fri 9:00–12:00" and location.hours_notes == ("closed 4 Dec",)
    assert location.address == "Testikatu 5, 90100 Oulu" and location.municipality == "Oulu"
    # The phone's charge is PTV's Finnish text: noted, but the record's own texts are English.
    assert (location.text_language, location.fallback_fields) == ("en", ("phones",))
    assert found[PHONE].hours_text == "open 24/7"


def test_missing_texts_fall_back_to_finnish_with_the_flag_set(languages: Session) -> None:
    web_sv = records(languages, "sv")[WEB]
    assert web_sv.channel_name == "Perheneuvonnan verkkosivu"
    assert web_sv.service_name == "Perheneuvonnan verkkopalvelu"
    assert web_sv.description == "Ohjeita ja yhteystietoja perheille."
    assert (web_sv.display_language, web_sv.text_language) == ("sv", "fi")
    assert web_sv.fallback_fields == ("service_name", "channel_name", "description")
    web_en = records(languages, "en")[WEB]
    assert web_en.service_name == "Family counselling online"
    assert web_en.fallback_fields == ("channel_name", "description") and web_en.text_language == "fi"
    phone_en = records(languages, "en")[PHONE]
    assert phone_en.channel_name == "Perheneuvolan puhelin" and phone_en.fallback_fields == ("channel_name",)
    data = web_sv.to_dict(with_language=True)
    assert data["fallback_fields"] == ["service_name", "channel_name", "description"]
    assert data["text_language"] == "fi" and data["display_language"] == "sv"
    json.dumps(data)


def test_a_channel_without_services_has_nothing_to_fall_back_to(session: Session, tmp_path: Path) -> None:
    data = json.loads((LANG_DIR / "channels.json").read_text(encoding="utf-8"))[2]
    data["services"] = []
    (tmp_path / "web.json").write_text(json.dumps([data]), encoding="utf-8")
    import_paths(session, [tmp_path / "web.json"])
    (web,) = national_services(session, "perheneuvonta", now=NOW, display_language="sv")
    assert web.service_name is None and web.fallback_fields == ("channel_name", "description")


# --- the query functions ---------------------------------------------------------------------------------


def test_language_still_filters_by_the_languages_a_service_is_offered_in(languages: Session) -> None:
    assert set(records(languages, "fi", language="sv")) == {LOCATION, PHONE}  # "SV" counts as Swedish
    assert set(records(languages, "sv", language="en")) == {LOCATION}
    assert records(languages, "en", language="sv")[PHONE].hours_text == "open 24/7"


def test_national_search_and_crisis_functions_take_the_display_language(languages: Session) -> None:
    national = national_services(languages, "perheneuvonta", now=NOW, display_language="en")
    assert [r.service_name for r in national] == ["Family counselling online"]
    found = search_text(languages, "perheneuvola Oulu", now=NOW, display_language="sv")
    assert found and found[0].channel_name == "Familjerådgivningen Testgatan"
    assert search_text(languages, "perheneuvola Oulu", now=NOW)[0].channel_name == "Perheneuvola Testikatu"


def test_crisis_services_in_swedish_and_english_and_never_failing(sample: Session) -> None:
    finnish = crisis_services(sample, "Oulu", now=NOW)
    # The crisis path never fails: an unknown display language shows Finnish.
    assert crisis_services(sample, "Oulu", now=NOW, display_language="de") == finnish
    swedish = crisis_services(sample, "Oulu", now=NOW, display_language="sv")
    english = crisis_services(sample, "Oulu", now=NOW, display_language="en")
    assert [r.channel_id for r in swedish] == [r.channel_id for r in english] == [r.channel_id for r in finnish]
    assert "Nödnumret 112" in [r.channel_name for r in swedish]
    assert "Emergency number 112" in [r.channel_name for r in english]
    assert {r.hours_text for r in swedish} == {"alltid öppet"} and {r.hours_text for r in english} == {"open 24/7"}
    assert all(r.phones and r.phones == f.phones for r, f in zip(swedish, finnish, strict=True)
               if "phones" in r.fallback_fields)


@pytest.mark.parametrize("bad", ["de", "SV", "", "sv-FI"])
def test_an_unknown_display_language_is_refused(languages: Session, bad: str) -> None:
    with pytest.raises(ValueError, match="display language"):
        find_services(languages, "perheneuvonta", "Oulu", now=NOW, display_language=bad)
    with pytest.raises(ValueError):
        search_text(languages, "perheneuvola", now=NOW, display_language=bad)
    with pytest.raises(ValueError):
        display_language(bad)
    assert display_language(None) == "fi"
