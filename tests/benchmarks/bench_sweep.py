"""The chasing sweep at national scale: finding the actions whose next chase is due.

England opens about 230,000 section 47 enquiries a year; the PostgreSQL database holds
500,000 actions, the SQLite one 50,000. Of them 20% are done and 2% cancelled (no next
chase), and of the rest enough are due now (`next_chase_at <= now`) to make 2% of all
rows; every other open or escalated action has its next chase in the next 60 days.

What is timed is the query `claim_due_action_chases` (bot/actions/chasing.py) issues to
find what is due, with its limit of 500, run through the ORM exactly as the sweep runs it
(so the Python side includes building the 500 `Action` objects). The benchmark first
captures the SQL the sweep itself sends, and refuses to run if its own statement differs.
It shows the plan (`EXPLAIN ANALYZE` / `EXPLAIN QUERY PLAN`) and requires
`ix_action_due_sweep` in it. Baseline, in the same run and the same session: the same
query without the index (PostgreSQL: `enable_indexscan` and `enable_bitmapscan` off, so a
sequential scan; SQLite: `FROM action NOT INDEXED`). Median of several runs after a
warm-up; peak memory of the Python side by tracemalloc.

Targets (PostgreSQL and SQLite): at most 250 ms and 200 MB peak, with the index in use.

    python -m tests.benchmarks.bench_sweep            # about 20 seconds on 2 cores
    python -m tests.benchmarks.bench_sweep --pg-actions 100000 --runs 5   # a quick look

It creates a scratch PostgreSQL database (dropped at the end, also on failure); the server
is `BENCH_PG_URL` (default postgresql://postgres@127.0.0.1:5432/test, used only to create
and drop the scratch database).
"""

from __future__ import annotations

import argparse
import gc
import random
import signal
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from psycopg import sql
from sqlalchemy import event, func, insert, text
from sqlalchemy.engine import Engine
from sqlalchemy.sql import Select
from sqlmodel import Session, select

from bot.actions.chasing import claim_due_action_chases
from bot.actions.models import Action, ActionStatus
from bot.bootstrap import calendar_for
from bot.cases.models import Case
from bot.convening.models import Meeting
from bot.database import make_engine, upgrade
from bot.partnership.models import Agency, Person
from bot.schedules.loader import load_partnership
from tests.benchmarks.support import BENCH_PG_URL, machine, scratch_postgres, table, verdict

ROOT = Path(__file__).resolve().parents[2]
INDEX = "ix_action_due_sweep"
TARGET_MS = 250.0
TARGET_PEAK_MB = 200.0
LIMIT = 500  # claim_due_action_chases's default
DONE_SHARE, CANCELLED_SHARE, DUE_SHARE, ESCALATED_SHARE = 0.20, 0.02, 0.02, 0.03
NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
COLUMNS = [c.name for c in Action.__table__.columns if c.name != "id"]  # type: ignore[attr-defined]


class Captured(Exception):
    """Raised from inside the driver call, so the sweep stops before it touches anything."""

    def __init__(self, statement: str) -> None:
        super().__init__(statement)
        self.statement = statement


def due_query() -> Select[Any]:
    """The statement `claim_due_action_chases` issues to find what is due."""
    return (
        select(Action)
        .where(
            Action.status.in_((ActionStatus.OPEN, ActionStatus.ESCALATED)),  # type: ignore[attr-defined]
            Action.next_chase_at.is_not(None),  # type: ignore[union-attr]
            Action.next_chase_at <= NOW,  # type: ignore[operator]
        )
        .order_by(Action.next_chase_at)  # type: ignore[arg-type]
        .limit(LIMIT)
    )


def sweep_statement(engine: Engine) -> str:
    """The SQL the real sweep sends first, caught at the driver and never executed."""
    partnership = load_partnership(ROOT / "schedules")
    calendar = calendar_for(partnership, "Europe/London")

    def catch(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):  # not SQLite's BEGIN IMMEDIATE
            raise Captured(statement)

    event.listen(engine, "before_cursor_execute", catch)
    try:
        with Session(engine) as session:
            claim_due_action_chases(session, partnership=partnership, calendar=calendar, now=NOW)
    except Captured as captured:
        return captured.statement
    finally:
        event.remove(engine, "before_cursor_execute", catch)
    raise RuntimeError("the sweep sent no query")


