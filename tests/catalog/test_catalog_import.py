"""PTV import (contract 4) on SQLite and PostgreSQL: counts, idempotence, links, transactions, bad input."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from catalog_helpers import FIXTURE_DIR, NOW, snapshot
from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog import importer
from catalog.importer import import_paths
from catalog.models import Address, Channel, ChannelArea, ChannelTopic, Municipality, ServiceChannelLink
from catalog.ptv import PTVFormatError
from catalog.query import find_services

CAFE = "c40a1b2c-3d4e-4f50-9a61-000000000001"
OULU_CAFE = "c40a1b2c-3d4e-4f50-9a61-000000000003"
CHAT = "c40a1b2c-3d4e-4f50-9a61-000000000006"


def channels_json() -> list[dict]:
    return json.loads((FIXTURE_DIR / "channels.json").read_text(encoding="utf-8"))


def write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def topics_of(session: Session, source_id: str) -> set[str]:
    return set(
        session.execute(
            select(ChannelTopic.topic)
            .join(Channel, Channel.id == ChannelTopic.channel_id)
            .where(Channel.source_id == source_id)
        ).scalars()
    )


def test_fixture_imports_with_counts_and_reasons(session: Session) -> None:
    report = import_paths(session, [FIXTURE_DIR])
    assert report.added == {"service": 4, "channel": 8}
    assert sum(report.updated.values()) == sum(report.unchanged.values()) == 0
    reasons = sorted(reason for _item, reason in report.skipped)
    assert reasons == ["not published (Draft)", "not published (Draft)"]
    assert all("services.json" in item or "channels.json" in item for item, _ in report.skipped)
    assert report.to_dict()["added"] == {"service": 4, "channel": 8}


def test_reimport_changes_nothing(imported: Session) -> None:
    before = snapshot(imported)
    report = import_paths(imported, [FIXTURE_DIR])
    assert report.unchanged == {"service": 4, "channel": 8}
    assert sum(report.added.values()) == sum(report.updated.values()) == 0
    assert snapshot(imported) == before


def test_links_are_taken_from_both_sides(imported: Session) -> None:
    links = set(imported.execute(select(ServiceChannelLink.channel_source_id, ServiceChannelLink.declared_by)))
    assert (OULU_CAFE, "service") in links and (OULU_CAFE, "channel") not in links
    assert (CHAT, "channel") in links and (CHAT, "service") not in links
    # Both one-sided links still classify and name the channel.
    assert "kohtaamispaikka" in topics_of(imported, OULU_CAFE)
    chat = imported.execute(select(Channel).where(Channel.source_id == CHAT)).scalar_one()
    assert chat.service_name_fi == "Verkkoperhetoiminta"


def test_region_without_municipalities_is_expanded(imported: Session) -> None:
    phone_id = imported.execute(select(Channel.id).where(Channel.name_fi == "Sovittelun puhelin")).scalar_one()
    covered = set(
        imported.execute(select(ChannelArea.municipality_code).where(ChannelArea.channel_id == phone_id)).scalars()
    )
    region = set(
        imported.execute(select(Municipality.code).where(Municipality.region == "Pohjois-Pohjanmaa")).scalars()
    )
    assert len(region) == 30 and covered == region


def test_addresses_keep_both_coordinate_systems(imported: Session) -> None:
    cafe_id = imported.execute(select(Channel.id).where(Channel.source_id == CAFE)).scalar_one()
    address = imported.execute(select(Address).where(Address.channel_id == cafe_id)).scalar_one()
    assert address.northing > 7_000_000 and 400_000 < address.easting < 500_000
    assert address.lat == pytest.approx(64.9075, abs=1e-4) and address.lon == pytest.approx(25.53, abs=1e-4)
    assert address.municipality_code == "244"


def test_changed_channel_is_updated_and_reclassified(imported: Session, tmp_path: Path) -> None:
    data = channels_json()
    cafe = next(c for c in data if c["id"] == CAFE)
    cafe["serviceChannelNames"][0]["value"] = "Turvakoti Linnakangas"
    report = import_paths(imported, [FIXTURE_DIR / "services.json", write(tmp_path / "channels.json", data)])
    assert report.updated == {"channel": 1}
    assert report.unchanged == {"service": 4, "channel": 7}
    assert "turvakoti" in topics_of(imported, CAFE)


def test_withdrawn_channel_disappears_from_queries(imported: Session, tmp_path: Path) -> None:
    data = channels_json()
    cafe = next(c for c in data if c["id"] == CAFE)
    cafe["publishingStatus"] = "Deleted"
    report = import_paths(imported, [write(tmp_path / "channels.json", data)])
    assert report.withdrawn == {"channel": 1}
    names = [r.channel_name for r in find_services(imported, "kohtaamispaikka", "Kempele", now=NOW)]
    assert "Perhekahvila Linnakangas" not in names


def test_channels_before_services_in_separate_runs(session: Session) -> None:
    import_paths(session, [FIXTURE_DIR / "channels.json"])
    # Vertaistuki comes only from the service's class P4.12, which is not known yet.
    assert "vertaistuki" not in topics_of(session, CAFE)
    report = import_paths(session, [FIXTURE_DIR / "services.json"])
    assert report.added == {"service": 4}
    assert "vertaistuki" in topics_of(session, CAFE)
    assert "vertaistuki" in topics_of(session, OULU_CAFE)


def test_municipality_seen_only_in_data_is_added_and_searchable(session: Session, tmp_path: Path) -> None:
    place = {"code": "998", "name": [{"language": "fi", "value": "Kuvitteela"}, {"language": "sv", "value": "Fiktiva"}]}
    item = copy.deepcopy(channels_json()[0])
    item["id"] = "c40a1b2c-3d4e-4f50-9a61-000000000998"
    item["areas"] = [{"type": "Municipality", "code": "998", "name": place["name"], "municipalities": [place]}]
    item["addresses"][0]["streetAddress"]["municipality"] = place
    import_paths(session, [FIXTURE_DIR / "services.json", write(tmp_path / "extra.json", item)])
    row = session.get(Municipality, "998")
    assert row is not None and (row.name_fi, row.name_sv) == ("Kuvitteela", "Fiktiva")
    found = find_services(session, "kohtaamispaikka", "Kuvitteela", now=NOW)
    assert found[0].municipality == "Kuvitteela" and found[0].match == "local"


# --- malformed input: a clear error naming file and item, and an unchanged database ---------------------


def _missing_id(tmp_path: Path) -> Path:
    data = channels_json()
    del data[4]["id"]
    return write(tmp_path / "missing-id.json", data)


def _unknown_type(tmp_path: Path) -> Path:
    data = channels_json()
    data[2]["serviceChannelType"] = "Telegraph"
    return write(tmp_path / "unknown-type.json", data)


def _wrong_json(tmp_path: Path) -> Path:
    path = tmp_path / "wrong.json"
    path.write_text((FIXTURE_DIR / "channels.json").read_text(encoding="utf-8")[:-20], encoding="utf-8")
    return path


def _non_utf8(tmp_path: Path) -> Path:
    path = tmp_path / "latin1.json"
    path.write_bytes(json.dumps(channels_json(), ensure_ascii=False).encode("latin-1", errors="replace"))
    return path


def _fifty_megabytes(tmp_path: Path) -> Path:
    path = tmp_path / "huge.json"
    with path.open("w", encoding="utf-8") as handle:
        handle.write("[")
        handle.write(" " * (50 * 1024 * 1024))
        handle.write("]")
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (_wrong_json, r"wrong\.json: not valid JSON"),
        (_missing_id, r"missing-id\.json: item 4: missing \"id\""),
        (
            _unknown_type,
            r"unknown-type\.json: item 2 \(id c40a1b2c-3d4e-4f50-9a61-000000000003\): unknown channel type",
        ),
        (_fifty_megabytes, r"huge\.json: file is 50\.0 MB, more than the 32 MB limit"),
        (_non_utf8, r"latin1\.json: not UTF-8 text"),
    ],
    ids=["wrong-json", "missing-id", "unknown-channel-type", "50-MB", "non-UTF-8"],
)
def test_malformed_input_changes_nothing(imported: Session, tmp_path: Path, make, message: str) -> None:  # type: ignore[no-untyped-def]
    # A valid new item comes first in the same run: it must not be imported either.
    data = channels_json()
    data[0]["id"] = "c40a1b2c-3d4e-4f50-9a61-000000000777"
    good = write(tmp_path / "a-good.json", data[:1])
    before = snapshot(imported)
    with pytest.raises(PTVFormatError, match=message):
        import_paths(imported, [good, make(tmp_path)])
    assert snapshot(imported) == before


def test_database_error_mid_import_rolls_back(
    imported: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = channels_json()
    data[0]["serviceChannelNames"][0]["value"] = "Muutettu nimi"
    before = snapshot(imported)

    def fail(*_args: object, **_kwargs: object) -> int:
        raise RuntimeError("disk full")

    monkeypatch.setattr(importer, "refresh_derived", fail)
    with pytest.raises(RuntimeError, match="disk full"):
        import_paths(imported, [write(tmp_path / "channels.json", data)])
    assert snapshot(imported) == before


def test_same_id_twice_with_different_content_is_an_error(session: Session, tmp_path: Path) -> None:
    data = channels_json()
    first, second = copy.deepcopy(data[0]), copy.deepcopy(data[0])
    second["serviceChannelNames"][0]["value"] = "Toinen nimi"
    with pytest.raises(PTVFormatError, match=r"second\.json: item 0 .*appears twice"):
        import_paths(session, [write(tmp_path / "first.json", [first]), write(tmp_path / "second.json", [second])])


def test_missing_path_is_reported(session: Session, tmp_path: Path) -> None:
    with pytest.raises(PTVFormatError, match="no such file or folder"):
        import_paths(session, [tmp_path / "nope.json"])


def test_withdrawn_service_takes_its_topics_away(imported: Session, tmp_path: Path) -> None:
    services = json.loads((FIXTURE_DIR / "services.json").read_text(encoding="utf-8"))
    services["itemList"][0]["publishingStatus"] = "Deleted"
    assert "vertaistuki" in topics_of(imported, OULU_CAFE)
    report = import_paths(imported, [write(tmp_path / "services.json", services)])
    assert report.withdrawn == {"service": 1}
    # The Oulu café was linked only from the service side; the link and the service's class go away.
    assert "vertaistuki" not in topics_of(imported, OULU_CAFE)
    assert "kohtaamispaikka" in topics_of(imported, OULU_CAFE)  # its own name still says perhekahvila
    cafe = imported.execute(select(Channel).where(Channel.source_id == OULU_CAFE)).scalar_one()
    assert cafe.service_name_fi is None
