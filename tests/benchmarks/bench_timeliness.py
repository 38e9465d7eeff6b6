"""The timeliness measures at the scale of a large partnership over five years.

30,000 strategy discussions (April 2022 to March 2027, a case, an episode and a referral
each), 150,000 invitations and as many attendance records (five agencies a discussion),
120,000 agency updates, 20,000 section 47 enquiries, 300,000 actions and 130 panel sittings
with 5,200 agenda items, loaded into a scratch PostgreSQL database (COPY) and a SQLite file.

What is timed is `bot.timeliness.measures.measure` for a month (December 2026), a quarter
(October to December 2026) and the financial year to date (1 April 2026 to 15 January 2027),
each in a fresh session: every statement it sends and the Python that turns the answers
into figures. The statements are counted too (a fixed number, however large the record).
Baseline, in the same run: a bare `SELECT count(*)` of every table the measures read (the
cost of touching each table once). Median of several runs after a warm-up.

Target (issue 18): under 2 s per period on both databases.

    python -m tests.benchmarks.bench_timeliness                     # about 3 minutes on 2 cores
    python -m tests.benchmarks.bench_timeliness --discussions 3000 --runs 3   # a quick look

The scratch PostgreSQL database is dropped at the end, also on failure; the server is
`BENCH_PG_URL` (default postgresql://postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import argparse
import itertools
import random
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from psycopg import sql
from sqlalchemy import event, insert, text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from bot.actions.models import Action
from bot.agency_updates.models import AgencyUpdate
from bot.cases.models import Case, CaseEpisode, Section47Enquiry
from bot.composition import statutory_calendar_for
from bot.convening.models import Attendance, Invitation, Meeting
from bot.database import make_engine, session_scope, upgrade
from bot.panel.models import AgendaItem, PanelCase, PanelSitting
from bot.partnership.models import Agency, Person
from bot.partnership.service import sync_partnership
from bot.schedules.loader import load_partnership
from bot.timeliness import periods
from bot.timeliness.measures import measure
from tests.benchmarks.support import BENCH_PG_URL, machine, scratch_postgres, table, verdict

ROOT = Path(__file__).resolve().parents[2]
TARGET_S = 2.0
NOW = datetime(2027, 1, 15, 10, 0, tzinfo=UTC)
FIRST_DAY = datetime(2022, 4, 1, 8, 0, tzinfo=UTC)
SPAN_DAYS = (datetime(2027, 1, 14, tzinfo=UTC) - FIRST_DAY).days
URGENCIES = ("immediate", "urgent", "standard")
TABLES = (
    Meeting,
    Attendance,
    Invitation,
    AgencyUpdate,
    Section47Enquiry,
    Action,
    AgendaItem,
    PanelSitting,
    Agency,
)


def columns(model: Any) -> list[str]:
    return [c.name for c in model.__table__.columns]


def bulk(engine: Engine, model: Any, rows: Iterable[dict[str, Any]]) -> int:
    """Write rows fast: COPY on PostgreSQL, multi-row inserts on SQLite."""
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return 0
    rows = itertools.chain([first], rows)
    names = [n for n in columns(model) if n != "id" or "id" in first]  # ids given, or the database's
    # A column the generator does not name takes the model's plain default ("" for text).
    defaults = {
        name: field.default
        for name, field in model.model_fields.items()
        if isinstance(field.default, str | int | bool) and name in names
    }
    rows = ({**defaults, **row} for row in rows)
    count = 0
    if engine.dialect.name == "postgresql":
        raw = engine.raw_connection()
        try:
            target = sql.SQL("COPY {} ({}) FROM STDIN").format(
                sql.Identifier(model.__tablename__), sql.SQL(", ").join(sql.Identifier(n) for n in names)
            )
            with raw.cursor().copy(target) as copy:  # type: ignore[attr-defined]
                for row in rows:
                    copy.write_row([_pg(row.get(n)) for n in names])
                    count += 1
            raw.commit()
        finally:
            raw.close()
        return count
    batch: list[dict[str, Any]] = []
    with engine.begin() as connection:
        for row in rows:
            batch.append({n: row.get(n) for n in names})
            count += 1
            if len(batch) == 20_000:
                connection.execute(insert(model), batch)
                batch = []
        if batch:
            connection.execute(insert(model), batch)
    return count


def _pg(value: Any) -> Any:
    if isinstance(value, dict | list):
        import json

        return json.dumps(value)
    return value


def load(engine: Engine, discussions: int) -> dict[str, int]:
    """The five years, deterministic (seeded), with ids given so rows can refer to each other."""
    partnership = load_partnership(ROOT / "schedules")
    with session_scope(engine) as session:
        sync_partnership(session, partnership, now=NOW)
    with Session(engine) as session:
        agencies = [a.id for a in session.exec(select(Agency).order_by(Agency.id))]
        people = {p.agency_id: p.id for p in session.exec(select(Person).order_by(Person.id.desc()))}  # type: ignore[union-attr]
    statutory = statutory_calendar_for(partnership, "Europe/London")
    rng = random.Random(18)
    created = NOW
    sizes: dict[str, int] = {}
    referred = [FIRST_DAY + timedelta(minutes=rng.randrange(SPAN_DAYS * 24 * 60)) for _ in range(discussions)]
    referred.sort()
    held = [r + timedelta(hours=rng.choice((2, 5, 20, 26, 50, 75, 100))) for r in referred]

    sizes["case"] = bulk(
        engine,
        Case,
        (
            {
                "id": i + 1,
                "reference": f"CS-{1000000 + i}",
                "subject_kind": "child",
                "created_at": created,
                "subject_label": "",
                "child_name": "",
                "child_address": "",
                "school": "",
                "siblings_and_others_at_risk": "",
                "right_help_right_time_level": "",
            }
            for i in range(discussions)
        ),
    )
    sizes["caseepisode"] = bulk(
        engine,
        CaseEpisode,
        (
            {
                "id": i + 1,
                "case_id": i + 1,
                "state": "open",
                "referred_at": referred[i],
                "threshold_level": "",
                "threshold_decided_at": referred[i],
                "closure_outcome": "",
                "closure_reason": "",
                "created_at": created,
            }
            for i in range(discussions)
        ),
    )
    convenor = people[agencies[0]]

    def meetings() -> Iterator[dict[str, Any]]:
        for i in range(discussions):
            urgency = URGENCIES[i % 3]
            deadline = statutory.end_of_working_day_after(referred[i], URGENCIES.index(urgency) + (i % 2))
            yield {
                "id": i + 1,
                "reference": f"SD-{referred[i].year}-{i + 1:05d}",
                "meeting_type": "strategy_discussion",
                "case_id": i + 1,
                "state": "held",
                "urgency": urgency,
                "format": "call",
                "reason": "",
                "concerns": [],
                "right_help_right_time_level": "",
                "scheduled_start": held[i],
                "duration_minutes": 60,
                "referred_at": referred[i],
                "deadline": deadline,
                "late_reason": "",
                "convenor_id": convenor,
                "calendar_sequence": 0,
                "cancelled_reason": "",
                "details": {},
                "created_at": created,
                "held_at": held[i],
                "episode_id": i + 1,
                "out_of_hours": i % 17 == 0,
                "out_of_hours_reason": "",
                "review_state": "",
                "review_chase_step": 0,
                "review_resolution": "",
            }
        for s in range(130):
            on = FIRST_DAY + timedelta(days=14 * s)
            yield {
                "id": discussions + s + 1,
                "reference": f"CEP-{on.year}-{s + 1:04d}",
                "meeting_type": "cep",
                "state": "held",
                "urgency": "",
                "format": "meeting",
                "reason": "",
                "concerns": [],
                "right_help_right_time_level": "",
                "scheduled_start": on,
                "duration_minutes": 120,
                "late_reason": "",
                "calendar_sequence": 0,
                "cancelled_reason": "",
                "details": {"panel": "cep"},
                "created_at": created,
                "held_at": on,
                "out_of_hours": False,
                "out_of_hours_reason": "",
                "review_state": "",
                "review_chase_step": 0,
                "review_resolution": "",
            }

    sizes["meeting"] = bulk(engine, Meeting, meetings())
    invited = [agencies[(i + k) % len(agencies)] for i in range(5) for k in range(1)]
    states = ("attending", "delegate", "written_update", "declined", "invited")
    statuses = {
        "attending": "present",
        "delegate": "present",
        "written_update": "written_update",
        "declined": "apologies",
        "invited": "did_not_respond",
    }
    sizes["invitation"] = bulk(
        engine,
        Invitation,
        (
            {
                "meeting_id": i + 1,
                "agency_id": agencies[k],
                "required": True,
                "why": "required",
                "state": states[(i + k) % 5],
                "decline_reason": "",
                "chase_step": 0,
                "created_at": created,
            }
            for i in range(discussions)
            for k in range(5)
        ),
    )
    sizes["attendance"] = bulk(
        engine,
        Attendance,
        (
            {
                "meeting_id": i + 1,
                "agency_id": agencies[k],
                "name": "",
                "role": "",
                "status": statuses[states[(i + k) % 5]],
                "recorded_at": held[i],
            }
            for i in range(discussions)
            for k in range(5)
        ),
    )
    sizes["agencyupdate"] = bulk(
        engine,
        AgencyUpdate,
        (
            {
                "meeting_id": i + 1,
                "agency_id": agencies[k],
                "agenda_item_id": 0,
                "state": "submitted" if (i + k) % 7 else "draft",
                "current_version": 1,
                "late": (i + k) % 5 == 0,
                "amended": False,
            }
            for i in range(discussions)
            for k in range(1, 5)
        ),
    )

    def enquiries() -> Iterator[dict[str, Any]]:
        for i in range(discussions):
            if i % 3 == 2:
                continue
            start = statutory.local_date(held[i])
            due = statutory.add_working_days(start, 15)
            held_on = start + timedelta(days=rng.randrange(10, 30)) if i % 4 else None
            done = start + timedelta(days=rng.randrange(30, 80)) if i % 5 else None
            yield {
                "episode_id": i + 1,
                "case_id": i + 1,
                "started_by_meeting_id": i + 1,
                "started_on": start,
                "icpc_due_on": due,
                "icpc_state": "held" if held_on else ("not_required" if i % 8 == 0 else "pending"),
                "icpc_held_on": held_on,
                "icpc_not_required_reason": "",
                "assessment_due_on": statutory.add_working_days(start, 45),
                "concerns_substantiated": "",
                "outcome": "",
                "completed_on": done,
                "updated_at": created,
            }

    sizes["section47enquiry"] = bulk(engine, Section47Enquiry, enquiries())
    priorities = ("immediate", "high", "normal", "low")

    def actions() -> Iterator[dict[str, Any]]:
        number = 0
        for i in range(discussions):
            for k in range(10):
                number += 1
                due = statutory.local_date(held[i]) + timedelta(days=rng.randrange(1, 40))
                status = ("done", "done", "done", "open", "escalated", "cancelled", "done", "handed_on")[
                    (i + k) % 8
                ]
                yield {
                    "reference": f"ACT-{number:07d}",
                    "meeting_id": i + 1,
                    "case_id": i + 1,
                    "concerns": "",
                    "text": "An action agreed.",
                    "owner_id": people[agencies[k % len(agencies)]],
                    "agency_id": agencies[k % len(agencies)],
                    "priority": priorities[k % 4],
                    "assigned_on": statutory.local_date(held[i]),
                    "due_on": due,
                    "completed_at": held[i] + timedelta(days=rng.randrange(1, 45))
                    if status == "done"
                    else None,
                    "status": status,
                    "escalation_level": 1 if status == "escalated" else 0,
                    "chase_step": 0,
                    "snoozes": 0,
                    "created_at": created,
                }

    sizes["action"] = bulk(engine, Action, actions())
    sizes["panelsitting"] = bulk(
        engine,
        PanelSitting,
        (
            {
                "id": s + 1,
                "panel_code": "cep",
                "meeting_id": discussions + s + 1,
                "scheduled_for": (FIRST_DAY + timedelta(days=14 * s)).date(),
                "held_on": (FIRST_DAY + timedelta(days=14 * s)).date(),
                "referral_cutoff": created,
                "updates_cutoff": created,
                "created_at": created,
            }
            for s in range(130)
        ),
    )
    sizes["panelcase"] = bulk(
        engine,
        PanelCase,
        (
            {
                "id": c + 1,
                "panel_code": "cep",
                "case_id": c + 1,
                "state": "under_review",
                "risk_level": "",
                "screening_result": "",
                "plan_status": "",
                "added_at": created,
            }
            for c in range(min(400, discussions))
        ),
    )
    decisions = ("continue", "step_up", "step_down", "continue")
    sizes["agendaitem"] = bulk(
        engine,
        AgendaItem,
        (
            {
                "sitting_id": s + 1,
                "panel_case_id": (s * 7 + p) % min(400, discussions) + 1,
                "section": "under_review",
                "position": p,
                "minutes": 10,
                "outcome": {
                    "decision": decisions[(s + p) % 4],
                    "nrm": "referred" if (s + p) % 9 == 0 else "none",
                },
                "recorded_at": created,
            }
            for s in range(130)
            for p in range(40)
        ),
    )
    if engine.dialect.name == "postgresql":
        raw = engine.raw_connection()
        try:
            for name in ("meeting", "caseepisode", "case", "panelsitting", "panelcase"):
                raw.cursor().execute(
                    f"SELECT setval(pg_get_serial_sequence('\"{name}\"', 'id'), (SELECT max(id) FROM \"{name}\"))"
                )
            raw.commit()
        finally:
            raw.close()
    with engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    del invited
    return sizes


def timed(engine: Engine, period: periods.Period, statutory: Any, runs: int) -> tuple[float, float, int]:
    statements: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    durations = []
    for run in range(runs + 1):
        statements.clear()
        event.listen(engine, "before_cursor_execute", seen)
        started = time.perf_counter()
        with Session(engine) as session:
            measure(session, period, statutory=statutory, now=NOW)
        elapsed = time.perf_counter() - started
        event.remove(engine, "before_cursor_execute", seen)
        if run:  # the first is the warm-up
            durations.append(elapsed)
    return statistics.median(durations), max(durations), len(statements)


def baseline(engine: Engine, runs: int) -> float:
    durations = []
    for run in range(runs + 1):
        started = time.perf_counter()
        with engine.connect() as connection:
            for model in TABLES:
                connection.execute(text(f"SELECT count(*) FROM {model.__tablename__}")).scalar()
        if run:
            durations.append(time.perf_counter() - started)
    return statistics.median(durations)


def benchmark(name: str, engine: Engine, discussions: int, runs: int, misses: list[str]) -> list[list[Any]]:
    started = time.perf_counter()
    sizes = load(engine, discussions)
    print(f"{name}: loaded {sum(sizes.values()):,} rows in {time.perf_counter() - started:.1f} s: {sizes}")
    statutory = statutory_calendar_for(load_partnership(ROOT / "schedules"), "Europe/London")
    today = statutory.local_date(NOW)
    bare = baseline(engine, runs)
    rows = []
    for period in (periods.month(2026, 12), periods.quarter(2026, 4), periods.year_to_date(today)):
        median, longest, statements = timed(engine, period, statutory, runs)
        met = median < TARGET_S and longest < TARGET_S
        if not met:
            misses.append(
                f"{name} {period.label}: median {median:.3f} s, max {longest:.3f} s (target {TARGET_S} s)"
            )
        rows.append(
            [
                name,
                f"{discussions:,}",
                period.label.split(" (")[0],
                f"{median * 1000:.0f}",
                f"{longest * 1000:.0f}",
                statements,
                f"{bare * 1000:.0f}",
                f"{median / bare:.2f}x",
                "met" if met else "MISSED",
            ]
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--discussions", type=int, default=30_000)
    parser.add_argument("--runs", type=int, default=5, help="timed reports of each period")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    print(f"bench_timeliness on {machine()}")
    misses: list[str] = []
    results: list[list[Any]] = []
    with scratch_postgres(BENCH_PG_URL, "bench_timeliness") as url:
        engine = make_engine(url)
        try:
            upgrade(engine)
            with engine.connect() as connection:
                version = str(connection.exec_driver_sql("SHOW server_version").scalar()).split()[0]
            results += benchmark(f"PostgreSQL {version}", engine, args.discussions, args.runs, misses)
        finally:
            engine.dispose()
    with tempfile.TemporaryDirectory(prefix="bench_timeliness_") as directory:
        engine = make_engine(f"sqlite:///{directory}/timeliness.db")
        try:
            upgrade(engine)
            with engine.connect() as connection:
                version = connection.exec_driver_sql("SELECT sqlite_version()").scalar()
            results += benchmark(f"SQLite {version}", engine, args.discussions, args.runs, misses)
        finally:
            engine.dispose()
    print()
    print(
        table(
            [
                "database",
                "discussions",
                "period",
                "median ms",
                "max ms",
                "statements",
                "count(*) ms",
                "ratio",
                "target",
            ],
            results,
        )
    )
    print(
        f"\n{args.runs} timed reports of each period after a warm-up (median); target under {TARGET_S:.0f} s"
    )
    return verdict("bench_timeliness", misses)


if __name__ == "__main__":
    raise SystemExit(main())
