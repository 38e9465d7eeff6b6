"""Assembling the bot from settings: runtime, Slack app, HTTP or Socket Mode, start-up checks."""

from __future__ import annotations

import gc
import logging
import os
import signal
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bot.composition import build_runtime, calendar_for, statutory_calendar_for
from bot.defaults import default_schedules_dir, default_templates_dir
from bot.runtime import Runtime
from bot.schedules import ScheduleError, check_schedules
from bot.settings import Settings, SettingsError, load_settings

log = logging.getLogger(__name__)

__all__ = [
    "build_runtime",
    "calendar_for",
    "check_everything",
    "run_sweeps",
    "serve",
    "statutory_calendar_for",
]

REQUIRED_TEMPLATES = ("messages/strategy_help.md.j2", "messages/error.md.j2")


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
        schedules_dir = Path(os.environ.get("SCHEDULES_DIR") or default_schedules_dir())
        templates_dir = Path(os.environ.get("TEMPLATES_DIR") or default_templates_dir())
    problems.extend(str(problem) for problem in check_schedules(schedules_dir))
    for name in REQUIRED_TEMPLATES:
        if not (templates_dir / name).is_file():
            problems.append(f"templates/{name}: missing")
    from bot.documents.checks import template_problems

    problems.extend(template_problems(templates_dir))
    return problems


def serve(settings: Settings) -> int:
    """Run until stopped: Socket Mode (one process) when an app token is set, else HTTP on
    $HOST:$PORT from `HTTP_WORKERS` pre-forked processes (`bot.serving`)."""
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
    if not socket_mode:
        from bot.serving import serve_http

        return serve_http(settings, runtime)
    # Work after each acknowledgement runs here; more workers than Bolt's default five, so
    # acknowledgements do not queue behind slow work (benchmarks: tests/benchmarks).
    listeners = ThreadPoolExecutor(max_workers=settings.listener_threads, thread_name_prefix="bot-listener")
    # What follows an acknowledgement (writes, Web API calls) runs on a pool of its own, so
    # it never holds a listener thread that the next request's acknowledgement needs.
    followups = ThreadPoolExecutor(max_workers=settings.followup_threads, thread_name_prefix="bot-followup")
    runtime.followups = followups
    app = build_app(runtime, socket_mode=socket_mode, listener_executor=listeners)
    scheduler = start_scheduler(runtime)
    freeze_startup_heap()
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    # Slack's own Socket Mode client (slack_sdk's built-in one: no other dependency); it
    # asks `apps.connections.open` through the runtime's Web API client for its URL.
    handler = SocketModeHandler(app, settings.slack_app_token, web_client=runtime.client)
    stopping = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stopping.set()) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        log.info("starting in Socket Mode", extra={"event": "socket_mode.start"})
        handler.connect()
        while not stopping.wait(0.5):
            pass
        log.info("stopping: no more envelopes taken", extra={"event": "socket_mode.stopping"})
    finally:
        handler.close()
        # Nothing acknowledged is cut off half-way: listeners, then what they handed over.
        listeners.shutdown(wait=True)
        followups.shutdown(wait=True)
        scheduler.shutdown(wait=False)
        runtime.engine.dispose()
        for sig, action in previous.items():
            signal.signal(sig, action)
        log.info(
            "stopped: listener and follow-up pools closed, scheduler stopped, database closed",
            extra={"event": "socket_mode.stopped"},
        )
    return 0
