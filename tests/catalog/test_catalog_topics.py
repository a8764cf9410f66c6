"""Topic classification from catalog/data/topics.yml, one row per case."""

from __future__ import annotations

import pytest

from catalog.topics import ClassifierInput, TopicConfigError, age_range, classify, load_topics, parse_config
from core.finnish import fold


def topics_for(
    kind: str, name: str, terms: list[tuple[str, str, str | None]] | None = None, text: str = ""
) -> set[str]:
    return classify(ClassifierInput(kind=kind, names=[name], texts=[text] if text else [], terms=terms or []))


@pytest.mark.parametrize(
    ("kind", "name", "present", "absent"),
    [
        ("location", "Perhekahvila Tuira", {"kohtaamispaikka"}, {"eroauttaminen"}),
        ("location", "Avoin päiväkoti Otto", {"kohtaamispaikka"}, set()),
        ("location", "Vauvakahvila Kempele", {"kohtaamispaikka"}, set()),
        ("location", "Familjecafé i Vasa", {"kohtaamispaikka"}, set()),
        (
            "phone",
            "Nollalinja",
            {"lahisuhdevakivalta", "vakivaltatyo", "auttava_puhelin", "paivystys"},
            {"vakivallan_tekija"},
        ),
        ("phone", "Oulun turvakoti", {"turvakoti", "lahisuhdevakivalta"}, {"kohtaamispaikka"}),
        ("phone", "Puhelin väkivaltaa käyttäneille", {"vakivallan_tekija", "lahisuhdevakivalta"}, {"vakivaltatyo"}),
        ("phone", "Lyömätön Linja", {"vakivallan_tekija"}, set()),
        ("phone", "Rikosuhripäivystyksen auttava puhelin", {"lahisuhdevakivalta", "auttava_puhelin"}, {"paivystys"}),
        ("phone", "Pirkanmaan sosiaali- ja kriisipäivystys", {"sosiaalipaivystys", "paivystys"}, set()),
        ("phone", "Hätänumero 112", {"hatanumero", "paivystys"}, set()),
        ("location", "Perheasioiden sovittelu", {"sovittelu", "eroauttaminen"}, set()),
        ("location", "Rikos- ja riita-asioiden sovittelu", set(), {"sovittelu"}),
        ("location", "Lastenvalvojat, Tampere", {"lastenvalvoja", "eroauttaminen"}, set()),
        ("location", "Tapaamispaikka, Oulu", {"tapaamispaikka", "eroauttaminen"}, set()),
        ("location", "Valvotut vaihdot", {"tapaamispaikka"}, set()),
        ("phone", "Eroneuvonnan puhelin", {"eroneuvonta", "eroauttaminen"}, set()),
        ("location", "Lasten eroryhmä 7–12-vuotiaille", {"lasten_ryhma", "eroauttaminen"}, set()),
        ("location", "Tampereen perheneuvola", {"perheneuvonta"}, {"eroauttaminen"}),
        ("location", "Kunnantalon asiointipiste", set(), {"kohtaamispaikka", "eroauttaminen", "lahisuhdevakivalta"}),
        ("location", "Erityisopetuksen palvelut", set(), {"eroauttaminen"}),  # "ero" inside a word
        ("location", "Parisuhdeväkivallan avopalvelu", {"lahisuhdevakivalta"}, {"parisuhde"}),
        ("location", "Tuiran neuvola", {"neuvola"}, {"perheneuvonta", "perheneuvola"}),
        ("location", "Tampereen perheneuvola", {"perheneuvola", "perheneuvonta"}, {"neuvola"}),
        ("phone", "Turvakotipalvelut", {"turvakoti"}, {"perhetyo"}),
        ("phone", "Lapsiperheiden kotipalvelu", {"perhetyo", "lapsiperhepalvelut"}, set()),
        ("location", "Avoin varhaiskasvatus Tuira", {"kohtaamispaikka"}, {"varhaiskasvatus"}),
        ("phone", "Varhaiskasvatuksen asiakaspalvelu", {"varhaiskasvatus"}, {"kohtaamispaikka"}),
        ("web", "A-klinikka, Oulu", {"paihteet"}, {"mielenterveys"}),
        ("location", "Mielenterveys- ja päihdepiste", {"mielenterveys", "paihteet"}, set()),
        ("phone", "Talous- ja velkaneuvonta", {"talousneuvonta"}, {"sovittelu"}),
        ("phone", "Koulukuraattori", {"oppilashuolto"}, set()),
    ],
)
def test_name_patterns(kind: str, name: str, present: set[str], absent: set[str]) -> None:
    found = topics_for(kind, name)
    assert present <= found, found
    assert not (absent & found), found


