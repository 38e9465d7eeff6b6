"""Driving the panel through signed Slack requests, shared by the offline demo and the
tests: referring, deciding, and recording a sitting, exactly as Slack would send them."""

from __future__ import annotations

from typing import Any

from bot.convening.models import Meeting
from bot_offline.driver import OfflineBot
from bot_offline.local_slack.signed_client import SignedResponse, StateValue

PANEL = "birmingham-mace"
ADMIN = "U0BSC001"
CHAIR = "U0CSC005"  # tm-walsh chairs the MACE panel


def opened_view(bot: OfflineBot, before: int) -> dict[str, Any]:
    calls = bot.local_slack.wait_for(
        lambda calls: len([c for c in calls if c.method == "views.open"]) > before
    )
    call = [c for c in calls if c.method == "views.open"][-1]
    assert call.ok, call.response
    return call.response["view"]


def views_opened(bot: OfflineBot) -> int:
    return len(bot.local_slack.calls_to("views.open"))


def referral_values(
    *,
    subject: str = "child",
    case_reference: str = "",
    child_name: str = "",
    label: str = "",
    reasons: str = "Missing three times this month; found in another city with cash.",
    risk: str = "high",
    screening: str = "significant",
    links: str = "",
    panel: str = PANEL,
) -> dict[str, dict[str, Any]]:
    fields = {
        "panel": StateValue.static_select(panel),
        "subject_kind": StateValue.static_select(subject),
        "case_reference": StateValue.text(case_reference or None),
        "child_name": StateValue.text(child_name or None),
        "child_date_of_birth": StateValue.datepicker("2011-03-14" if subject == "child" else None),
        "school": StateValue.text(None),
        "label": StateValue.text(label or None),
        "reasons": StateValue.text(reasons),
        "risk_level": StateValue.static_select(risk),
        "screening_result": StateValue.static_select(screening),
        "links": StateValue.text(links or None),
    }
    return {block: {"value": element} for block, element in fields.items()}


def refer(bot: OfflineBot, user_id: str, **fields: Any) -> SignedResponse:
    """`/panel refer` and submit the form; returns the submission's response."""
    before = views_opened(bot)
    bot.slack.command("/panel", "refer", user_id=user_id)
    view = opened_view(bot, before)
    response = bot.slack.view_submission(user_id, view, values=referral_values(**fields))
    bot.settle()
    return response


def decide(
    bot: OfflineBot, referral_id: int, *, accept: bool, reason: str = "", user_id: str = ADMIN
) -> None:
    if accept:
        bot.slack.block_actions(user_id, [{"action_id": "panel_referral_accept", "value": str(referral_id)}])
    else:
        before = views_opened(bot)
        bot.slack.block_actions(user_id, [{"action_id": "panel_referral_decline", "value": str(referral_id)}])
        view = opened_view(bot, before)
        bot.slack.view_submission(user_id, view, values={"reason": {"value": StateValue.text(reason)}})
    bot.settle()


def outcome_values(
    decision: str = "continue",
    *,
    review: str | None = "2026-12-08",
    nrm: str = "none",
    links: str = "",
    risk: str = "high",
) -> dict[str, dict[str, Any]]:
    fields = {
        "victims": StateValue.text("Exploited to carry drugs to Coventry; debt bondage suspected."),
        "offenders": StateValue.text("Adult male known as T recruits at the park."),
        "locations": StateValue.text("Lodge Road park; trap house on Wellington Road."),
        "themes": StateValue.text("Recruitment through social media; older peers as go-betweens."),
        "decision": StateValue.static_select(decision),
        "decision_reason": StateValue.text("Risk still high; disruption under way."),
        "nrm": StateValue.static_select(nrm),
        "nrm_detail": StateValue.text("Submitted by the social worker" if nrm != "none" else None),
        "disruption": StateValue.text("Child abduction warning notice to T; park patrols."),
        "risk_level": StateValue.static_select(risk),
        "plan_status": StateValue.text("Child protection plan"),
        "next_review_on": StateValue.datepicker(review),
        "links": StateValue.text(links or None),
    }
    return {block: {"value": element} for block, element in fields.items()}


def record_item(bot: OfflineBot, user_id: str, item_id: int, values: dict[str, Any]) -> SignedResponse:
    before = views_opened(bot)
    bot.slack.block_actions(user_id, [{"action_id": f"panel_record_item_{item_id}", "value": str(item_id)}])
    view = opened_view(bot, before)
    return bot.slack.view_submission(user_id, view, values=values)


def record_attendance(
    bot: OfflineBot, user_id: str, meeting: Meeting, agencies: list[str], themes: str
) -> SignedResponse:
    before = views_opened(bot)
    bot.slack.block_actions(user_id, [{"action_id": "panel_record_sitting", "value": str(meeting.id)}])
    view = opened_view(bot, before)
    values: dict[str, Any] = {
        f"attendance:{code}": {"value": StateValue.static_select("present")} for code in agencies
    }
    values["themes"] = {"value": StateValue.text(themes)}
    return bot.slack.view_submission(user_id, view, values=values)
