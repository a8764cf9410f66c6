"""Throwaway real servers for tests and benchmarks: PostgreSQL (Debian `postgresql`) and Redis.

Each server runs on a free private port with its files in a temporary folder and is stopped on exit.
PostgreSQL refuses to run as root, so as root initdb and pg_ctl run as the package's `postgres` user.
When the package is missing and we are root, it is installed with apt-get.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stack import free_port  # this pytest-xdist worker's share of the ports

PG_USER = "postgres"


class ServerUnavailable(RuntimeError):
    """The server cannot be started here (package missing and not root, or it failed to start)."""


def _is_root() -> bool:
    return os.geteuid() == 0


def apt_install(*packages: str) -> None:
    """Install Debian packages as root (apt-get update first); ServerUnavailable otherwise."""
    if not _is_root():
        raise ServerUnavailable(
            f"missing Debian packages {packages}; run as root: apt-get install -y {' '.join(packages)}"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, capture_output=True, timeout=600)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages],
            check=True,
            env=env,
            capture_output=True,
            timeout=1200,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        output = getattr(exc, "stderr", b"") or b""
        raise ServerUnavailable(
            f"apt-get install {' '.join(packages)} failed: {output.decode(errors='replace')[-500:]}"
        ) from exc


def postgres_bin_dir(install: bool = True) -> Path:
    """The newest installed PostgreSQL server bin dir (/usr/lib/postgresql/<v>/bin), installing it if allowed."""

    def newest() -> Path | None:
        found = sorted(
            glob.glob("/usr/lib/postgresql/*/bin/initdb"),
            key=lambda p: int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0,
        )
        return Path(found[-1]).parent if found else None

    bin_dir = newest()
    if bin_dir is None and install:
        apt_install("postgresql")
        bin_dir = newest()
    if bin_dir is None:
        raise ServerUnavailable("PostgreSQL server binaries not found under /usr/lib/postgresql")
    return bin_dir


@dataclass
class PostgresServer:
    """A running throwaway cluster: trust authentication, user `postgres`, C locale, fsync off."""

    port: int
    root: Path
    bin_dir: Path
    run_as: str | None
    _databases: set[str] = field(default_factory=set)

    @property
    def socket_dir(self) -> Path:
        return self.root / "socket"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres", driver: str = "postgresql+psycopg2") -> str:
        return f"{driver}://{PG_USER}@127.0.0.1:{self.port}/{database}"

    def _admin(self, sql: str) -> None:
        import psycopg2

        conn = psycopg2.connect(host="127.0.0.1", port=self.port, user=PG_USER, dbname="postgres")
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(sql)
        finally:
            conn.close()

    def create_database(self, name: str) -> str:
        """Create an empty database and return its SQLAlchemy URL."""
        if not name.replace("_", "").isalnum():
            raise ValueError(f"unsafe database name {name!r}")
        self._admin(f'DROP DATABASE IF EXISTS "{name}"')
        self._admin(f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'")
        self._databases.add(name)
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._databases.discard(name)


def _run(cmd: list[str], run_as: str | None, **kwargs) -> subprocess.CompletedProcess[bytes]:  # type: ignore[no-untyped-def]
    if run_as:
        cmd = ["runuser", "-u", run_as, "--", *cmd]
    return subprocess.run(cmd, check=True, capture_output=True, **kwargs)


def start_postgres(install: bool = True) -> PostgresServer:
    """Initialise and start a cluster; call stop_postgres() (or use postgres_server()) to remove it."""
    bin_dir = postgres_bin_dir(install)
    run_as = PG_USER if _is_root() else None
    root = Path(tempfile.mkdtemp(prefix="perheopas-pg-"))
    (root / "socket").mkdir()
    if run_as:
        info = pwd.getpwnam(run_as)
        for path in (root, root / "socket"):
            os.chown(path, info.pw_uid, info.pw_gid)
    server = PostgresServer(port=free_port(), root=root, bin_dir=bin_dir, run_as=run_as)
    try:
        _run(
            [
                str(bin_dir / "initdb"),
                "-D",
                str(server.data_dir),
                "-A",
                "trust",
                "-U",
                PG_USER,
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ],
            run_as,
            timeout=120,
        )
        options = (
            f"-p {server.port} -k {server.socket_dir} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=50"
        )
        _run(
            [
                str(bin_dir / "pg_ctl"),
                "-D",
                str(server.data_dir),
                "-o",
                options,
                "-l",
                str(root / "postgres.log"),
                "-w",
                "-t",
                "60",
                "start",
            ],
            run_as,
            timeout=90,
        )
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        log = root / "postgres.log"
        detail = log.read_text(errors="replace")[-1500:] if log.exists() else ""
        stderr = (getattr(exc, "stderr", b"") or b"").decode(errors="replace")
        shutil.rmtree(root, ignore_errors=True)
        raise ServerUnavailable(f"PostgreSQL did not start: {stderr[-800:]} {detail}") from exc
    atexit.register(stop_postgres, server)
    return server


def stop_postgres(server: PostgresServer) -> None:
    """Stop the cluster (fast shutdown) and delete its files; safe to call twice."""
    if server.data_dir.exists():
        with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
            _run(
                [str(server.bin_dir / "pg_ctl"), "-D", str(server.data_dir), "-m", "fast", "-w", "stop"],
                server.run_as,
                timeout=60,
            )
    shutil.rmtree(server.root, ignore_errors=True)


@contextlib.contextmanager
def postgres_server(install: bool = True) -> Iterator[PostgresServer]:
    server = start_postgres(install)
    try:
        yield server
    finally:
        stop_postgres(server)


# --- Redis ----------------------------------------------------------------------------------------------


@dataclass
class RedisServer:
    port: int
    root: Path
    process: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


def _redis_ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def start_redis(install: bool = True) -> RedisServer:
    """Start redis-server on a free port without persistence; stop with stop_redis()."""
    binary = shutil.which("redis-server")
    if binary is None and install:
        apt_install("redis-server")
        binary = shutil.which("redis-server")
    if binary is None:
        raise ServerUnavailable("redis-server not found")
    root = Path(tempfile.mkdtemp(prefix="perheopas-redis-"))
    port = free_port()
    process = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(root),
            "--logfile",
            str(root / "redis.log"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = RedisServer(port=port, root=root, process=process)
    deadline = time.monotonic() + 20
    while not _redis_ping(port):
        if process.poll() is not None or time.monotonic() > deadline:
            stop_redis(server)
            raise ServerUnavailable("redis-server did not start")
        time.sleep(0.05)
    atexit.register(stop_redis, server)
    return server


def stop_redis(server: RedisServer) -> None:
    if server.process.poll() is None:
        server.process.terminate()
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=10)
    shutil.rmtree(server.root, ignore_errors=True)


@contextlib.contextmanager
def redis_server(install: bool = True) -> Iterator[RedisServer]:
    server = start_redis(install)
    try:
        yield server
    finally:
        stop_redis(server)


# --- databases -------------------------------------------------------------------------------------------


def empty_tables(engine: Any, metadata: Any) -> None:
    """Delete every row of every table in `metadata` that exists (children first), keeping the schema."""
    from sqlalchemy import delete, inspect

    existing = set(inspect(engine).get_table_names())
    with engine.begin() as conn:
        for table in reversed(metadata.sorted_tables):
            if table.name in existing:
                conn.execute(delete(table))
