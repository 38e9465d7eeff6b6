"""What changed since the version before, named part by part.

Each stored version keeps a fingerprint of every part it showed (`Document.sections`: a
SHA-256 per field, never the field's content). The next version compares its own
fingerprints with those and says which parts and fields changed ("Meeting details (end
time, minute-taker); Decisions; Case CS-1234567 (decision, next review)"), so a reader
of two versions knows where to look, and two versions never differ by their number alone.

A part's withheld form (the copy for those not entitled to a restricted text) is
fingerprinted by its full content (an item's ``fingerprint`` key), so the withheld copy
reports the same changes as the full one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.working_days import WorkingCalendar

FIRST_VERSION = "First version."


@dataclass(frozen=True)
class Part:
    """One heading of a document and the context keys shown under it. `itemised` names a
    list whose entries are followed one by one, by the key that names each entry."""

    label: str
    keys: tuple[str, ...]
    itemised: str = ""
    item_label: str = ""
    words: Mapping[str, str] = field(default_factory=dict)  # field key -> how a reader calls it
    ignore: tuple[str, ...] = ()  # an entry's keys that are not content (its running number)


@dataclass(frozen=True)
class PreviousVersion:
    """The version before: its number, when it was made, and its parts' fingerprints."""

    version: int
    at: datetime
    sections: Mapping[str, str]


def fingerprint(value: Any) -> str:
    """The SHA-256 of a value as the document shows it (an item that carries its own
    ``fingerprint`` is taken by that, so a withheld copy hashes like the full one)."""
    return hashlib.sha256(json.dumps(_canonical(value), sort_keys=True, default=str).encode()).hexdigest()


def _canonical(value: Any) -> Any:
    if type(value) is str:  # most values: spared the abstract Mapping check below
        return value
    if isinstance(value, Mapping):
        if "fingerprint" in value:
            return value["fingerprint"]
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return value


def fingerprints(context: Mapping[str, Any], parts: Sequence[Part]) -> dict[str, str]:
    """One fingerprint per field of each part (per entry and field for an itemised list)."""
    found: dict[str, str] = {}
    for part in parts:
        for key in part.keys:
            if key not in context:
                continue
            if part.itemised and isinstance(context[key], list):
                for entry in context[key]:
                    name = str(entry.get(part.itemised, "")).replace("\u2011", "-")
                    for item_key, value in entry.items():
                        if item_key not in part.ignore:
                            found[f"{key}[{name}].{item_key}"] = fingerprint(value)
            else:
                found[key] = fingerprint(context[key])
    return found


def changes_since(
    context: Mapping[str, Any],
    previous: PreviousVersion | None,
    parts: Sequence[Part],
    calendar: WorkingCalendar,
) -> str:
    """The sentence a version carries: first version, or which parts changed since the last."""
    if previous is None:
        return FIRST_VERSION
    since = f"Since version {previous.version} ({calendar.local(previous.at):%d %B %Y %H:%M}): "
    if not previous.sections:
        return since + "which parts changed was not kept for that version."
    changed = changed_parts(previous.sections, fingerprints(context, parts), parts)
    if not changed:
        return since + "no change to the record."
    return since + "changed " + "; ".join(changed) + "."


def changed_parts(before: Mapping[str, str], after: Mapping[str, str], parts: Sequence[Part]) -> list[str]:
    """Each changed part in the document's order, with the fields that changed in it."""
    out: list[str] = []
    for part in parts:
        if part.itemised:
            out.extend(_changed_entries(before, after, part))
            continue
        keys = [k for k in part.keys if before.get(k) != after.get(k) and (k in before or k in after)]
        if not keys:
            continue
        if len(part.keys) == 1:
            out.append(part.label)
        else:
            out.append(f"{part.label} ({', '.join(_word(part, k) for k in keys)})")
    return out


def _changed_entries(before: Mapping[str, str], after: Mapping[str, str], part: Part) -> list[str]:
    out = []
    for key in part.keys:
        old, new = _entries(before, f"{key}["), _entries(after, f"{key}[")
        for entry in list(new) + [e for e in old if e not in new]:
            label = f"{part.item_label} {entry}".strip()
            if entry not in old:
                out.append(f"{label} (added)")
            elif entry not in new:
                out.append(f"{label} (removed)")
            else:
                fields = [k for k in new[entry] if new[entry][k] != old[entry].get(k)]
                fields += [k for k in old[entry] if k not in new[entry]]
                if fields:
                    out.append(f"{label} ({', '.join(_word(part, k) for k in fields)})")
    return out


def _entries(prints: Mapping[str, str], prefix: str) -> dict[str, dict[str, str]]:
    """An itemised list's fingerprints grouped by entry: {"CS-1": {"decision": "…"}}."""
    grouped: dict[str, dict[str, str]] = {}
    for name, value in prints.items():
        if name.startswith(prefix):
            entry, _, item_key = name[len(prefix) :].partition("].")
            grouped.setdefault(entry, {})[item_key] = value
    return grouped


def _word(part: Part, key: str) -> str:
    return part.words.get(key, key.replace("_", " "))
