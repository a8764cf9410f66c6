"""Reading PTV v11 JSON: shapes, normalisation and clear errors (no database)."""

from __future__ import annotations

import json
from datetime import date, time
from pathlib import Path

import pytest
from catalog_helpers import FIXTURE_DIR

from catalog.hours import EXCEPTIONAL, WEEKLY
from catalog.ptv import ParsedChannel, ParsedService, PTVFormatError, parse_item, read_items
from core.phone import format_phone


def load(name: str) -> list[ParsedService | ParsedChannel]:
    path = FIXTURE_DIR / name
    return [parse_item(item, path, i) for i, item in enumerate(read_items(path))]


def by_id(records: list, suffix: str) -> ParsedService | ParsedChannel:
    return next(r for r in records if r.source_id.endswith(suffix))


def test_services_come_as_a_paged_list_and_channels_as_a_plain_list() -> None:
    raw_services = json.loads((FIXTURE_DIR / "services.json").read_text(encoding="utf-8"))
    raw_channels = json.loads((FIXTURE_DIR / "channels.json").read_text(encoding="utf-8"))
    assert isinstance(raw_services, dict) and "itemList" in raw_services
    assert isinstance(raw_channels, list)
    services, channels = load("services.json"), load("channels.json")
    assert all(isinstance(s, ParsedService) for s in services) and len(services) == 5
    assert all(isinstance(c, ParsedChannel) for c in channels) and len(channels) == 9


def test_service_fields() -> None:
    service = by_id(load("services.json"), "000000000001")
    assert service.names == {"fi": "Avoin perhetoiminta Kempeleessä ja Oulussa", "sv": "Öppen familjeverksamhet"}
    assert ("service_class", "P4.12", None) in service.terms
    assert ("keyword", "perhekahvila", "perhekahvila") in service.terms
    assert ("ontology_term", "p1234", "perhekahvilat") in service.terms
    assert len(service.channel_ids) == 3
    assert service.organisation == ("0f7c7d8e-1a2b-4c3d-8e9f-000000000001", "Testialueen hyvinvointialue")
    assert service.published and service.modified is not None and service.modified.tzinfo is None


def test_unpublished_items_are_flagged() -> None:
    draft = by_id(load("services.json"), "000000000004")
    assert not draft.published and draft.status == "Draft"


def test_location_channel_fields_and_coordinates() -> None:
    channel = by_id(load("channels.json"), "000000000001")
    assert channel.kind == "location" and channel.scope == "local"
    assert channel.names["sv"] == "Familjecafé Linnakangas"
    address = channel.addresses[0]
    assert (address.street, address.street_number, address.postal_code) == ("Linnakankaantie", "3", "90440")
    assert address.municipality is not None and address.municipality.code == "244"
    # ETRS-TM35FIN northing/easting converted to WGS84.
    assert address.northing is not None and address.northing > 7_000_000
    assert address.lat == pytest.approx(64.9075, abs=1e-4)
    assert address.lon == pytest.approx(25.5300, abs=1e-4)
    assert [p.display for p in channel.phones] == ["040 123 4567", "08 123 4567"]
    assert channel.phones[1].phone_type == "Fax"


def test_hours_are_normalised() -> None:
    channels = load("channels.json")
    cafe = by_id(channels, "000000000001")
    weekly = [h for h in cafe.hours if h.kind == WEEKLY][0]
    assert [(r.day_from, r.day_to, r.start, r.end) for r in weekly.ranges] == [
        (0, None, time(9), time(11, 30)),
        (2, None, time(9), time(11, 30)),
    ]
    exceptional = [h for h in cafe.hours if h.kind == EXCEPTIONAL]
    # PTV sends local midnight in UTC; the validity dates are Helsinki dates.
    assert (exceptional[0].valid_from, exceptional[0].valid_to, exceptional[0].closed) == (
        date(2026, 6, 19),
        date(2026, 6, 20),
        True,
    )
    assert exceptional[1].valid_from == date(2026, 12, 23) and exceptional[1].valid_to is None
    chat = by_id(channels, "000000000006")
    assert chat.scope == "national" and chat.kind == "chat"
    spans = [(r.day_from, r.day_to, r.start, r.end) for h in chat.hours for r in h.ranges]
    assert (4, 5, time(20), time(1)) in spans
    assert (1, None, time(21), time(0)) in spans


