"""The action log as the template sees it: every action with its dates, status, escalation
in words, evidence of completion, updates and chase history; the partnership's name; and
what changed since the version before, so two versions never differ by their number alone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlmodel import Session

from bot.actions.service import PRIORITIES, ActionRow, actions_of
from bot.convening.models import Meeting
from bot.documents.vocabulary import (
    NONE_RECORDED,
    NOT_YET,
    escalation_words,
    filled,
    no_break,
    references_unbroken,
    short_day,
)
from bot.schedules import Partnership
from bot.working_days import WorkingCalendar

STATUS_WORDS = {
    "open": "Open",
    "done": "Done",
    "escalated": "Escalated",
    "cancelled": "Cancelled",
    "handed_on": "Handed on",
    "overdue": "Overdue",
    "due_soon": "Due soon",
}
CHASE_STEPS = {
    "reminder": "Reminder",
    "before_due": "Before the due date",
    "due_today": "Due today",
    "overdue": "Overdue",
    "escalate_lead": "Escalated to the agency lead",
    "escalate_chair": "Escalated to the chair",
}
CHASE_VIA = {"slack_dm": "Slack message", "email": "E-mail", "none": "Not sent (no Slack account)"}


def status_of(a: ActionRow, today: Any) -> str:
    """Open actions read as due soon or overdue by their date."""
    if a.status == "open" and a.due < today:
        return STATUS_WORDS["overdue"]
    if a.status == "open" and (a.due - today).days <= 2:
        return STATUS_WORDS["due_soon"]
    return STATUS_WORDS.get(a.status, a.status)


def action_row(a: ActionRow, when: Callable[[datetime | None], str], today: Any) -> dict[str, Any]:
    """One action as the action log and the panel minutes show it."""
    return {
        "reference": no_break(a.reference),
        "text": references_unbroken(a.text),
        "concerns": no_break(filled(a.concerns, NONE_RECORDED)),  # references, never split
        "owner": a.owner,
        "agency": a.agency,
        "assigned": short_day(a.assigned),
        "due": short_day(a.due),
        "completed": when(a.completed) or NOT_YET,
        "status": status_of(a, today),
        "priority": PRIORITIES.get(a.priority, a.priority),
        "escalation_level": escalation_words(a.escalation_level),
        "evidence": filled(a.evidence, "None yet" if a.status != "done" else NONE_RECORDED),
        "meeting": no_break(a.meeting) if a.meeting else NONE_RECORDED,
        "updates": [
            {"at": when(at), "by": filled(by, NONE_RECORDED), "text": text} for at, by, text in a.updates
        ],
        "chases": [
            {
                "at": when(at),
                "to": filled(to, NONE_RECORDED),
                "step": CHASE_STEPS.get(step, step),
                "via": CHASE_VIA.get(via, via),
            }
            for at, to, step, via in a.chases
        ],
    }


def moment_words(calendar: WorkingCalendar) -> Callable[[datetime | None], str]:
    """A moment as the logs print it ("03 Nov 2026 14:05", local time), each moment worked
    out once: a long log shows thousands, many of them the same (a sweep's chases)."""
    said: dict[datetime, str] = {}

    def when(moment: datetime | None) -> str:
        if not moment:
            return ""
        words = said.get(moment)
        if words is None:
            words = said[moment] = calendar.local(moment).strftime("%d %b %Y %H:%M")
        return words

    return when


def changes_since(
    rows: list[ActionRow], previous: tuple[int, datetime] | None, calendar: WorkingCalendar
) -> str:
    """What is new since the version before: actions added, updated, done or chased after it."""
    if previous is None:
        return "First version."
    number, at = previous
    added = sum(1 for r in rows if r.updates and r.updates[0][0] > at)
    updated = sum(1 for r in rows if any(u[0] > at for u in r.updates[1:]))
    done = sum(1 for r in rows if r.completed and r.completed > at)
    chased = sum(1 for r in rows if any(c[0] > at for c in r.chases))
    parts = [
        f"{count} {words}"
        for count, words in (
            (added, "added"),
            (updated, "with new updates"),
            (done, "done"),
            (chased, "chased"),
        )
        if count
    ]
    since = f"Since version {number} ({calendar.local(at):%d %B %Y %H:%M}): "
    return since + (", ".join(parts) + " (actions)." if parts else "no change to any action.")


def action_log_context(
    session: Session,
    meeting: Meeting,
    *,
    partnership: Partnership,
    calendar: WorkingCalendar,
    version: int,
    now: datetime,
    previous: tuple[int, datetime] | None = None,
) -> dict[str, Any]:
    """Every action of the discussion with its updates and chase history."""

    when = moment_words(calendar)
    rows = actions_of(session, meeting_id=meeting.id)
    today = calendar.local(now).date()
    return {
        "marking": partnership.settings.protective_marking,
        "partnership": partnership.settings.name,
        "reference": no_break(meeting.reference),
        "title": f"Action log: strategy discussion {no_break(meeting.reference)}",
        "generated_at": calendar.local(now).strftime("%d %B %Y %H:%M"),
        "version": version,
        "changes": changes_since(rows, previous, calendar),
        "actions": [action_row(a, when, today) for a in rows],
    }
