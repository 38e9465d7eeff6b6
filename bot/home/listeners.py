"""Slack surface of the Home tab."""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.database import session_scope
from bot.home.views import home_view, role_phrase
from bot.partnership.service import member_by_slack_id
from bot.runtime import Runtime
from bot.wording import render_message


def register(app: App, runtime: Runtime) -> None:
    """Publish the Home tab whenever someone opens it (events are acknowledged by Bolt)."""

    @app.event("app_home_opened")
    def publish_home(event: dict[str, Any], client: WebClient) -> None:
        if event.get("tab") != "home":
            return
        user_id = event["user"]
        with session_scope(runtime.engine) as session:
            member = member_by_slack_id(session, user_id)
        intro = render_message(
            runtime.settings.templates_dir,
            "home_intro.md.j2",
            member=member,
            roles=role_phrase(member) if member else "",
        )
        client.views_publish(user_id=user_id, view=home_view(intro))
