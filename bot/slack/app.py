"""Builds the Bolt app: one factory, so production, the demo and tests run the same code."""

from __future__ import annotations

import logging
from concurrent.futures import Executor
from types import ModuleType

from slack_bolt import App

from bot.access import Rules, install_guard
from bot.runtime import Runtime
from bot.slack.acknowledging import AcknowledgingApp
from bot.slack.errors import install_error_handler, report_error

log = logging.getLogger(__name__)


def capabilities() -> tuple[ModuleType, ...]:
    """Each capability's Slack surface: its listeners (`register`), the rules of who may
    use them (`RULES`) and its slash command's grammar (`COMMANDS`)."""
    from bot.actions import listeners as actions
    from bot.agency_updates import listeners as agency_updates
    from bot.cases import listeners as cases
    from bot.convening import listeners as convening
    from bot.home import listeners as home
    from bot.minutes import listeners as minutes
    from bot.panel import listeners as panel
    from bot.panel import missing_listeners as missing
    from bot.panel import stepup_listeners as stepup
    from bot.partners import listeners as partners
    from bot.strategy import listeners as strategy
    from bot.timeliness import listeners as timeliness

    return (
        convening,
        agency_updates,
        minutes,
        actions,
        strategy,
        cases,
        panel,
        missing,
        stepup,
        timeliness,
        home,
        partners,
    )


def build_app(
    runtime: Runtime, *, socket_mode: bool = False, listener_executor: Executor | None = None
) -> App:
    """A Bolt app whose Web API client is the runtime's (Slack's URL or a local server).

    Every request passes the guard (`bot.access`) before any listener. Listeners run on
    `listener_executor`, and what follows their acknowledgement on `runtime.followups`
    (see `bot.slack.followup`); whoever stops the bot shuts both down, listeners first,
    so nothing is cut off half-way.
    """
    settings = runtime.settings
    templates_dir = settings.templates_dir
    app = AcknowledgingApp(
        # Listeners run on this pool and the request answers on their ack (`bot.slack.acknowledging`).
        pool=listener_executor,
        report=lambda error, body, client: report_error(templates_dir, error, body, client),
        name="safeguarding-bot",  # given, so Bolt does not inspect the call stack for one
        client=runtime.client,
        signing_secret=settings.slack_signing_secret or None,
        # HTTP requests are verified twice: strictly by `bot.web` before Bolt sees them,
        # and again by Bolt. Socket Mode needs no signature.
        request_verification_enabled=not socket_mode,
        token_verification_enabled=False,
        raise_error_for_unhandled_request=False,
        ignoring_self_events_enabled=True,
        # A name outside `bot.`: Bolt's own messages are third-party logs (see logging_setup).
        logger=logging.getLogger("slack_bolt.App"),
    )
    install_error_handler(app, settings.templates_dir)
    parts = capabilities()
    install_guard(app, runtime, Rules.of(*parts))
    for capability in parts:
        capability.register(app, runtime)
    return app
