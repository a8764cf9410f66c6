"""The coordinators' dashboard at /staff/stats: anonymous figures as charts and tables, and their CSV export.

Only coordinators open it (a worker gets 403 and an audit row). Every number shown, drawn or exported has small
numbers suppressed (bot.stats.report): the page is read by people, and a 2 next to a small municipality and a
violence topic could point at someone.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import date, timedelta

import aiohttp_jinja2
from aiohttp import web
from sqlalchemy.orm import Session

from bot.callbacks import staff_store
from bot.stats import counters
from bot.stats.report import SMALL, SUPPRESSED, Figures, as_csv, build, safe_rate, suppress
from bot.web.charts import GROUPED, HORIZONTAL, LINES, STACKED, ChartData, render_svg
from bot.web.common import DATABASE_KEY
from catalog.topics import load_topics
from core import clock

DEFAULT_WEEKS = 12
MAX_TOPICS = 7
CHART_CSP = "default-src 'none'; style-src 'unsafe-inline'"

SAFETY_LABELS = {
    "danger": "väkivalta tai vaara",
    "crisis": "itsetuhoisuus",
    "close_one": "läheisen itsetuhoisuus",
    "harm_thoughts": "pelko vauvan vahingoittamisesta",
    "young_danger": "lapsi tai nuori vaarassa",
    "young": "lapsi tai nuori kirjoittaa",
}
WAIT_LABELS = {"under_1h": "alle 1 h", "1_4h": "1–4 h", "4_24h": "4–24 h", "1_3d": "1–3 vrk", "over_3d": "yli 3 vrk"}
CALLBACK_TOPIC_LABELS = {"muu": "muu asia"}


def topic_label(topic: str) -> str:
    rule = load_topics().topics.get(topic)
    return rule.label_fi if rule is not None else CALLBACK_TOPIC_LABELS.get(topic, topic)


def cell(value: int) -> str:
    shown = suppress(value)
    return shown if isinstance(shown, str) else str(shown)


def plotted(value: int) -> int:
    """What a chart draws for a count: nothing for a suppressed one (the table says "< 5")."""
    return value if value >= SMALL else 0


def percent(value: float | None) -> str:
    return "–" if value is None else f"{round(value * 100)} %"


@dataclass
class Chart:
    """One chart of the page with the table that gives its numbers (for screen readers and for checking)."""

    name: str
    title: str
    alt: str
    data: ChartData
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)
    note: str = ""


def _topics_chart(f: Figures) -> Chart:
    totals: dict[str, int] = {}
    for row in f.topics_by_week.values():
        for topic, n in row.items():
            totals[topic] = totals.get(topic, 0) + n
    top = sorted(totals, key=lambda t: (-totals[t], t))[:MAX_TOPICS]
    weeks = sorted(f.topics_by_week)
    data = ChartData(STACKED, weeks, [(topic_label(t), [plotted(f.topics_by_week[w].get(t, 0)) for w in weeks])
                                      for t in top], y_label="hakuja")
    rows = [[w, *[cell(f.topics_by_week[w].get(t, 0)) for t in top]] for w in weeks]
    return Chart("aiheet", "Aiheet viikoittain", "Pinottu pylväskaavio palveluhauista viikoittain aiheen mukaan.",
                 data, ["Viikko", *[topic_label(t) for t in top]], rows,
                 note=f"Kaaviossa {MAX_TOPICS} yleisintä aihetta; muut ovat CSV-tiedostossa.")


def _hours_chart(f: Figures) -> Chart:
    hours = [f"{h:02d}" for h in range(24)]
    office = [f.hours.get(h, {}).get(counters.OFFICE, 0) for h in hours]
    after = [f.hours.get(h, {}).get(counters.AFTER_HOURS, 0) for h in hours]
    data = ChartData(STACKED, hours, [("virka-aikana", [plotted(n) for n in office]),
                                      ("virka-ajan ulkopuolella", [plotted(n) for n in after])], y_label="keskusteluja")
    rows = [[f"klo {h}", cell(o), cell(a), percent(safe_rate(a, o + a))]
            for h, o, a in zip(hours, office, after, strict=True) if o or a]
    return Chart("tunnit", "Keskustelujen alkamistunti ja virka-ajan ulkopuolinen osuus",
                 "Pinottu pylväskaavio keskustelujen alkamisesta tunneittain, virka-aikana ja sen ulkopuolella.",
                 data, ["Tunti", "Virka-aikana", "Virka-ajan ulkopuolella", "Osuus ulkopuolella"], rows)


def _rates_chart(f: Figures) -> Chart:
    weeks = sorted(f.rates_by_week)
    unanswered, no_local, rows = [], [], []
    for week in weeks:
        row = f.rates_by_week[week]
        messages, fallbacks = row.get("messages", 0), row.get("fallbacks", 0)
        searches, missing = row.get("searches_with_municipality", 0), row.get("no_local", 0)
        unanswered.append(safe_rate(fallbacks, messages))
        no_local.append(safe_rate(missing, searches))
        rows.append([week, cell(messages), cell(fallbacks), percent(unanswered[-1]), cell(searches), cell(missing),
                     percent(no_local[-1])])
    data = ChartData(LINES, weeks, [("ei ymmärretty (osuus viesteistä)", unanswered),
                                    ("ei paikallista palvelua (osuus kuntahauista)", no_local)], percent=True)
    return Chart("osuudet", "Vastaamatta jääneet ja paikallisen palvelun puute",
                 "Viivakaavio viikoittain: osuus viesteistä, joita botti ei ymmärtänyt, ja osuus kuntaan "
                 "kohdistuneista hauista, joihin ei löytynyt paikallista palvelua.", data,
                 ["Viikko", "Viestejä", "Ei ymmärretty", "Osuus", "Hakuja kunnalla", "Ei paikallista", "Osuus"],
                 rows, note="Osuutta ei näytetä, kun se perustuisi alle viiteen tapaukseen.")


def _feedback_chart(f: Figures) -> Chart:
    topics = sorted(f.feedback, key=lambda t: (-sum(f.feedback[t].get(r, 0) for r in counters.RATINGS), t))
    data = ChartData(HORIZONTAL, [topic_label(t) for t in topics], [
        ("hyödyllinen", [plotted(f.feedback[t].get(counters.UP, 0)) for t in topics]),
        ("ei hyödyllinen", [plotted(f.feedback[t].get(counters.DOWN, 0)) for t in topics]),
    ], y_label="palautteita")
    reasons = counters.FEEDBACK_REASONS
    rows = [[topic_label(t), cell(f.feedback[t].get(counters.UP, 0)), cell(f.feedback[t].get(counters.DOWN, 0)),
             *[cell(f.feedback[t].get(r, 0)) for r in reasons]] for t in topics]
    return Chart("palaute", "Palaute aiheittain", "Vaakapylväskaavio: hyödyllisiksi ja ei-hyödyllisiksi merkityt "
                 "vastaukset aiheittain.", data,
                 ["Aihe", "Hyödyllinen", "Ei hyödyllinen", "Ei löytynyt läheltä", "Tieto oli väärin",
                  "En saanut vastausta"], rows)


def _callbacks_chart(f: Figures) -> Chart:
    weeks = sorted(f.callbacks_by_week)
    names = (("created", "tehty"), ("claimed", "otettu hoitoon"), ("done", "hoidettu"))
    data = ChartData(GROUPED, weeks, [(label, [plotted(f.callbacks_by_week[w].get(key, 0)) for w in weeks])
                                      for key, label in names], y_label="pyyntöjä")
    rows = [[w, *[cell(f.callbacks_by_week[w].get(key, 0)) for key, _ in names]] for w in weeks]
    return Chart("pyynnot", "Yhteydenottopyynnöt viikoittain", "Ryhmitelty pylväskaavio: tehdyt, hoitoon otetut "
                 "ja hoidetut yhteydenottopyynnöt viikoittain.", data,
                 ["Viikko", "Tehty", "Otettu hoitoon", "Hoidettu"], rows)


def _wait_chart(f: Figures) -> Chart:
    labels = list(WAIT_LABELS)
    data = ChartData(STACKED, [WAIT_LABELS[k] for k in labels],
                     [("pyyntöjä", [plotted(f.wait_buckets.get(k, 0)) for k in labels])], y_label="pyyntöjä")
    rows = [[WAIT_LABELS[k], cell(f.wait_buckets.get(k, 0))] for k in labels]
    return Chart("odotus", "Aika ensimmäiseen yhteydenottoon", "Pylväskaavio: kuinka pian pyyntö otettiin "
                 "hoitoon sen tekemisestä.", data, ["Aika", "Pyyntöjä"], rows)


CHARTS = {"aiheet": _topics_chart, "tunnit": _hours_chart, "osuudet": _rates_chart, "palaute": _feedback_chart,
          "pyynnot": _callbacks_chart, "odotus": _wait_chart}


def period(request: web.Request) -> tuple[date, date]:
    """?since=YYYY-MM-DD, else the last twelve weeks from a Monday; until today (Helsinki)."""
    today = clock.now().date()
    default = today - timedelta(weeks=DEFAULT_WEEKS, days=today.weekday())
    try:
        since = date.fromisoformat(request.query.get("since", "")) if request.query.get("since") else default
    except ValueError:
        since = default
    return min(since, today), today


async def _figures(request: web.Request, action: str | None) -> tuple[Figures, date]:
    """The period's figures, for a coordinator only; `action` is audited (the chart images are not)."""
    who: staff_store.LoggedIn = request["staff"]
    database = request.app[DATABASE_KEY]
    if not who.is_coordinator:
        await database.run(staff_store.audit, who.username, "stats_refused", staff_store.utc_now())
        raise web.HTTPForbidden(text="Tilastot näkyvät vain koordinaattoreille.")
    since, until = period(request)

    def run(db: Session) -> Figures:
        if action:
            staff_store.audit(db, who.username, action, staff_store.utc_now())
        return build(db, until, since)

    return await database.run(run), since


