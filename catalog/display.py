"""The display copy of a channel (address line, phones, languages, hours) stored with it as JSON.

Written at import from the parsed PTV channel and read back by queries, so that one query returns
everything a reply needs. The relational tables stay the source of truth.

The address line and phones are Finnish; under "i18n" each other language ("sv", "en") holds only what differs
from them: an address line with PTV's Swedish street and post office names, phones with their charge in that
language, and "finnish": ["phones"] when a charge is PTV's own description that exists only in Finnish.
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
CHARGE_TEXTS = {
    "fi": CHARGE_TEXT_FI,
    "sv": {"free": "avgiftsfri", "charged": "normal samtalsavgift"},
    "en": {"free": "free of charge", "charged": "normal call charge"},
}
OTHER_LANGUAGES = ("sv", "en")


def address_line(address: ParsedAddress, language: str = "fi") -> str | None:
    """One address line: "Kauppakatu 5, 90100 Oulu"; in another language with PTV's names in it, where given."""
    street_name = address.streets.get(language, address.street) if language != "fi" else address.street
    street = " ".join(part for part in (street_name, address.street_number) if part)
    office = address.post_offices.get(language, address.post_office) if language != "fi" else address.post_office
    if office and office.isupper():
        office = office.title()  # PTV stores post offices in capitals: "90440 KEMPELE" → "90440 Kempele"
    town = " ".join(part for part in (address.postal_code, office) if part)
    line = ", ".join(part for part in (street, town) if part)
    return line or None


def charge_text(phone: ParsedPhone, language: str = "fi") -> str:
    """What a call costs: PTV's own description when given (in the phone's language), else from the charge type."""
    if phone.charge_description:
        return phone.charge_description
    return CHARGE_TEXTS[language].get(phone.charge_type or "", "")


def _dedupe(phones: list[list[str]]) -> list[list[str]]:
    """Phones that PTV lists once per language, once."""
    seen: set[str] = set()
    out = []
    for number, charge in phones:
        if number not in seen:
            seen.add(number)
            out.append([number, charge])
    return out


def _translation(
    channel: ParsedChannel, main: ParsedAddress | None, payload: dict[str, Any], language: str
) -> dict[str, Any]:
    """What differs from the Finnish display in `language`: address line, phones, fields left in Finnish."""
    out: dict[str, Any] = {}
    line = address_line(main, language) if main else None
    if line and line != payload["address"]:
        out["address"] = line
    usable = [p for p in channel.phones if (p.phone_type or "Phone") != "Fax"]
    own = [p for p in usable if p.language == language]
    chosen = own or [p for p in usable if p.language in (None, "fi")] or usable[:1]
    phones = _dedupe([[p.display, charge_text(p, language)] for p in chosen])
    if phones != payload["phones"]:
        out["phones"] = phones
    if any(p.charge_description and p.language != language for p in chosen):
        out["finnish"] = ["phones"]
    return out


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
    payload["phones"] = _dedupe(payload["phones"])
    payload["i18n"] = {
        language: translation
        for language in OTHER_LANGUAGES
        if (translation := _translation(channel, main, payload, language))
    }
    return json.dumps(payload, ensure_ascii=False, sort_keys=True)


@dataclass(frozen=True)
class Display:
    address: str | None
    lat: float | None
    lon: float | None
    phones: tuple[tuple[str, str], ...]
    languages: tuple[str, ...]
    hours: tuple[HoursEntry, ...]
    # {"sv": {"address": ..., "phones": [...], "finnish": [...]}, ...}; None when stored before there was any
    i18n: dict[str, dict[str, Any]] | None = None

    def in_language(self, language: str) -> tuple[str | None, tuple[tuple[str, str], ...], tuple[str, ...]]:
        """(address line, phones, fields left in Finnish) to show in `language`.

        A display stored before translations were kept (re-import fills them) shows the Finnish phones, whose
        charge texts are then Finnish too.
        """
        if language == "fi":
            return self.address, self.phones, ()
        if self.i18n is None:
            return self.address, self.phones, ("phones",) if any(c for _n, c in self.phones) else ()
        entry = self.i18n.get(language, {})
        phones = self.phones
        if "phones" in entry:
            phones = tuple((str(n), str(c)) for n, c in entry["phones"])
        return entry.get("address", self.address), phones, tuple(entry.get("finnish", ()))


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
        i18n=data.get("i18n"),
    )
