"""Fixtures shared by the tests: both databases, and the whole bot on loopback."""

from __future__ import annotations

import itertools
import os
import shutil
import sqlite3
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from bot.clock import SettableClock
from bot.database import make_engine, upgrade

POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
# Each pytest-xdist worker ("gw0", "gw1", …; "main" without xdist) and each run has its own
# names, so parallel workers and parallel runs never share a database.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
RUN = f"{WORKER}_{os.getpid()}"


def _admin_engine() -> Engine:
    return create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", pool_pre_ping=True)


def _url_for(database: str) -> str:
    base, _, _ = POSTGRES_ADMIN_URL.rpartition("/")
    return f"{base}/{database}"


class PostgresDatabases:
    """This worker's PostgreSQL databases: one migrated template, and per test a fresh copy.

    Copies are made one ahead on a background thread and dropped afterwards on another, so
    a test waits neither for `CREATE DATABASE … TEMPLATE` nor for the drop (on a server busy
    with other work either took up to two minutes here), and a slow drop never holds up the
    next copy."""

    def __init__(self) -> None:
        self.template = f"bot_test_template_{RUN}"
        self._admin = _admin_engine()
        self._names = (f"bot_test_{RUN}_{number}" for number in itertools.count(1))
        self._making = ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-database-copies")
        self._dropping = ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-database-drops")
        with self._admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {self.template} WITH (FORCE)"))
            connection.execute(text(f"CREATE DATABASE {self.template}"))
        template_engine = make_engine(_url_for(self.template))
        upgrade(template_engine)
        template_engine.dispose()
        self._next: Future[str] = self._making.submit(self._create)

    def _create(self) -> str:
        name = next(self._names)
        with self._admin.connect() as connection:
            # The default strategy (WAL_LOG) copies without forcing a checkpoint, which on a
            # server busy with other work can take minutes.
            connection.execute(text(f"CREATE DATABASE {name} TEMPLATE {self.template}"))
        return name

    def _drop(self, name: str) -> None:
        with self._admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))

    def take(self) -> str:
        """A fresh migrated database's name; the next one starts being made at once."""
        name = self._next.result()
        self._next = self._making.submit(self._create)
        return name

    def give_back(self, name: str) -> None:
        self._dropping.submit(self._drop, name)

    def close(self) -> None:
        """Drop what is left (the copy made ahead, the template) once the drops queued are done."""
        spare = self._next.result()
        self._making.shutdown(wait=True)
        self._dropping.submit(self._drop, spare)
        self._dropping.submit(self._drop, self.template)
        self._dropping.shutdown(wait=True)
        self._admin.dispose()


_postgres: dict[str, object] = {}


def _postgres_databases() -> PostgresDatabases:
    """This worker's databases, set up on first use; the failure is kept so every test
    that needs PostgreSQL reports it rather than retrying a dead server."""
    if "error" in _postgres:
        raise RuntimeError(str(_postgres["error"]))
    if "databases" not in _postgres:
        try:
            _postgres["databases"] = PostgresDatabases()
        except Exception as error:
            _postgres["error"] = f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {error}"
            raise RuntimeError(str(_postgres["error"])) from error
    databases = _postgres["databases"]
    assert isinstance(databases, PostgresDatabases)
    return databases


@pytest.fixture(scope="session")
def migrated_sqlite_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file per worker; each test gets a copy (migrating takes longer)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "migrated.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    with closing(sqlite3.connect(path)) as connection:
        connection.execute("PRAGMA journal_mode=DELETE")  # all in the one file, nothing in a -wal
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database on each engine the bot supports.

    PostgreSQL tests skip with the reason when no server answers, except under CI=true,
    where a missing server is a failure.
    """
    if request.param == "sqlite":
        path = tmp_path / "bot.sqlite3"
        shutil.copyfile(request.getfixturevalue("migrated_sqlite_file"), path)
        yield f"sqlite:///{path}"
        return
    try:
        databases = _postgres_databases()
    except RuntimeError as error:
        if IN_CI:
            pytest.fail(f"{error} (CI=true: PostgreSQL tests may not skip)")
        pytest.skip(str(error))
    name = databases.take()
    try:
        yield _url_for(name)
    finally:
        databases.give_back(name)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> SettableClock:
    """Tuesday 10 November 2026, 10:00 in London (GMT), a working morning."""
    return SettableClock(datetime(2026, 11, 10, 10, 0, tzinfo=UTC))


@pytest.fixture
def bot(database_url: str, clock: SettableClock, tmp_path):
    """The real app on loopback with a local Slack and a fresh database."""
    from bot_offline.driver import OfflineBot

    with OfflineBot(database_url=database_url, clock=clock, work_dir=tmp_path) as running:
        yield running


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Drop this worker's PostgreSQL databases."""
    databases = _postgres.get("databases")
    if isinstance(databases, PostgresDatabases):
        databases.close()


@pytest.fixture(scope="module")
def fuzz_bot(tmp_path_factory):
    """One running bot with one convened discussion, shared by the fuzzing examples."""
    from bot_offline.driver import OfflineBot
    from tests.convening_support import convene

    clock = SettableClock(datetime(2026, 11, 10, 10, 0, tzinfo=UTC))
    with OfflineBot(clock=clock, work_dir=tmp_path_factory.mktemp("fuzz")) as running:
        meeting = convene(running)
        _panel_with_an_agenda(running, clock)
        running.local_slack.reset_calls()
        yield running, meeting.id


def _panel_with_an_agenda(running, clock: SettableClock) -> None:
    """A panel sitting whose agenda holds one accepted child (item 1, referral 1), and a
    referral still waiting (2), so hostile payloads reach the panel's listeners too."""
    from bot.panel.jobs import sweep_panels
    from bot_offline.panel import decide, refer

    sweep_panels(running.runtime)
    refer(running, "U0CSC001", case_reference="CS-3000001", child_name="Fuzz Test-Child")
    decide(running, 1, accept=True)
    refer(running, "U0CSC001", case_reference="CS-3000002", child_name="Fuzz Other-Child")
    start = clock.now()
    clock.set(datetime(2026, 11, 18, 9, 0, tzinfo=UTC))
    sweep_panels(running.runtime)
    running.settle()
    clock.set(start)
