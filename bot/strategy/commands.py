"""Parsing `/strategy` text into a sub-command; no Slack here so it is tested directly."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.schedules import Partnership


@dataclass(frozen=True)
class SubCommand:
    """What `/strategy` was asked to do, and the rest of the text."""

    name: str
    argument: str = ""


@dataclass(frozen=True)
class Usage:
    usage: str
    what: str


# The sub-commands switched on in this version, in the order help lists them.
AVAILABLE: tuple[Usage, ...] = (
    Usage("/strategy new [case reference]", "convene a section 47 strategy discussion"),
    Usage("/strategy list", "your open discussions and where each stands"),
    Usage("/strategy SD-2026-0001", "one discussion: agencies, answers, chasing, deadlines"),
    Usage("/strategy CS-1234567", "the discussions concerning one child, by their case reference"),
    Usage("/strategy SD-2026-0001 updates", "the agencies' updates: submitted, late, missing"),
    Usage("/strategy record SD-2026-0001", "record attendance and decisions (chair or minute-taker)"),
    Usage("/strategy minutes SD-2026-0001", "the approved minutes and action log, sent to you privately"),
    Usage("/strategy follow-up SD-2026-0001", "convene the follow-up to a discussion (same case, same ICPC)"),
    Usage("/strategy close SD-2026-0001", "close the case of a discussion (convenor or chair)"),
    Usage(
        "/strategy report [2026-11 | quarter:2026-4 | ytd]",
        "timeliness figures and charts (panel administrators and agency leads)",
    ),
    Usage("/actions add SD-2026-0001", "add an action to a discussion"),
    Usage("/strategy help", "show this help"),
)

KNOWN = {"help", "new", "list", "report"}
WITH_REFERENCE = {"record", "minutes", "follow-up", "close"}


def parse(text: str, discussion_prefix: str = "SD") -> SubCommand:
    """Split the command text; an empty text asks for help, an unknown word is kept for it."""
    words = text.strip().split(maxsplit=1)
    if not words:
        return SubCommand("help")
    first = words[0].lower()
    rest = words[1] if len(words) > 1 else ""
    if first in KNOWN:
        return SubCommand(first, rest.strip())
    if first in WITH_REFERENCE:
        if re.fullmatch(
            rf"{re.escape(discussion_prefix)}-\d{{4}}-\d{{4,}}", rest.strip(), flags=re.IGNORECASE
        ):
            return SubCommand(first, rest.strip().upper())
        return SubCommand("unknown", text.strip()[:100])
    if re.fullmatch(rf"{re.escape(discussion_prefix)}-\d{{4}}-\d{{4,}}", words[0], flags=re.IGNORECASE):
        if rest.strip().lower() == "updates":
            return SubCommand("updates", words[0].upper())
        if rest.strip():
            return SubCommand("unknown", text.strip()[:100])
        return SubCommand("show", words[0].upper())
    return SubCommand("unknown", text.strip()[:100])


def grammar(text: str, partnership: Partnership) -> tuple[str, str]:
    """`/strategy` for the guard: the sub-command asked for, and its reference (or, for an
    unknown one, what was typed, for the help to quote)."""
    request = parse(text, partnership.settings.discussion_reference_prefix)
    typed = partnership.settings.normalise_case_reference(text)
    if request.name == "unknown" and " " not in typed and partnership.settings.matches_case_reference(typed):
        return "child", typed  # a child's case reference: the discussions concerning them
    return request.name, request.argument