def ours(engine: Engine, statement: Select[Any]) -> str:
    """The SQL our statement compiles to on this engine, as the driver would get it."""
    captured: list[str] = []

    def catch(conn: Any, cursor: Any, sent: str, *args: Any) -> None:
        if sent.lstrip().upper().startswith("SELECT"):
            captured.append(sent)
            raise Captured(sent)

    event.listen(engine, "before_cursor_execute", catch)
    try:
        with Session(engine) as session:
            session.exec(statement).all()
    except Captured:
        pass
    finally:
        event.remove(engine, "before_cursor_execute", catch)
    return captured[-1]


def rows(
    count: int, seed: int, agency_id: int, person_id: int, case_id: int, meeting_id: int
) -> Iterator[tuple]:
    """Actions in the shares above, in random order (so the table is not sorted by due time)."""
    generator = random.Random(seed)
    for n in range(count):
        draw = generator.random()
        assigned = date(2026, 1, 5) + timedelta(days=generator.randrange(320))
        due = assigned + timedelta(days=generator.randrange(1, 30))
        completed, next_chase, chase_step, level = None, None, 0, 0
        if draw < DONE_SHARE:
            status = ActionStatus.DONE
            completed = datetime.combine(due, datetime.min.time(), UTC) - timedelta(
                hours=generator.randrange(48)
            )
        elif draw < DONE_SHARE + CANCELLED_SHARE:
            status = ActionStatus.CANCELLED
        else:
            status = ActionStatus.ESCALATED if generator.random() < ESCALATED_SHARE else ActionStatus.OPEN
            level = 2 if status == ActionStatus.ESCALATED else 0
            chase_step = generator.randrange(4)
            if draw < DONE_SHARE + CANCELLED_SHARE + DUE_SHARE:  # due now, or overdue by up to a fortnight
                next_chase = NOW - timedelta(seconds=generator.randrange(14 * 86400))
            else:
                next_chase = NOW + timedelta(seconds=generator.randrange(1, 60 * 86400))
        values = {
            "reference": f"SD-BENCH-{seed}-{n:07d}",
            "meeting_id": meeting_id,
            "case_id": case_id,
            "concerns": f"Child {n % 997}",
            "text": "Complete the return home interview and share the outcome with the exploitation hub.",
            "owner_id": person_id,
            "agency_id": agency_id,
            "priority": "normal",
            "assigned_on": assigned,
            "due_on": due,
            "completed_at": completed,
            "status": str(status),
            "escalation_level": level,
            "chase_step": chase_step,
            "snoozed_until": None,
            "snoozes": 0,
            "last_chased_at": None,
            "next_chase_at": next_chase,
            "submission_key": None,
            "created_at": datetime.combine(assigned, datetime.min.time(), UTC),
        }
        yield tuple(values[c] for c in COLUMNS)


def parents(engine: Engine) -> tuple[int, int, int, int]:
    """One agency, person, case and meeting, for the actions' foreign keys."""
    with Session(engine, expire_on_commit=False) as session:
        agency = Agency(code="bench-csc", name="Children's Social Care", kind="social_care")
        session.add(agency)
        session.flush()
        person = Person(agency_id=agency.id or 0, name="Bench Owner")
        case = Case(reference="CS-BENCH-1", child_name="Bench Child")
        session.add_all([person, case])
        session.flush()
        meeting = Meeting(reference="SD-BENCH-1", meeting_type="strategy_discussion", case_id=case.id)
        session.add(meeting)
        session.commit()
        return agency.id or 0, person.id or 0, case.id or 0, meeting.id or 0


