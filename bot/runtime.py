"""What every listener and job needs, built once: settings, database, clock, Slack client."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from slack_sdk import WebClient
from sqlalchemy.engine import Engine

from bot.clock import Clock
from bot.delivery.service import Courier
from bot.settings import Settings

if TYPE_CHECKING:
    from apscheduler.schedulers.background import BackgroundScheduler

    from bot.schedules import Partnership
    from bot.working_days import ServiceCalendar, StatutoryCalendar

log = logging.getLogger(__name__)

DELIVERY_JOB_ID = "deliver-outbox"
# How long a delivery waits, before each call, for no acknowledgement to be in progress.
DELIVERY_PATIENCE_SECONDS = 0.25


class AcknowledgementsFirst:
    """Slack waits at most three seconds for an acknowledgement; the outbox can wait a
    moment. The web app counts the Slack requests it is answering (`answering`), and
    delivery, before each call, waits until none is (`wait_for_quiet`), never longer than
    its patience: so couriers, which render, write and call Slack, do not compete with an
    acknowledgement in progress for the interpreter and the database, and are delayed
    under load but never stopped."""

    def __init__(self) -> None:
        self._answering = 0
        self._quiet = threading.Condition()

    @contextmanager
    def answering(self) -> Iterator[None]:
        with self._quiet:
            self._answering += 1
        try:
            yield
        finally:
            with self._quiet:
                self._answering -= 1
                if self._answering == 0:
                    self._quiet.notify_all()

    def wait_for_quiet(self, patience: float = DELIVERY_PATIENCE_SECONDS) -> bool:
        """Block until no request is being answered, or `patience` has passed (False)."""
        with self._quiet:
            return self._quiet.wait_for(lambda: self._answering == 0, timeout=patience)


@dataclass
class Runtime:
    """The bot's collaborators; services take what they need from it explicitly."""

    settings: Settings
    engine: Engine
    clock: Clock
    client: WebClient
    partnership: Partnership
    # Chasing, reminders and when messages go out: working hours and closure days.
    calendar: ServiceCalendar
    # Every statutory date (urgency deadlines, ICPC, 45-day assessment, census): weekends
    # and bank holidays only. Different types, so one is never passed for the other.
    statutory_calendar: StatutoryCalendar
    courier: Courier = field(default_factory=Courier)
    delivery_workers: int = 8
    scheduler: BackgroundScheduler | None = None
    # Work that follows an acknowledgement (see `after_ack`); whoever starts the bot owns it.
    followups: Executor | None = None
    acknowledgements: AcknowledgementsFirst = field(default_factory=AcknowledgementsFirst)
    _delivery_lock: threading.Lock = field(default_factory=threading.Lock)

    def after_ack(self, work: Callable[[], object]) -> None:
        """Run `work` once the caller has acknowledged, on the follow-up pool rather than
        the listener thread, so the next request's look-ups and acknowledgement never wait
        for a thread that is busy with the last one's writes and Slack calls. Without a
        pool (or once it is shut down) the work runs here and now."""
        if self.followups is not None:
            try:
                self.followups.submit(work)
                return
            except RuntimeError:  # shut down: the bot is stopping; finish it here
                log.info(
                    "follow-up pool closed; running the work on the listener thread",
                    extra={"event": "followup.inline"},
                )
        work()

    def deliver_now(self) -> int:
        """Send what the outbox owes Slack; one delivery pass at a time per process."""
        with self._delivery_lock:
            # SQLite has one writer at a time: two couriers keep it busy without making
            # acknowledgements queue behind eight of them.
            workers = (
                min(self.delivery_workers, 2)
                if self.engine.dialect.name == "sqlite"
                else self.delivery_workers
            )
            return self.courier.deliver_pending(
                self.engine,
                self.client,
                self.clock,
                workers=workers,
                pause=self.acknowledgements.wait_for_quiet,
            )

    def kick_delivery(self) -> None:
        """Ask for a delivery pass soon, after the caller's commit (never inside a request)."""
        if self.scheduler is None or not self.scheduler.running:
            return
        job = self.scheduler.get_job(DELIVERY_JOB_ID)
        if job is not None:
            job.modify(next_run_time=datetime.now(self.scheduler.timezone))
