"""Parsing `/strategy` text into a sub-command; no Slack here so it is tested directly."""

from __future__ import annotations

from dataclasses import dataclass


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
AVAILABLE: tuple[Usage, ...] = (Usage("/strategy help", "show this help"),)

KNOWN = {"help"}


def parse(text: str) -> SubCommand:
    """Split the command text; an empty text asks for help, an unknown word is kept for it."""
    words = text.strip().split(maxsplit=1)
    if not words:
        return SubCommand("help")
    first = words[0].lower()
    rest = words[1] if len(words) > 1 else ""
    if first in KNOWN:
        return SubCommand(first, rest)
    return SubCommand("unknown", text.strip()[:100])
