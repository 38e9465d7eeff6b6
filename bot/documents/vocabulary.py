"""The words every document uses, in one place, so a heading is never left blank and the
same thing is always called the same."""

from __future__ import annotations

import re
from datetime import date, datetime

from bot.working_days import WorkingCalendar

NONE_RECORDED = "None recorded"
NOT_RECORDED = "Not recorded"
NOT_YET = "Not yet"
NOT_APPLICABLE = "Not applicable"
NO_ICPC_DATE = "No ICPC date set"

ATTENDANCE = {
    "present": "Present",
    "apologies": "Apologies",
    "written_update": "Written update",
    "did_not_respond": "Did not respond",
}
RATINGS = {
    "current": "Current",
    "historic": "Historic",
    "not_present": "Not present",
    "not_known": "Not known",
}
# The combined grid marks each rating so it stands out in print and in grey-scale copies.
RATING_SHADES = {
    "current": "F4B6B6",
    "historic": "FCE4B6",
    "not_known": "E7E6E6",
    "not_present": "FFFFFF",
    "": "FFFFFF",
}

AGENCY_KIND_WORDS = {
    "childrens_social_care": "Children's social care",
    "police": "Police",
    "health": "Health",
    "education": "Education",
    "youth_justice": "Youth justice",
    "missing": "Missing children team",
    "early_help": "Early help",
    "partnership": "Partnership",
    "other": "Agency",
}

SEX = {"female": "Female", "male": "Male", "not_known": "Not known", "other": "Other"}
LEGAL_STATUS = {
    "none": "No statutory plan",
    "child_in_need": "Child in need",
    "child_protection": "Child protection plan",
    "looked_after": "Looked after",
    "care_leaver": "Care leaver",
}
INTERPRETER = {"yes": "Yes", "no": "No"}
ESCALATION_LEVELS = {0: "Not escalated", 1: "Escalated to the agency lead", 2: "Escalated to the chair"}


def filled(value: object, fallback: str = NONE_RECORDED) -> str:
    """The value as text, or the fallback when nothing was recorded: a blank under a
    heading reads as a gap in the record."""
    text = "" if value is None else str(value).strip()
    return text or fallback


def day(value: date | None, fallback: str = NOT_RECORDED) -> str:
    return value.strftime("%A %d %B %Y") if value else fallback


def short_day(value: date | datetime | None, fallback: str = NOT_RECORDED) -> str:
    return value.strftime("%d %b %Y") if value else fallback


def moment(calendar: WorkingCalendar, value: datetime | None, fallback: str = NOT_RECORDED) -> str:
    return calendar.local(value).strftime("%A %d %B %Y %H:%M") if value else fallback


def escalation_words(level: int) -> str:
    """'Not escalated' rather than a bare 0: the level read as a sentence."""
    return ESCALATION_LEVELS.get(level, f"Escalation level {level}")


def no_break(reference: str) -> str:
    """A reference that never splits over two lines: its hyphens become non-breaking."""
    return reference.replace("-", "\u2011")


# A reference inside typed text (CS-1234567, CEP-2026-0002-A04): letters, then digits in groups.
_REFERENCE = re.compile(r"\b[A-Z]{2,5}(?:-\d+)+(?:-A\d+)?\b")


def references_unbroken(text: str) -> str:
    """Typed text with every reference in it made unbreakable, the words around it unchanged."""
    return _REFERENCE.sub(lambda found: no_break(found.group(0)), text)
