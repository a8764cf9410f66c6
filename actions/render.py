"""Replies from catalogue records, in the conversation's language. Only catalogue data is shown (S4).

A reply is a dict the CollectingDispatcher understands: {"text": ..., "buttons": [...]}. Texts live in
data/texts.yml (Finnish) and data/texts.sv.yml, data/texts.en.yml (the same keys); a key missing from a
translation falls back to Finnish. The language is the conversation's `reply_language` slot, set for each action
run by `in_reply_language` (S10).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from actions.language import reply_language
from actions.lookup import Places, Services
from actions.needs import Need, get_need
from actions.parsing import language_adverb, language_name, load_yaml
from catalog.municipalities import load_municipalities
from catalog.query import ServiceRecord
from core.clock import HELSINKI
from core.language import DEFAULT_LANGUAGE

DESCRIPTION_CHARS = 220
TEXT_FILES = {"fi": "texts.yml", "sv": "texts.sv.yml", "en": "texts.en.yml"}

Reply = dict[str, Any]

def texts(language: str | None = None) -> dict[str, Any]:
    """The text tree of one language (the conversation's by default); Finnish is the complete one."""
    return load_yaml(TEXT_FILES[language or reply_language()])


def _node(path: str, language: str | None = None) -> Any:
    """The node at a dotted path ("callback.ask_topic") in the language, or in Finnish when it has none."""
    for tree in (texts(language), texts(DEFAULT_LANGUAGE)):
        node: Any = tree
        for part in path.split("."):
            if not isinstance(node, dict) or part not in node:
                node = None
                break
            node = node[part]
        if node is not None:
            return node
    raise KeyError(path)


def text(path: str, **values: object) -> str:
    """The text at a dotted path of the texts, with placeholders filled."""
    node = _node(path)
    return str(node).format(**values) if values else str(node)


def has_text(path: str) -> bool:
    try:
        _node(path)
    except KeyError:
        return False
    return True


def buttons(path: str) -> list[dict[str, str]]:
    node = _node(path)
    items = node if isinstance(node, list) else [node]
    return [{"title": str(b["title"]), "payload": str(b["payload"])} for b in items]


def place_name(name: str | None) -> str:
    """A municipality as the reply's language names it: Swedish replies use the Swedish name (Uleåborg)."""
    if not name:
        return ""
    if reply_language() == "sv":
        for municipality in load_municipalities():
            if municipality.name_fi == name:
                return municipality.name_sv or name
    return name


def clock_text(moment: datetime) -> str:
    """Clock time as the language writes it: 9.00 in Finnish and Swedish, 9:00 in English."""
    return text("dates.clock", hour=moment.hour, minute=f"{moment.minute:02d}")


def day_text(day: date, today: date) -> str:
    """'tänään', 'huomenna' or 'maanantaina 29.12.'."""
    delta = (day - today).days
    if delta == 0:
        return text("callback.today")
    if delta == 1:
        return text("callback.tomorrow")
    return day_full(day)


def day_full(day: date) -> str:
    """'perjantaina 27.11.': a day named without 'tänään' or 'huomenna'."""
    weekday = _node("dates.weekdays_on")[day.weekday()]
    return text("dates.day", weekday=weekday, day=day.day, month=day.month,
                month_name=_node("dates.months")[day.month - 1])


def day_named(day: date, today: date) -> str:
    """The day with its date, for promises: 'huomenna keskiviikkona 25.11.', 'maanantaina 29.12.'.

    Today and tomorrow are joined to the day by dates.named, so a language can set the day off with commas
    ('i morgon, onsdag 25.11.,', 'tomorrow, Wednesday 25 November,'). The closing comma means that more words
    must follow ("… kl. 8.00"): callback.ask_urgency is the one text that uses it.
    """
    full = day_full(day)
    delta = (day - today).days
    if delta in (0, 1):
        return text("dates.named", relative=day_text(day, today), day=full)
    return full


def format_moment(moment: datetime, now: datetime) -> str:
    """'tänään klo 9.00', 'huomenna klo 9.00' or 'maanantaina 29.12. klo 9.00'."""
    local = moment.astimezone(HELSINKI)
    return text("dates.moment", day=day_text(local.date(), now.astimezone(HELSINKI).date()), time=clock_text(local))


def _ages(record: ServiceRecord) -> str | None:
    low, high = record.min_age, record.max_age
    if low is not None and high is not None:
        return text("record.ages_between", low=low, high=high)
    if high is not None:
        return text("record.ages_at_most", high=high)
    if low is not None:
        return text("record.ages_at_least", low=low)
    return None


def _short(description: str | None) -> str | None:
    if not description:
        return None
    clean = " ".join(description.split())
    if len(clean) <= DESCRIPTION_CHARS:
        return clean
    cut = clean[:DESCRIPTION_CHARS]
    end = cut.rfind(". ")
    return cut[: end + 1] if end > 60 else cut.rsplit(" ", 1)[0] + " …"


def open_status(record: ServiceRecord, now: datetime) -> str | None:
    """'Nyt auki, klo 15.00 asti.' or 'Nyt kiinni. Seuraavan kerran auki huomenna klo 9.00.'; None if unknown."""
    if record.open_now:
        if record.open_until is not None:
            return text("record.open_until", time=clock_text(record.open_until.astimezone(HELSINKI)))
        return text("record.open_now")
    if record.open_now is False:
        if record.next_opening is not None:
            return text("record.next_opening", moment=format_moment(record.next_opening, now))
        return text("record.closed_unknown")
    return None


def render_record(record: ServiceRecord, now: datetime, with_description: bool = False,
                  home: str | None = None) -> str:
    """One service as a short block: name, address, open now, hours, languages, ages, phones, web page."""
    name = record.channel_name or record.service_name or ""
    if record.municipality and home and record.municipality != home:
        name = text("record.where", name=name, municipality=place_name(record.municipality))
    lines = [name]
    if record.text_language != reply_language():
        lines.append(text("record.only_finnish"))  # the catalogue has no texts in the person's language
    if with_description and (description := _short(record.description)):
        lines.append(description)
    if record.address:
        lines.append(text("record.address", address=record.address))
    if status := open_status(record, now):
        lines.append(status)
    if record.hours_text:
        lines.append(text("record.hours", hours=record.hours_text))
    lines.extend(_sentence(note) for note in record.hours_notes)
    if record.languages:
        names = ", ".join(language_name(code, reply_language()) for code in record.languages)
        lines.append(text("record.languages", languages=names))
    if ages := _ages(record):
        lines.append(text("record.ages", ages=ages))
    for number, charge in record.phones:
        key = "record.phone_with_charge" if charge else "record.phone"
        lines.append(text(key, number=number, charge=charge))
    if record.url:
        lines.append(record.url)
    if record.is_example:
        lines.append(text("record.example"))
    return "\n".join(lines)


def record_replies(header: str, records: Sequence[ServiceRecord], now: datetime, with_description: bool = False,
                   home: str | None = None) -> list[Reply]:
    """A header message, then one message per service.

    One message each, because Rasa's REST channel splits a text at blank lines anyway (except when it carries
    buttons); this way every service is one chat bubble whether or not buttons follow.
    """
    return [{"text": header}] + [{"text": render_record(r, now, with_description, home)} for r in records]


def hours_line(record: ServiceRecord, now: datetime) -> str:
    """One line per place for the "Aukioloajat" button."""
    name = record.channel_name or record.service_name or ""
    if not record.hours_text:
        return text("places.hours_unknown", name=name)
    parts = [record.hours_text]
    if status := open_status(record, now):
        parts.append(status)
    parts.extend(_sentence(note) for note in record.hours_notes)
    return text("places.hours_line", name=name, hours=" ".join(p if p.endswith(".") else p + "." for p in parts))


def _sentence(note: str) -> str:
    """A catalogue note ("suljettu 4.12.") as a sentence of its own."""
    note = note.strip()
    return note[:1].upper() + note[1:] if note else note


def menu_buttons() -> list[dict[str, str]]:
    return buttons("menu.buttons")


def places_replies(result: Places, now: datetime, more: bool, language: str | None) -> list[Reply]:
    """The meeting-place list with the buttons "Näytä lisää", "Aukioloajat" and "Jotain muuta"."""
    replies: list[Reply] = []
    municipality = result.municipality or ""
    shown = place_name(municipality)
    if result.language_dropped and language:
        replies.append({"text": text("places.language_missing", language=language_adverb(language, reply_language()))})
    if result.page:
        header = text("places.more") if more else text("places.local", municipality=shown)
        replies += record_replies(header, result.page, now, home=municipality)
        page_buttons = ([buttons("buttons.more")[0]] if result.has_more else []) + buttons("buttons.hours")
        replies[-1]["buttons"] = page_buttons + buttons("buttons.something_else")
        return replies
    if more and result.offset > 0:
        return [{"text": text("places.no_more"),
                 "buttons": buttons("buttons.hours") + buttons("buttons.something_else")}]
    if result.municipality:
        replies.append({"text": text("places.none_local", municipality=shown)})
    if result.nearby:
        replies += record_replies(text("places.nearby"), result.nearby, now, home=municipality)
    if result.national:
        replies += record_replies(text("places.national"), result.national, now, True)
    if not result.nearby and not result.national:
        replies.append({"text": text("places.nothing")})
    replies[-1]["buttons"] = buttons("buttons.callback") + buttons("buttons.something_else")
    return replies


def hours_replies(records: Sequence[ServiceRecord], now: datetime) -> list[Reply]:
    if not records:
        return [{"text": text("places.hours_none_shown")}]
    lines = [text("places.hours_header")] + [hours_line(r, now) for r in records]
    return [{"text": "\n".join(lines), "buttons": buttons("buttons.something_else")}]


def related_buttons(need: Need) -> list[dict[str, str]]:
    out = []
    for name in need.related:
        related = get_need(name)
        if related is not None:
            out.append({"title": text(f"needs.{name}.button"), "payload": f'/inform{{"need": "{name}"}}'})
    return out


def services_replies(need: Need, result: Services, now: datetime) -> list[Reply]:
    """Local services first, then national ones; an honest "not found" with a callback when there are none."""
    replies: list[Reply] = []
    intro = text(f"needs.{need.name}.intro").strip()
    if intro:
        replies.append({"text": intro})
    if result.local:
        header = _need_text(need, "local", "services.local", municipality=place_name(result.municipality))
        replies += record_replies(header, result.local, now, True, result.municipality)
    elif result.municipality and need.topics:
        none_local = _need_text(need, "none_local", "services.none_local",
                                municipality=place_name(result.municipality))
        replies.append({"text": none_local})
    if result.national:
        replies += record_replies(_need_text(need, "national", "services.national"), result.national, now, True)
    if not result.local and not result.national:
        replies.append({"text": text("services.nothing")})
    if need.is_violence:
        replies.append({"text": text("services.quick_exit")})
    replies[-1]["buttons"] = buttons("buttons.callback") + related_buttons(need) + buttons("buttons.something_else")
    return replies


def _need_text(need: Need, key: str, default: str, **values: object) -> str:
    """The need's own wording of a header (texts.yml needs.<name>.<key>) if it has one, else the shared one."""
    own = f"needs.{need.name}.{key}"
    return text(own, **values) if has_text(own) else text(default, **values)


def urgent_replies(records: Sequence[ServiceRecord], now: datetime, skip_numbers: set[str]) -> list[Reply]:
    """24/7 services from the catalogue, leaving out the lines the static emergency reply already gave."""
    shown = [r for r in records if not _only_known_numbers(r, skip_numbers)]
    regional = [r for r in shown if r.scope != "national"]
    replies: list[Reply] = []
    if shown:
        replies += record_replies(text("callback.urgent_intro"), shown, now, True)
    if not regional:
        replies.append({"text": text("callback.urgent_none_regional")})
    replies[-1]["buttons"] = buttons("callback.urgent_leave_request") + buttons("buttons.something_else")
    return replies


def search_replies(records: Sequence[ServiceRecord], now: datetime) -> list[Reply]:
    """The second fallback: what the catalogue's text search found, or an honest "nothing", and a callback."""
    # A family question the bot did not understand still gets the family centre's own advice (palveluohjaus).
    closing = buttons("buttons.callback") + buttons("buttons.other_matter") + buttons("buttons.something_else")
    if not records:
        return [{"text": text("fallback.search_none"), "buttons": closing}]
    replies = record_replies(text("fallback.search_header"), records, now, True)
    replies.append({"text": text("fallback.search_footer"), "buttons": closing})
    return replies


def _only_known_numbers(record: ServiceRecord, numbers: set[str]) -> bool:
    digits = {"".join(ch for ch in number if ch.isdigit()) for number, _charge in record.phones}
    return bool(digits) and digits <= numbers
