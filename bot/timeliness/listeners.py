"""Slack surface of the timeliness report: `/strategy report [period]`, the period select
and the download button (in the reply and on the Home tab), and the Home tab section.

Panel administrators see every agency; an agency lead sees their own agency against the
partnership. Everyone else is refused, with the same words, and the refusal is audited."""

from __future__ import annotations

import uuid
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.models.blocks import Block

from bot.access import Access, Rule, button, command, role
from bot.audit.service import record
from bot.database import session_scope
from bot.minutes.effects import send_privately
from bot.partnership.service import Member
from bot.runtime import Runtime
from bot.slack.followup import after_ack
from bot.slack.replies import tell
from bot.timeliness import effects
from bot.timeliness.periods import Period
from bot.timeliness.service import (
    ADMIN,
    LEAD,
    audit_viewed,
    may_report,
    measures_for,
    period_asked,
    report_documents,
    scope_of,
    today,
)
from bot.timeliness.views import DOWNLOAD, PERIOD_SELECT, home_section, message, report_blocks

MAY_REPORT = role(ADMIN, LEAD)
REFUSAL = "Only panel administrators and agency leads can see the partnership's timeliness report."
REFUSED = "timeliness.report_refused"
RULES = (
    Rule(command("/strategy", "report"), MAY_REPORT, refusal=REFUSAL, act=REFUSED),
    Rule(button(PERIOD_SELECT), MAY_REPORT, refusal=REFUSAL, act=REFUSED),
    Rule(button(DOWNLOAD), MAY_REPORT, refusal=REFUSAL, act=REFUSED),
)
UNKNOWN_PERIOD = (
    "I do not know that period. Try `/strategy report` (last month), `/strategy report 2026-11`, "
    "`/strategy report quarter:2026-4` or `/strategy report ytd`; a period cannot be in the future."
)


def _as_at(runtime: Runtime) -> str:
    return runtime.statutory_calendar.local(runtime.clock.now()).strftime("%d %B %Y %H:%M")


def show_report(
    runtime: Runtime, access: Access, period: Period, *, reply: Respond | None, replace: bool = False
) -> None:
    """Count the period, answer with the figures (in the reply, else by direct message) and
    queue the chart; the view is audited. Runs after the acknowledgement."""
    member = access.member
    assert member is not None  # the guard let only administrators and leads through
    scope, now, user = scope_of(member), runtime.clock.now(), access.actor.slack_user_id
    why = uuid.uuid4().hex[:12]
    with session_scope(runtime.engine) as session:
        measures = measures_for(session, runtime, period, now)
        blocks = report_blocks(measures, agency_code=scope, as_at=_as_at(runtime), today=today(runtime))
        reply_message = message(blocks, f"Timeliness: {period.label}")
        if reply is None:
            effects.send_figures(session, reply_message, slack_id=user, now=now, why=why)
        effects.send_chart(session, measures, slack_id=user, agency_code=scope, now=now, why=why)
        audit_viewed(session, runtime, access.actor, period, scope, "timeliness.report_viewed")
    runtime.kick_delivery()
    if reply is not None:
        reply(response_type="ephemeral", replace_original=replace, **reply_message)


def send_documents(runtime: Runtime, access: Access, period: Period) -> str:
    """The Word report and the rows' CSV, privately; each download audited."""
    member = access.member
    assert member is not None
    scope, now, user = scope_of(member), runtime.clock.now(), access.actor.slack_user_id
    why = f"download-{uuid.uuid4().hex[:8]}"
    with session_scope(runtime.engine) as session:
        measures = measures_for(session, runtime, period, now)
        documents = report_documents(session, runtime, measures, member=member, agency_code=scope)
        for document in documents:
            send_privately(session, document, user, "", now, why=why)
            record(
                session,
                at=now,
                actor=access.actor,
                act="document.downloaded",
                record_type="document",
                record_id=document.id or 0,
                details={"kind": document.kind, "period": period.code, "scope": scope or "partnership"},
            )
    runtime.kick_delivery()
    return f"Sending you {documents[0].filename} and {documents[1].filename} in a direct message."


def answer_command(
    runtime: Runtime,
    ack: Ack,
    command_body: dict[str, Any],
    client: WebClient,
    respond: Respond,
    access: Access,
) -> None:
    """`/strategy report [period]` (the guard has checked who is asking)."""
    period = period_asked(runtime, access.requested.argument)
    if period is None:
        ack(response_type="ephemeral", text=UNKNOWN_PERIOD)
        return
    ack()
    after_ack(runtime, command_body, client, show_report, runtime, access, period, reply=respond)


def home_blocks(session: Any, runtime: Runtime, member: Member | None) -> list[Block] | None:
    """The Home tab's section for administrators and agency leads (None for anyone else):
    the last complete month's headline, with the period select."""
    if not may_report(member):
        return None
    assert member is not None
    period = period_asked(runtime, "")
    assert period is not None
    measures = measures_for(session, runtime, period)
    return home_section(measures, agency_code=scope_of(member), today=today(runtime))


def register(app: App, runtime: Runtime) -> None:
    """The select and the button; `/strategy report` arrives through the strategy command."""

    @app.action(PERIOD_SELECT)
    def choose_period(
        ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, access: Access
    ) -> None:
        ack()
        chosen = ((body.get("actions") or [{}])[0].get("selected_option") or {}).get("value", "")
        period = period_asked(runtime, chosen) if ":" in chosen else None
        if period is None:
            after_ack(runtime, body, client, tell, body, client, UNKNOWN_PERIOD)
            return
        in_message = bool(body.get("response_url"))
        after_ack(
            runtime,
            body,
            client,
            show_report,
            runtime,
            access,
            period,
            reply=respond if in_message else None,
            replace=in_message,
        )

    @app.action(DOWNLOAD)
    def download(ack: Ack, body: dict[str, Any], client: WebClient, access: Access) -> None:
        ack()
        period = period_asked(runtime, access.requested.value) if ":" in access.requested.value else None
        if period is None:
            after_ack(runtime, body, client, tell, body, client, UNKNOWN_PERIOD)
            return

        def send() -> None:
            tell(body, client, send_documents(runtime, access, period))

        after_ack(runtime, body, client, send)
