"""One guard for every command, button, form and event: who may do what, decided in one place.

A capability declares, next to its listeners, one `Rule` per request it answers (`RULES`)
and the grammar of its slash command (`COMMANDS`); `bot.slack.app` collects them and puts
the `Guard` in front of every listener. Listeners take what the guard found as `access`.
"""

from bot.access.guard import Access, Guard, install_guard
from bot.access.records import (
    Part,
    Record,
    action_by_id,
    agenda_item_by_id,
    argument,
    document_by_id,
    extension_by_id,
    invitation_by_id,
    meeting_by_id,
    meeting_by_reference,
    metadata,
    missing_episode_by_id,
    referral_by_id,
    sitting_by_id,
    sitting_by_reference,
    value,
)
from bot.access.requests import Kind, Requested
from bot.access.rules import (
    ANYONE,
    MEMBER,
    Policy,
    Rule,
    Rules,
    agency_kind,
    both,
    button,
    command,
    event,
    form,
    form_closed,
    page,
    part,
    role,
)

__all__ = [
    "ANYONE",
    "MEMBER",
    "Access",
    "Guard",
    "Kind",
    "Part",
    "Policy",
    "Record",
    "Requested",
    "Rule",
    "Rules",
    "action_by_id",
    "agency_kind",
    "agenda_item_by_id",
    "argument",
    "both",
    "button",
    "command",
    "document_by_id",
    "event",
    "extension_by_id",
    "form",
    "form_closed",
    "install_guard",
    "invitation_by_id",
    "meeting_by_id",
    "meeting_by_reference",
    "metadata",
    "missing_episode_by_id",
    "page",
    "part",
    "referral_by_id",
    "role",
    "sitting_by_id",
    "sitting_by_reference",
    "value",
]
