"""The whole bot on loopback: the real app over HTTP, a local Slack, a chosen database.

The demo plays its scenario through this, and the tests drive it the same way, so what the
demo shows is what the tests check.
"""

from __future__ import annotations

import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType

from bot.bootstrap import build_runtime
from bot.clock import Clock, SystemClock
from bot.local_slack import LocalSlack, SignedSlackClient
from bot.runtime import Runtime
from bot.scheduler import start_scheduler
from bot.settings import Settings, load_settings
from bot.slack.app import build_app
from bot.slack.client import make_web_client
from bot.web import BotHttpServer, BotWsgiApp

SIGNING_SECRET = "local-signing-secret"
BOT_TOKEN = "xoxb-local"


class OfflineBot:
    """Start with `with OfflineBot(...) as bot:`; `bot.slack` sends signed requests."""

    def __init__(
        self,
        *,
        database_url: str | None = None,
        clock: Clock | None = None,
        work_dir: Path | None = None,
        delivery_interval_seconds: float = 0.5,
        **setting_overrides: object,
    ) -> None:
        self._temp: tempfile.TemporaryDirectory[str] | None = None
        if work_dir is None:
            self._temp = tempfile.TemporaryDirectory(prefix="safeguarding-bot-")
            work_dir = Path(self._temp.name)
        self.work_dir = work_dir
        self.database_url = database_url or f"sqlite:///{work_dir / 'bot.sqlite3'}"
        self.clock = clock or SystemClock()
        self.delivery_interval_seconds = delivery_interval_seconds
        self.setting_overrides = setting_overrides
        self.local_slack = LocalSlack(bot_token=BOT_TOKEN)
        self.runtime: Runtime
        self.server: BotHttpServer
        self.slack: SignedSlackClient
        self.settings: Settings

    def __enter__(self) -> OfflineBot:
        self.local_slack.start()
        try:
            self.settings = load_settings(
                slack_bot_token=BOT_TOKEN,
                slack_signing_secret=SIGNING_SECRET,
                slack_app_token="",
                slack_api_url=self.local_slack.api_url,
                database_url=self.database_url,
                documents_dir=self.work_dir / "documents",
                **self.setting_overrides,
            )
            client = make_web_client(BOT_TOKEN, self.local_slack.api_url, timeout=5)
            self.runtime = build_runtime(self.settings, clock=self.clock, client=client)
            for person in self.runtime.partnership.people():
                if person.slack_user_id:
                    self.local_slack.add_user(person.slack_user_id, person.name, email=person.email)
            self.listeners = ThreadPoolExecutor(max_workers=8, thread_name_prefix="bot-listener")
            app = build_app(self.runtime, listener_executor=self.listeners)
            self.server = BotHttpServer(BotWsgiApp(app, self.runtime.engine)).start()
            start_scheduler(self.runtime, delivery_interval_seconds=self.delivery_interval_seconds)
            self.slack = SignedSlackClient(self.server.events_url, SIGNING_SECRET, self.local_slack)
        except BaseException:
            self.local_slack.stop()
            raise
        return self

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.server.stop()
        self.listeners.shutdown(wait=True)
        if self.runtime.scheduler is not None:
            self.runtime.scheduler.shutdown(wait=True)
        self.local_slack.stop()
        self.runtime.engine.dispose()
        if self._temp is not None:
            self._temp.cleanup()
