"""What the statement budgets need: counting statements by thread, growing the data, and
naming every entry point the bot has (listeners, jobs, commands, pages).

The names come from what is built, not from a list kept by hand: Bolt's registered
listeners (read from their matchers, as `tests/test_access.py` does) and the guard's
rules (one per command and subcommand), the scheduler's sweeps, the command line's
subcommands and the partner site's URL rules. A test compares them with the budget table,
so a new entry point without a budget fails the suite.
"""

from __future__ import annotations

import argparse
import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

from bot.periodic.models import PeriodicJob
from bot_offline.driver import OfflineBot
from tests.benchmarks.generate import generate


@dataclass
class Statements:
    """The statements one request or job sent, by where they ran: before and with the
    acknowledgement (the HTTP threads and the listener), after it (the follow-up pool),
    and a job's own thread."""

    acknowledgement: list[str] = field(default_factory=list)
    after: list[str] = field(default_factory=list)
    job: list[str] = field(default_factory=list)

    def counts(self) -> tuple[int, int, int]:
        return len(self.acknowledgement), len(self.after), len(self.job)

    def total(self) -> int:
        return sum(self.counts())


def _where(thread: str) -> str | None:
    if thread.startswith(("waitress", "bot-listener")):
        return "acknowledgement"
    if thread.startswith("bot-followup"):
        return "after"
    if thread == "MainThread" or thread.startswith("courier"):
        return "job"  # a job, and delivery's couriers working for it
    return None  # the scheduler's own threads (asking for a turn): not the request's


@contextmanager
def counting(engine: Engine) -> Iterator[Statements]:
    """Every statement sent on the engine's connections while the block runs, by thread."""
    seen = Statements()

    def count(_connection, _cursor, statement, _parameters, _context, _executemany) -> None:
        where = _where(threading.current_thread().name)
        if where is not None:
            getattr(seen, where).append(statement.split("\n")[0][:120])

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def grow(bot: OfflineBot, discussions: int) -> None:
    """The benchmarks' generator at a small size, over a few weeks, so that at both sizes
    there are open discussions, overdue actions and updates owed (a list that is empty
    skips its look-ups, which is not growth)."""
    generate(
        bot.runtime.engine,
        bot.runtime.partnership,
        now=bot.clock.now(),
        calendar=bot.runtime.calendar,
        discussions=discussions,
        audit_entries=discussions * 20,
        years=0.1,
    )


# ------------------------------------------------------- the grown data, generated once


# The scheduler's turns belong to the process running (its start wrote them, from the real
# time): they stay as they are when a database's contents are replaced.
LEFT_AS_IT_IS = PeriodicJob.__tablename__


@dataclass
class Contents:
    """Every table's rows at one moment, to put into another database of the same schema in
    one transaction: the partnership `grow` made, without generating it again (generating is
    most of a budget test's time). PostgreSQL: each table's rows in `COPY`'s text form and
    where each sequence stood; SQLite: a copy of the file."""

    tables: tuple[str, ...]  # each after the tables it refers to
    rows: dict[str, bytes] = field(default_factory=dict)
    sequences: list[tuple[str, int, bool]] = field(default_factory=list)
    file: Path | None = None

    @classmethod
    def of(cls, engine: Engine, keep_in: Path) -> Contents:
        if engine.dialect.name == "sqlite":
            keep_in.mkdir(parents=True, exist_ok=True)
            file = keep_in / f"contents-{len(list(keep_in.iterdir()))}.sqlite3"
            with closing(sqlite3.connect(str(engine.url.database))) as source:
                with closing(sqlite3.connect(file)) as copy:
                    source.backup(copy)
                names = [
                    name
                    for (name,) in source.execute(
                        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%'"
                    )
                    if name != LEFT_AS_IT_IS
                ]
            return cls(tables=tuple(names), file=file)
        with engine.connect() as connection:
            raw = connection.connection.driver_connection
            assert raw is not None
            contents = cls(tables=_parents_first(raw))
            for table in contents.tables:
                with raw.cursor().copy(f"COPY {table} TO STDOUT") as copy:
                    contents.rows[table] = b"".join(bytes(block) for block in copy)
            contents.sequences = [
                (sequence, *raw.execute(f"SELECT last_value, is_called FROM {sequence}").fetchone())
                for (sequence,) in raw.execute(
                    "SELECT format('%I.%I', schemaname, sequencename) FROM pg_sequences"
                    " WHERE schemaname = current_schema()"
                )
            ]
            connection.rollback()
        return contents

    def put_into(self, engine: Engine) -> None:
        """Replace every table's rows (but the scheduler's turns) with these, in one
        transaction; the running bot's next statements see them."""
        if self.file is not None:
            self._put_into_sqlite(Path(str(engine.url.database)))
            return
        with engine.begin() as connection:
            raw = connection.connection.driver_connection
            assert raw is not None
            cursor = raw.cursor()
            _without_foreign_key_checks(cursor)
            for table in reversed(self.tables):  # those referring to a table go first
                cursor.execute(f"DELETE FROM {table}")
            for table in self.tables:
                with cursor.copy(f"COPY {table} FROM STDIN") as copy:
                    copy.write(self.rows[table])
            for sequence, last_value, is_called in self.sequences:
                cursor.execute("SELECT setval(%s, %s, %s)", (sequence, last_value, is_called))

    def _put_into_sqlite(self, path: Path) -> None:
        with closing(sqlite3.connect(path, timeout=30, isolation_level=None)) as connection:
            connection.execute("PRAGMA foreign_keys = OFF")  # the rows are whole; any order
            connection.execute("ATTACH DATABASE ? AS grown", (str(self.file),))
            connection.execute("BEGIN IMMEDIATE")
            for table in self.tables:
                columns = ", ".join(
                    f'"{c[1]}"' for c in connection.execute(f'PRAGMA main.table_info("{table}")')
                )
                connection.execute(f'DELETE FROM main."{table}"')
                connection.execute(
                    f'INSERT INTO main."{table}" ({columns}) SELECT {columns} FROM grown."{table}"'
                )
            connection.execute("COMMIT")
            connection.execute("DETACH DATABASE grown")


