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
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

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
