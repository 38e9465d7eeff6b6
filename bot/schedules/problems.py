"""Problems found in `schedules/`, each printable as one line an administrator can act on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.schedules.models import UNION_TAGS

Loc = tuple[str | int, ...]

PARTNERSHIP = "partnership.yaml"
AGENCIES = "agencies.yaml"
ROLES_FILE = "roles.yaml"
MEETING_TYPES = "meeting_types.yaml"
CHASING = "chasing.yaml"
PANELS = "panels.yaml"
RETENTION = "retention.yaml"
AGENCY_UPDATES = "agency_updates.yaml"
CASES = "cases.yaml"
PANEL_PRACTICE = "panel_practice.yaml"
FILES: tuple[str, ...] = (
    PARTNERSHIP,
    AGENCIES,
    ROLES_FILE,
    MEETING_TYPES,
    CHASING,
    PANELS,
    RETENTION,
    AGENCY_UPDATES,
    CASES,
    PANEL_PRACTICE,
)
"""Every file the bot needs, in the order problems are reported."""


@dataclass(frozen=True)
class SchedulesProblem:
    """One thing wrong: which file, which entry in it, and what is wrong."""

    file: str
    entry: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = [self.file]
        if self.line is not None:
            where.append(f"line {self.line}")
        if self.entry:
            where.append(self.entry)
        return ": ".join([*where, self.message])


class ScheduleError(Exception):
    """Raised when `schedules/` cannot be used; carries every problem, not just the first."""

    def __init__(self, problems: Sequence[SchedulesProblem]) -> None:
        self.problems: list[SchedulesProblem] = list(problems)
        super().__init__(str(self))

    def __str__(self) -> str:
        count = len(self.problems)
        head = f"{count} problem{'' if count == 1 else 's'} in the schedules:"
        return "\n".join([head, *(f"  {p}" for p in self.problems)])


def _label(item: Any, index: int) -> str:
    """Name a list entry by its code or id when it has a usable one, else by position."""
    if isinstance(item, dict):
        for key in ("code", "id"):
            value = item.get(key)
            if isinstance(value, str) and value.strip() and "]" not in value:
                return value.strip()
    return str(index)


def entry_path(raw: Any, loc: Loc, skip: frozenset[str] = frozenset()) -> str:
    """Turn a location like ('agencies', 3, 'email') into 'agencies[police-cid].email'."""
    parts: list[str] = []
    node: Any = raw
    for element in loc:
        if isinstance(element, str) and element in skip:
            continue
        if isinstance(element, int):
            item = node[element] if isinstance(node, list) and element < len(node) else None
            parts.append(f"[{_label(item, element)}]")
            node = item
        else:
            parts.append(f".{element}" if parts else str(element))
            node = node.get(element) if isinstance(node, dict) else None
    return "".join(parts)


@dataclass
class Collector:
    """Gathers problems while remembering each file's raw data to name entries by code."""

    directory: Path
    problems: list[SchedulesProblem] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)

    def display(self, filename: str) -> str:
        """How a file is named in messages, e.g. 'schedules/agencies.yaml'."""
        return f"{self.directory.name}/{filename}"

    def add(self, filename: str, loc: Loc, message: str, by_index: bool = False) -> None:
        """Record a problem at `loc`; by_index names list entries by position, not code."""
        raw = None if by_index else self.raw.get(filename)
        path = entry_path(raw, loc, UNION_TAGS)
        self.problems.append(SchedulesProblem(self.display(filename), path, message))

    def add_line(self, filename: str, line: int | None, message: str) -> None:
        """Record a problem that can only be placed by line (YAML syntax)."""
        self.problems.append(SchedulesProblem(self.display(filename), "", message, line))
