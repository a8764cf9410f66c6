"""`python -m catalog`: migrate, load-sample, import-ptv, search, validate, stats, reclassify."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from catalog.hours import format_time
from catalog.models import Channel, ChannelArea, ChannelTopic, Municipality, Service
from catalog.ptv import DEFAULT_MAX_FILE_BYTES, PTVFormatError
from core import clock
from core.db import make_engine, make_session_factory
from core.language import LANGUAGES

EXIT_PROBLEMS = 1
EXIT_USAGE = 2


def _session(url: str | None = None) -> Session:
    engine = make_engine(url)
    return make_session_factory(engine)()


def _require_schema(session: Session) -> None:
    if not inspect(session.get_bind()).has_table("channel"):
        raise SystemExit("The catalogue tables do not exist yet; run `python -m catalog migrate` first.")


def cmd_migrate(args: argparse.Namespace) -> int:
    from catalog.importer import ensure_classification, sync_municipalities
    from core.schema import upgrade

    upgrade(args.database_url)
    with _session(args.database_url) as session:
        sync_municipalities(session)
        session.commit()
        count = ensure_classification(session)
    print("database schema is up to date" + (f"; reclassified {count} channels" if count else ""))
    return 0


def _print_report(report: Any, as_json: bool) -> None:
    if as_json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        print("\n".join(report.lines()))


def cmd_load_sample(args: argparse.Namespace) -> int:
    from catalog.importer import ensure_classification, load_sample
    from core.schema import upgrade

    upgrade(args.database_url)
    with _session(args.database_url) as session:
        report = load_sample(session, if_empty=args.if_empty)
        if report is None:
            ensure_classification(session)
            print("catalogue already has services; sample data not loaded")
            return 0
        _print_report(report, args.json)
    return 0


def cmd_import_ptv(args: argparse.Namespace) -> int:
    from catalog.importer import import_paths
    from core.schema import upgrade

    upgrade(args.database_url)
    with _session(args.database_url) as session:
        try:
            report = import_paths(session, args.paths, max_bytes=int(args.max_file_mb * 1024 * 1024))
        except PTVFormatError as exc:
            print(f"import failed, nothing was changed: {exc}", file=sys.stderr)
            return EXIT_USAGE
        _print_report(report, args.json)
    return 0


def _record_lines(number: int, record: Any) -> list[str]:
    flags = [record.match]
    if record.is_example:
        flags.append("esimerkki")
    lines = [f"{number}. {record.channel_name} [{record.kind}, {', '.join(flags)}]"]
    if record.service_name and record.service_name != record.channel_name:
        lines.append(f"   palvelu: {record.service_name}")
    town = record.municipality or record.area
    if town and record.address and town in record.address:
        town = None
    place = ", ".join(p for p in (record.address, town) if p)
    if place:
        lines.append(f"   {place}")
    for number_text, charge in record.phones:
        lines.append(f"   puh. {number_text}" + (f" ({charge})" if charge else ""))
    if record.url:
        lines.append(f"   {record.url}")
    if record.hours_text:
        state = ""
        if record.open_now is True:
            state = " – avoinna nyt"
        elif record.open_now is False and record.next_opening:
            opens = record.next_opening
            state = f" – avautuu {opens.day}.{opens.month}. klo {format_time(opens.time())}"
        lines.append(f"   aukiolo: {record.hours_text}{state}")
    for note in record.hours_notes:
        lines.append(f"   huom. {note}")
    if record.fallback_fields:
        lines.append(f"   vain suomeksi: {', '.join(record.fallback_fields)}")
    return lines


def cmd_search(args: argparse.Namespace) -> int:
    from catalog.query import UnknownMunicipalityError, UnknownTopicError, find_services, search_text

    now = clock.now()
    with _session(args.database_url) as session:
        _require_schema(session)
        try:
            shown_in = args.display_language or "fi"
            if args.text:
                records = search_text(
                    session,
                    args.text,
                    limit=args.limit,
                    municipality=args.municipality,
                    now=now,
                    display_language=shown_in,
                )
            else:
                records = find_services(
                    session,
                    args.topic,
                    args.municipality,
                    age=args.age,
                    language=args.language,
                    open_at=now if args.open_now else None,
                    now=now,
                    limit=args.limit,
                    include_nearby=args.nearby,
                    display_language=shown_in,
                )
        except (UnknownTopicError, UnknownMunicipalityError) as exc:
            print(str(exc), file=sys.stderr)
            return EXIT_USAGE
    if args.json:
        # The language fields only when asked for: existing callers get exactly the JSON they always did.
        with_language = args.display_language is not None
        print(json.dumps([r.to_dict(with_language) for r in records], ensure_ascii=False, indent=2))
        return 0
    if not records:
        print("Ei hakua vastaavia palveluita.")
        return 0
    for i, record in enumerate(records, 1):
        print("\n".join(_record_lines(i, record)))
    return 0


def validation_report(session: Session, stale_days: int = 365) -> dict[str, Any]:
    """Problems a catalogue maintainer should fix; `no_topic` makes validation fail."""
    today = clock.now().date()
    published = Channel.published.is_(True)
    no_topic = session.execute(
        select(Channel.source_id, Channel.name_fi, Channel.kind)
        .where(published, ~Channel.id.in_(select(ChannelTopic.channel_id)))
        .order_by(Channel.sort_key, Channel.id)
    ).all()
    no_area = session.execute(
        select(Channel.source_id, Channel.name_fi)
        .where(published, Channel.scope != "national", ~Channel.id.in_(select(ChannelArea.channel_id)))
        .order_by(Channel.sort_key, Channel.id)
    ).all()
    stale = session.execute(
        select(Channel.source_id, Channel.name_fi, Channel.last_verified)
        .where(
            published, (Channel.last_verified.is_(None)) | (Channel.last_verified < today - timedelta(days=stale_days))
        )
        .order_by(Channel.sort_key, Channel.id)
    ).all()
    unreachable = [
        row
        for row in session.execute(
            select(Channel.source_id, Channel.name_fi, Channel.url, Channel.email, Channel.display_json)
            .where(published)
            .order_by(Channel.sort_key, Channel.id)
        )
        if not row.url
        and not row.email
        and '"phones": []' in row.display_json
        and '"address": null' in row.display_json
    ]
    examples = session.execute(select(func.count()).where(published, Channel.is_example.is_(True))).scalar()
    return {
        "no_topic": [{"id": r.source_id, "name": r.name_fi, "kind": r.kind} for r in no_topic],
        "no_area": [{"id": r.source_id, "name": r.name_fi} for r in no_area],
        "not_verified_recently": [
            {
                "id": r.source_id,
                "name": r.name_fi,
                "last_verified": r.last_verified.isoformat() if r.last_verified else None,
            }
            for r in stale
        ],
        "no_contact": [{"id": r.source_id, "name": r.name_fi} for r in unreachable],
        "example_channels": examples,
    }


def cmd_validate(args: argparse.Namespace) -> int:
    with _session(args.database_url) as session:
        _require_schema(session)
        report = validation_report(session)
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        titles = {
            "no_topic": "channels with no topic (the bot can never offer them)",
            "no_area": "local/regional channels with no municipality (never shown for a municipality)",
            "not_verified_recently": "channels not verified within a year",
            "no_contact": "channels with no phone, address, e-mail or web page",
        }
        for key, title in titles.items():
            print(f"{title}: {len(report[key])}")
            for item in report[key]:
                print(f"  - {item['name']} ({item['id']})")
        if report["example_channels"]:
            print(f"example (fictional) channels: {report['example_channels']} – replace before production")
    return EXIT_PROBLEMS if report["no_topic"] else 0


def stats(session: Session) -> dict[str, Any]:
    published = Channel.published.is_(True)

    def grouped(column: Any) -> dict[str, int]:
        rows = session.execute(
            select(column, func.count()).select_from(Channel).where(published).group_by(column).order_by(column)
        )
        return {str(key): count for key, count in rows}

    topics = session.execute(
        select(ChannelTopic.topic, func.count())
        .join(Channel, Channel.id == ChannelTopic.channel_id)
        .where(published)
        .group_by(ChannelTopic.topic)
        .order_by(ChannelTopic.topic)
    )
    served = session.execute(
        select(Municipality.name_fi, func.count())
        .select_from(ChannelArea)
        .join(Channel, Channel.id == ChannelArea.channel_id)
        .join(Municipality, Municipality.code == ChannelArea.municipality_code)
        .where(published, Channel.scope == "local")
        .group_by(Municipality.name_fi)
        .order_by(func.count().desc(), Municipality.name_fi)
    ).all()
    return {
        "services": session.execute(
            select(func.count()).select_from(Service).where(Service.published.is_(True))
        ).scalar(),
        "channels": session.execute(select(func.count()).select_from(Channel).where(published)).scalar(),
        "by_kind": grouped(Channel.kind),
        "by_scope": grouped(Channel.scope),
        "by_source": grouped(Channel.source),
        "examples": session.execute(
            select(func.count()).select_from(Channel).where(published, Channel.is_example.is_(True))
        ).scalar(),
        "by_topic": {topic: count for topic, count in topics},
        "municipalities_with_local_channels": len(served),
        "top_municipalities": {name: count for name, count in served[:10]},
    }


def cmd_stats(args: argparse.Namespace) -> int:
    with _session(args.database_url) as session:
        _require_schema(session)
        data = stats(session)
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
        return 0
    print(f"services: {data['services']}, channels: {data['channels']} (example data: {data['examples']})")
    for key in ("by_kind", "by_scope", "by_source", "by_topic", "top_municipalities"):
        print(f"{key.replace('_', ' ')}:")
        for name, count in data[key].items():
            print(f"  {name}: {count}")
    print(f"municipalities with local channels: {data['municipalities_with_local_channels']}")
    return 0


def cmd_reclassify(args: argparse.Namespace) -> int:
    from catalog.importer import refresh_derived

    with _session(args.database_url) as session:
        _require_schema(session)
        count = refresh_derived(session, None)
        session.commit()
    print(f"reclassified {count} channels")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m catalog", description="Perheopas service catalogue")
    parser.add_argument(
        "--database-url", default=None, help="SQLAlchemy URL (default: DATABASE_URL, else var/perheopas.db)"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("migrate", help="upgrade the database schema to the newest revision")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("load-sample", help="import the bundled example catalogue")
    p.add_argument("--if-empty", action="store_true", help="only when the catalogue has no services")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_load_sample)

    p = sub.add_parser("import-ptv", help="import PTV v11 JSON files or folders (one transaction)")
    p.add_argument("paths", nargs="+")
    p.add_argument("--max-file-mb", type=float, default=DEFAULT_MAX_FILE_BYTES / 1_048_576)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_import_ptv)

    p = sub.add_parser("search", help="ranked services for a topic and municipality, or free text")
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--topic")
    target.add_argument("--text")
    p.add_argument("--municipality")
    p.add_argument("--age", type=int)
    p.add_argument("--language", help="only services offered in this language (fi, sv, en …)")
    p.add_argument(
        "--display-language",
        choices=LANGUAGES,
        help="show names, descriptions and hours in this language, Finnish where there is none; "
        "adds display_language, text_language and fallback_fields to --json",
    )
    p.add_argument("--open-now", action="store_true")
    p.add_argument("--nearby", action="store_true", help="also local services elsewhere in the wellbeing area")
    p.add_argument("--limit", type=int, default=10)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("validate", help="list channels with no topic and other data problems")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("stats", help="counts by kind, scope, topic and municipality")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_stats)

    p = sub.add_parser("reclassify", help="recompute topics and ages for every channel")
    p.set_defaults(func=cmd_reclassify)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))
