"""Slack surface of strategy discussions: the `/strategy` command."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.runtime import Runtime
from bot.strategy.commands import AVAILABLE, parse
from bot.wording import render_message


def register(app: App, runtime: Runtime) -> None:
    """Attach the listeners; each acknowledges first."""
    templates = runtime.settings.templates_dir

    @app.command("/strategy")
    def strategy_command(ack: Ack, command: dict[str, Any]) -> None:
        request = parse(command.get("text", ""))
        if request.name in {"help", "unknown"}:
            text = render_message(
                templates,
                "strategy_help.md.j2",
                commands=AVAILABLE,
                unknown=request.argument if request.name == "unknown" else "",
            )
            ack(response_type="ephemeral", text=text)
            return
        ack()

    for name in ("/actions", "/panel"):

        @app.command(name)
        def not_yet(ack: Ack, command: dict[str, Any]) -> None:
            ack(
                response_type="ephemeral",
                text=render_message(
                    templates, "not_yet_available.md.j2", command=command["command"]
                ),
            )
