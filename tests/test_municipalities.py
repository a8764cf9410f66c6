"""Municipality resolver: one row per case, "Kempeleessä → Kempele" or "kiitos → not a place".

The resolution table runs twice, with Voikko and with the rules alone, because
the resolver must work on a machine without libvoikko.
"""

from __future__ import annotations

import csv
from collections import Counter

import pytest

from catalog import municipalities as mun
from catalog.municipalities import (
    MUNICIPALITIES_CSV,
    Municipality,
    find_municipalities_in_text,
    known_forms,
    load_municipalities,
    resolve_municipality,
)

POHJOIS_POHJANMAA = [
    ("Alavieskassa", "Alavieska"),
    ("Haapajärvellä", "Haapajärvi"),
    ("Haapavedellä", "Haapavesi"),
    ("Hailuodossa", "Hailuoto"),
    ("Iissä", "Ii"),
    ("Kalajoella", "Kalajoki"),
    ("Kempeleessä", "Kempele"),
    ("Kuusamossa", "Kuusamo"),
    ("Kärsämäellä", "Kärsämäki"),
    ("Limingassa", "Liminka"),
    ("Lumijoella", "Lumijoki"),
    ("Merijärvellä", "Merijärvi"),
    ("Muhoksella", "Muhos"),
    ("Nivalassa", "Nivala"),
    ("Oulaisissa", "Oulainen"),
    ("Oulussa", "Oulu"),
    ("Pudasjärvellä", "Pudasjärvi"),
    ("Pyhäjoella", "Pyhäjoki"),
    ("Pyhäjärvellä", "Pyhäjärvi"),
    ("Pyhännällä", "Pyhäntä"),
    ("Raahessa", "Raahe"),
    ("Reisjärvellä", "Reisjärvi"),
    ("Sievissä", "Sievi"),
    ("Siikajoella", "Siikajoki"),
    ("Siikalatvalla", "Siikalatva"),
    ("Taivalkoskella", "Taivalkoski"),
    ("Tyrnävällä", "Tyrnävä"),
    ("Utajärvellä", "Utajärvi"),
    ("Vaalassa", "Vaala"),
    ("Ylivieskassa", "Ylivieska"),
]

PIRKANMAA = [
    ("Akaassa", "Akaa"),
    ("Hämeenkyrössä", "Hämeenkyrö"),
    ("Ikaalisissa", "Ikaalinen"),
    ("Juupajoella", "Juupajoki"),
    ("Kangasalla", "Kangasala"),
    ("Kihniössä", "Kihniö"),
    ("Kuhmoisissa", "Kuhmoinen"),
    ("Lempäälässä", "Lempäälä"),
    ("Mänttä-Vilppulassa", "Mänttä-Vilppula"),
    ("Nokialla", "Nokia"),
    ("Orivedellä", "Orivesi"),
    ("Parkanossa", "Parkano"),
    ("Pirkkalassa", "Pirkkala"),
    ("Punkalaitumella", "Punkalaidun"),
    ("Pälkäneellä", "Pälkäne"),
    ("Ruovedellä", "Ruovesi"),
    ("Sastamalassa", "Sastamala"),
    ("Tampereella", "Tampere"),
    ("Urjalassa", "Urjala"),
    ("Valkeakoskella", "Valkeakoski"),
    ("Vesilahdella", "Vesilahti"),
    ("Virroilla", "Virrat"),
    ("Ylöjärvellä", "Ylöjärvi"),
]

