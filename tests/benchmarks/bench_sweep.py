"""The chasing sweep at a partnership's real size: whole passes of the scheduler's job, first and later.

What is timed is `sweep_actions` (bot/actions/jobs.py), the job the scheduler runs every
sweep interval: it claims up to 500 due chasing steps (`claim_due_action_chases`: the
SELECT, the conditional claim, escalations, the `Chase` rows) and writes their reminders
(the Slack DMs and partners' e-mails in the outbox, and a status refresh of each
discussion touched), committed, through a runtime built as the bot builds it
(`build_runtime`; no scheduler, so nothing is delivered).

The data comes from the generator (tests/benchmarks/generate.py): discussions over five
years with 10 actions each, spread over hundreds of owners, every agency and thousands of
meetings and cases, about 4% of actions overdue and open and a third of those with a step
due now. PostgreSQL (`--pg-discussions`, default 30,000: about 285,000 actions and 1,980
due, the issue's size) is loaded with `COPY` into a template database; SQLite
(`--sqlite-discussions`, default 16,000: about 150,000 actions and 1,050 due) is generated
into a file. Each of `--copies` fresh copies (`CREATE DATABASE … TEMPLATE`, or a copy of
the file) is swept pass after pass, through one runtime as a running bot's scheduler
sweeps it, while at least 500 are due at a pass's start (`--passes` at the most): the
first pass claims the 500 due earliest; each later pass the next 500, on a table whose
claimed rows the passes before it moved on (new row versions, their index entries, the
chases and outbox rows written). Every pass is reported and judged, the later ones too.
Before each pass the due actions are counted (at least 500 must be due); after it, the
steps claimed, the due actions left, and the chases and outbox rows written are counted;
a pass that claims fewer than 500 is a miss, and so is a copy whose passes do not do what
the first copy's did (the same data at the same moment: the same claims and reminders).

Baseline, in the same run: the sweep's own first statement alone (the SELECT of the 500
due actions, through the ORM, building the 500 `Action` objects) on the same data: the
least any sweep must do, so the ratio says what claiming and writing the reminders add.
The same pass on an empty (migrated and synced) database is printed too, as the fixed cost
of a pass that finds nothing.

Target (issue 14): a pass that claims 500 due actions and writes their reminders within
1 s: every pass, first and later (at least 5 passes of 500 and one later pass in all,
after one warm-up pass on its own copy).

    python -m tests.benchmarks.bench_sweep        # 17 minutes on 2 cores at load average 20-29
    python -m tests.benchmarks.bench_sweep --copies 1 --passes 3

The scratch PostgreSQL databases (`bench_sweep_<pid>` and its copies) are created on
`BENCH_PG_URL` (default postgresql://postgres@127.0.0.1:5432/test) and dropped at the end,
also on failure.
"""

from __future__ import annotations

import argparse
import gc
import os
import shutil
import signal
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import yaml
from psycopg import sql
from sqlalchemy import event, func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from bot.actions.jobs import sweep_actions
from bot.actions.models import Action, ActionStatus, Chase
from bot.clock import SettableClock
from bot.composition import build_runtime
from bot.database import make_engine, session_scope, upgrade
from bot.delivery.models import OutboxMessage
from bot.partnership.service import sync_partnership
from bot.runtime import Runtime
from bot.settings import load_settings
from tests.benchmarks.generate import generate
from tests.benchmarks.support import BENCH_PG_URL, machine, quiet_logs, scratch_postgres, table, verdict

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 10, 10, 0, tzinfo=UTC)  # a Tuesday morning, working time (the generator's)
LIMIT = 500  # claim_due_action_chases's default
TARGET_S = 1.0


def due_query() -> Any:
    """The sweep's first statement: the actions with a step due, earliest first."""
    return (
        select(Action)
        .where(
            col(Action.status).in_((ActionStatus.OPEN, ActionStatus.ESCALATED)),
            col(Action.next_chase_at).is_not(None),
            col(Action.next_chase_at) <= NOW,
        )
        .order_by(col(Action.next_chase_at))
    )


