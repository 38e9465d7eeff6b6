"""Slack surface of the partner pages: the Home tab's button that sends a panel
administrator or agency lead a one-time sign-in link to the administrators' desk, by DM, so
Slack vouches for who they are. The link is made when the DM is sent and never stored."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient

from bot.access import Access, Rule, button, role
from bot.audit.service import record
from bot.database import session_scope
from bot.delivery.models import OutboxMessage
from bot.delivery.service import enqueue
from bot.partners.links import DESK, issue_link, token_for
from bot.partners.models import PartnerLink
from bot.runtime import Runtime
from bot.slack.followup import after_ack

DESK_ROLES = ("panel_admin", "agency_lead")
DESK_SIGN_IN = "desk_sign_in"
DESK_LINK_MINUTES = 15
RULES = (
    Rule(
        button(DESK_SIGN_IN),
        role(*DESK_ROLES),
        refusal="The desk is for panel administrators and agency leads.",
        act="desk.sign_in_refused",
    ),
)


def install(runtime: Runtime) -> None:
    """The courier's sender for the sign-in DM: the token is made as it is sent."""

    @runtime.courier.sender("desk.dm")
    def send(client: WebClient, message: OutboxMessage, arguments: dict[str, Any]) -> dict[str, Any]:
        from bot.database import read_scope

        with read_scope(runtime.engine) as session:
            link = session.get(PartnerLink, int(arguments["link_id"]))
            token = token_for(runtime.settings.site_secret, link) if link is not None else ""
        if not token:
            return {"ok": True}
        marking = runtime.partnership.settings.protective_marking
        url = f"{runtime.settings.public_base_url.rstrip('/')}/p/{token}"
        response = client.chat_postMessage(
            channel=arguments["channel"],
            text=f"*{marking}* · Your sign-in link to the administrators' desk: <{url}|open the desk>. "
            f"It is for you only and works once, within {DESK_LINK_MINUTES} minutes.",
        )
        return {"ok": True, "channel": response.get("channel"), "ts": response.get("ts")}


def register(app: App, runtime: Runtime) -> None:
    @app.action(DESK_SIGN_IN)
    def sign_in(ack: Ack, body: dict[str, Any], client: WebClient, access: Access) -> None:
        ack()
        member = access.known_member

        def send_link() -> None:
            now = runtime.clock.now()
            with session_scope(runtime.engine) as session:
                link = issue_link(
                    session,
                    person_id=member.person_id,
                    purpose=DESK,
                    subject_id=None,
                    now=now,
                    lifetime=timedelta(minutes=DESK_LINK_MINUTES),
                )
                enqueue(
                    session,
                    key=f"desk-link:{link.id}",
                    method="desk.dm",
                    arguments={"channel": member.slack_user_id, "link_id": link.id},
                    now=now,
                )
                record(
                    session,
                    at=now,
                    actor=access.actor,
                    act="desk.link_sent",
                    record_type="partner_link",
                    record_id=link.id or 0,
                )
            runtime.kick_delivery()

        after_ack(runtime, body, client, send_link)