INFLECTED = [
    ("Oulusta", "Oulu"),
    ("Ouluun", "Oulu"),
    ("Oulun", "Oulu"),
    ("Oululla", "Oulu"),
    ("Oulu", "Oulu"),
    ("Raahesta", "Raahe"),
    ("Kempeleeseen", "Kempele"),
    ("Kempeleen", "Kempele"),
    ("Limingan", "Liminka"),
    ("Liminkaan", "Liminka"),
    ("Tampereelta", "Tampere"),
    ("Tampereen", "Tampere"),
    ("Tampereelle", "Tampere"),
    ("Nokian", "Nokia"),
    ("Helsingissä", "Helsinki"),
    ("Helsinkiin", "Helsinki"),
    ("Helsingin", "Helsinki"),
    ("Iistä", "Ii"),
    ("Iihin", "Ii"),
    ("Ylöjärvelle", "Ylöjärvi"),
    ("Lempäälään", "Lempäälä"),
    ("Hämeenlinnassa", "Hämeenlinna"),
    ("Porissa", "Pori"),
    ("Vaasassa", "Vaasa"),
    ("Espoossa", "Espoo"),
    ("Espooseen", "Espoo"),
    ("Vantaalla", "Vantaa"),
    ("Turussa", "Turku"),
    ("Turkuun", "Turku"),
    ("Lahdessa", "Lahti"),
    ("Lahteen", "Lahti"),
    ("Joensuussa", "Joensuu"),
    ("Joensuuhun", "Joensuu"),
    ("Mikkelissä", "Mikkeli"),
    ("Kuopiossa", "Kuopio"),
    ("Kouvolassa", "Kouvola"),
    ("Seinäjoella", "Seinäjoki"),
    ("Rovaniemellä", "Rovaniemi"),
    ("Jyväskylässä", "Jyväskylä"),
    ("Lappeenrannassa", "Lappeenranta"),
    ("Hangossa", "Hanko"),
    ("Vihdissä", "Vihti"),
    ("Lopella", "Loppi"),
    ("Juuassa", "Juuka"),
    ("Liedossa", "Lieto"),
    ("Varkaudessa", "Varkaus"),
    ("Alavudella", "Alavus"),
    ("Rautalammilla", "Rautalampi"),
    ("Kontiolahdella", "Kontiolahti"),
    ("Uudessakaupungissa", "Uusikaupunki"),
    ("Isossakyrössä", "Isokyrö"),
    ("Kauniaisissa", "Kauniainen"),
    ("Maarianhaminassa", "Maarianhamina"),
    ("Finströmissä", "Finström"),
    ("Koski Tl:ssä", "Koski Tl"),
    ("Koskella", "Koski Tl"),
    ("Pedersöressä", "Pedersören kunta"),
    ("Pedersören kunta", "Pedersören kunta"),
    ("Oulussakin", "Oulu"),
    ("Tampereellako", "Tampere"),
    ("Kempeleessäkään", "Kempele"),
    ("Oulun kaupunki", "Oulu"),
    ("Tampereen seudulla", "Tampere"),
    ("lähellä Oulua", "Oulu"),
    ("oululainen", "Oulu"),
    ("tamperelaiselle", "Tampere"),
    ("helsinkiläinen", "Helsinki"),
    ("kempeleläinen", "Kempele"),
    ("lahtelainen", "Lahti"),
    ("limingalaiset", "Liminka"),
    ("iiläinen", "Ii"),
]

SWEDISH = [
    ("Uleåborg", "Oulu"),
    ("Uleaborg", "Oulu"),
    ("från Uleåborg", "Oulu"),
    ("Brahestad", "Raahe"),
    ("Tammerfors", "Tampere"),
    ("Helsingfors", "Helsinki"),
    ("till Helsingfors", "Helsinki"),
    ("i Vasa", "Vaasa"),
    ("Vasas", "Vaasa"),
    ("Åbo", "Turku"),
    ("i Åbo", "Turku"),
    ("Esbo", "Espoo"),
    ("Vanda", "Vantaa"),
    ("Jakobstad", "Pietarsaari"),
    ("Karleby", "Kokkola"),
    ("Björneborg", "Pori"),
    ("Tavastehus", "Hämeenlinna"),
    ("Villmanstrand", "Lappeenranta"),
    ("Borgå", "Porvoo"),
    ("Limingo", "Liminka"),
    ("Karlö", "Hailuoto"),
    ("Birkala", "Pirkkala"),
    ("Tavastkyro", "Hämeenkyrö"),
    ("Mariehamn", "Maarianhamina"),
    ("Nykarleby", "Uusikaarlepyy"),
    ("Kristinestad", "Kristiinankaupunki"),
    ("Pedersöre", "Pedersören kunta"),
]

