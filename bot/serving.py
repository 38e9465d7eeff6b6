"""HTTP mode in production: a gunicorn master and `HTTP_WORKERS` pre-forked worker processes.

The master validates the settings and schedules, migrates the database and syncs the
partnership once, then forks; it starts no threads of its own. Each worker builds its own
runtime (engine, Slack client, listener and follow-up pools, scheduler) from the one
composition root and serves its one Flask app (`bot.web.build_web_app`: Slack's events
through Bolt's Flask adapter, the health checks, the partner pages) on gunicorn's threaded
worker. The workers share nothing but the database: outbox entries are leased, sweep steps
claimed, link tries counted, and each periodic job's turn is taken from the database
(`bot.periodic`), so scheduled work is done once.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from gunicorn import glogging
from gunicorn.app.base import BaseApplication

from bot.runtime import Runtime
from bot.settings import Settings

log = logging.getLogger(__name__)


class _GunicornLogs(glogging.Logger):
    """gunicorn's own lines (workers booting, exiting) through the bot's handler, so every
    line is JSON (or text) like the rest; no access log (Slack's requests are signed, the
    bot logs what it does with them)."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for logger in (self.error_log, self.access_log):
            logger.handlers.clear()
            logger.propagate = True


class BotWorkers(BaseApplication):
    """gunicorn, configured from the settings rather than a file or the command line."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.runtime: Runtime | None = None  # this worker's, once it has loaded
        self._pools: list[ThreadPoolExecutor] = []
        super().__init__()

    def load_config(self) -> None:
        settings = self.settings
        options: dict[str, Any] = {
            "bind": [f"{settings.host}:{settings.port}"],
            "workers": settings.http_workers,
            "worker_class": "gthread",
            "threads": settings.http_threads,
            "proc_name": "safeguarding-bot",
            "logger_class": _GunicornLogs,
            # Like every library's (bot.logging_setup), gunicorn's lines from WARNING up.
            "loglevel": "error" if settings.log_level == "ERROR" else "warning",
            "accesslog": None,
            "errorlog": "-",
            # A stop lets requests in progress and the work they handed over finish.
            "graceful_timeout": 30,
            "timeout": 60,
            "worker_exit": self._worker_exit,
        }
        for name, value in options.items():
            self.cfg.set(name, value)

    def load(self) -> Any:
        """In each worker, after the fork: its own runtime, Slack app and scheduler."""
        from bot.bootstrap import freeze_startup_heap
        from bot.composition import build_runtime
        from bot.health import readiness_for
        from bot.partners.site import build_site
        from bot.scheduler import start_scheduler
        from bot.slack.app import build_app
        from bot.web import build_web_app

        settings = self.settings
        # The master migrated the database and synced the partnership before forking.
        runtime = build_runtime(settings, migrate=False, sync=False)
        listeners = ThreadPoolExecutor(settings.listener_threads, thread_name_prefix="bot-listener")
        followups = ThreadPoolExecutor(settings.followup_threads, thread_name_prefix="bot-followup")
        self._pools = [listeners, followups]
        runtime.followups = followups
        app = build_app(runtime, listener_executor=listeners)
        start_scheduler(runtime)
        self.runtime = runtime
        freeze_startup_heap()
        log.info("worker ready", extra={"event": "worker.ready"})
        return build_web_app(
            app,
            runtime.engine,
            runtime.acknowledgements,
            signing_secret=settings.slack_signing_secret,
            readiness=readiness_for(runtime),
            site=build_site(runtime),
        )

    def _worker_exit(self, _server: Any, _worker: Any) -> None:
        """Nothing acknowledged is cut off half-way: listeners, then what they handed over."""
        for pool in self._pools:
            pool.shutdown(wait=True)
        if self.runtime is not None:
            if self.runtime.scheduler is not None:
                self.runtime.scheduler.shutdown(wait=False)
            self.runtime.engine.dispose()
        log.info(
            "worker stopped: listener and follow-up pools closed, scheduler stopped, database closed",
            extra={"event": "worker.stopped"},
        )


def serve_http(settings: Settings, prepared: Runtime) -> int:
    """Serve until stopped (SIGTERM or SIGINT to the master). `prepared` is the master's
    runtime, used only to migrate and sync; its connections are closed before the fork."""
    prepared.engine.dispose()
    log.info(
        "serving Slack over HTTP",
        extra={
            "event": "http.start",
            "host": settings.host,
            "port": settings.port,
            "workers": settings.http_workers,
            "threads": settings.http_threads,
        },
    )
    BotWorkers(settings).run()
    return 0
