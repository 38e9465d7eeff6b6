"""Recording a discussion and its actions through Slack, for the minutes tests and the demo.

Recording takes two steps: *when and who* (`when_and_who_values`), then *what was decided*
(`decision_values`), pushed as a second view when the first is right (`record_steps`)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from bot_offline.local_slack.signed_client import StateValue


def _epoch(year: int, month: int, day: int, hour: int, minute: int = 0) -> int:
    return int(datetime(year, month, day, hour, minute, tzinfo=UTC).timestamp())


def when_and_who_values(agency_codes: list[str], **overrides: Any) -> dict[str, dict[str, Any]]:
    """Step 1: it ran 14:00 to 14:50 on Tuesday 10 November 2026, every agency present."""
    fields: dict[str, Any] = {
        "actual_start": StateValue.datetimepicker(_epoch(2026, 11, 10, 14, 0)),
        "actual_end": StateValue.datetimepicker(_epoch(2026, 11, 10, 14, 50)),
        "out_of_hours_reason": StateValue.text(None),
        **{f"attendance:{code}": StateValue.static_select("present") for code in agency_codes},
        "quorum_reason": StateValue.text(None),
        "quorum_proceed": StateValue.checkboxes([]),
    }
    fields.update(overrides)
    return {block: {"value": element} for block, element in fields.items()}


def decision_values(**overrides: Any) -> dict[str, dict[str, Any]]:
    """Step 2: a complete record of every decision; override any block by id."""
    fields: dict[str, Any] = {
        "threshold_level": StateValue.static_select("complex_significant"),
        "action_taken": StateValue.text("Police attended the address; the child was returned home."),
        "child_voice": StateValue.text("He says he owes money and is scared."),
        "harm": StateValue.text("Criminal exploitation; carrying drugs out of area."),
        "likelihood": StateValue.text("High: three missing episodes in a month."),
        "protective_factors": StateValue.text("Mother engages; attends the youth club."),
        "extra_familial": StateValue.text("Linked to an older peer group at the park."),
        "section_47": StateValue.radio_buttons("start"),
        "section_47_detail": StateValue.text("Reasonable cause to suspect significant harm."),
        "enquiry_type": StateValue.radio_buttons("joint"),
        "enquiry_type_detail": StateValue.text("Children's social care, with Force CID"),
        "criminal_investigation": StateValue.radio_buttons("yes"),
        "criminal_investigation_detail": StateValue.text("CID to open an investigation this week."),
        "criminal_investigation_by": StateValue.datepicker(None),
        "medical_assessment": StateValue.radio_buttons("no"),
        "medical_assessment_detail": StateValue.text("No injuries reported."),
        "medical_assessment_by": StateValue.datepicker(None),
        "legal_action": StateValue.radio_buttons("not_yet"),
        "legal_action_detail": StateValue.text("Legal advice sought."),
        "legal_action_by": StateValue.datepicker("2026-11-20"),
        "immediate_safety_detail": StateValue.text("Safety plan agreed with mother; missing protocol."),
        "sharing_with_family": StateValue.radio_buttons("yes"),
        "sharing_with_family_detail": StateValue.text("Mother told today; police intelligence withheld."),
        "sharing_with_family_by": StateValue.datepicker(None),
        "parents_told": StateValue.radio_buttons("yes"),
        "parents_told_detail": StateValue.text("Told by the social worker at the home visit today."),
        "parents_told_by": StateValue.datepicker(None),
        "icpc": StateValue.radio_buttons("needed"),
        "icpc_detail": StateValue.text(None),
        "icpc_by": StateValue.datepicker(None),
        "dissent": StateValue.radio_buttons("no"),
        "dissent_detail": StateValue.text(None),
        "review_date": StateValue.datepicker("2026-11-24"),
        "next_steps": StateValue.text("ICPC to be arranged."),
    }
    fields.update(overrides)
    return {block: {"value": element} for block, element in fields.items()}


def record_steps(
    bot: Any,
    user_id: str,
    view: dict[str, Any],
    agency_codes: list[str],
    *,
    who: dict[str, Any] | None = None,
    what: dict[str, Any] | None = None,
) -> tuple[dict[str, Any] | None, Any]:
    """Submit step 1 of an opened record form and, if it is accepted, step 2 (the view
    Slack was told to push). Returns step 2's view (None if step 1 was refused) and the
    last response."""
    first = bot.slack.view_submission(user_id, view, values=when_and_who_values(agency_codes, **(who or {})))
    body = json.loads(first.body or "{}")
    if body.get("response_action") != "push":
        return None, first
    pushed = {**body["view"], "id": f"{view['id']}-step2"}
    second = bot.slack.view_submission(user_id, pushed, values=decision_values(**(what or {})))
    return pushed, second


def action_values(
    owner: str, text: str = "Return home interview", priority: str = "normal", due: date | None = None
) -> dict[str, dict[str, Any]]:
    return {
        "text": {"value": StateValue.text(text)},
        "owner": {"value": StateValue.users_select(owner)},
        "priority": {"value": StateValue.static_select(priority)},
        "due_on": {"value": StateValue.datepicker(due.isoformat() if due else None)},
        "concerns": {"value": StateValue.text("CS-1234567")},
    }