def schedules_with_staff(directory: Path, extra: int) -> Path:
    """The sample schedules with `extra` more practitioners spread over the agencies, each
    with a Slack id and an e-mail address. A real partnership lists all its people in the
    schedules, and the sweep tells only people it finds there: the generator's own extra
    people are in the database alone, so their actions' reminders would go to nobody and a
    pass would write a fifth of the reminders a real one does."""
    target = directory / "schedules"
    shutil.copytree(ROOT / "schedules", target)
    agencies = yaml.safe_load((target / "agencies.yaml").read_text())
    chosen = [a for a in agencies["agencies"] if a["kind"] != "partnership"]
    for number in range(extra):
        agency = chosen[number % len(chosen)]
        agency["contacts"].append(
            {
                "id": f"gen-{number + 1:04d}",
                "name": f"Generated Practitioner {number + 1}",
                "title": "Practitioner",
                "email": f"practitioner{number + 1}@generated.example.org",
                "slack_user_id": f"U0GEN{number + 1:04d}",
                "roles": ["agency_rep"],
            }
        )
    (target / "agencies.yaml").write_text(yaml.safe_dump(agencies, sort_keys=False))
    return target


SCHEDULES: Path | None = None  # set by main() to the scratch schedules


def runtime_for(url: str) -> Runtime:
    """The bot's runtime on this database, as `python -m bot` builds it (no scheduler)."""
    settings = load_settings().model_copy(update={"database_url": url})
    if SCHEDULES is not None:
        settings = settings.model_copy(update={"schedules_dir": SCHEDULES})
    return build_runtime(settings, clock=SettableClock(NOW))


def counts(engine: Engine) -> dict[str, int]:
    """Due actions, chases and outbox rows, and how the first 500 due are spread."""
    with Session(engine) as session:
        due = session.exec(select(func.count()).select_from(due_query().subquery())).one()
        first = session.exec(
            select(Action.meeting_id, Action.owner_id, Action.case_id, Action.agency_id)
            .where(
                col(Action.status).in_((ActionStatus.OPEN, ActionStatus.ESCALATED)),
                col(Action.next_chase_at).is_not(None),
                col(Action.next_chase_at) <= NOW,
            )
            .order_by(col(Action.next_chase_at))
            .limit(LIMIT)
        ).all()
        return {
            "due": due,
            "actions": session.exec(select(func.count()).select_from(Action)).one(),
            "chases": session.exec(select(func.count()).select_from(Chase)).one(),
            "outbox": session.exec(select(func.count()).select_from(OutboxMessage)).one(),
            "meetings": len({r[0] for r in first}),
            "owners": len({r[1] for r in first}),
            "cases": len({r[2] for r in first}),
            "agencies": len({r[3] for r in first}),
            "largest owner share": max(Counter(r[1] for r in first).values(), default=0),
        }


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    sent: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


def one_pass(runtime: Runtime) -> dict[str, Any]:
    """One sweep pass with this runtime: seconds, steps claimed, statements, what it wrote."""
    before = counts(runtime.engine)
    with runtime.engine.connect() as connection:  # the pool holds a live connection, as a running bot's does
        connection.exec_driver_sql("SELECT 1")
    gc.collect()
    with statements(runtime.engine) as sent:
        started = time.perf_counter()
        claimed = sweep_actions(runtime)
        seconds = time.perf_counter() - started
    after = counts(runtime.engine)
    return {
        "seconds": seconds,
        "claimed": claimed,
        "statements": len(sent),
        "before": before,
        "due after": after["due"],
        "chases": after["chases"] - before["chases"],
        "outbox": after["outbox"] - before["outbox"],
    }


def consecutive_passes(url: str, most: int, report: Callable[[dict[str, Any]], None]) -> list[dict[str, Any]]:
    """Sweep passes one after another on one database, through one runtime (as a running
    bot's scheduler calls the job, turn after turn), while at least 500 are due at a pass's
    start, `most` at the most: each later pass claims the 500 due after the steps the
    passes before it moved on (its actions are chased again later, not now)."""
    runtime = runtime_for(url)
    done: list[dict[str, Any]] = []
    try:
        while len(done) < most:
            result = one_pass(runtime)
            report(result)
            done.append(result)
            if result["due after"] < LIMIT:
                break
    finally:
        runtime.engine.dispose()
    return done


def bare_claim_query(url: str, runs: int) -> list[float]:
    """The baseline: the sweep's SELECT alone (limit 500), median-able seconds after a warm-up."""
    engine = make_engine(url)
    times: list[float] = []
    try:
        with Session(engine) as session:
            session.exec(due_query().limit(LIMIT)).all()
            session.expunge_all()
            for _ in range(runs):
                gc.collect()
                started = time.perf_counter()
                found = len(session.exec(due_query().limit(LIMIT)).all())
                times.append(time.perf_counter() - started)
                session.expunge_all()
            session.rollback()
        if found != LIMIT:
            raise SystemExit(f"the claim query found {found}, not {LIMIT}: the data is too small")
    finally:
        engine.dispose()
    return times


