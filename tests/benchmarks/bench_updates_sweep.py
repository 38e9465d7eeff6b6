"""The agency updates sweep at a partnership's size: whole passes of `sweep_agency_updates`,
timed with their statements, optionally against another implementation of it, alternately.

The database is one the generator filled (`python -m tests.benchmarks.generate`, scale 1:
about 150 open discussions ahead with 1,240 invitations on 10 November 2026). The clock is
set to that afternoon, 15:30, in working time, when the next day's discussions (about 110
invitations) are past their reminder point. Three phases, each
pass through a runtime built as the bot builds it (`build_runtime`; nothing delivered):

1. as generated: no one the invitations went to is in the database, so nothing is queued;
2. the invitations given the Slack people of their agency (up to two each, as the
   invitation's fan-out would) and the updates of the discussions ahead removed (nothing
   submitted yet), then the first pass, which queues every reminder due (its
   reminders and chases are deleted before each timed pass, so each pass does the same
   work); the reminders each implementation wrote are compared, key, text and chase;
3. every reminder already sent: the pass every sweep interval makes all day long.

    python -m tests.benchmarks.bench_updates_sweep --database-url postgresql://…/db
    python -m tests.benchmarks.bench_updates_sweep --database-url … --compare old_jobs.py
    python -m tests.benchmarks.bench_updates_sweep --database-url … --at 2026-11-10T10:00:00+00:00
    python -m tests.benchmarks.bench_updates_sweep --database-url … --all-past-point

The database is changed (phase 2's messages, the reminders): use a scratch copy.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, event, text
from sqlmodel import Session, col, select

from bot.actions.models import Chase
from bot.agency_updates.jobs import sweep_agency_updates
from bot.clock import SettableClock
from bot.composition import build_runtime
from bot.delivery.models import OutboxMessage
from bot.runtime import Runtime
from bot.settings import load_settings
from tests.benchmarks.support import quiet_logs

# That afternoon, in working time: the next day's discussions have passed their reminder
# point (two working hours before their deadline; invitations went a day ahead).
NOW = datetime(2026, 11, 10, 15, 30, tzinfo=UTC)
# With --all-past-point: every discussion ahead moved to Thursday 14:00, invited ten days
# before, and the clock at 13:30 that day: every invitation is past a point (as in test_scale).
ALL_PAST_POINT = datetime(2026, 11, 12, 13, 30, tzinfo=UTC)
MOVE_AHEAD = [
    """UPDATE invitation SET created_at = '2026-11-02 10:00+00' WHERE meeting_id IN (SELECT id FROM meeting
       WHERE state IN ('convening', 'scheduled') AND scheduled_start > '2026-11-10 10:00+00')""",
    """UPDATE meeting SET scheduled_start = '2026-11-12 14:00+00'
       WHERE state IN ('convening', 'scheduled') AND scheduled_start > '2026-11-10 10:00+00'""",
]
Sweep = Callable[[Runtime], int]

GIVE_MESSAGES = """
INSERT INTO invitationmessage (invitation_id, person_id, created_at)
SELECT i.id, p.id, i.created_at
FROM invitation i
JOIN meeting m ON m.id = i.meeting_id
JOIN LATERAL (
    SELECT id FROM person WHERE agency_id = i.agency_id AND slack_user_id IS NOT NULL ORDER BY id LIMIT 2
) p ON true
WHERE m.state IN ('convening', 'scheduled') AND m.scheduled_start > :now
ON CONFLICT DO NOTHING
"""
# Nothing submitted yet for the discussions ahead (the generator has every agency but one
# submit 18 hours before the start): every invitation owes its update.
NOT_YET_WRITTEN = [
    """DELETE FROM agencyupdateversion WHERE update_id IN (SELECT u.id FROM agencyupdate u
       JOIN meeting m ON m.id = u.meeting_id WHERE m.state IN ('convening', 'scheduled') AND m.scheduled_start > :now)""",
    """DELETE FROM agencyupdate WHERE meeting_id IN (SELECT id FROM meeting
       WHERE state IN ('convening', 'scheduled') AND scheduled_start > :now)""",
]


def _load(path: Path) -> Sweep:
    spec = importlib.util.spec_from_file_location("compared_sweep", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sweep: Sweep = module.sweep_agency_updates
    return sweep


def _pass(runtime: Runtime, sweep: Sweep) -> tuple[float, int, int]:
    """One pass: seconds, reminders queued, statements sent."""
    statements: list[str] = []

    def count(*_args: Any) -> None:
        statements.append("")

    event.listen(runtime.engine, "before_cursor_execute", count)
    try:
        started = time.perf_counter()
        queued = sweep(runtime)
        elapsed = time.perf_counter() - started
    finally:
        event.remove(runtime.engine, "before_cursor_execute", count)
    return elapsed, queued, len(statements)


def _forget_reminders(runtime: Runtime) -> None:
    with Session(runtime.engine) as session:
        session.exec(delete(OutboxMessage).where(col(OutboxMessage.key).startswith("update-reminder:")))  # type: ignore[call-overload]
        session.exec(delete(Chase).where(col(Chase.step).startswith("update_")))  # type: ignore[call-overload]
        session.commit()


def _written(runtime: Runtime) -> tuple[set[tuple[str, str]], set[tuple[int | None, str, int | None]]]:
    with Session(runtime.engine) as session:
        outbox = {
            (m.key, str(m.arguments))
            for m in session.exec(
                select(OutboxMessage).where(col(OutboxMessage.key).startswith("update-reminder:"))
            )
        }
        chases = {
            (c.invitation_id, c.step, c.to_person_id)
            for c in session.exec(select(Chase).where(col(Chase.step).startswith("update_")))
        }
    return outbox, chases


def _phase(
    name: str, runtime: Runtime, sweeps: dict[str, Sweep], rounds: int, before: Callable[[], None] | None
) -> dict[str, list[tuple[float, int, int]]]:
    results: dict[str, list[tuple[float, int, int]]] = {label: [] for label in sweeps}
    labels = list(sweeps)
    for number in range(rounds):
        for label in labels if number % 2 == 0 else reversed(labels):
            if before is not None:
                before()
            results[label].append(_pass(runtime, sweeps[label]))
    for label, passes in results.items():
        times = [t for t, _, _ in passes]
        print(
            f"{name:<26} {label:<9} median {statistics.median(times) * 1000:7.1f} ms"
            f" (min {min(times) * 1000:.1f}, max {max(times) * 1000:.1f}, {len(times)} passes),"
            f" queued {sorted({q for _, q, _ in passes})}, statements {sorted({s for _, _, s in passes})}"
            f"  load {os.getloadavg()[0]:.2f}"
        )
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument(
        "--compare", type=Path, help="a file with another sweep_agency_updates, run alternately"
    )
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--all-past-point", action="store_true", help="every invitation ahead past its point")
    parser.add_argument("--at", type=datetime.fromisoformat, help=f"the clock (default {NOW.isoformat()})")
    args = parser.parse_args(argv)
    quiet_logs()
    now = ALL_PAST_POINT if args.all_past_point else (args.at or NOW)
    settings = load_settings().model_copy(update={"database_url": args.database_url})
    runtime = build_runtime(settings, clock=SettableClock(now))
    if args.all_past_point:
        with Session(runtime.engine) as session:
            for statement in MOVE_AHEAD:
                session.execute(text(statement))
            session.commit()
    sweeps: dict[str, Sweep] = {"new": sweep_agency_updates}
    if args.compare:
        sweeps = {"old": _load(args.compare), **sweeps}
    print(f"load average at start: {os.getloadavg()}")
    _forget_reminders(runtime)
    with Session(runtime.engine) as session:
        session.execute(text("DELETE FROM invitationmessage"))
        session.commit()
    _phase("1 no one to remind", runtime, sweeps, args.rounds, None)
    with Session(runtime.engine) as session:
        added = session.execute(text(GIVE_MESSAGES), {"now": now}).rowcount
        removed = [session.execute(text(statement), {"now": now}).rowcount for statement in NOT_YET_WRITTEN]
        session.commit()
    print(f"invitation messages added: {added}; updates of the discussions ahead removed: {removed}")
    written: dict[str, Any] = {}
    for label, sweep in sweeps.items():
        _forget_reminders(runtime)
        sweep(runtime)
        written[label] = _written(runtime)
    if len(written) > 1:
        old, new = written["old"], written["new"]
        print(
            f"same reminders written: outbox {old[0] == new[0]} ({len(new[0])}), chases {old[1] == new[1]} ({len(new[1])})"
        )
    _phase("2 first pass, all queued", runtime, sweeps, args.rounds, lambda: _forget_reminders(runtime))
    _phase("3 all already reminded", runtime, sweeps, args.rounds, None)
    print(f"load average at end: {os.getloadavg()}")
    runtime.engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
