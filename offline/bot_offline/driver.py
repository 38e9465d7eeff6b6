"""The whole bot on loopback: the real app over HTTP, a local Slack, a chosen database.

The demo plays its scenario through this, and the tests drive it the same way, so what the
demo shows is what the tests check.
"""

from __future__ import annotations

import gc
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from bot.bootstrap import freeze_startup_heap
from bot.clock import Clock, SystemClock
from bot.composition import build_runtime
from bot.database import read_scope
from bot.delivery.service import pending_count
from bot.health import readiness_for
from bot.partners.site import build_site
from bot.runtime import Runtime
from bot.scheduler import start_scheduler
from bot.settings import Settings, load_settings
from bot.slack.app import build_app
from bot.slack.client import make_web_client
from bot.web import BotHttpServer, build_web_app
from bot_offline.local_slack import LocalSlack, SignedSlackClient
from bot_offline.local_slack.signed_client import StateValue

SIGNING_SECRET = "local-signing-secret"
# The sample case the demo and tests convene for: a fictional child, never shown in Slack.
SAMPLE_CHILD_NAME = "Jayden Okonkwo-Test"
SAMPLE_CHAIR = "U0CSC004"
BOT_TOKEN = "xoxb-local"


class TrackingExecutor(ThreadPoolExecutor):
    """A pool (listeners, follow-ups) that can say when all its work has finished."""

    def __init__(self, max_workers: int, thread_name_prefix: str = "bot-listener") -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix=thread_name_prefix)
        self._pending = 0
        self._idle = threading.Condition()

    def submit(self, fn, /, *args, **kwargs):  # noqa: ANN001, ANN201
        with self._idle:
            self._pending += 1

        def run():
            try:
                return fn(*args, **kwargs)
            finally:
                with self._idle:
                    self._pending -= 1
                    self._idle.notify_all()

        return super().submit(run)

    @property
    def pending(self) -> int:
        with self._idle:
            return self._pending

    def wait_idle(self, timeout: float = 15.0) -> bool:
        """Block until no work is running or queued; False on timeout."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout=timeout)


class OfflineBot:
    """Start with `with OfflineBot(...) as bot:`; `bot.slack` sends signed requests."""

    def __init__(
        self,
        *,
        database_url: str | None = None,
        clock: Clock | None = None,
        work_dir: Path | None = None,
        delivery_interval_seconds: float | None = 0.5,
        sweep_interval_seconds: float = 3600,
        local_slack: LocalSlack | None = None,
        listener_workers: int = 8,
        followup_workers: int = 4,
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
        self.sweep_interval_seconds = sweep_interval_seconds
        self.listener_workers = listener_workers
        self.followup_workers = followup_workers
        # A given local Slack outlives this bot: a test can restart the bot against it.
        self._owns_slack = local_slack is None
        self.local_slack = local_slack or LocalSlack(bot_token=BOT_TOKEN)
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
                **{
                    # Plain HTTP on loopback: cookies without HTTPS; a fixed key for links.
                    "web_cookie_secure": False,
                    "web_secret_key": "offline-partner-pages-key",
                    **self.setting_overrides,
                },
            )
            # The local Slack answers at once: a 500 it was told to give is retried after
            # 50 ms rather than Slack's half second, the same retries at a tenth of the wait.
            client = make_web_client(BOT_TOKEN, self.local_slack.api_url, timeout=5, retry_backoff=0.05)
            self.runtime = build_runtime(self.settings, clock=self.clock, client=client)
            for person in self.runtime.partnership.people():
                if person.slack_user_id:
                    self.local_slack.add_user(person.slack_user_id, person.name, email=person.email)
            self.listeners = TrackingExecutor(self.listener_workers)
            self.followups = TrackingExecutor(self.followup_workers, thread_name_prefix="bot-followup")
            self.runtime.followups = self.followups
            app = build_app(self.runtime, listener_executor=self.listeners)
            wsgi = build_web_app(
                app,
                self.runtime.engine,
                self.runtime.acknowledgements,
                signing_secret=SIGNING_SECRET,
                readiness=readiness_for(self.runtime),
                site=build_site(self.runtime),
            )
            self.server = BotHttpServer(wsgi).start()
            # E-mailed links point at this server (its port is known only now).
            if "public_base_url" not in self.setting_overrides:
                self.settings = self.settings.model_copy(update={"public_base_url": self.base_url})
                self.runtime.settings = self.settings
            start_scheduler(
                self.runtime,
                delivery_interval_seconds=self.delivery_interval_seconds,
                sweep_interval_seconds=self.sweep_interval_seconds,
            )
            self.slack = SignedSlackClient(self.server.events_url, SIGNING_SECRET, self.local_slack)
            # As `serve` does; no collection first (cheap for the many bots of a test run).
            freeze_startup_heap(collect=False)
        except BaseException:
            if self._owns_slack:
                self.local_slack.stop()
            raise
        return self

    def wait_idle(self, timeout: float = 15.0) -> bool:
        """Block until no listener and no follow-up work is running or queued (a listener
        may hand work to the follow-ups as it finishes); False on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            for pool in (self.listeners, self.followups):
                if not pool.wait_idle(max(0.0, deadline - time.monotonic())):
                    return False
            if self.listeners.pending == 0 and self.followups.pending == 0:
                return True

    def settle(self, passes: int = 5) -> None:
        """Let the work after each acknowledgement finish, then deliver what it queued
        (unless this bot leaves delivery to another process: no delivery interval).

        Up to `passes` rounds, but no more once nothing is left to do: every pool idle and
        no outbox entry pending (a later pass would find nothing to lease; an entry waiting
        for a retry is pending, so the passes go on as before). On PostgreSQL an idle pass
        cost about 15 ms of CPU, and most settles ended in three or four of them."""
        for _ in range(passes):
            self.wait_idle()
            if self.delivery_interval_seconds is None:
                continue
            self.runtime.deliver_now()
            if self.wait_idle(timeout=0) and self._nothing_pending():
                return

    def _nothing_pending(self) -> bool:
        with read_scope(self.runtime.engine) as session:
            return pending_count(session) == 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        gc.unfreeze()  # what this bot leaves behind can be collected again
        self.server.stop()
        self.listeners.shutdown(wait=True)
        self.followups.shutdown(wait=True)
        if self.runtime.scheduler is not None:
            self.runtime.scheduler.shutdown(wait=True)
        if self._owns_slack:
            self.local_slack.stop()
        self.runtime.engine.dispose()
        if self._temp is not None:
            self._temp.cleanup()