@pytest.mark.parametrize(
    ("terms", "present"),
    [
        ([("service_class", "P3.5", None)], {"eroauttaminen"}),
        ([("service_class", "P3.5.1", None)], {"eroauttaminen"}),  # a sub-class matches its parent's rule
        ([("service_class", "P3.7", None)], {"perheneuvonta"}),
        ([("service_class", "P19.3", None)], {"hatanumero", "paivystys"}),
        ([("service_class", "P4.12", None)], {"vertaistuki"}),
        ([("service_class", "P4.13", None)], {"palveluohjaus"}),
        ([("service_class", "P3.6", None)], {"lapsiperhepalvelut"}),
        ([("service_class", "P5.2", None)], {"neuvola"}),
        ([("service_class", "P3.4", None)], {"varhaiskasvatus"}),
        ([("service_class", "P4.10", None)], {"toimeentulo"}),
        ([("service_class", "P15.1", None)], {"talousneuvonta"}),
        ([("service_class", "P4.9", None)], {"oppilashuolto"}),
        ([("service_class", "P5.7", None)], {"mielenterveys", "paihteet"}),
        ([("service_class", "P5.16", None)], {"vertaistuki"}),
        ([("life_event", "KE7", "Avioero")], {"eroauttaminen"}),
        ([("keyword", "perhekahvila", "Perhekahvila")], {"kohtaamispaikka"}),
        ([("ontology_term", "p9999", "lähisuhdeväkivalta")], {"lahisuhdevakivalta"}),
    ],
)
def test_ptv_classes_terms_and_life_events(terms: list[tuple[str, str, str | None]], present: set[str]) -> None:
    assert present <= topics_for("location", "Palvelupiste", terms)


def test_a_broader_class_does_not_match_a_narrower_rule() -> None:
    assert "eroauttaminen" not in topics_for("location", "Palvelupiste", [("service_class", "P3", None)])


def test_channel_kind_restrictions() -> None:
    assert "anonyymi_chat" in topics_for("chat", "Perhekeskuksen chat", text="Voit kysyä nimettömänä.")
    assert "anonyymi_chat" not in topics_for("phone", "Perhekeskuksen puhelin", text="Voit soittaa nimettömänä.")
    assert "auttava_puhelin" not in topics_for("location", "Kriisipuhelin")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Lasten eroryhmä 7–12-vuotiaille", (7, 12)),
        ("Nuorten eroryhmä 13-17-vuotiaille", (13, 17)),
        ("Ryhmä alle 3-vuotiaiden vanhemmille", (0, 2)),
        ("Vauvakahvila Kempele", (0, 1)),
        ("Avoin päiväkoti alle kouluikäisille", (0, 6)),
        ("Perhekahvila Tuira", (None, None)),
    ],
)
def test_age_range_from_names(name: str, expected: tuple[int | None, int | None]) -> None:
    assert age_range([name]) == expected


def test_contract_topics_and_crisis_steps_exist() -> None:
    config = load_topics()
    assert {"kohtaamispaikka", "eroauttaminen", "lahisuhdevakivalta", "perheneuvonta", "paivystys"} <= set(
        config.topics
    )
    assert {
        "sovittelu",
        "lastenvalvoja",
        "tapaamispaikka",
        "eroneuvonta",
        "lasten_ryhma",
        "anonyymi_chat",
        "turvakoti",
        "vakivaltatyo",
        "vakivallan_tekija",
    } <= set(config.topics)
    assert [step.topic for step in config.crisis] == ["sosiaalipaivystys", "hatanumero", "lahisuhdevakivalta"]


def test_config_errors_name_the_topic() -> None:
    with pytest.raises(TopicConfigError, match="broken"):
        parse_config({"topics": {"broken": {"name_patterns": ["("]}}})
    with pytest.raises(TopicConfigError, match="unknown parent"):
        parse_config({"topics": {"child": {"parents": ["missing"]}}})
    with pytest.raises(TopicConfigError, match="unknown fields"):
        parse_config({"topics": {"typo": {"name_pattern": ["x"]}}})


def test_fold_removes_diacritics() -> None:
    assert fold("Lähisuhdeväkivalta ÅÄÖ") == "lahisuhdevakivalta aao"