def prepare(url: str, discussions: int) -> str:
    """Migrate, sync the partnership, and (unless 0) generate `discussions` with their records."""
    engine = make_engine(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    runtime = runtime_for(url)
    try:
        with session_scope(runtime.engine) as session:
            sync_partnership(session, runtime.partnership, now=NOW)
        if not discussions:
            return "empty"
        generated = generate(
            runtime.engine,
            runtime.partnership,
            now=NOW,
            calendar=runtime.calendar,
            discussions=discussions,
            audit_entries=discussions,  # the sweep reads no audit; keep the load short
            extra_people=0,  # the extra staff are in the scratch schedules instead
        )
        return str(generated)
    finally:
        runtime.engine.dispose()


@contextmanager
def pg_copy(server: str, template_url: str, number: int) -> Iterator[str]:
    """A fresh copy of the template database, dropped afterwards."""
    template = template_url.rsplit("/", 1)[1]
    name = f"{template}_copy{number}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template))
        )
    try:
        yield server.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@contextmanager
def sqlite_copy(path: Path, number: int) -> Iterator[str]:
    copy = path.with_name(f"{path.stem}_copy{number}.db")
    shutil.copyfile(path, copy)
    try:
        yield f"sqlite:///{copy}"
    finally:
        copy.unlink(missing_ok=True)


def benchmark(
    label: str,
    template_url: str,
    empty_url: str,
    copy: Callable[[int], Any],
    discussions: int,
    copies: int,
    most: int,
    misses: list[str],
) -> list[Any]:
    print(f"\n{label}: {discussions:,} discussions (load average {load_average()})")
    sys.stdout.flush()
    started = time.perf_counter()
    print(f"  generated: {prepare(template_url, discussions)}")
    print(f"  generated and analysed in {time.perf_counter() - started:.0f} s")
    prepare(empty_url, 0)
    engine = make_engine(template_url)
    try:
        data = counts(engine)
    finally:
        engine.dispose()
    print(
        f"  {data['actions']:,} actions, {data['due']:,} due now; the first {LIMIT} due are on "
        f"{data['meetings']} meetings, {data['cases']} cases, {data['owners']} owners and "
        f"{data['agencies']} agencies (the busiest owner has {data['largest owner share']})"
    )
    if data["due"] < LIMIT:
        misses.append(f"{label}: only {data['due']} actions are due; a pass must claim {LIMIT}")
    base = bare_claim_query(template_url, 15)
    empty = consecutive_passes(empty_url, 1, lambda _result: None)[0]
    print(
        f"  baseline: the claim's SELECT alone {statistics.median(base) * 1000:.1f} ms (median of {len(base)})"
    )
    print(
        f"  the same pass on an empty database: {empty['seconds'] * 1000:.1f} ms, {empty['claimed']} claimed"
    )
    runs: list[list[dict[str, Any]]] = []  # each fresh copy's passes, in order
    for number in range(copies + 1):  # the first copy's one pass is a warm-up (imports, caches)

        def report(result: dict[str, Any], number: int = number) -> None:
            kind = "warm-up" if number == 0 else f"copy {number}, pass {len(runs[-1]) + 1 if runs else 1}"
            print(
                f"  {kind}: {result['seconds'] * 1000:.0f} ms, {result['before']['due']:,} due before, "
                f"{result['claimed']} steps claimed, {result['due after']:,} due after, "
                f"{result['chases']} chases and {result['outbox']} outbox rows written, "
                f"{result['statements']} statements (load average {load_average()})"
            )
            sys.stdout.flush()
            if number:
                runs[-1].append(result)

        if number:
            runs.append([])
        with copy(number) as url:
            consecutive_passes(url, 1 if number == 0 else most, report)
    passes = [p for run in runs for p in run]
    times = [p["seconds"] for p in passes]
    median, worst = statistics.median(times), max(times)
    first = [run[0]["seconds"] for run in runs]
    later = [p["seconds"] for run in runs for p in run[1:]]
    if len(passes) < 5 or not later:
        misses.append(
            f"{label}: {len(passes)} passes of {LIMIT} timed, {len(later)} of them later passes; "
            "at least 5 and one later pass are needed (more discussions: more due)"
        )
    for copy_number, run in enumerate(runs, start=1):
        for number, p in enumerate(run, start=1):
            which = f"{label}: copy {copy_number}, pass {number}"
            if p["claimed"] < LIMIT:
                misses.append(f"{which} claimed {p['claimed']}, not {LIMIT} ({p['before']['due']} due)")
            if p["before"]["due"] - p["due after"] < LIMIT:
                misses.append(f"{which} left {p['due after']} of {p['before']['due']} due")
            if p["chases"] < p["claimed"]:
                misses.append(f"{which} recorded {p['chases']} reminders (chases) for {p['claimed']} steps")
            if p["seconds"] > TARGET_S:
                misses.append(f"{which} took {p['seconds']:.2f} s; target {TARGET_S:.0f} s")
            # Every copy starts from the same data at the same moment: the same pass claims
            # the same steps and writes the same reminders on each.
            shape = [(q["claimed"], q["chases"], q["outbox"], q["statements"]) for q in runs[0]]
            if copy_number > 1 and (
                number > len(shape)
                or shape[number - 1] != (p["claimed"], p["chases"], p["outbox"], p["statements"])
            ):
                misses.append(f"{which} did not do what copy 1's pass {number} did")
    base_median = statistics.median(base)
    return [
        label,
        f"{data['actions']:,}",
        f"{data['due']:,}",
        f"{data['meetings']}/{data['cases']}/{data['owners']}",
        f"{len(runs)} × {len(runs[0])}",
        "/".join(str(p["claimed"]) for p in runs[0]),
        f"{passes[0]['chases']}/{passes[0]['outbox']}",
        max(p["statements"] for p in passes),
        f"{statistics.median(first) * 1000:.0f}",
        f"{statistics.median(later) * 1000:.0f}" if later else "",
        f"{median * 1000:.0f}",
        f"{worst * 1000:.0f}",
        f"{base_median * 1000:.1f}",
        f"{median / base_median:.1f}x",
        f"{empty['seconds'] * 1000:.1f}",
        "met" if not [m for m in misses if m.startswith(label)] else "MISSED",
    ]


