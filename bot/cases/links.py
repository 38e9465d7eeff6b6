"""How people write the links between a child or context and others: one per line,
`kind: label`, e.g. `perpetrator: adult male known as T` or `case: CASE-123456`.
Shared by panel referrals and pre-panel agency updates, so both read links the same way."""

from __future__ import annotations

import re
from dataclasses import dataclass

KINDS: dict[str, str] = {
    "peer": "Peer",
    "suspected_perpetrator": "Suspected perpetrator",
    "location": "Location",
    "school": "School",
    "peer_group": "Peer group",
    "case": "Linked child or context",
    "household": "Household (siblings)",
}
# What people may type before the colon.
_ALIASES: dict[str, str] = {
    "peer": "peer",
    "friend": "peer",
    "perpetrator": "suspected_perpetrator",
    "suspected perpetrator": "suspected_perpetrator",
    "suspect": "suspected_perpetrator",
    "location": "location",
    "place": "location",
    "school": "school",
    "group": "peer_group",
    "peer group": "peer_group",
    "case": "case",
    "child": "case",
}
LABEL_LIMIT = 200
LINES_LIMIT = 40
HOW_TO = "one per line as kind: label, where kind is peer, perpetrator, location, school, group or case"


@dataclass(frozen=True)
class Link:
    kind: str
    label: str

    @property
    def key(self) -> str:
        """Two spellings of one label (case, spacing) are one node in the network."""
        return re.sub(r"\s+", " ", self.label).strip().casefold()


class LinksInvalid(ValueError):
    """The links text cannot be read; the message says which line and how to write it."""


def parse_links(text: str) -> list[Link]:
    """Every link in `text`, in order, without repeats."""
    links: list[Link] = []
    seen: set[tuple[str, str]] = set()
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if len(lines) > LINES_LIMIT:
        raise LinksInvalid(f"Record at most {LINES_LIMIT} links at a time.")
    for number, line in enumerate(lines, start=1):
        prefix, colon, label = line.partition(":")
        kind = _ALIASES.get(re.sub(r"\s+", " ", prefix).strip().casefold())
        label = re.sub(r"\s+", " ", label).strip()
        if not colon or kind is None or not label:
            raise LinksInvalid(f"Line {number} ({line[:40]}) is not a link: write {HOW_TO}.")
        if len(label) > LABEL_LIMIT:
            raise LinksInvalid(f"Line {number}: keep each label under {LABEL_LIMIT} characters.")
        link = Link(kind, label.upper() if kind == "case" else label)
        if (link.kind, link.key) not in seen:
            seen.add((link.kind, link.key))
            links.append(link)
    return links


def links_text(links: list[Link]) -> str:
    """The links written back the way people type them, to pre-fill a form."""
    typed = {v: k for k, v in reversed(list(_ALIASES.items()))}
    return "\n".join(f"{typed.get(link.kind, link.kind)}: {link.label}" for link in links)