CASE_AND_DIACRITICS = [
    ("oulussa", "Oulu"),
    ("tampereella", "Tampere"),
    ("HELSINKI", "Helsinki"),
    ("  Oulu  ", "Oulu"),
    ("Oulu.", "Oulu"),
    ("lempaala", "Lempäälä"),
    ("lempaalassa", "Lempäälä"),
    ("ylojarvi", "Ylöjärvi"),
    ("ylojarvella", "Ylöjärvi"),
    ("hameenlinna", "Hämeenlinna"),
    ("hameenlinnassa", "Hämeenlinna"),
    ("kempeleessa", "Kempele"),
    ("jyvaskyla", "Jyväskylä"),
    ("seinajoella", "Seinäjoki"),
    ("karsamaella", "Kärsämäki"),
    ("pyhannalla", "Pyhäntä"),
    ("aanekoskella", "Äänekoski"),
]

TYPOS = [
    ("kempeleesa", "Kempele"),
    ("tamperela", "Tampere"),
    ("oulusa", "Oulu"),
    ("helsingisä", "Helsinki"),
    ("Kuopiosa", "Kuopio"),
    ("Rovaniemelä", "Rovaniemi"),
    ("Hämeenlinnasa", "Hämeenlinna"),
    ("Seinäjoela", "Seinäjoki"),
    ("Lappeenrannasa", "Lappeenranta"),
    ("Jyväskylässa", "Jyväskylä"),
    ("limingasa", "Liminka"),
    ("Tampereellä", "Tampere"),  # wrong vowel harmony in the ending
    ("lämpimässä", None),  # an ä in the stem that no place has is not a typo
]

DISTRICTS = [
    ("Hervannassa", "Tampere"),
    ("Hervanta", "Tampere"),
    ("Vuoreksessa", "Tampere"),
    ("Tesomalla", "Tampere"),
    ("Lielahdessa", "Tampere"),
    ("Kalevassa", "Tampere"),
    ("Pispalassa", "Tampere"),
    ("Teiskossa", "Tampere"),
    ("Tampereen Tammelassa", "Tampere"),
    ("Tammelassa", "Tammela"),  # the municipality wins over Tampere's district
    ("Tuirassa", "Oulu"),
    ("Kaakkurissa", "Oulu"),
    ("Kiimingissä", "Oulu"),
    ("Haukiputaalla", "Oulu"),
    ("Haukipudas", "Oulu"),
    ("Yli-Iissä", "Oulu"),
    ("Ritaharjulla", "Oulu"),
    ("Pateniemessä", "Oulu"),
    ("Linnanmaalla", "Oulu"),
    ("Myllyojalla", "Oulu"),
    ("Höyhtyällä", "Oulu"),
    ("Toppilassa", "Oulu"),
    ("Oulunsalossa", "Oulu"),
    ("Zeppelinin", "Kempele"),
    ("Pattijoella", "Raahe"),
    ("Vihannissa", "Raahe"),
    ("Rukalla", "Kuusamo"),
    ("Kuusamon Rukalla", "Kuusamo"),
    ("Toijalassa", "Akaa"),
    ("Vammalassa", "Sastamala"),
    ("Sahalahdella", "Kangasala"),
    ("Kallio", "Helsinki"),
    ("Kalliossa", "Helsinki"),
    ("Vuosaaressa", "Helsinki"),
    ("Leppävaarassa", "Espoo"),
    ("Tapiolassa", "Espoo"),
    ("Espoon keskuksessa", "Espoo"),
    ("Tikkurilassa", "Vantaa"),
    ("Myyrmäessä", "Vantaa"),
    ("Runosmäessä", "Turku"),
    ("Tammisaaressa", "Raasepori"),
    ("Ekenäs", "Raasepori"),
    ("Pertunmaalla", "Mäntyharju"),
    ("Stadissa", "Helsinki"),
    ("Mansessa", "Tampere"),
]

