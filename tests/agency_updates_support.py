"""Opening and filling the agency update form as Slack would, for the tests."""

from __future__ import annotations

from typing import Any

from bot_offline.local_slack.signed_client import StateValue


def update_values(bot, **overrides: Any) -> dict[str, dict[str, Any]]:
    """A complete agency update in Slack's state shape; override blocks by id."""
    policy = bot.runtime.partnership.agency_updates
    fields: dict[str, Any] = {
        "role": StateValue.text("Detective Sergeant"),
        "involvement_current": StateValue.text("Investigating the exploitation; two linked nominals."),
        "involvement_past": StateValue.text(None),
        "new_missing": StateValue.text("Missing twice this month, found out of area."),
        "new_police_intelligence": StateValue.text("Seen with older males linked to a county line."),
        "new_school_attendance": StateValue.text(None),
        "new_other": StateValue.text(None),
        "protective_factors": StateValue.text("Engages with the youth worker."),
        "actions_progress": StateValue.text(None),
        "child_family_views": StateValue.text("Mother is worried and wants help."),
        "lawful_basis": StateValue.static_select("safeguarding"),
        "restrictions": StateValue.checkboxes(["police_intelligence"]),
        "restriction_detail": StateValue.text(None),
    }
    for indicator in policy.risk_indicators:
        rating = "current" if indicator.code in {"repeated_missing", "weapons"} else "not_present"
        fields[f"risk:{indicator.code}"] = StateValue.static_select(rating)
    fields.update(overrides)
    return {block: {"value": element} for block, element in fields.items()}


def open_update(bot, user_id: str, invitation_id: int) -> dict[str, Any]:
    before = len(bot.local_slack.calls_to("views.open"))
    bot.slack.block_actions(user_id, [{"action_id": "agency_update_open", "value": str(invitation_id)}])
    calls = bot.local_slack.wait_for(
        lambda calls: len([c for c in calls if c.method == "views.open"]) > before
    )
    call = [c for c in calls if c.method == "views.open"][-1]
    assert call.ok, call.response
    return call.response["view"]
