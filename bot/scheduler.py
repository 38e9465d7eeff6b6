"""Periodic work on APScheduler; what is due always lives in the database, not here.

Every process runs a scheduler. Outbox delivery runs in each (entries are leased, so none is
sent twice). The sweep and retention run once per turn across all processes: each process
asks often whether the job's turn has come, and the one that takes it from the database
(`bot.periodic`) does the work.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler

from bot.delivery.service import reclaim_dead_leases
from bot.periodic.service import schedule_first_turn, take_turn
from bot.runtime import DELIVERY_JOB_ID, Runtime

log = logging.getLogger(__name__)

SWEEP_JOB = "sweep"
RETENTION_JOB = "retention"
RETENTION_AT = (2, 30)  # each night at 02:30 local time
# How often a process asks whether a job's turn has come: a quarter of the sweep interval,
# at most every 30 s (so a turn starts at most that late), and retention every minute.
LONGEST_ASK_SECONDS = 30.0
RETENTION_ASK_SECONDS = 60.0
# How often each process looks for outbox entries due (one indexed query when none is):
# with the lease (`bot.delivery.service.LEASE`, 10 s) an entry whose holder died is sent
# within 15 s, and a retry's back-off is kept to within a few seconds.
DELIVERY_POLL_SECONDS = 4.0


def _deliver(runtime: Runtime) -> None:
    try:
        sent = runtime.deliver_now()
        if sent:
            log.info("outbox messages delivered", extra={"event": "delivery.sent", "count": sent})
    except Exception:
        log.exception("outbox delivery pass failed; it will run again", extra={"event": "delivery.failed"})


def sweeps() -> tuple[Callable[[Runtime], int], ...]:
    """Every periodic sweep, in the order they run: the panel's cycle first, so a sitting
    opened now is chased and reminded in the same pass."""
    from bot.actions.jobs import send_digests, sweep_actions
    from bot.agency_updates.jobs import sweep_agency_updates
    from bot.cases.jobs import sweep_reviews
    from bot.convening.jobs import sweep_invitations
    from bot.minutes.jobs import sweep_minutes
    from bot.panel.jobs import sweep_panels
    from bot.timeliness.jobs import send_monthly_report

    return (
        sweep_panels,
        sweep_invitations,
        sweep_agency_updates,
        sweep_minutes,
        sweep_reviews,
        sweep_actions,
        send_digests,
        send_monthly_report,
    )


def _sweep(runtime: Runtime, turn: datetime) -> None:
    """Every sweep once; `turn` is when this process took the turn (logged, so an operator
    can see the turns' spacing whichever process took them)."""
    started = time.monotonic()
    steps = 0
    for sweep in sweeps():
        try:
            steps += sweep(runtime)
        except Exception:
            log.exception(
                "a sweep failed; it will run again", extra={"event": "sweep.failed", "sweep": sweep.__name__}
            )
    log.info(
        "sweep finished",
        extra={
            "event": "sweep.finished",
            "turn": turn.isoformat(),
            "steps": steps,
            "seconds": round(time.monotonic() - started, 3),
        },
    )


def _retention(runtime: Runtime) -> None:
    from bot.retention.jobs import run_retention

    try:
        removed = run_retention(runtime, dry_run=False)
        log.info("retention finished", extra={"event": "retention.finished", "removed": len(removed)})
    except Exception:
        log.exception("retention failed; it will run again tomorrow", extra={"event": "retention.failed"})


def next_retention_at(now: datetime, timezone: str) -> datetime:
    """The next 02:30 (local time) after `now`, in UTC."""
    local = now.astimezone(ZoneInfo(timezone))
    hour, minute = RETENTION_AT
    candidate = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if candidate <= local:
        candidate = (local + timedelta(days=1)).replace(hour=hour, minute=minute, second=0, microsecond=0)
    return candidate.astimezone(UTC)


def _sweep_turn(runtime: Runtime, every: timedelta) -> None:
    now = datetime.now(UTC)
    try:
        taken = take_turn(runtime.engine, SWEEP_JOB, now=now, next_due=now + every)
    except Exception:
        log.exception("could not ask for the sweep's turn", extra={"event": "sweep.turn_failed"})
        return
    if taken:
        _sweep(runtime, now)


def _retention_turn(runtime: Runtime) -> None:
    now = datetime.now(UTC)
    next_due = next_retention_at(now, runtime.settings.timezone)
    try:
        taken = take_turn(runtime.engine, RETENTION_JOB, now=now, next_due=next_due)
    except Exception:
        log.exception("could not ask for retention's turn", extra={"event": "retention.turn_failed"})
        return
    if taken:
        _retention(runtime)


def start_scheduler(
    runtime: Runtime,
    *,
    delivery_interval_seconds: float | None = DELIVERY_POLL_SECONDS,
    sweep_interval_seconds: float | None = None,
) -> BackgroundScheduler:
    """Start the jobs: outbox delivery (on an interval and whenever kicked; none when the
    interval is None, for a test that leaves delivery to another process), the sweep (every
    `sweep_interval_minutes` of `schedules/chasing.yaml`, or SWEEP_INTERVAL_SECONDS) and
    nightly retention, the last two once per turn across every process."""
    # A kick while a pass is running is skipped by design (the pass picks the work up);
    # APScheduler would log each skip as a warning.
    logging.getLogger("apscheduler.scheduler").setLevel(logging.ERROR)
    scheduler = BackgroundScheduler(timezone=runtime.settings.timezone)
    sweep_every = timedelta(
        seconds=sweep_interval_seconds
        or runtime.settings.sweep_interval_seconds
        or runtime.partnership.chasing.sweep_interval_minutes * 60
    )
    now = datetime.now(UTC)
    # The first turns, unless the database already has them: one interval after the first
    # start, and the coming night.
    schedule_first_turn(runtime.engine, SWEEP_JOB, now + sweep_every)
    schedule_first_turn(runtime.engine, RETENTION_JOB, next_retention_at(now, runtime.settings.timezone))
    ask_every = max(0.1, min(LONGEST_ASK_SECONDS, sweep_every.total_seconds() / 4))
    common = {"args": [runtime], "max_instances": 1, "coalesce": True, "misfire_grace_time": None}
    scheduler.add_job(
        _sweep_turn,
        "interval",
        seconds=ask_every,
        id="sweep-turn",
        **{**common, "args": [runtime, sweep_every]},
    )
    if delivery_interval_seconds is not None:
        scheduler.add_job(
            _deliver, "interval", seconds=delivery_interval_seconds, id=DELIVERY_JOB_ID, **common
        )
    scheduler.add_job(
        _retention_turn, "interval", seconds=RETENTION_ASK_SECONDS, id="retention-turn", **common
    )
    if delivery_interval_seconds is not None:
        try:  # a restart: what this host's dead process held is free at once
            reclaim_dead_leases(runtime.engine, runtime.clock.now())
        except Exception:
            log.exception("could not free dead processes' leases", extra={"event": "outbox.reclaim_failed"})
    scheduler.start()
    runtime.scheduler = scheduler
    runtime.kick_delivery()
    return scheduler
