"""Handling instructions and who receives restricted text.

An agency may limit onward sharing of its update (``sharing_restrictions`` in
schedules/agency_updates.yaml). The minutes print that limit as a handling instruction
("Police information: not to be shared with the family"), never as a classification word,
and the full text goes only into the copies of the agencies the restriction allows
(``full_text_to``). Everyone else's copy keeps the instruction and a line saying the text
was withheld and who holds it.

Two copies of approved minutes exist at most: the full copy (the record) and the shared
copy with every restricted text withheld. A recipient receives the full copy only when it
is entitled to every restricted text in it, so nothing reaches someone it should not.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.documents.vocabulary import AGENCY_KIND_WORDS
from bot.schedules import Partnership

TOOK_PART = "took_part"


@dataclass(frozen=True)
class Recipient:
    """An agency a copy of the minutes goes to, as entitlement needs to know it."""

    code: str
    kind: str
    took_part: bool


@dataclass(frozen=True)
class Restricted:
    """One agency's restricted contribution: its instruction and who may read it in full."""

    sharer_code: str
    instruction: str  # "Police information: not to be shared with the family"
    full_text_to: frozenset[str]  # agency kinds, agency codes, or took_part

    def allows(self, recipient: Recipient) -> bool:
        if recipient.code == self.sharer_code:
            return True
        return any(_matches(entry, recipient) for entry in self.full_text_to or {TOOK_PART})

    def holders(self, partnership: Partnership) -> str:
        """Who receives the full text, in words: "Children's social care, Police and the
        agency that shared it"."""
        words = []
        for entry in sorted(self.full_text_to or {TOOK_PART}):
            if entry == TOOK_PART:
                words.append("the agencies that took part")
            elif entry in AGENCY_KIND_WORDS:
                words.append(AGENCY_KIND_WORDS[entry])
            else:
                try:
                    words.append(partnership.agency(entry).name)
                except KeyError:
                    words.append(entry)
        return ", ".join(words)


def _matches(entry: str, recipient: Recipient) -> bool:
    if entry == TOOK_PART:
        return recipient.took_part
    return entry in (recipient.kind, recipient.code)


def restricted(
    partnership: Partnership, *, sharer_code: str, sharer_kind: str, codes: Iterable[str], detail: str = ""
) -> Restricted | None:
    """The handling of one update's restrictions, or None when it has none. Several
    restrictions together: every instruction is printed, and only recipients every one of
    them allows receive the text."""
    policy = partnership.agency_updates
    chosen = []
    for code in codes:
        try:
            chosen.append(policy.restriction(code))
        except KeyError:
            continue  # a restriction since removed from the schedules: the detail still prints
    if not chosen and not detail.strip():
        return None
    phrases = [r.instruction() for r in chosen] + ([detail.strip()] if detail.strip() else [])
    source = AGENCY_KIND_WORDS.get(sharer_kind, "Agency")
    instruction = f"{source} information: {'; '.join(phrases)}"
    # The narrowest list wins: a recipient must be allowed by every restriction chosen.
    lists = [frozenset(r.full_text_to) for r in chosen] or [frozenset({TOOK_PART})]
    narrowest = min(lists, key=len)
    return Restricted(sharer_code, instruction, narrowest if len(lists) == 1 else _common(lists))


def _common(lists: list[frozenset[str]]) -> frozenset[str]:
    """Entries every restriction allows; when they name different things (a kind in one,
    took_part in another), keep the most specific list so nothing is widened."""
    common = frozenset.intersection(*lists)
    return common or min(lists, key=len)


def intelligence_handling(partnership: Partnership, code: str, *, sharer_code: str) -> Restricted | None:
    """Police intelligence under its handling code (schedules/panel_practice.yaml), as the
    same kind of restriction as an agency's update, or None when the code releases it to
    every agency. A code since removed from the schedules keeps the text with the police."""
    handling = partnership.panel_practice.handling_code(code)
    if handling is not None and handling.released_to_all():
        return None
    name = handling.name if handling is not None else code
    released = frozenset(handling.released_to) if handling is not None else frozenset({"police"})
    return Restricted(sharer_code, f"Police intelligence, handling code {name}", released)


def withheld_note(handling: Restricted, partnership: Partnership, sharer_name: str) -> str:
    """The line a copy carries in place of text withheld from it, saying who holds it."""
    return (
        f"The full text is withheld from this copy under its handling instruction. It is in "
        f"the copies sent to {handling.holders(partnership)} and {sharer_name}."
    )


def entitled_to_all(recipient: Recipient, items: Iterable[Restricted]) -> bool:
    """Whether this recipient may have the full copy: every restricted text allows it."""
    return all(item.allows(recipient) for item in items)
