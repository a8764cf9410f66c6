"""The display copy of a channel (address line, phones, languages, hours) stored with it as JSON.

Written at import from the parsed PTV channel and read back by queries, so that one query returns
everything a reply needs. The relational tables stay the source of truth.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, time
from typing import Any

from catalog.hours import HoursEntry, OpeningRange
from catalog.ptv import ParsedAddress, ParsedChannel, ParsedPhone

CHARGE_TEXT_FI = {
    "free": "maksuton",
    "charged": "normaali puhelumaksu",
}


def address_line(address: ParsedAddress) -> str | None:
    """One Finnish address line: "Kauppakatu 5, 90100 Oulu"."""
    street = " ".join(part for part in (address.street, address.street_number) if part)
    office = address.post_office
    if office and office.isupper():
        office = office.title()  # PTV stores post offices in capitals: "90440 KEMPELE" → "90440 Kempele"
    town = " ".join(part for part in (address.postal_code, office) if part)
    line = ", ".join(part for part in (street, town) if part)
    return line or None


def charge_text(phone: ParsedPhone) -> str:
    """What a call costs, in Finnish: PTV's own description when given, else from the charge type."""
    if phone.charge_description:
        return phone.charge_description
    return CHARGE_TEXT_FI.get(phone.charge_type or "", "")


def _time(value: time) -> str:
    return value.strftime("%H:%M")


def encode(channel: ParsedChannel) -> str:
    """The display JSON for a parsed channel."""
    visiting = [a for a in channel.addresses if a.kind == "visiting"] or channel.addresses
    main = visiting[0] if visiting else None
    payload: dict[str, Any] = {
        "address": address_line(main) if main else None,
        "lat": main.lat if main else None,
        "lon": main.lon if main else None,
        "phones": [
            [p.display, charge_text(p)]
            for p in channel.phones
            if (p.phone_type or "Phone") != "Fax" and p.language in (None, "fi")
        ]
        or [[p.display, charge_text(p)] for p in channel.phones if (p.phone_type or "Phone") != "Fax"][:1],
        "languages": list(dict.fromkeys(channel.languages)),
        "hours": [
            {
                "kind": h.kind,
                "from": h.valid_from.isoformat() if h.valid_from else None,
                "to": h.valid_to.isoformat() if h.valid_to else None,
                "closed": h.closed,
                "always": h.always_open,
                "reservation": h.reservation,
                "info": h.info,
                "ranges": [[r.day_from, r.day_to, _time(r.start), _time(r.end)] for r in h.ranges],
            }
            for h in channel.hours
        ],
    }
    # Deduplicate phones that PTV lists once per language.
    seen: set[str] = set()
    phones = []
    for number, charge in payload["phones"]:
        if number not in seen:
            seen.add(number)
            phones.append([number, charge])
    payload["phones"] = phones
    return json.dumps(payload, ensure_ascii=False, sort_keys=True)


@dataclass(frozen=True)
class Display:
    address: str | None
    lat: float | None
    lon: float | None
    phones: tuple[tuple[str, str], ...]
    languages: tuple[str, ...]
    hours: tuple[HoursEntry, ...]


def decode(text: str | None) -> Display:
    data = json.loads(text or "{}")
    hours = tuple(
        HoursEntry(
            kind=h["kind"],
            ranges=tuple(
                OpeningRange(time.fromisoformat(start), time.fromisoformat(end), day_from, day_to)
                for day_from, day_to, start, end in h.get("ranges", [])
            ),
            valid_from=date.fromisoformat(h["from"]) if h.get("from") else None,
            valid_to=date.fromisoformat(h["to"]) if h.get("to") else None,
            closed=bool(h.get("closed")),
            always_open=bool(h.get("always")),
            reservation=bool(h.get("reservation")),
            info=h.get("info"),
        )
        for h in data.get("hours", [])
    )
    return Display(
        address=data.get("address"),
        lat=data.get("lat"),
        lon=data.get("lon"),
        phones=tuple((str(n), str(c)) for n, c in data.get("phones", [])),
        languages=tuple(data.get("languages", [])),
        hours=hours,
    )
