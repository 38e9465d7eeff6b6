"""Every entry point at a partnership's real size: each listener, page and job of the
statement budgets' table (`tests/test_budgets.py`), timed on the full database against a
small one in the same run.

The budgets' table already knows, for each entry point, how to choose a record and send
the request a person would (a command, a button, a form's submission, a page, a job), and
what the answer must show. Here each is sent `repeat` times to each app in turn (the order
alternating, so a shared machine's load falls on both alike), each time on a record chosen
afresh: the time to the acknowledgement (the HTTP answer: for a page or a job, the whole of
it) and to when the app is idle again (what the person then sees has been written: the
reply, the form, the messages queued). A request whose answer does not show what the table
expects is reported as failed, not timed.

The baseline is a small generated database (20 discussions over a few weeks), not an empty
one: a form or a button acts on a record, and an empty database has none to act on.
"""

from __future__ import annotations

import json
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import event
from sqlalchemy.engine import Engine

from bot_offline.driver import OfflineBot

# Kinds with an acknowledgement Slack waits for; pages and jobs are timed whole.
SLACK_KINDS = ("command", "button", "form", "event", "shortcut", "options")


@dataclass
class Timing:
    """One entry point's samples on one database, in seconds."""

    acks: list[float] = field(default_factory=list)
    seen: list[float] = field(default_factory=list)
    failed: str = ""
    slowest: tuple[float, str] = (0.0, "")  # the slowest statement any sample sent: seconds, text


@contextmanager
def slowest_statement(engine: Engine) -> Iterator[list[tuple[float, str]]]:
    """The slowest statement sent on the engine while the block runs (a look-up that grows
    with the data sends the same number of statements, so only its time shows it)."""
    found: list[tuple[float, str]] = [(0.0, "")]
    started: dict[int, float] = {}
    lock = threading.Lock()

    def before(_conn, cursor, _statement, _parameters, _context, _many) -> None:  # type: ignore[no-untyped-def]
        started[id(cursor)] = time.perf_counter()

    def after(_conn, cursor, statement, _parameters, _context, _many) -> None:  # type: ignore[no-untyped-def]
        taken = time.perf_counter() - started.pop(id(cursor), time.perf_counter())
        with lock:
            if taken > found[0][0]:
                found[0] = (taken, " ".join(statement.split())[:160])

    event.listen(engine, "before_cursor_execute", before)
    event.listen(engine, "after_cursor_execute", after)
    try:
        yield found
    finally:
        event.remove(engine, "before_cursor_execute", before)
        event.remove(engine, "after_cursor_execute", after)


def _answer_text(bot: OfflineBot, answer: object, before: int) -> str:
    body = getattr(answer, "body", None)
    text = body if isinstance(body, str) else str(answer)
    after = bot.local_slack.calls[before:]
    return text + "\n" + "\n".join(f"{c.method} {json.dumps(c.args, default=str)}" for c in after)


def _once(
    bot: OfflineBot, prepare: Callable[[OfflineBot], Callable[[], object]], shows: str, timing: Timing
) -> tuple[float, float]:
    request = prepare(bot)
    bot.wait_idle(timeout=600)
    before = len(bot.local_slack.calls)
    with slowest_statement(bot.runtime.engine) as slowest:
        started = time.perf_counter()
        answer = request()
        acknowledged = time.perf_counter() - started
        bot.wait_idle(timeout=600)
        idle = time.perf_counter() - started
    if shows and shows not in _answer_text(bot, answer, before):
        raise AssertionError(f"the answer did not show {shows!r}")
    timing.slowest = max(timing.slowest, slowest[0])
    return acknowledged, idle


def time_every_entry_point(
    bots: dict[str, OfflineBot], repeat: int, *, skip: Callable[[str], bool] = lambda _name: False
) -> dict[str, dict[str, Timing]]:
    """{entry point: {database label: Timing}} for every budgeted entry point."""
    from tests.test_budgets import BUDGETS  # the table lives with the statement budgets

    figures: dict[str, dict[str, Timing]] = {}
    for name in sorted(BUDGETS):
        if skip(name):
            continue
        budget = BUDGETS[name]
        timings = {label: Timing() for label in bots}
        figures[name] = timings
        for number in range(repeat + 1):  # the first is a warm-up, not kept
            order = list(bots) if number % 2 == 0 else list(reversed(bots))
            for label in order:
                timing = timings[label]
                if timing.failed:
                    continue
                try:
                    ack, seen = _once(bots[label], budget.prepare, budget.shows, timing)
                except Exception as error:  # reported in the table, never hidden
                    timing.failed = (
                        f"{type(error).__name__}: {str(error).splitlines()[0][:80] if str(error) else ''}"
                    )
                    continue
                if number:
                    timing.acks.append(ack)
                    timing.seen.append(seen)
    return figures


def judged(
    figures: dict[str, dict[str, Timing]],
    *,
    baseline: str,
    full: str,
    ack_limit: float,
    ack_ratio: float,
    seen_limit: float,
) -> tuple[list[list[str]], list[str]]:
    """Rows for the table and the misses: for the Slack kinds, the acknowledgement within
    `ack_limit` and `ack_ratio` × the baseline's (each at its maximum, the p99 of a few
    samples), and what is seen within `seen_limit`; pages and jobs are reported whole."""
    rows: list[list[str]] = []
    misses: list[str] = []

    def ms(values: list[float]) -> str:
        return f"{statistics.median(values) * 1000:.0f} / {max(values) * 1000:.0f}"

    for name, timings in figures.items():
        small, large = timings[baseline], timings[full]
        if small.failed or large.failed:
            said = "; ".join(f"{label}: {t.failed}" for label, t in timings.items() if t.failed)
            rows.append([name, "", "", "", "", "", f"**failed** ({said})", ""])
            misses.append(f"{name}: {said}")
            continue
        slack = name.split(" ", 1)[0] in SLACK_KINDS
        ratio = max(large.acks) / max(small.acks)
        verdicts: list[str] = []
        if slack:
            if max(large.acks) > ack_limit:
                verdicts.append(f"ack {max(large.acks):.2f} s")
            if ratio > ack_ratio:
                verdicts.append(f"ratio {ratio:.2f}×")
            if max(large.seen) > seen_limit:
                verdicts.append(f"seen {max(large.seen):.2f} s")
        for said in verdicts:
            misses.append(f"{name}: {said}")
        rows.append(
            [
                name,
                ms(small.acks),
                ms(large.acks),
                f"{ratio:.2f}×",
                ms(small.seen),
                ms(large.seen),
                ("**missed** (" + ", ".join(verdicts) + ")")
                if verdicts
                else ("met" if slack else "(timed whole)"),
                f"{large.slowest[0] * 1000:.0f} ms: {large.slowest[1][:90]}",
            ]
        )
    return rows, misses


HEADERS = [
    "entry point",
    "ack ms, small (median / max)",
    "ack ms, full",
    "ack ratio (max)",
    "idle ms, small",
    "idle ms, full",
    "target",
    "slowest statement, full",
]