def _without_foreign_key_checks(cursor: Any) -> None:
    """For the rest of this transaction, PostgreSQL checks no foreign key (a superuser's
    `session_replication_role = replica`): the rows are a whole database's, consistent as
    they were copied, and checking each one again took most of the load (for 40 tables, 1.5
    to 3 s of a budget test's 5 to 8 on a busy machine). Without the right, they are checked."""
    if cursor.execute("SELECT current_setting('is_superuser')").fetchone()[0] == "on":
        cursor.execute("SET LOCAL session_replication_role = replica")


def _parents_first(raw: Any) -> tuple[str, ...]:
    """The current schema's tables (but the scheduler's turns), each after those it refers to."""
    tables = {
        oid: f'"{name}"'
        for oid, name in raw.execute(
            "SELECT c.oid, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND n.nspname = current_schema()"
            " AND c.relname <> %s",
            (LEFT_AS_IT_IS,),
        )
    }
    refers_to: dict[int, set[int]] = {oid: set() for oid in tables}
    for child, parent in raw.execute(
        "SELECT conrelid, confrelid FROM pg_constraint WHERE contype = 'f' AND conrelid <> confrelid"
    ):
        if child in tables and parent in tables:
            refers_to[child].add(parent)
    return tuple(tables[oid] for oid in TopologicalSorter(refers_to).static_order())


class GrownData:
    """What `grow` made at a small and a large size, per engine and moment, for one worker:
    generated by the first test that asks, on its own database, then put into each later
    test's database instead of being generated again."""

    def __init__(self, keep_in: Path) -> None:
        self.keep_in = keep_in
        self._made: dict[tuple[str, datetime], tuple[Contents, Contents]] = {}

    def at(self, bot: OfflineBot, small: int, large: int) -> tuple[Contents, Contents]:
        """The contents after `grow(small)` and after growing on to `large`, for a bot that
        has only synced its partnership (whose database is left holding the large)."""
        key = (bot.runtime.engine.dialect.name, bot.clock.now())
        if key not in self._made:
            grow(bot, small)
            at_small = Contents.of(bot.runtime.engine, self.keep_in)
            grow(bot, large - small)
            self._made[key] = (at_small, Contents.of(bot.runtime.engine, self.keep_in))
        return self._made[key]


# ------------------------------------------------------------------ every entry point, named


def _constraints(app: Any) -> list[tuple[str, str]]:
    """(kind, name or pattern) of each listener Bolt registered, from its built-in matchers."""
    found: list[tuple[str, str]] = []
    for listener in app._listeners:
        for matcher in listener.matchers:
            function = getattr(matcher, "func", None)
            if function is None or function.__closure__ is None:
                continue
            kind = function.__qualname__.split(".")[0]
            for cell in function.__closure__:
                value = cell.cell_contents
                if isinstance(value, dict):
                    value = value.get("action_id") or value.get("callback_id") or value.get("type")
                if isinstance(value, re.Pattern):
                    found.append((kind, value.pattern))
                elif isinstance(value, str):
                    found.append((kind, value))
    return found


def listener_names(app: Any, rules: Any) -> set[str]:
    """Every listener: a command by each subcommand the guard has a rule for; buttons,
    forms and events by their id (a numbered family by its pattern)."""
    names: set[str] = set()
    for kind, constraint in _constraints(app):
        if kind == "command":
            continue  # by subcommand, below
        prefix = {"action": "button", "view_submission": "form", "event": "event"}.get(kind, kind)
        names.add(f"{prefix} {constraint}")
    for key in rules.exact:
        kind, name = key
        if kind.value == "command":
            names.add(f"command {name}")
    return names


def job_names() -> set[str]:
    """The scheduler's periodic work: each sweep, retention and delivery's two passes."""
    from bot.scheduler import sweeps

    return {f"job {sweep.__name__}" for sweep in sweeps()} | {
        "job run_retention",
        "job deliver_now",
        "job reclaim_dead_leases",
    }


def cli_names() -> set[str]:
    """`python -m bot` subcommands that read the records (the others set up or serve)."""
    from bot.cli import build_parser

    names: set[str] = set()

    def walk(parser: argparse.ArgumentParser, prefix: str) -> None:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    nested = any(isinstance(a, argparse._SubParsersAction) for a in sub._actions)
                    if nested:
                        walk(sub, f"{prefix}{name} ")
                    names.add(f"cli {prefix}{name}")

    walk(build_parser(), "")
    return names


def page_names(site: Any) -> set[str]:
    """The partner pages and the desk, by URL rule."""
    return {f"page {rule.rule}" for rule in site.url_map.iter_rules()}