CODES = [
    ("564", "Oulu"),
    ("837", "Tampere"),
    ("244", "Kempele"),
    ("091", "Helsinki"),
    ("91", "Helsinki"),
    ("009", "Alavieska"),
    ("425", "Liminka"),
    ("000", None),
    ("588", None),  # Pertunmaa, merged into Mäntyharju in 2025
    ("5640", None),
]

NEGATIVES = [
    ("tänään", None),
    ("kiitos", None),
    ("vauva", None),
    ("hei", None),
    ("apua", None),
    ("perhe", None),
    ("perheessä", None),
    ("koulussa", None),
    ("neuvolassa", None),
    ("lämmin", None),
    ("huomenna", None),
    ("äiti", None),
    ("ero", None),
    ("auttaa", None),
    ("haluan", None),
    ("vanha", None),
    ("viikko", None),
    ("lähellä", None),
    ("sukulainen", None),
    ("millainen", None),
    ("asiakkaalla", None),
    ("hankkeessa", None),
    ("", None),
    ("   ", None),
    ("Pariisi", None),
    ("Tukholma", None),
    ("Suomi", None),
    ("Pirkanmaa", None),
    ("Uusimaa", None),
]

TABLE = (
    POHJOIS_POHJANMAA + PIRKANMAA + INFLECTED + SWEDISH + CASE_AND_DIACRITICS + TYPOS + DISTRICTS + CODES + NEGATIVES
)

# Typos one edit away from a form: safe only with Voikko's veto on real words.
VOIKKO_ONLY = [
    ("Tamprella", "Tampere"),
    ("Helsinkisä", "Helsinki"),
    ("Jyväskylsä", "Jyväskylä"),
    ("Viitanen", None),  # a surname one edit from Vihanti (Raahe) stays a surname
]

SCAN = [
    ("Asun Oulussa ja lapseni on 3-vuotias", ["Oulu"]),
    ("Olen oululainen äiti", ["Oulu"]),
    ("asun tampereella hervannassa", ["Tampere"]),
    ("perheneuvola Kempeleessä?", ["Kempele"]),
    ("Muutin Salosta Kotkaan", ["Salo", "Kotka"]),
    ("Lahdessa on kiva kohtaamispaikka", ["Lahti"]),
    ("Tampereen Tammelassa", ["Tampere"]),
    ("Koski Tl:ssä asuva perhe", ["Koski Tl"]),
    ("i Vasa finns familjecentret", ["Vaasa"]),
    ("asun lähellä Oulua", ["Oulu"]),
    ("Kuusamon Rukalla", ["Kuusamo"]),
    ("Asun Limingassa, mutta työ on Oulussa", ["Liminka", "Oulu"]),
    ("Hei, tarvitsen apua, mieheni lyö minua", []),
    ("olen ollut kolarissa", []),  # kolari = car crash, lowercase
    ("mökki on lahden rannalla", []),  # lahti = bay, lowercase
    ("kotka lensi taivaalla", []),
    ("koulussa kiusataan", []),
    ("perheessä on riitaa", []),
    ("eno tulee kylään", []),
    ("Simo tulee kylään", []),  # a first name, not the municipality
    ("Simon kanssa", []),
    ("osa II", []),
    ("", []),
]


