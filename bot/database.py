"""The database is the record: engines, sessions, a UTC-safe time column and migrations."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, DateTime, bindparam, event, text
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, create_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Connections kept for reuse: enough for every thread that may hold one at once (16
# listeners, 8 follow-ups, 8 couriers, the sweeps), opened only as they are first needed.
# A connection beyond the pool is closed when given back, and opening one (PostgreSQL:
# a new server process) is the slowest thing that can happen before an acknowledgement.
POOL_SIZE = 36
POOL_OVERFLOW = 12


def among_ids(column: Any, ids: Iterable[int | None]) -> ColumnElement[bool]:
    """``column IN (...)`` for a list of row ids, the ids written into the statement as
    numbers rather than bound one placeholder each. psycopg reads every placeholder of a
    statement in Python and keeps that reading only for statements of at most 50, so an
    IN-list of 400 ids cost milliseconds on every execution. Only whole numbers are
    written (each passed through ``int``), so nothing typed can reach the SQL."""
    values = sorted({int(i) for i in ids if i is not None})
    return column.in_(bindparam("ids", values, expanding=True, literal_execute=True, unique=True))


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC and gives them back aware on every database.

    SQLite has no time zones and hands back naive values; without this a deadline read back
    from SQLite could not be compared with one from PostgreSQL.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def make_engine(url: str) -> Engine:
    """An engine for the URL; SQLite gets foreign keys, a busy timeout and its folder."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            # No ping before each checkout: a file has no server to drop the connection,
            # and the ping is a statement more before every acknowledgement.
            pool_size=POOL_SIZE,
            max_overflow=POOL_OVERFLOW,
            hide_parameters=True,  # errors and logs never carry a child's details
        )

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # SQLAlchemy's "begin" below decides
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin_immediate(connection: Connection) -> None:
            # Take the write lock at the start: a transaction that read first and wrote
            # later would otherwise fail at once ("database is locked") whenever another
            # writer committed in between. Now writers queue for the busy timeout instead.
            # Read-only work (see `read_scope`) does not queue behind writers at all.
            if connection.get_execution_options().get("read_only"):
                connection.exec_driver_sql("BEGIN")
            else:
                connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    try:
        return create_engine(
            url, pool_pre_ping=True, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW, hide_parameters=True
        )
    except ModuleNotFoundError as error:  # psycopg is the optional `postgresql` extra
        from bot.settings import POSTGRESQL_EXTRA_HINT, SettingsError

        raise SettingsError(f"DATABASE_URL: PostgreSQL needs psycopg; {POSTGRESQL_EXTRA_HINT}") from error


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One unit of work: committed when the block ends, rolled back if it raises."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


@contextmanager
def read_scope(engine: Engine) -> Iterator[Session]:
    """A session that only reads (look-ups before an acknowledgement): on SQLite it does
    not wait for the write lock, so acknowledgements never queue behind writers."""
    # Closing the session ends the read transaction and detaches what was read, still loaded.
    with Session(_reader(engine), expire_on_commit=False) as session:
        yield session


@contextmanager
def stream_scope(engine: Engine) -> Iterator[Session]:
    """A read-only session inside a transaction, for reading a whole table in batches
    (`yield_per`): PostgreSQL's server-side cursors live only in a transaction, so this is
    not `read_scope`'s autocommit. On SQLite it does not take the write lock."""
    with Session(engine.execution_options(read_only=True), expire_on_commit=False) as session:
        try:
            yield session
        finally:
            session.rollback()


def _reader(engine: Engine) -> Engine:
    """The engine as `read_scope` uses it. PostgreSQL reads in autocommit: at READ
    COMMITTED (its default, and the bot's) every statement takes its own snapshot anyway,
    so a transaction adds nothing to what a read sees, only the BEGIN and ROLLBACK round
    trips before the acknowledgement. SQLite keeps its read transaction (one snapshot)."""
    if engine.dialect.name == "postgresql":
        return engine.execution_options(read_only=True, isolation_level="AUTOCOMMIT")
    return engine.execution_options(read_only=True)


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply the Alembic migrations to the engine's database."""
    from alembic import command
    from alembic.config import Config

    config = Config(str(MIGRATIONS_DIR / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


@cache
def migration_heads() -> frozenset[str]:
    """The revisions the migrations end at (read from the scripts once per process)."""
    from alembic.script import ScriptDirectory

    return frozenset(ScriptDirectory(str(MIGRATIONS_DIR)).get_heads())


def database_revisions(engine: Engine) -> frozenset[str]:
    """The revisions the database is at (empty when it was never migrated)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return frozenset(MigrationContext.configure(connection).get_current_heads())


def migration_state(engine: Engine) -> str:
    """ "at head", "not migrated" or "behind head", for health checks and `check`."""
    current = database_revisions(engine)
    if not current:
        return "not migrated"
    return "at head" if current == migration_heads() else "behind head"


def describe_database_error(error: Exception, url: str) -> str:
    """One line for an operator: which database (password hidden) and what went wrong."""
    from sqlalchemy.engine import make_url

    try:
        where = make_url(url).render_as_string(hide_password=True)
    except Exception:
        where = "DATABASE_URL"
    cause = getattr(error, "orig", None) or error
    first_line = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
    return f"database error: {where}: {first_line}"


def database_is_reachable(engine: Engine) -> bool:
    """True when a trivial query answers; the health check uses it."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


def utcnow_column_default() -> datetime:
    """Fallback creation time for rows made outside a service (services pass the clock's)."""
    return datetime.now(UTC)