def measure(
    engine: Engine, statement: Any, runs: int, setup: Callable[[Session], None]
) -> tuple[list[float], int, int]:
    """Median-able times (s), rows returned, and the tracemalloc peak (bytes) of one run."""
    times: list[float] = []
    found = 0
    with Session(engine) as session:
        setup(session)
        session.exec(statement).all()  # warm-up: caches, buffers
        session.expunge_all()
        for _ in range(runs):
            gc.collect()
            started = time.perf_counter()
            found = len(session.exec(statement).all())
            times.append(time.perf_counter() - started)
            session.expunge_all()  # every run builds its objects afresh, as a new sweep does
        gc.collect()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            session.exec(statement).all()
            peak = tracemalloc.get_traced_memory()[1] - before
        finally:
            tracemalloc.stop()
        session.rollback()
    return times, found, peak


def nothing(session: Session) -> None:
    pass


def no_index_scans(session: Session) -> None:
    session.execute(text("SET LOCAL enable_indexscan = off"))
    session.execute(text("SET LOCAL enable_bitmapscan = off"))
    session.execute(text("SET LOCAL enable_indexonlyscan = off"))


def explain(engine: Engine, prefix: str, statement: Select[Any], setup: Callable[[Session], None]) -> str:
    compiled = statement.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True})
    with Session(engine) as session:
        setup(session)
        lines = session.execute(text(f"{prefix} {compiled}")).all()
        session.rollback()
    if engine.dialect.name == "sqlite":  # (id, parent, notused, detail)
        return "\n".join(str(line[-1]) for line in lines)
    return "\n".join(str(line[0]) for line in lines)


def indented(plan: str) -> str:
    return "\n".join(f"    {line}" for line in plan.splitlines())


def benchmark(
    label: str,
    engine: Engine,
    count: int,
    runs: int,
    baseline: tuple[str, Any, Callable[[Session], None]],
    explain_prefix: str,
    misses: list[str],
) -> list[list[Any]]:
    loaded_at = time.perf_counter()
    print(f"\n{label}: {count:,} actions")
    sent = sweep_statement(engine)
    if ours(engine, due_query()) != sent:
        print(f"the sweep's query has changed; update due_query() in this benchmark:\n{sent}")
        raise SystemExit(1)
    print(f"  the sweep sends: {' '.join(sent.split())}")
    load(engine, count)
    print(f"  loaded and analysed in {time.perf_counter() - loaded_at:.1f} s")
    plan = explain(engine, explain_prefix, due_query(), nothing)
    print(f"  {explain_prefix}:\n{indented(plan)}")
    if INDEX not in plan:
        misses.append(f"{label}: {INDEX} is not in the plan")
    baseline_name, baseline_statement, baseline_setup = baseline
    baseline_plan = explain(engine, explain_prefix, baseline_statement, baseline_setup)
    print(f"  baseline ({baseline_name}):\n{indented(baseline_plan)}")
    if INDEX in baseline_plan:
        misses.append(f"{label}: the baseline still uses {INDEX}")
    with Session(engine) as session:
        due = session.exec(select(func.count()).select_from(due_query().limit(None).subquery())).one()
    times, found, peak = measure(engine, due_query(), runs, nothing)
    base_times, base_found, base_peak = measure(engine, baseline_statement, runs, baseline_setup)
    if found != min(LIMIT, due) or base_found != found:
        misses.append(f"{label}: the sweep found {found} and the baseline {base_found}; {due} are due")
    median, base_median = statistics.median(times) * 1000, statistics.median(base_times) * 1000
    worst = max(times) * 1000
    met = median <= TARGET_MS and peak / 1e6 <= TARGET_PEAK_MB and INDEX in plan
    if median > TARGET_MS:
        misses.append(f"{label}: the sweep's query took {median:.1f} ms (median); target {TARGET_MS:.0f} ms")
    if peak / 1e6 > TARGET_PEAK_MB:
        misses.append(f"{label}: peak {peak / 1e6:.1f} MB; target {TARGET_PEAK_MB:.0f} MB")
    print(
        f"  {due:,} due, {found} returned: sweep {median:.1f} ms (max {worst:.1f}), peak {peak / 1e6:.2f} MB; "
        f"baseline {base_median:.1f} ms, peak {base_peak / 1e6:.2f} MB; ratio {median / base_median:.3f}x"
    )
    sys.stdout.flush()
    return [
        [
            label,
            f"{count:,}",
            f"{due:,}",
            found,
            f"{median:.1f}",
            f"{worst:.1f}",
            f"{peak / 1e6:.2f}",
            f"{base_median:.1f}",
            f"{median / base_median:.3f}x",
            "met" if met else "MISSED",
        ]
    ]