@pytest.fixture(params=["voikko", "rules"])
def voikko_mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test with Voikko (when installed) and with the rule-only fallback."""
    if request.param == "rules":
        monkeypatch.setenv(mun.VOIKKO_ENV, "0")
    else:
        monkeypatch.delenv(mun.VOIKKO_ENV, raising=False)
        if not mun.voikko_available():
            pytest.skip("libvoikko with a Finnish dictionary is not installed")
    return request.param


def _name(municipality: Municipality | None) -> str | None:
    return municipality.name_fi if municipality else None


@pytest.mark.parametrize(("text", "expected"), TABLE, ids=[repr(t) for t, _ in TABLE])
def test_resolve(voikko_mode: str, text: str, expected: str | None) -> None:
    assert _name(resolve_municipality(text)) == expected


@pytest.mark.parametrize(("text", "expected"), VOIKKO_ONLY, ids=[repr(t) for t, _ in VOIKKO_ONLY])
def test_resolve_one_edit_typos_with_voikko(
    text: str, expected: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(mun.VOIKKO_ENV, raising=False)
    if not mun.voikko_available():
        pytest.skip("libvoikko with a Finnish dictionary is not installed")
    assert _name(resolve_municipality(text)) == expected


@pytest.mark.parametrize(("text", "expected"), SCAN, ids=[repr(t) for t, _ in SCAN])
def test_find_in_text(voikko_mode: str, text: str, expected: list[str]) -> None:
    assert [m.name_fi for m in find_municipalities_in_text(text)] == expected


def test_table_covers_every_municipality_of_the_pilot_regions() -> None:
    expected = {row[1] for row in TABLE}
    for region in ("Pohjois-Pohjanmaa", "Pirkanmaa"):
        names = {m.name_fi for m in load_municipalities() if m.region == region}
        assert names <= expected, f"{region} missing from the table: {sorted(names - expected)}"


def test_csv_has_308_municipalities_with_unique_codes() -> None:
    with MUNICIPALITIES_CSV.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 308
    codes = [row["code"] for row in rows]
    assert len(set(codes)) == 308
    assert all(len(code) == 3 and code.isdigit() for code in codes)
    assert all(row[field].strip() for row in rows for field in ("name_fi", "name_sv", "region", "wellbeing_area"))
    assert len({row["name_fi"] for row in rows}) == 308


def test_csv_regions_and_wellbeing_areas() -> None:
    municipalities = load_municipalities()
    by_code = {m.code: m for m in municipalities}
    assert (by_code["564"].name_fi, by_code["837"].name_fi, by_code["244"].name_fi) == ("Oulu", "Tampere", "Kempele")
    regions = Counter(m.region for m in municipalities)
    assert len(regions) == 19
    assert regions["Pohjois-Pohjanmaa"] == 30
    assert regions["Pirkanmaa"] == 23
    assert by_code["091"].wellbeing_area == "Helsingin kaupunki"
    assert by_code["564"].wellbeing_area == "Pohjois-Pohjanmaan hyvinvointialue"
    assert by_code["837"].wellbeing_area == "Pirkanmaan hyvinvointialue"
    assert by_code["245"].wellbeing_area == "Vantaan ja Keravan hyvinvointialue"
    # 21 wellbeing areas, Helsinki, and Åland, which has none.
    assert len({m.wellbeing_area for m in municipalities}) == 23
    assert by_code["564"].name_sv == "Uleåborg"
    assert by_code["244"].name_sv == "Kempele"


def test_extra_municipalities_are_resolved() -> None:
    extra = Municipality("998", "Testilä", "Testby", "Testimaa", "Testimaan hyvinvointialue")
    assert _name(resolve_municipality("Testilässä", extra=[extra])) == "Testilä"
    assert _name(resolve_municipality("Testby", extra=[extra])) == "Testilä"
    assert resolve_municipality("Testilässä") is None


def test_known_forms_for_lookup_tables() -> None:
    forms = known_forms()
    assert {"oulussa", "kempeleessä", "tampereella", "hervannassa", "uleåborg"} <= forms
    assert "simo" not in forms  # a first name on its own is not a lookup hit
    assert all(form == form.lower() for form in forms)