def load_average() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pg-discussions", type=int, default=30_000)
    parser.add_argument("--sqlite-discussions", type=int, default=16_000)
    parser.add_argument("--copies", type=int, default=3, help="fresh copies, each swept pass after pass")
    parser.add_argument("--passes", type=int, default=5, help="consecutive passes on a copy, at the most")
    parser.add_argument("--staff", type=int, default=400, help="practitioners added to the schedules")
    args = parser.parse_args(argv)
    if args.copies < 1 or args.passes < 2:
        parser.error("--copies must be at least 1 and --passes at least 2")
    quiet_logs()
    # Stopped with SIGTERM, still drop the scratch databases (Ctrl-C already unwinds).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    began = time.perf_counter()
    print(
        f"bench_sweep on {machine()}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average {load_average()}"
    )
    misses: list[str] = []
    rows: list[list[Any]] = []
    global SCHEDULES
    with tempfile.TemporaryDirectory(prefix="bench_sweep_") as directory:
        SCHEDULES = schedules_with_staff(Path(directory), args.staff)
        with (
            scratch_postgres(BENCH_PG_URL, "bench_sweep") as template_url,
            scratch_postgres(BENCH_PG_URL, "bench_sweep_empty") as empty_url,
        ):
            with psycopg.connect(BENCH_PG_URL) as admin:
                version = str(admin.execute("SHOW server_version").fetchone()[0]).split()[0]  # type: ignore[index]
            rows.append(
                benchmark(
                    f"PostgreSQL {version}",
                    template_url,
                    empty_url,
                    lambda number: pg_copy(BENCH_PG_URL, template_url, number),
                    args.pg_discussions,
                    args.copies,
                    args.passes,
                    misses,
                )
            )
        path = Path(directory) / "sweep.db"
        rows.append(
            benchmark(
                f"SQLite {sqlite3.sqlite_version}",
                f"sqlite:///{path}",
                f"sqlite:///{directory}/empty.db",
                lambda number: sqlite_copy(path, number),
                args.sqlite_discussions,
                args.copies,
                args.passes,
                misses,
            )
        )
    headers = [
        "database",
        "actions",
        "due",
        "meetings/cases/owners of the first 500",
        "copies × passes",
        "claimed by each pass",
        "chases/outbox written (first pass)",
        "statements (most)",
        "first pass ms (median)",
        "later passes ms (median)",
        "every pass ms (median)",
        "max ms",
        "bare SELECT ms",
        "ratio",
        "empty db ms",
        "target",
    ]
    print()
    print(table(headers, rows))
    print(
        f"\nOn each of {args.copies} fresh copies (after a warm-up pass on its own), passes one after "
        f"another while {LIMIT} are due ({args.passes} at the most); target: every pass claiming "
        f"{LIMIT} and writing their reminders within {TARGET_S:.0f} s. Baseline: the "
        f"claim's SELECT alone on the same data; load average at the end {load_average()}; pid {os.getpid()}"
    )
    print(f"took {time.perf_counter() - began:.0f} s")
    return verdict("chasing sweep", misses)


if __name__ == "__main__":
    sys.exit(main())
