"""The composition root: the one place the bot's runtime is put together.

Every entry point (`run` over HTTP or Socket Mode, `sweep`, `retention`, `outbox`, the demo,
`OfflineBot` in the tests, the benchmarks) gets its runtime from `build_runtime`, so none
can forget a part: the partnership's schedules, the migrated database, the clock, the Web
API client, and every capability's delivery effects (how each outbox entry is rendered
from the record, sent, and recorded once Slack has it). A process that only sweeps
delivers whole messages, as one that serves Slack does.
"""

from __future__ import annotations

from slack_sdk import WebClient

from bot.clock import Clock, SystemClock
from bot.database import make_engine, migration_state, session_scope, upgrade
from bot.runtime import Runtime
from bot.schedules import Partnership, load_partnership
from bot.settings import Settings
from bot.slack.client import make_web_client
from bot.working_days import ServiceCalendar, StatutoryCalendar


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


def install_delivery(runtime: Runtime) -> None:
    """Teach the runtime's courier every capability's messages: convening (invitations,
    status, channels, calendar files and e-mail), minutes (document uploads, for the
    panel's documents and the timeliness report too), the timeliness report's charts,
    the partners' e-mails with their links and the desk's sign-in DM, and telling the panel
    administrators of a message that failed for good."""
    from bot.convening import effects as convening
    from bot.delivery.failures import announce_failure
    from bot.minutes import effects as minutes
    from bot.minutes import record_documents
    from bot.panel import records  # noqa: F401  (registers the panel's document kinds)
    from bot.partners import effects as partners
    from bot.partners import listeners as desk
    from bot.timeliness import effects as timeliness

    convening.install(runtime)
    minutes.install(runtime)
    record_documents.install(runtime)
    timeliness.install(runtime)
    partners.install(runtime)
    desk.install(runtime)
    runtime.courier.on_failed(announce_failure)  # nothing fails silently


def build_runtime(
    settings: Settings,
    *,
    clock: Clock | None = None,
    client: WebClient | None = None,
    migrate: bool = True,
    sync: bool = True,
) -> Runtime:
    """Load the schedules, open the database (migrated), sync the partnership into it, and
    assemble the runtime with everything delivery needs. HTTP worker processes pass
    `migrate=False, sync=False`: their master did both once, before forking them."""
    from bot.partnership.service import sync_partnership

    partnership = load_partnership(settings.schedules_dir)
    engine = make_engine(settings.effective_database_url)
    if migrate and migration_state(engine) != "at head":  # one query when there is nothing to do
        upgrade(engine)
    clock = clock or SystemClock()
    if sync:
        with session_scope(engine) as session:
            sync_partnership(session, partnership, now=clock.now())
    runtime = Runtime(
        settings=settings,
        engine=engine,
        clock=clock,
        client=client or make_web_client(settings.slack_bot_token, settings.slack_api_url),
        partnership=partnership,
        calendar=calendar_for(partnership, settings.timezone),
        statutory_calendar=statutory_calendar_for(partnership, settings.timezone),
        delivery_workers=settings.delivery_threads,
    )
    install_delivery(runtime)
    return runtime
