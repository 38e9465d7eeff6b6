"""Fixtures shared by the tests: both databases, and the whole bot on loopback."""

from __future__ import annotations

import itertools
import os
import shutil
import sqlite3
import warnings
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine, make_url

from bot.clock import SettableClock
from bot.database import make_engine, upgrade

if TYPE_CHECKING:  # psycopg is the optional `postgresql` extra; SQLite tests run without it
    import psycopg

    from bot_offline.driver import OfflineBot

POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
# Each pytest-xdist worker ("gw0", "gw1", …; "main" without xdist) and each run has its own
# names, so parallel workers and parallel runs never share a database.
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")
RUN = f"{WORKER}_{os.getpid()}"


# No test needs its data to survive a power cut, so no commit waits for the disk: a test
# commits hundreds of times, and on a busy machine a PostgreSQL commit waited about 12 ms for
# its WAL to be flushed, an SQLite one 1.5 ms. What a test sees (atomicity, isolation, a
# process that stops and starts again finding every commit) is unchanged.
NO_FSYNC = "synchronous_commit = off"


@event.listens_for(Engine, "connect")
def _sqlite_commits_without_fsync(dbapi_connection: object, _record: object) -> None:
    """Every SQLite connection the tests (and the bots they start) open."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.execute("PRAGMA synchronous=OFF")


def _admin_engine() -> Engine:
    return create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", pool_pre_ping=True)


def _url_for(database: str) -> str:
    base, _, _ = POSTGRES_ADMIN_URL.rpartition("/")
    return f"{base}/{database}"


def _connect(database: str) -> psycopg.Connection:
    """A plain psycopg connection (COPY, explicit transactions), committing each statement."""
    import psycopg

    url = make_url(_url_for(database)).set(drivername="postgresql")
    return psycopg.connect(url.render_as_string(hide_password=False), autocommit=True)


# What tells one database's schema from another's: relations, columns (type, null, default),
# constraints, indexes, enum labels, triggers and functions outside the system schemas.
_SCHEMA_FINGERPRINT = """
SELECT md5(string_agg(item, E'\\n' ORDER BY item)) FROM (
  SELECT format('rel %s.%s %s', n.nspname, c.relname, c.relkind) AS item
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
  UNION ALL
  SELECT format('col %s.%s.%s %s %s %s', n.nspname, c.relname, a.attname,
                format_type(a.atttypid, a.atttypmod), a.attnotnull, pg_get_expr(d.adbin, d.adrelid))
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
   WHERE a.attnum > 0 AND NOT a.attisdropped
     AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
  UNION ALL
  SELECT format('con %s %s %s', k.conrelid::regclass, k.conname, pg_get_constraintdef(k.oid))
    FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace
   WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
  UNION ALL
  SELECT 'idx ' || pg_get_indexdef(i.indexrelid)
    FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
   WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
  UNION ALL
  SELECT format('enum %s %s %s', t.typname, e.enumsortorder, e.enumlabel)
    FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid
  UNION ALL
  SELECT 'trg ' || pg_get_triggerdef(g.oid) FROM pg_trigger g WHERE NOT g.tgisinternal
  UNION ALL
  SELECT format('fn %s.%s %s', n.nspname, f.proname, md5(f.prosrc))
    FROM pg_proc f JOIN pg_namespace n ON n.oid = f.pronamespace
   WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
) items
"""


def _without_foreign_key_checks(cursor: psycopg.Cursor) -> None:
    """No foreign key checked for the rest of the transaction (a superuser's
    `session_replication_role = replica`), when the rows written are known to be whole."""
    row = cursor.execute("SELECT current_setting('is_superuser')").fetchone()
    if row is not None and row[0] == "on":
        cursor.execute("SET LOCAL session_replication_role = replica")


class _FreshState:
    """What a fresh copy of the template holds, so a used database can be put back to it:
    its schema's fingerprint, its tables (children before the tables they refer to), the rows
    the migrations wrote (in COPY's text form) and where each sequence stands."""

    def __init__(self, raw: psycopg.Connection) -> None:
        self.schema = raw.execute(_SCHEMA_FINGERPRINT).fetchone()[0]
        tables = [
            (oid, f'"{schema}"."{name}"')
            for oid, schema, name in raw.execute(
                "SELECT c.oid, n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition"
                " AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'"
            )
        ]
        refers_to: dict[int, set[int]] = {oid: set() for oid, _ in tables}
        for child, parent in raw.execute(
            "SELECT conrelid, confrelid FROM pg_constraint WHERE contype = 'f' AND conrelid <> confrelid"
        ):
            if child in refers_to:
                refers_to[child].add(parent)
        names = dict(tables)
        ordered: list[str] = []  # parents first, reversed below
        placed: set[int] = set()
        # Tables whose foreign keys make a cycle cannot be emptied one after another: then
        # every test gets a new copy, as before.
        self.reusable = True

        def place(oid: int, path: frozenset[int]) -> None:
            if oid in placed or oid not in names:
                return
            if oid in path:
                self.reusable = False
                return
            for parent in refers_to[oid]:
                place(parent, path | {oid})
            placed.add(oid)
            ordered.append(names[oid])

        for oid, _ in tables:
            place(oid, frozenset())
        self.tables = tuple(reversed(ordered))
        self.rows: dict[str, bytes] = {}
        for table in self.tables:
            if raw.execute(f"SELECT EXISTS (SELECT FROM {table})").fetchone()[0]:
                with raw.cursor().copy(f"COPY {table} TO STDOUT") as copy:
                    self.rows[table] = b"".join(bytes(block) for block in copy)
        self.sequences = [
            (sequence, *raw.execute(f"SELECT last_value, is_called FROM {sequence}").fetchone())
            for (sequence,) in raw.execute(
                "SELECT format('%I.%I', schemaname, sequencename) FROM pg_sequences"
                " WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
            )
        ]

    def restore(self, raw: psycopg.Connection) -> bool:
        """Empty a used copy back to this state in one transaction; False (nothing changed)
        when its schema is no longer the template's (a test migrated it)."""
        if not self.reusable or raw.execute(_SCHEMA_FINGERPRINT).fetchone()[0] != self.schema:
            return False
        with raw.transaction():
            _without_foreign_key_checks(raw.cursor())  # the template's rows are consistent
            for table in self.tables:
                raw.execute(f"DELETE FROM {table}")
            for table, rows in self.rows.items():
                with raw.cursor().copy(f"COPY {table} FROM STDIN") as copy:
                    copy.write(rows)
            for sequence, last_value, is_called in self.sequences:
                raw.execute("SELECT setval(%s, %s, %s)", (sequence, last_value, is_called))
        return True


class PostgresDatabases:
    """This worker's PostgreSQL databases: one migrated template, copies of it, and for each
    test a database holding exactly what a fresh copy holds.

    `CREATE DATABASE … TEMPLATE` writes the whole database again, and `DROP DATABASE` forces
    a checkpoint of the whole server: on a busy machine each took seconds, the drops queued
    behind the tests and a worker waited up to a minute at the end for them. So a test's
    database is not dropped: once the test is over it is emptied back to the template's
    state (rows deleted, the migrations' rows put back, sequences set back: tens of
    milliseconds, in a background thread while the next test runs) and handed to a later
    test; two databases take turns. One whose schema a test changed is dropped and replaced
    by a new copy."""

    def __init__(self) -> None:
        self.template = f"bot_test_template_{RUN}"
        self._admin = _admin_engine()
        self._names = (f"bot_test_{RUN}_{number}" for number in itertools.count(1))
        self._made: list[str] = []
        self._spare: list[str] = []
        # One thread, so a database given back is emptied before the next one is wanted.
        self._preparing = ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-databases")
        with self._admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {self.template} WITH (FORCE)"))
            connection.execute(text(f"CREATE DATABASE {self.template}"))
            connection.execute(text(f"ALTER DATABASE {self.template} SET {NO_FSYNC}"))
        template_engine = make_engine(_url_for(self.template))
        upgrade(template_engine)
        template_engine.dispose()
        with _connect(self.template) as connection:
            self._fresh = _FreshState(connection)
        self.failures: list[str] = []
        self._next: Future[str] = self._preparing.submit(self._ready)

    def _ready(self) -> str:
        """A database with a fresh copy's content: one given back, or a new copy."""
        if self._spare:
            return self._spare.pop()
        name = next(self._names)
        with self._admin.connect() as connection:
            # The default strategy (WAL_LOG) copies without forcing a checkpoint, which on a
            # server busy with other work can take minutes.
            connection.execute(text(f"CREATE DATABASE {name} TEMPLATE {self.template}"))
            # A database's settings are not copied from its template.
            connection.execute(text(f"ALTER DATABASE {name} SET {NO_FSYNC}"))
        self._made.append(name)
        return name

    def _empty(self, name: str) -> None:
        with self._admin.connect() as connection:  # what the test left connected goes
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
        try:
            with _connect(name) as connection:
                emptied = self._fresh.restore(connection)
        except Exception as error:  # replaced by a new copy, and said at the end
            self.failures.append(f"{name}: {type(error).__name__}: {error}")
            emptied = False
        if emptied:
            self._spare.append(name)
        else:
            self._drop(name)

    def _drop(self, name: str) -> None:
        with self._admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        self._made.remove(name)

    def take(self) -> str:
        """A database holding exactly what a fresh copy holds; the next starts being readied."""
        name = self._next.result()
        self._next = self._preparing.submit(self._ready)
        return name

    def give_back(self, name: str) -> None:
        self._preparing.submit(self._empty, name)

    def close(self) -> None:
        """Drop every copy and the template once the work queued is done."""
        try:
            self._next.result()
        finally:
            self._preparing.shutdown(wait=True)
            for name in [*self._made, self.template]:
                with self._admin.connect() as connection:
                    connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
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
    while databases.failures:  # still correct (a new copy), but slower: say why
        warnings.warn(f"a test database could not be emptied: {databases.failures.pop()}", stacklevel=1)
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


@pytest.fixture
def quiet_bot(database_url: str, clock: SettableClock, tmp_path: Path) -> Iterator[OfflineBot]:
    """The app with no delivery of its own (no scheduler interval delivering the outbox), so
    only the work a test counts reaches the database: the statement budgets' bot."""
    from bot_offline.driver import OfflineBot

    with OfflineBot(
        database_url=database_url, clock=clock, work_dir=tmp_path, delivery_interval_seconds=None
    ) as running:
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
