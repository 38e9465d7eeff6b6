"""Recording a discussion and its actions through Slack, for the minutes tests and the demo."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.local_slack.signed_client import StateValue


def record_values(agency_codes: list[str], **overrides: Any) -> dict[str, dict[str, Any]]:
    """A complete `/strategy record` submission; override any block by id."""
    fields: dict[str, Any] = {
        f"attendance:{code}": StateValue.static_select("present") for code in agency_codes
    }
    fields.update(
        {
            "action_taken": StateValue.text("Police attended the address; the child was returned home."),
            "child_voice": StateValue.text("He says he owes money and is scared."),
            "harm": StateValue.text("Criminal exploitation; carrying drugs out of area."),
            "likelihood": StateValue.text("High: three missing episodes in a month."),
            "protective_factors": StateValue.text("Mother engages; attends the youth club."),
            "extra_familial": StateValue.text("Linked to an older peer group at the park."),
            "section_47": StateValue.radio_buttons("start"),
            "section_47_reason": StateValue.text("Reasonable cause to suspect significant harm."),
            "enquiry_type": StateValue.radio_buttons("joint"),
            "enquiry_lead": StateValue.text("Children's social care, with Force CID"),
            "criminal_investigation": StateValue.text("CID to open an investigation this week."),
            "medical_assessment": StateValue.text("Not needed."),
            "legal_action": StateValue.text("Not at this stage."),
            "immediate_safety": StateValue.text("Safety plan agreed with mother; missing protocol."),
            "sharing_with_family": StateValue.text("Mother told today; police intelligence withheld."),
            "icpc": StateValue.radio_buttons("needed"),
            "review_date": StateValue.datepicker("2026-11-24"),
            "next_steps": StateValue.text("ICPC to be arranged."),
            "dissent": StateValue.text(None),
        }
    )
    fields.update(overrides)
    return {block: {"value": element} for block, element in fields.items()}


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
