"""What a Slack request asks for, read from its body once, in the guard's terms.

Every command, button, form and event is reduced to a `Requested`: its kind, its name
(the command and sub-command, the button's action id, the form's callback id, the event
type) and the text that names a record (a reference typed after a command, a button's
value, a form's private metadata). Hostile bodies never raise here: what is missing or of
the wrong type reads as empty, so the guard refuses rather than fails.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from bot.schedules import Partnership


class Kind(StrEnum):
    """The kinds of request Slack sends the bot."""

    COMMAND = "command"  # a slash command
    BUTTON = "button"  # block_actions: a button, a menu, a date picker
    FORM = "form"  # view_submission: a modal's submit
    FORM_CLOSED = "form_closed"  # view_closed
    EVENT = "event"  # an Events API delivery
    PAGE = "page"  # a partner page (bot.partners): shown, or its form sent
    OTHER = "other"  # anything else (shortcuts, options...): no rule, so refused


# A command's grammar: its text (and the partnership, for reference formats) to the
# sub-command asked for and the rest (a reference, or what was typed for help to quote).
Grammar = Callable[[str, Partnership], tuple[str, str]]


@dataclass(frozen=True)
class Requested:
    """One request: who sent it, what it asks for, and the text that names a record."""

    kind: Kind
    name: str  # "/strategy record", "action_done", "strategy_new", "app_home_opened"
    user_id: str = ""
    team_id: str = ""
    argument: str = ""  # commands: what follows the sub-command (e.g. SD-2026-0001)
    value: str = ""  # buttons: the value of the button (or of the option chosen)
    metadata: str = ""  # forms, and buttons inside a form: the view's private_metadata
    trigger_id: str = ""
    channel_id: str = ""

    @property
    def key(self) -> tuple[Kind, str]:
        return self.kind, self.name


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _team(body: Mapping[str, Any]) -> str:
    return _text(_dict(body.get("team")).get("id")) or _text(body.get("team_id"))


def read_request(
    body: Mapping[str, Any], grammars: Mapping[str, Grammar], partnership: Partnership
) -> Requested:
    """The `Requested` a Slack body stands for; never raises on a malformed body."""
    if "command" in body:
        command = _text(body.get("command"))
        grammar = grammars.get(command)
        sub, argument = grammar(_text(body.get("text")), partnership) if grammar else ("", "")
        return Requested(
            Kind.COMMAND,
            f"{command} {sub}".strip(),
            user_id=_text(body.get("user_id")),
            team_id=_team(body),
            argument=argument,
            trigger_id=_text(body.get("trigger_id")),
            channel_id=_text(body.get("channel_id")),
        )
    kind = body.get("type")
    user_id = _text(_dict(body.get("user")).get("id"))
    view = _dict(body.get("view"))
    if kind == "block_actions":
        actions = body.get("actions")
        first = _dict(actions[0]) if isinstance(actions, list) and actions else {}
        value = _text(first.get("value")) or _text(_dict(first.get("selected_option")).get("value"))
        return Requested(
            Kind.BUTTON,
            _text(first.get("action_id")),
            user_id=user_id,
            team_id=_team(body),
            value=value,
            metadata=_text(view.get("private_metadata")),
            trigger_id=_text(body.get("trigger_id")),
            channel_id=_text(_dict(body.get("channel")).get("id")),
        )
    if kind in ("view_submission", "view_closed"):
        return Requested(
            Kind.FORM if kind == "view_submission" else Kind.FORM_CLOSED,
            _text(view.get("callback_id")),
            user_id=user_id,
            team_id=_team(body),
            metadata=_text(view.get("private_metadata")),
        )
    if kind == "event_callback":
        event = _dict(body.get("event"))
        return Requested(
            Kind.EVENT,
            _text(event.get("type")),
            user_id=_text(event.get("user")),
            team_id=_team(body),
        )
    return Requested(Kind.OTHER, _text(kind), user_id=user_id, team_id=_team(body))
