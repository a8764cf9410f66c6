"""Finnish rendering of catalogue records for chat replies. Only catalogue data is shown, nothing invented (S4)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from catalog.query import ServiceRecord

WEEKDAYS_FI = ("maanantaina", "tiistaina", "keskiviikkona", "torstaina", "perjantaina", "lauantaina", "sunnuntaina")


def format_moment(moment: datetime, now: datetime) -> str:
    """'tänään klo 9.00', 'huomenna klo 9.00' or 'maanantaina 29.12. klo 9.00'."""
    clock = f"klo {moment.hour}.{moment.minute:02d}"
    days = (moment.date() - now.date()).days
    if days == 0:
        return f"tänään {clock}"
    if days == 1:
        return f"huomenna {clock}"
    return f"{WEEKDAYS_FI[moment.weekday()]} {moment.day}.{moment.month}. {clock}"


def render_service(record: ServiceRecord, now: datetime) -> str:
    lines = [record.channel_name or record.service_name]
    if record.address:
        lines.append(record.address)
    if record.hours_text:
        lines.append(f"Aukioloajat: {record.hours_text}")
    if record.open_now:
        lines.append("Avoinna nyt.")
    elif record.next_opening is not None:
        lines.append(f"Seuraavan kerran auki {format_moment(record.next_opening, now)}.")
    for number, charge in record.phones:
        lines.append(f"Puhelin {number}" + (f" ({charge})" if charge else ""))
    if record.url:
        lines.append(record.url)
    if record.is_example:
        lines.append("(esimerkkitieto)")
    return "\n".join(lines)


def render_list(records: Sequence[ServiceRecord], now: datetime) -> str:
    return "\n\n".join(render_service(r, now) for r in records)