def _day(d: date | None) -> str:
    return f"{d.day}.{d.month}.{d.year}" if d else ""


async def stats_page(request: web.Request) -> web.StreamResponse:
    figures, since = await _figures(request, "view_stats")
    totals = figures.totals
    mean = figures.mean_minutes_to_first_contact if totals.get("callbacks_claimed", 0) >= SMALL else None
    key_figures = [
        ("Keskusteluja", cell(totals["conversations"])),
        ("Virka-ajan ulkopuolella", percent(safe_rate(totals["conversations_after_hours"], totals["conversations"]))),
        ("Palveluhakuja", cell(totals["searches"])),
        ("Ei ymmärretty", cell(totals["fallbacks"])),
        ("Ei paikallista palvelua", cell(totals["no_local"])),
        ("Turvallisuusvastauksia (112, kriisilinjat)", cell(totals["safety_replies"])),
        ("Yhteydenottopyyntöjä", cell(totals["callbacks_created"])),
        ("Keskimäärin ensimmäiseen yhteydenottoon", "–" if mean is None else f"{mean / 60:.1f} h".replace(".", ",")),
        ("Palautteita: hyödyllinen / ei", f"{cell(totals['feedback_up'])} / {cell(totals['feedback_down'])}"),
    ]
    who = request["staff"]
    return aiohttp_jinja2.render_template("staff_stats.html", request, {
        "who": who,
        "csrf_token": who.csrf_token,
        "since": since.isoformat(),
        "period": f"{_day(since)}–{_day(figures.until)}",
        "key_figures": key_figures,
        "charts": [make(figures) for make in CHARTS.values()],
        "safety": [(SAFETY_LABELS.get(route, route), cell(n)) for route, n in sorted(figures.safety_replies.items())],
        "gaps": [(topic_label(t), m, cell(n)) for t, m, n in figures.gaps],
        "suppressed": SUPPRESSED,
    })


async def stats_csv(request: web.Request) -> web.StreamResponse:
    figures, since = await _figures(request, "export_stats")
    name = f"perheopas-tilastot-{since.isoformat()}-{figures.until.isoformat()}.csv"
    return web.Response(body=as_csv(figures).encode("utf-8-sig"), content_type="text/csv", charset="utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}"'})


async def chart_svg(request: web.Request) -> web.StreamResponse:
    make = CHARTS.get(request.match_info["chart"])
    if make is None:
        raise web.HTTPNotFound()
    figures, _ = await _figures(request, None)
    svg = await asyncio.to_thread(render_svg, make(figures).data)
    # An SVG image cannot run scripts; its inline styles need this, the pages' own policy stays strict.
    return web.Response(body=svg, content_type="image/svg+xml", headers={"Content-Security-Policy": CHART_CSP})


def setup(app: web.Application) -> None:
    app.router.add_get("/staff/stats", stats_page)
    app.router.add_get("/staff/stats.csv", stats_csv)
    app.router.add_get("/staff/stats/{chart:[a-z]+}.svg", chart_svg)
