"""Assembling the bot from settings: runtime, Slack app, HTTP or Socket Mode, start-up checks."""

from __future__ import annotations

import gc
import logging
import os
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from slack_sdk import WebClient

from bot.clock import Clock, SystemClock
from bot.database import make_engine, upgrade
from bot.runtime import Runtime
from bot.schedules import Partnership, ScheduleError, check_schedules, load_partnership
from bot.settings import PROJECT_ROOT, Settings, SettingsError, load_settings
from bot.slack.client import make_web_client
from bot.working_days import ServiceCalendar, StatutoryCalendar

log = logging.getLogger(__name__)

REQUIRED_TEMPLATES = ("messages/strategy_help.md.j2", "messages/error.md.j2")


def calendar_for(partnership: Partnership, timezone: str) -> ServiceCalendar:
    """The partnership's service calendar, for chasing and reminders: its hours and closure
    days, and England and Wales bank holidays."""
    hours = partnership.working_hours
    return ServiceCalendar(
        timezone=timezone,
        day_starts=hours.start,
        day_ends=hours.end,
        closures=hours.closures,
    )


def statutory_calendar_for(partnership: Partnership, timezone: str) -> StatutoryCalendar:
    """The statutory calendar: weekends and England and Wales bank holidays only, whatever
    closure days the partnership keeps; its working day ends when the partnership's does."""
    return StatutoryCalendar(timezone=timezone, day_ends=partnership.working_hours.end)


def build_runtime(
    settings: Settings,
    *,
    clock: Clock | None = None,
    client: WebClient | None = None,
    migrate: bool = True,
) -> Runtime:
    """Load schedules, open the database (migrated) and sync the partnership into it."""
    from bot.database import session_scope
    from bot.partnership.service import sync_partnership

    partnership = load_partnership(settings.schedules_dir)
    engine = make_engine(settings.effective_database_url)
    if migrate:
        upgrade(engine)
    clock = clock or SystemClock()
    with session_scope(engine) as session:
        sync_partnership(session, partnership, now=clock.now())
    return Runtime(
        settings=settings,
        engine=engine,
        clock=clock,
        client=client or make_web_client(settings.slack_bot_token, settings.slack_api_url),
        partnership=partnership,
        calendar=calendar_for(partnership, settings.timezone),
        statutory_calendar=statutory_calendar_for(partnership, settings.timezone),
    )


def freeze_startup_heap(*, collect: bool = True) -> None:
    """Take what start-up built (modules, the app, schedules, templates) out of the garbage
    collector's sight. A full collection otherwise walks all of it, every request stalled
    meanwhile: about 0.1 s on a slow machine, a tail on the acknowledgements. Collected
    first, so no start-up garbage is kept; `gc.unfreeze()` undoes it."""
    if collect:
        gc.collect()
    gc.freeze()


def run_sweeps(runtime: Runtime) -> tuple[int, int]:
    """Every periodic sweep once, then a delivery pass: (steps taken, messages delivered)."""
    from bot.scheduler import sweeps

    taken = sum(sweep(runtime) for sweep in sweeps())
    return taken, runtime.deliver_now()


def check_everything() -> list[str]:
    """Every problem with settings, schedules and templates, one line each."""
    problems: list[str] = []
    try:
        settings = load_settings()
        schedules_dir, templates_dir = settings.schedules_dir, settings.templates_dir
    except SettingsError as error:
        problems.extend(f"settings: {part}" for part in str(error).split("; "))
        # Keep going, so one run lists every problem, not just the first kind.
        schedules_dir = Path(os.environ.get("SCHEDULES_DIR") or PROJECT_ROOT / "schedules")
        templates_dir = Path(os.environ.get("TEMPLATES_DIR") or PROJECT_ROOT / "templates")
    problems.extend(str(problem) for problem in check_schedules(schedules_dir))
    for name in REQUIRED_TEMPLATES:
        if not (templates_dir / name).is_file():
            problems.append(f"templates/{name}: missing")
    return problems


def serve(settings: Settings) -> int:
    """Run until stopped: Socket Mode when an app token is set, else HTTP on $PORT."""
    from bot.scheduler import start_scheduler
    from bot.slack.app import build_app

    socket_mode = bool(settings.slack_app_token)
    settings.require_slack(socket_mode=socket_mode)
    try:
        runtime = build_runtime(settings)
    except ScheduleError as error:
        for problem in error.problems:
            print(problem)
        return 2
    # Work after each acknowledgement runs here; more workers than Bolt's default five, so
    # acknowledgements do not queue behind slow work (benchmarks: tests/benchmarks).
    listeners = ThreadPoolExecutor(max_workers=16, thread_name_prefix="bot-listener")
    # What follows an acknowledgement (writes, Web API calls) runs on a pool of its own, so
    # it never holds a listener thread that the next request's acknowledgement needs.
    followups = ThreadPoolExecutor(max_workers=8, thread_name_prefix="bot-followup")
    runtime.followups = followups
    app = build_app(runtime, socket_mode=socket_mode, listener_executor=listeners)
    scheduler = start_scheduler(runtime)
    freeze_startup_heap()
    try:
        if socket_mode:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            log.info("starting in Socket Mode")
            SocketModeHandler(app, settings.slack_app_token).start()
        else:
            from bot.web import BotHttpServer, BotWsgiApp

            wsgi = BotWsgiApp(app, runtime.engine, runtime.acknowledgements)
            server = BotHttpServer(wsgi, host="0.0.0.0", port=settings.port)
            log.info("listening on port %d at /slack/events", server.port)
            stop = threading.Event()
            signal.signal(signal.SIGTERM, lambda *_: stop.set())
            server.start()
            try:
                stop.wait()
            finally:
                server.stop()
    finally:
        # Nothing acknowledged is cut off half-way: listeners, then what they handed over.
        listeners.shutdown(wait=True)
        followups.shutdown(wait=True)
        scheduler.shutdown(wait=False)
    return 0
