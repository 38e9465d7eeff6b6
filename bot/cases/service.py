"""Keeping a child's identity out of Slack: spot their name in text bound for a message."""

from __future__ import annotations

import re

from sqlmodel import Session

from bot.cases.models import Case
from bot.schedules import Partnership


def name_parts(child_name: str) -> list[str]:
    """The full name and each part long enough to identify (three letters or more)."""
    parts = [p for p in re.split(r"[\s\-']+", child_name.strip()) if len(p) >= 3]
    full = child_name.strip()
    return [full, *parts] if full else parts


def mentions_child(text: str, child_name: str) -> bool:
    """True when the text names the child (whole words, any case)."""
    for part in name_parts(child_name):
        if re.search(rf"(?<!\w){re.escape(part)}(?!\w)", text, flags=re.IGNORECASE):
            return True
    return False


def mentions_child_of_case(session: Session, case_id: int | None, text: str) -> bool:
    """True when text meant for Slack names the child of this case."""
    case = session.get(Case, case_id) if case_id else None
    return bool(case and case.child_name and mentions_child(text, case.child_name))


def case_reference_problem(partnership: Partnership, text: str) -> str | None:
    """What is wrong with a typed case reference, in the partnership's own terms; None if fine."""
    settings = partnership.settings
    if settings.matches_case_reference(settings.normalise_case_reference(text)):
        return None
    return (
        f"A case reference is {settings.case_reference.description}, "
        f"for example {settings.case_reference.example}."
    )


NAME_IN_SLACK_TEXT = "This is shown in Slack, so it must not name the child. Use the case reference instead."