def load(engine: Engine, count: int) -> None:
    agency_id, person_id, case_id, meeting_id = parents(engine)
    generated = rows(count, 9, agency_id, person_id, case_id, meeting_id)
    if engine.dialect.name == "postgresql":
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            columns = sql.SQL(", ").join(sql.Identifier(c) for c in COLUMNS)
            with cursor.copy(sql.SQL("COPY action ({}) FROM STDIN").format(columns)) as copy:  # type: ignore[attr-defined]
                for row in generated:
                    copy.write_row(row)
            raw.commit()
            raw.cursor().execute("ANALYZE action")
            raw.commit()
        finally:
            raw.close()
        return
    batch: list[dict[str, Any]] = []
    with engine.begin() as connection:
        for row in generated:
            batch.append(dict(zip(COLUMNS, row, strict=True)))
            if len(batch) == 10_000:
                connection.execute(insert(Action), batch)
                batch = []
        if batch:
            connection.execute(insert(Action), batch)
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))


def not_indexed(engine: Engine) -> Any:
    """The sweep's query with SQLite told not to use any index on `action`: its SQL with the
    values written in, as the bind processors would send them, and `NOT INDEXED` added."""
    compiled = str(due_query().compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
    if "FROM action \n" not in compiled:
        raise RuntimeError(f"unexpected SQL: {compiled}")
    # The same columns, so the same objects are built.
    return select(Action).from_statement(
        text(compiled.replace("FROM action \n", "FROM action NOT INDEXED \n"))
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pg-actions", type=int, default=500_000)
    parser.add_argument("--sqlite-actions", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=15, help="timed queries of each kind")
    args = parser.parse_args(argv)
    # Stopped with SIGTERM, still drop the scratch database (Ctrl-C already unwinds).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    began = time.perf_counter()
    print(f"bench_sweep on {machine()}")
    misses: list[str] = []
    table_rows: list[list[Any]] = []
    server = BENCH_PG_URL
    with scratch_postgres(server, "bench_sweep") as url:
        engine = make_engine(url)
        try:
            upgrade(engine)
            with engine.connect() as connection:
                version = str(connection.exec_driver_sql("SHOW server_version").scalar()).split()[0]
            table_rows += benchmark(
                f"PostgreSQL {version}",
                engine,
                args.pg_actions,
                args.runs,
                ("sequential scan: enable_indexscan, enable_bitmapscan off", due_query(), no_index_scans),
                "EXPLAIN (ANALYZE, BUFFERS)",
                misses,
            )
        finally:
            engine.dispose()
    with tempfile.TemporaryDirectory(prefix="bench_sweep_") as directory:
        engine = make_engine(f"sqlite:///{directory}/sweep.db")
        try:
            upgrade(engine)
            with engine.connect() as connection:
                version = connection.exec_driver_sql("SELECT sqlite_version()").scalar()
            table_rows += benchmark(
                f"SQLite {version}",
                engine,
                args.sqlite_actions,
                args.runs,
                ("FROM action NOT INDEXED", not_indexed(engine), nothing),
                "EXPLAIN QUERY PLAN",
                misses,
            )
        finally:
            engine.dispose()
    headers = [
        "database",
        "actions",
        "due",
        "returned",
        "sweep ms",
        "max ms",
        "peak MB",
        "no-index ms",
        "ratio",
        "target",
    ]
    print()
    print(table(headers, table_rows))
    print(
        f"\n{args.runs} timed queries of each after a warm-up (median); limit {LIMIT}; "
        f"target: at most {TARGET_MS:.0f} ms and {TARGET_PEAK_MB:.0f} MB peak, with {INDEX} in the plan"
    )
    print(f"took {time.perf_counter() - began:.0f} s")
    return verdict("chasing sweep", misses)


if __name__ == "__main__":
    sys.exit(main())