def test_region_without_municipality_list_is_regional() -> None:
    phone = by_id(load("channels.json"), "000000000004")
    assert phone.scope == "regional"
    assert phone.areas[0].type == "Region" and phone.areas[0].municipalities == []


@pytest.mark.parametrize(
    ("prefix", "number", "service", "expected"),
    [
        ("+358", "401234567", False, "040 123 4567"),
        ("+358", "8 0100 9000", False, "08 0100 9000"),
        ("+358", "925250111", False, "09 2525 0111"),
        ("+358", "505551234", False, "050 555 1234"),
        (None, "080 005 005", True, "080 005 005"),
        (None, "112", True, "112"),
        (None, "116 006", True, "116 006"),
        ("+46", "812345678", False, "+46 812345678"),
    ],
)
def test_phone_display(prefix: str | None, number: str, service: bool, expected: str) -> None:
    assert format_phone(prefix, number, service) == expected


def channel(**overrides: object) -> dict:
    item = {
        "id": "c40a1b2c-3d4e-4f50-9a61-999999999999",
        "serviceChannelType": "Phone",
        "serviceChannelNames": [{"language": "fi", "value": "Testipuhelin", "type": "Name"}],
        "areaType": "Nationwide",
        "publishingStatus": "Published",
    }
    item.update(overrides)
    return {k: v for k, v in item.items() if v is not None}


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("not an object", "expected a JSON object"),
        (channel(id=None), 'missing "id"'),
        (channel(id=""), 'missing "id"'),
        (channel(id=42), '"id" is not a valid identifier'),
        (channel(serviceChannelType="Fax machine"), "unknown channel type"),
        (channel(serviceChannelNames=[]), "no name"),
        (channel(areaType="Galaxy"), 'unknown "areaType"'),
        (channel(serviceHours=[{"serviceHourType": "Sometimes"}]), "serviceHourType"),
        (
            channel(
                serviceHours=[
                    {
                        "serviceHourType": "DaysOfTheWeek",
                        "openingHour": [{"dayFrom": "Moonday", "from": "09:00", "to": "10:00"}],
                    }
                ]
            ),
            "not a weekday",
        ),
        (
            channel(
                serviceHours=[
                    {
                        "serviceHourType": "DaysOfTheWeek",
                        "openingHour": [{"dayFrom": "Monday", "from": "9 am", "to": "10:00"}],
                    }
                ]
            ),
            "not a clock time",
        ),
        (channel(phoneNumbers={"number": "123"}), "should be a list"),
        (channel(services=[{"service": {"id": None}}]), "services.service.id"),
        ({"id": "abc-1", "foo": "bar"}, "neither a PTV Service"),
    ],
)
def test_malformed_items_name_file_and_item(item: object, message: str) -> None:
    with pytest.raises(PTVFormatError) as err:
        parse_item(item, Path("page-7.json"), 3)
    text = str(err.value)
    assert text.startswith("page-7.json: item 3")
    assert message in text


def test_error_names_the_item_id() -> None:
    with pytest.raises(PTVFormatError, match=r"item 0 \(id c40a1b2c-3d4e-4f50-9a61-999999999999\)"):
        parse_item(channel(serviceChannelType="Carrier pigeon"), "x.json", 0)


def test_file_level_errors(tmp_path: Path) -> None:
    bad_json = tmp_path / "broken.json"
    bad_json.write_text('[{"id": "a"', encoding="utf-8")
    with pytest.raises(PTVFormatError, match=r"broken\.json: not valid JSON: .* line 1"):
        read_items(bad_json)
    latin1 = tmp_path / "latin1.json"
    latin1.write_bytes('[{"id": "a", "serviceNames": [{"language": "fi", "value": "Päiväkoti"}]}]'.encode("latin-1"))
    with pytest.raises(PTVFormatError, match=r"latin1\.json: not UTF-8 text \(invalid byte 0xe4"):
        read_items(latin1)
    big = tmp_path / "big.json"
    big.write_text("[" + " " * 2048 + "]", encoding="utf-8")
    with pytest.raises(PTVFormatError, match=r"big\.json: file is 0\.0 MB, more than the 0 MB limit"):
        read_items(big, max_bytes=1024)
    scalar = tmp_path / "scalar.json"
    scalar.write_text("42", encoding="utf-8")
    with pytest.raises(PTVFormatError, match="expected a JSON object or list"):
        read_items(scalar)


def test_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps([channel()]).encode("utf-8"))
    assert len(read_items(path)) == 1
