"""Parsing `/actions` text into a sub-command; no Slack here, so it is tested directly."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.schedules import Partnership

USAGE = (
    "`/actions` your open actions · `/actions SD-2026-0001` one discussion's actions · "
    "`/actions overdue` overdue actions (agency leads: your agency; panel administrators: all) · "
    "`/actions add SD-2026-0001` add an action"
)


def grammar(text: str, partnership: Partnership | None = None) -> tuple[str, str]:
    """`mine` (nothing typed), `overdue`, `add REF`, `show REF` (a discussion), `child REF`
    (a child's case reference, in the partnership's format), or `usage`."""
    words = text.split()
    if not words:
        return "mine", ""
    first = words[0].lower()
    if len(words) == 2 and first == "add":
        return "add", words[1].upper()
    if len(words) == 1 and first == "overdue":
        return "overdue", ""
    if len(words) == 1 and first != "help":
        typed = words[0].upper()
        if partnership is not None and partnership.settings.matches_case_reference(typed):
            return "child", typed
        return "show", typed
    return "usage", ""
