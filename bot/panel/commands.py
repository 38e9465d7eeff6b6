"""Parsing `/panel` text into a sub-command; no Slack here, so it is tested directly."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.schedules import Partnership

USAGE = (
    "`/panel refer` refer a child or a context · `/panel referrals` referrals to decide "
    "(administrators) · `/panel next` the next sittings · `/panel record REF` record a sitting · "
    "`/panel minutes REF` its minutes · `/panel missing CASE` a missing episode (Locate) · "
    "`/panel operation PO-…` a police operation (police and administrators)"
)


def grammar(text: str, _partnership: Partnership | None = None) -> tuple[str, str]:
    """`help`, `refer`, `referrals`, `next`, `record REF`, `minutes REF`, `missing CASE`,
    `operation REF`, or
    `usage`."""
    words = text.split()
    name = words[0].lower() if words else "help"
    if name in {"help", "refer", "referrals", "next", "perpetrator", "perpetrators"} and len(words) <= 1:
        return name, ""
    if name in {"record", "minutes", "missing", "operation"} and len(words) == 2:
        return name, words[1].upper()
    return "usage", ""
