"""Finnish display output stays byte-identical while the catalogue learns Swedish and English (issue 16).

`golden/finnish_records.json` is every published channel of the independent PTV fixture as `record_from_row`
built it, at three moments (an ordinary Monday, before Christmas, before Midsummer), written by the code before
Swedish and English display existed. Regenerate it only for an intended change of the Finnish texts:
`.venv/bin/python tests/catalog/test_catalog_finnish_golden.py > tests/catalog/golden/finnish_records.json`.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import literal, select
from sqlalchemy.orm import Session

GOLDEN = Path(__file__).resolve().parent / "golden" / "finnish_records.json"
MOMENTS = ("2026-11-23T10:00:00+02:00", "2026-12-20T18:00:00+02:00", "2027-06-14T12:00:00+03:00")


def finnish_records(session: Session) -> dict[str, dict[str, Any]]:
    """{moment: {channel id: record dict}} for every published channel, as the Finnish bot sees it."""
    from catalog.models import Channel
    from catalog.query import _columns
    from catalog.records import build_records
    from core.clock import HELSINKI

    rows = session.execute(
        select(*_columns(), literal(0).label("rank")).where(Channel.published.is_(True)).order_by(Channel.source_id)
    ).all()
    out: dict[str, dict[str, Any]] = {}
    for moment in MOMENTS:
        now = datetime.fromisoformat(moment).astimezone(HELSINKI)
        out[moment] = {record.channel_id: record.to_dict() for record in build_records(rows, now)}
    return out


def test_finnish_records_are_unchanged(imported: Session) -> None:
    expected = json.loads(GOLDEN.read_text(encoding="utf-8"))
    actual = json.loads(json.dumps(finnish_records(imported), ensure_ascii=False))
    assert actual.keys() == expected.keys()
    for moment in MOMENTS:
        assert actual[moment] == expected[moment], moment
    assert len(expected[MOMENTS[0]]) >= 8


if __name__ == "__main__":  # regenerate (see the module docstring)
    import tempfile

    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from catalog.importer import import_paths
    from core.db import make_engine, make_session_factory
    from core.schema import upgrade

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/golden.db"
        upgrade(url)
        engine = make_engine(url)
        with make_session_factory(engine)() as regen:
            import_paths(regen, [Path(__file__).resolve().parents[1] / "fixtures" / "ptv"])
            json.dump(finnish_records(regen), sys.stdout, ensure_ascii=False, indent=1, sort_keys=True)
            print()
        engine.dispose()
