"""Periodic work on APScheduler; what is due always lives in the database, not here."""

from __future__ import annotations

import logging
from collections.abc import Callable

from apscheduler.schedulers.background import BackgroundScheduler

from bot.runtime import DELIVERY_JOB_ID, Runtime

log = logging.getLogger(__name__)


def _deliver(runtime: Runtime) -> None:
    try:
        sent = runtime.deliver_now()
        if sent:
            log.info("delivered %d outbox message(s)", sent)
    except Exception:
        log.exception("outbox delivery pass failed; it will run again")


def sweeps() -> tuple[Callable[[Runtime], int], ...]:
    """Every periodic sweep, in the order they run: the panel's cycle first, so a sitting
    opened now is chased and reminded in the same pass."""
    from bot.actions.jobs import send_digests, sweep_actions
    from bot.agency_updates.jobs import sweep_agency_updates
    from bot.cases.jobs import sweep_reviews
    from bot.convening.jobs import sweep_invitations
    from bot.minutes.jobs import sweep_minutes
    from bot.panel.jobs import sweep_panels

    return (
        sweep_panels,
        sweep_invitations,
        sweep_agency_updates,
        sweep_minutes,
        sweep_reviews,
        sweep_actions,
        send_digests,
    )


def _sweep(runtime: Runtime) -> None:
    for sweep in sweeps():
        try:
            sweep(runtime)
        except Exception:
            log.exception("%s failed; it will run again", sweep.__name__)


def _retention(runtime: Runtime) -> None:
    from bot.retention.jobs import run_retention

    try:
        removed = run_retention(runtime, dry_run=False)
        if removed:
            log.info("retention removed %d item(s)", len(removed))
    except Exception:
        log.exception("retention failed; it will run again tomorrow")


def start_scheduler(
    runtime: Runtime,
    *,
    delivery_interval_seconds: float | None = 30,
    sweep_interval_seconds: float | None = None,
) -> BackgroundScheduler:
    """Start the jobs: outbox delivery (on an interval and whenever kicked; none when the
    interval is None, for a test that leaves delivery to another process) and the sweep
    that chases invitations (every `sweep_interval_minutes` of `schedules/chasing.yaml`)."""
    # A kick while a pass is running is skipped by design (the pass picks the work up);
    # APScheduler would log each skip as a warning.
    logging.getLogger("apscheduler.scheduler").setLevel(logging.ERROR)
    scheduler = BackgroundScheduler(timezone=runtime.settings.timezone)
    sweep_every = sweep_interval_seconds or runtime.partnership.chasing.sweep_interval_minutes * 60
    scheduler.add_job(
        _sweep,
        "interval",
        seconds=sweep_every,
        args=[runtime],
        id="sweep-invitations",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
    )
    if delivery_interval_seconds is not None:
        scheduler.add_job(
            _deliver,
            "interval",
            seconds=delivery_interval_seconds,
            args=[runtime],
            id=DELIVERY_JOB_ID,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
        )
    scheduler.add_job(
        _retention,
        "cron",
        hour=2,
        minute=30,
        args=[runtime],
        id="retention",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
    )
    scheduler.start()
    runtime.scheduler = scheduler
    runtime.kick_delivery()
    return scheduler