# ----------------------------------------------------------------- driving the bot as people do


def strategy_form_values(**overrides: Any) -> dict[str, dict[str, Any]]:
    """A complete, valid `/strategy new` submission for the sample partnership, in Slack's
    `state.values` shape; override any field by its block id."""
    fields: dict[str, Any] = {
        "case_reference": StateValue.text("CS-1234567"),
        "child_name": StateValue.text(SAMPLE_CHILD_NAME),
        "child_date_of_birth": StateValue.datepicker("2011-05-01"),
        "referred_at": StateValue.datetimepicker(int(datetime(2026, 11, 10, 9, 30, tzinfo=UTC).timestamp())),
        "reason": StateValue.text("Found out of area with unexplained cash; missing three times."),
        "concerns": StateValue.checkboxes(["county_lines", "missing"]),
        "right_help_right_time_level": StateValue.static_select("complex_significant"),
        "urgency": StateValue.static_select("urgent"),
        "start": StateValue.datetimepicker(int(datetime(2026, 11, 10, 14, 0, tzinfo=UTC).timestamp())),
        "held_already": StateValue.checkboxes([]),
        "late_reason": StateValue.text(None),
        "out_of_hours_reason": StateValue.text(None),
        "format": StateValue.radio_buttons("call"),
        "chair": StateValue.static_select(SAMPLE_CHAIR),
        "extra_agencies": StateValue.multi_static_select([]),
        "extra_people": StateValue.multi_users_select([]),
        "follows": StateValue.text(None),
    }
    fields.update(overrides)
    return {block: {"value": element} for block, element in fields.items()}


def open_strategy_form(bot: OfflineBot, user_id: str, text: str = "") -> dict[str, Any]:
    """Type `/strategy new …` and return the modal the bot asked Slack to open."""
    before = len(bot.local_slack.calls_to("views.open"))
    response = bot.slack.command("/strategy", f"new {text}".strip(), user_id=user_id)
    if response.status != 200:
        raise RuntimeError(f"/strategy new answered {response.status}")
    calls = bot.local_slack.wait_for(
        lambda calls: len([c for c in calls if c.method == "views.open"]) > before
    )
    call = [c for c in calls if c.method == "views.open"][-1]
    if not call.ok:
        raise RuntimeError(f"views.open was refused: {call.response}")
    return dict(call.response["view"])
