"""bench_scale: what people and jobs see on a partnership's real database, against the same
on an empty one, in the same run.

Two scratch PostgreSQL databases (`BENCH_PG_URL`) are migrated and synced; one is filled by
`generate` (at `--scale` 1: five years, 30,000 discussions, about 300,000 actions, 1,000,000
audit entries), timed. Against each, the real app runs on loopback (`OfflineBot`: signed
requests over HTTP, the local Slack), both at once, and each request is sent `--repeat`
times to each in turn (so a shared machine's changing load falls on both alike): the time to
the HTTP acknowledgement, and to what the person then sees (the response posted to the
response URL, the Home tab published, or the acknowledgement itself where it carries the
answer, as the panel's lists do). Then the jobs: one chasing sweep pass (claims up
to 500 due steps and writes their reminders), the daily digests (twice: the second finds
them gone), `python -m bot audit verify` and `audit export` of one year (each in its own
process: wall time and peak memory, the child's own `VmHWM`), and `retention --apply` removing
the superseded drafts in batches that commit, in a process of its own: SIGKILLed once its
first batch has committed (seen in the database), then run again to the end; the time of both
against the five minutes, and what each left checked (every draft gone audited once, its
Slack files queued, the chain intact). Last, every other entry point (each listener, page and
job of the statement budgets' table, `every_entry`) against a small generated database. A
target missed is printed as missed; the exit status is 1.

To work on the last part alone: `--only-every` generates the small and full databases and
runs only every other entry point (no empty database, requests, jobs, audit or retention);
`--entries PATTERN` keeps only the entry points whose name matches the regular expression
(e.g. `--entries 'panel|desk_sign_in|/partner/update'`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlmodel import Session

from bot.actions.jobs import send_digests, sweep_actions
from bot.clock import SettableClock
from bot.database import make_engine, session_scope, upgrade
from bot.minutes.models import Document
from bot.partnership.service import sync_partnership
from bot.retention.service import plan, uploaded_files
from bot.schedules import load_partnership
from bot.settings import load_settings
from bot_offline.driver import BOT_TOKEN, OfflineBot
from bot_offline.local_slack import LocalSlack
from tests.benchmarks.every_entry import HEADERS, judged, time_every_entry_point
from tests.benchmarks.generate import generate
from tests.benchmarks.support import BENCH_PG_URL, machine, quiet_logs, scratch_postgres, table, verdict
from tests.retention_support import (
    Timeout,
    batches_committed,
    child_backends,
    end_child_backends,
    kill,
    left,
    reader,
    retention_command,
    start,
    wait_for,
)

NOW = datetime(2026, 11, 10, 10, 0, tzinfo=UTC)  # a Tuesday morning, working time
PANEL_ADMIN, PPU_LEAD, BUSY_OWNER, BUSY_CONVENOR = "U0BSC001", "U0PPU020", "U0PPU001", "U0CSC001"
ACK_LIMIT, ACK_RATIO, SEEN_LIMIT, SWEEP_LIMIT = 3.0, 1.2, 1.0, 1.0
VERIFY_MB, VERIFY_S_PER_MILLION, RETENTION_S = 200, 60, 300

REQUESTS: list[tuple[str, str, str, str]] = [
    # what, kind, user, text
    ("Home tab, panel administrator", "home", PANEL_ADMIN, ""),
    ("Home tab, convenor", "home", BUSY_CONVENOR, ""),
    ("`/actions overdue`, agency lead", "command", PPU_LEAD, "overdue"),
    ("`/actions overdue`, panel administrator", "command", PANEL_ADMIN, "overdue"),
    ("*Next* on the overdue list, administrator", "next", PANEL_ADMIN, "1"),
    ("`/actions`, owner of 1 in 8 actions", "command", BUSY_OWNER, ""),
    ("`/strategy list`, convenor of a third", "strategy", BUSY_CONVENOR, "list"),
    # The panel's answers come in the acknowledgement itself: seen when acknowledged.
    ("`/panel referrals`, panel administrator", "panel", PANEL_ADMIN, "referrals"),
    ("`/panel next`, panel administrator", "panel", PANEL_ADMIN, "next"),
]


def _send(bot: OfflineBot, kind: str, user: str, text: str) -> tuple[float, float]:
    """One request: seconds to the acknowledgement, and to what the person then sees."""
    slack = bot.local_slack
    published, answered = len(slack.calls_to("views.publish")), len(slack.responses())
    started = time.perf_counter()
    if kind == "home":
        response = bot.slack.event({"type": "app_home_opened", "user": user, "tab": "home"})
    elif kind == "next":
        response = bot.slack.block_actions(
            user,
            [{"action_id": "actions_overdue_page_next", "value": text, "type": "button"}],
            message={"ts": "1.0", "text": "Overdue actions"},
            channel_id="D0BENCH",
        )
    else:
        name = {"strategy": "/strategy", "panel": "/panel"}.get(kind, "/actions")
        response = bot.slack.command(name, text, user_id=user)
    acknowledged = time.perf_counter() - started
    assert response.status == 200, response.status
    if kind == "panel":
        return acknowledged, acknowledged

    def seen(_calls: object) -> bool:
        if kind == "home":
            return len(slack.calls_to("views.publish")) > published
        return len(slack.responses()) > answered

    slack.wait_for(seen, timeout=600, interval=0.005)
    return acknowledged, time.perf_counter() - started


def _requests(
    bots: dict[str, OfflineBot], repeat: int
) -> dict[str, dict[str, tuple[list[float], list[float]]]]:
    """Each request sent to both apps in turn (the order alternating), so that both
    databases are measured under the same load on a shared machine, not minutes apart."""
    figures: dict[str, dict[str, tuple[list[float], list[float]]]] = {label: {} for label in bots}
    for what, kind, user, text in REQUESTS:
        for bot in bots.values():
            _send(bot, kind, user, text)  # warm-up
            bot.wait_idle()
        taken: dict[str, tuple[list[float], list[float]]] = {label: ([], []) for label in bots}
        for number in range(repeat):
            order = list(bots) if number % 2 == 0 else list(reversed(bots))
            for label in order:
                ack, seen = _send(bots[label], kind, user, text)
                taken[label][0].append(ack)
                taken[label][1].append(seen)
                bots[label].wait_idle()
        for label in bots:
            figures[label][what] = taken[label]
    return figures


def _child(url: str, argv: list[str]) -> tuple[float, float, str]:
    """`python -m bot ARGV` in its own process: seconds, peak memory in MB (its own VmHWM:
    `ru_maxrss` would carry the benchmark's own size over the fork), its last line."""
    code = (
        "import sys\n"
        "from bot.cli import main\n"
        f"status = main({argv!r})\n"
        "proc = dict(line.split(':', 1) for line in open('/proc/self/status'))\n"
        "peak = int(proc['VmHWM'].split()[0]) / 1024\n"
        "print(f'PEAK_MB {peak:.1f}', file=sys.stderr)\n"
        "sys.exit(status)\n"
    )
    env = {**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING"}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    peak = float(next(line.split()[1] for line in done.stderr.splitlines() if line.startswith("PEAK_MB")))
    said = [
        line for line in (done.stdout + done.stderr).splitlines() if line and not line.startswith("PEAK_MB")
    ]
    return seconds, peak, f"exit {done.returncode}: {said[-1] if said else ''}"


def _prepare(url: str, discussions: int, audit_entries: int, years: float = 5) -> str:
    bot_clock = SettableClock(NOW)
    with OfflineBot(database_url=url, clock=bot_clock, delivery_interval_seconds=None) as bot:
        with session_scope(bot.runtime.engine) as session:
            sync_partnership(session, bot.runtime.partnership, now=NOW)
        if not discussions:
            return "empty"
        counts = generate(
            bot.runtime.engine,
            bot.runtime.partnership,
            now=NOW,
            calendar=bot.runtime.calendar,
            discussions=discussions,
            audit_entries=audit_entries,
            years=years,
        )
    return str(counts)


@dataclass
class Retention:
    """Retention killed after its first committed batch, then run again to the end."""

    due: int = 0
    killed_s: float = 0.0
    removed_at_kill: int = 0
    resumed_s: float = 0.0
    total_s: float = 0.0
    said: str = ""
    problems: list[str] = field(default_factory=list)


def _retention_killed_and_resumed(url: str) -> Retention:
    """`python -m bot retention --apply` in its own process, SIGKILLed once the database shows
    its first batch committed, then again to the end: the time of both against the target,
    and whether what each left holds together (every draft gone audited once, its Slack
    files queued for deletion, the chain intact)."""
    engine = make_engine(url)
    result = Retention()
    log = Path(f"/tmp/bench_scale_retention_{os.getpid()}.log")
    child = None
    try:
        with Session(reader(engine)) as session:
            due = [d.id for d in plan(session, load_partnership(load_settings().schedules_dir), NOW).drafts]
            files = uploaded_files(session)
        result.due = len(due)
        with LocalSlack(bot_token=BOT_TOKEN) as slack:
            command, env = retention_command(url, slack.api_url, BOT_TOKEN, NOW)
            started = time.perf_counter()
            child = start(command, env, log)
            wait_for("a batch committed", lambda: batches_committed(engine) >= 1, RETENTION_S * 2, child)
            kill(child)
            result.killed_s = time.perf_counter() - started
            # The server rolls back the dead client's open batch when it notices it gone.
            wait_for("the killed run's backend gone", lambda: not child_backends(engine), 60)
            killed = left(engine, due)
            result.removed_at_kill = len(due) - len(killed.present)
            result.problems += [f"after the kill: {p}" for p in killed.problems(due, files)]
            resumed_at = time.perf_counter()
            child = start(command, env, log)
            status = child.wait(timeout=RETENTION_S * 3)
            result.resumed_s = time.perf_counter() - resumed_at
            result.total_s = time.perf_counter() - started
        said = [line for line in log.read_text().splitlines() if line.strip()]
        result.said = f"exit {status}: {said[-1] if said else ''}"
        done = left(engine, due)
        result.problems += [f"after resuming: {p}" for p in done.problems(due, files)]
        if done.present:
            result.problems.append(f"{len(done.present)} drafts due still there after resuming")
        if status != 0:
            result.problems.append(f"the resumed run {result.said}")
    except Timeout as error:
        result.problems.append(str(error))
    finally:
        if child is not None and child.poll() is None:
            kill(child)
        end_child_backends(engine)
        engine.dispose()
        log.unlink(missing_ok=True)
    return result


# Timed above in their own processes (audit) or as the retention run itself.
TIMED_ABOVE = ("cli audit verify", "cli audit export", "cli retention", "job run_retention")


def _every_entry_point(small_url: str, full_url: str, repeat: int, entries: str = "") -> list[str]:
    """Each listener, page and job of the budgets' table, small database against full.
    Every page request here comes from one address, 127.0.0.1, many times a minute: the
    partner site's per-address limits (which would answer 429) are lifted for the run."""
    from bot.partners import guard

    guard.LINK_TRIES_PER_MINUTE = guard.FORM_POSTS_PER_MINUTE = 1_000_000
    with (
        OfflineBot(database_url=small_url, clock=SettableClock(NOW), delivery_interval_seconds=None) as small,
        OfflineBot(database_url=full_url, clock=SettableClock(NOW), delivery_interval_seconds=None) as full,
    ):
        figures = time_every_entry_point(
            {"small": small, "full": full},
            repeat,
            skip=lambda name: name in TIMED_ABOVE or not re.search(entries, name),
        )
    rows, misses = judged(
        figures,
        baseline="small",
        full="full",
        ack_limit=ACK_LIMIT,
        ack_ratio=ACK_RATIO,
        seen_limit=SEEN_LIMIT,
    )
    print(f"Every other entry point ({len(rows)}), {repeat} after a warm-up, against 20 discussions:")
    print(table(HEADERS, rows))
    return misses


def _timed(work: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--scale", type=float, default=1.0, help="1.0: the issue's size")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument(
        "--every-repeat", type=int, default=5, help="samples of each other entry point (0: skip them)"
    )
    parser.add_argument(
        "--only-every", action="store_true", help="only every other entry point (the last part)"
    )
    parser.add_argument(
        "--entries", default="", metavar="PATTERN", help="only the entry points whose name matches"
    )
    args = parser.parse_args(argv)
    quiet_logs()
    discussions, audit_entries = int(30_000 * args.scale), int(1_000_000 * args.scale)
    print(f"bench_scale on {machine()}, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, scale {args.scale}")
    misses: list[str] = []
    with (
        scratch_postgres(BENCH_PG_URL, "bench_scale_empty") as empty_url,
        scratch_postgres(BENCH_PG_URL, "bench_scale_full") as full_url,
        scratch_postgres(BENCH_PG_URL, "bench_scale_small") as small_url,
    ):
        for url in (empty_url, full_url, small_url):
            engine = make_engine(url)
            upgrade(engine)
            engine.dispose()
        _prepare(empty_url, 0, 0)
        _prepare(small_url, 20, 400, years=0.1)  # the statement budgets' small size
        generation_s, counts = _timed(lambda: _prepare(full_url, discussions, audit_entries))
        print(f"generated: {counts}; {generation_s:.0f} s with start-up")
        if args.only_every:
            misses += _every_entry_point(small_url, full_url, max(args.every_repeat, 1), args.entries)
            print(json.dumps({"misses": misses}))
            return verdict("bench_scale", misses)
        jobs: dict[str, list[str]] = {}
        with (
            OfflineBot(
                database_url=empty_url, clock=SettableClock(NOW), delivery_interval_seconds=None
            ) as empty,
            OfflineBot(
                database_url=full_url, clock=SettableClock(NOW), delivery_interval_seconds=None
            ) as full,
        ):
            bots = {"empty": empty, "full": full}
            measured = _requests(bots, args.repeat)
            for label, bot in bots.items():
                sweep_s, claimed = _timed(lambda bot=bot: sweep_actions(bot.runtime))
                digest_s, digests = _timed(lambda bot=bot: send_digests(bot.runtime))
                again_s, _ = _timed(lambda bot=bot: send_digests(bot.runtime))
                with session_scope(bot.runtime.engine) as session:
                    documents = session.execute(select(func.count()).select_from(Document)).scalar_one()
                jobs[label] = [
                    f"{sweep_s * 1000:.0f} ms, {claimed} claimed",
                    f"{digest_s * 1000:.0f} ms, {digests} sent; again {again_s * 1000:.0f} ms",
                ]
                if label == "full":
                    if claimed < 500:
                        misses.append(
                            f"the sweep claimed {claimed}, not 500: the data is too small to judge it"
                        )
                    if sweep_s > SWEEP_LIMIT:
                        misses.append(f"sweep pass of {claimed} claims {sweep_s:.2f} s > {SWEEP_LIMIT} s")
        rows = []
        for what, _kind, _user, _text in REQUESTS:
            empty_acks, empty_seen = measured["empty"][what]
            acks, seen = measured["full"][what]
            ratio = max(acks) / max(empty_acks)
            rows.append(
                [
                    what,
                    f"{statistics.median(empty_acks) * 1000:.0f} / {max(empty_acks) * 1000:.0f}",
                    f"{statistics.median(acks) * 1000:.0f} / {max(acks) * 1000:.0f}",
                    f"{ratio:.2f}×",
                    f"{statistics.median(empty_seen) * 1000:.0f}",
                    f"{statistics.median(seen) * 1000:.0f} / {max(seen) * 1000:.0f}",
                ]
            )
            if max(acks) > ACK_LIMIT:
                misses.append(f"{what}: acknowledged in {max(acks):.2f} s > {ACK_LIMIT} s")
            if ratio > ACK_RATIO:
                misses.append(f"{what}: acknowledgement {ratio:.2f}× the empty database's > {ACK_RATIO}×")
            if max(seen) > SEEN_LIMIT:
                misses.append(f"{what}: seen after {max(seen):.2f} s > {SEEN_LIMIT} s")
        print(
            table(
                [
                    "request",
                    "ack ms, empty (median / max)",
                    "ack ms, full",
                    "ack ratio (max)",
                    "seen ms, empty",
                    "seen ms, full (median / max)",
                ],
                rows,
            )
        )
        print(
            table(
                ["job", "empty database", "full database"],
                [
                    ["sweep pass", jobs["empty"][0], jobs["full"][0]],
                    ["daily digests", jobs["empty"][1], jobs["full"][1]],
                ],
            )
        )
        verify_s, verify_mb, verify_said = _child(full_url, ["audit", "verify"])
        out = Path(f"/tmp/bench_scale_export_{os.getpid()}.csv")
        export_s, export_mb, export_said = _child(
            full_url, ["audit", "export", "--from", "2025-11-10", "--to", "2026-11-09", "-o", str(out)]
        )
        month_s, month_mb, _ = _child(
            full_url, ["audit", "export", "--from", "2026-10-10", "--to", "2026-11-09", "-o", str(out)]
        )
        size_mb = out.stat().st_size / 2**20 if out.exists() else 0.0
        out.unlink(missing_ok=True)
        per_million = verify_s / max(audit_entries, 1) * 1_000_000
        if verify_mb > VERIFY_MB or per_million > VERIFY_S_PER_MILLION:
            misses.append(
                f"audit verify {verify_s:.0f} s ({per_million:.0f} s a million), {verify_mb:.0f} MB"
            )
        if export_mb > 1.5 * month_mb:
            misses.append(f"audit export of a year {export_mb:.0f} MB against a month's {month_mb:.0f} MB")
        retention = _retention_killed_and_resumed(full_url)
        if retention.total_s > RETENTION_S:
            misses.append(
                f"retention of {retention.due} drafts, killed and resumed, {retention.total_s:.0f} s > {RETENTION_S} s"
            )
        misses += [f"retention after a kill: {problem}" for problem in retention.problems]
        print(
            table(
                ["job", "time", "peak memory", "said"],
                [
                    ["audit verify", f"{verify_s:.1f} s", f"{verify_mb:.0f} MB", verify_said],
                    ["audit export, one year", f"{export_s:.1f} s", f"{export_mb:.0f} MB", export_said],
                    [
                        "audit export, one month",
                        f"{month_s:.1f} s",
                        f"{month_mb:.0f} MB",
                        f"{size_mb:.0f} MB file",
                    ],
                    [
                        "retention --apply, killed after its first batch",
                        f"{retention.killed_s:.1f} s",
                        "",
                        f"{retention.removed_at_kill} of {retention.due} drafts removed ({documents} documents)",
                    ],
                    [
                        "retention --apply, resumed",
                        f"{retention.resumed_s:.1f} s",
                        "",
                        f"total {retention.total_s:.1f} s; {retention.said}",
                    ],
                ],
            )
        )
        if args.every_repeat:
            misses += _every_entry_point(small_url, full_url, args.every_repeat, args.entries)
    print(json.dumps({"misses": misses}))
    return verdict("bench_scale", misses)


if __name__ == "__main__":
    raise SystemExit(main())
