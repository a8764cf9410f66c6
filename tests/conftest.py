"""Shared fixtures: the application database on SQLite and on a throwaway PostgreSQL server, and one running stack.

`db_url` is parametrised over both backends (PostgreSQL is marked slow), with a fresh database per
test module; `engine` is that database migrated to the newest revision; `session` empties it first.
`shared_stack` is one running stack (tests/stack.py) for the modules that only talk to it, and `shared_parts` one
set of separately started parts (tests/parts.py) for the conversation modules that restart the action server to
move its clock: the users of each run one after another, and each set stops after the last test that uses it, so
Rasa loads once per set rather than once per module. Under pytest-xdist's `--dist loadgroup` (the model tier of
`make test`) all users of one shared set go to one worker, and every other test with the rest of its module.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import parts
import pytest
import stack
from parts import Parts
from servers import PostgresServer, ServerUnavailable, empty_tables, start_postgres, stop_postgres
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from stack import Shared, Stack

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.slow)]
_counter = itertools.count()
#: The holders of shared running sets (fixture names), each kept in the session's stash under its name.
HOLDERS = ("shared_stack_holder", "shared_parts_holder")
_holders = pytest.StashKey[dict[str, Shared]]()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Tell tests/stack.py whether this test may start Rasa (it must be marked `model`, see require_model)."""
    stack.model_marked = item.get_closest_marker("model") is not None


# tryfirst: before pytest-xdist's own hook, which reads the xdist_group marks added here.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The tests that use a shared set run one after another from where the first of them was (the others keep
    their order), so the set starts once and stops before any other stack starts; those that need the shared
    stack fresh come first among its users, those that stop it last."""
    def turn(item: pytest.Item) -> int:
        names = getattr(item, "fixturenames", ())
        return 0 if "fresh_shared_stack" in names else 2 if "shared_stack_to_stop" in names else 1

    for holder in HOLDERS:
        users = [item for item in items if holder in getattr(item, "fixturenames", ())]
        users.sort(key=turn)
        if users:
            chosen = set(users)
            first = next(index for index, item in enumerate(items) if item in chosen)
            items[:] = items[:first] + users + [item for item in items[first:] if item not in chosen]
    _group_for_xdist(config, items)


#: The groups of the model tier that take longest, longest first (the load benchmark, the shared parts and stack
#: about 150-200 s each on this 2-core machine with both workers busy, the others 50-100 s): under `--dist loadgroup
#: --no-loadscope-reorder` they are handed out in this order and the rest after them, so the short ones fill the
#: end and the two workers finish close together.
LONGEST_FIRST = ("tests/test_load.py", "shared_parts_holder", "shared_stack_holder", "tests/nlu/test_nlu_quality.py",
                 "tests/test_faults.py", "tests/test_rasa_speedups.py", "tests/test_scale_out.py")


def _group_for_xdist(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test with the group that `--dist loadgroup` (`make test`'s model tier) gives one worker as a
    whole: the users of a shared set together, so a worker starts it once and runs them in the order above, and
    every other test with its module, whose fixtures may start a stack and whose tests may build on each other.
    Under loadgroup the groups of LONGEST_FIRST also move to the front; otherwise the marks change nothing."""
    def group(item: pytest.Item) -> str:
        names = getattr(item, "fixturenames", ())
        return next((holder for holder in HOLDERS if holder in names), item.nodeid.split("::")[0])

    groups = {item: group(item) for item in items}
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(groups[item]))
    # The workers collect; pytest-xdist tells them loadgroup so (their own `dist` option reads "no").
    if getattr(config.option, "loadgroup", False):
        rank = {name: index for index, name in enumerate(LONGEST_FIRST)}
        items.sort(key=lambda item: rank.get(groups[item], len(rank)))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    yield
    for name, holder in item.config.stash.get(_holders, {}).items():
        if holder.running and (nextitem is None or name not in getattr(nextitem, "fixturenames", ())):
            holder.close()


def _holder(request: pytest.FixtureRequest, name: str, holder: Shared) -> Iterator[Shared]:
    request.config.stash.setdefault(_holders, {})[name] = holder
    try:
        yield holder
    finally:
        holder.close()


@pytest.fixture(scope="session")
def shared_stack_holder(request: pytest.FixtureRequest,
                        tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shared[Stack]]:
    yield from _holder(request, "shared_stack_holder",
                       stack.shared_stack(lambda: tmp_path_factory.mktemp("shared-stack")))


@pytest.fixture(scope="module")
def shared_stack(shared_stack_holder: Shared[Stack]) -> Stack:
    """The one running stack (weekday-afternoon clock, two Rasa processes); use your own conversation ids."""
    return shared_stack_holder.get()


@pytest.fixture(scope="session")
def shared_parts_holder(request: pytest.FixtureRequest,
                        tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shared[Parts]]:
    yield from _holder(request, "shared_parts_holder",
                       parts.shared_parts(lambda: tmp_path_factory.mktemp("shared-parts")))


@pytest.fixture(scope="module")
def shared_parts(shared_parts_holder: Shared[Parts]) -> Parts:
    """actions, Rasa (one process) and web started separately; restart the action server to move its clock
    (`parts.actions.env["PERHEOPAS_NOW"]` is the clock it runs with). Use your own conversation ids."""
    return shared_parts_holder.get()


@pytest.fixture(scope="module")
def fresh_shared_stack(shared_stack: Stack) -> Stack:
    """The shared stack before any other module has talked to it (the modules that ask for this run first among its
    users), for tests that search its whole tracker and every log for what only they sent."""
    tracker = Path(shared_stack.env["PERHEOPAS_VAR"]) / "tracker.db"
    with contextlib.closing(sqlite3.connect(f"file:{tracker}?mode=ro", uri=True)) as conn:
        senders = conn.execute("SELECT COUNT(DISTINCT sender_id) FROM events").fetchone()[0]
    assert senders == 0, f"the shared stack is not fresh: {senders} conversations in its tracker"
    return shared_stack


@pytest.fixture
def shared_stack_to_stop(shared_stack_holder: Shared[Stack]) -> Iterator[Stack]:
    """The shared stack handed over to a test that stops it (run after the other users; a later user would start
    a new one)."""
    with shared_stack_holder.take() as stack:
        yield stack


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL cluster for the whole run (installed with apt-get when missing and root)."""
    try:
        server = start_postgres()
    except ServerUnavailable as exc:
        pytest.skip(f"PostgreSQL unavailable: {exc}")
    try:
        yield server
    finally:
        stop_postgres(server)


def _database_name(request: pytest.FixtureRequest) -> str:
    base = re.sub(r"[^a-z0-9]+", "_", request.node.name.lower())[:40].strip("_")
    return f"t_{base}_{next(_counter)}"


@pytest.fixture(scope="module")
def new_database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], str]:
    """A factory: backend name → URL of a fresh, empty database on that backend."""
    created: list[tuple[PostgresServer, str]] = []

    def make(backend: str) -> str:
        name = _database_name(request)
        if backend == "sqlite":
            return f"sqlite:///{tmp_path_factory.mktemp('db') / (name + '.db')}"
        server: PostgresServer = request.getfixturevalue("postgres_server")
        url = server.create_database(name)
        created.append((server, name))
        return url

    yield make
    for server, name in created:
        server.drop_database(name)


@pytest.fixture(scope="module", params=BACKENDS)
def db_url(request: pytest.FixtureRequest, new_database: Callable[[str], str]) -> str:
    """URL of a fresh database for this module, on SQLite and on PostgreSQL."""
    return new_database(request.param)


@pytest.fixture(scope="module")
def engine(db_url: str) -> Iterator[Engine]:
    """The module's database migrated to the newest revision."""
    from core.db import make_engine
    from core.schema import upgrade

    upgrade(db_url)
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


@pytest.fixture()
def session(engine: Engine) -> Iterator[Session]:
    """A session over a migrated, empty application database."""
    from core.db import Base, make_session_factory

    empty_tables(engine, Base.metadata)
    with make_session_factory(engine)() as sess:
        yield sess
