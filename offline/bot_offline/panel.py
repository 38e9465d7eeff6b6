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


def recording(bot: OfflineBot, user_id: str, reference: str) -> dict[str, Any]:
    """`/panel record REF`: the recording message the chair is sent after the acknowledgement
    (the message posted to the command's response URL)."""
    before = len(bot.local_slack.responses())
    answer = bot.slack.command("/panel", f"record {reference}", user_id=user_id)
    assert answer.status == 200 and not answer.body, answer.body
    bot.settle()
    shown = bot.local_slack.responses()[before:]
    assert shown, "no recording message was sent"
    message: dict[str, Any] = shown[-1].args
    return message


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
    reason: str = "Risk still high; disruption under way.",
    destination: str | None = None,
    taken_by: str | None = None,
    taken_by_person: str | None = None,
    chair_confirms: bool = False,
) -> dict[str, dict[str, Any]]:
    """The recording form's values; a step down goes to early help by default, a step up
    to a strategy discussion."""
    if destination is None:
        destination = {"step_up": "up:strategy_discussion", "step_down": "down:early_help"}.get(decision, "")
    if taken_by is None and destination.startswith("down:") and destination != "down:closure":
        taken_by = "early-help"
    fields = {
        "victims": StateValue.text("Exploited to carry drugs to Coventry; debt bondage suspected."),
        "offenders": StateValue.text("Adult male known as T recruits at the park."),
        "locations": StateValue.text("Lodge Road park; trap house on Wellington Road."),
        "themes": StateValue.text("Recruitment through social media; older peers as go-betweens."),
        "decision": StateValue.static_select(decision),
        "decision_reason": StateValue.text(reason),
        "destination": StateValue.static_select(destination or None),
        "taken_by_agency": StateValue.static_select(taken_by or None),
        "taken_by_person": StateValue.text(taken_by_person),
        "chair_confirms": StateValue.checkboxes(["yes"] if chair_confirms else []),
        **nrm_values(nrm),
        "disruption": StateValue.text("Child abduction warning notice to T; park patrols."),
        "risk_level": StateValue.static_select(risk),
        "plan_status": StateValue.text("Child protection plan"),
        "next_review_on": StateValue.datepicker(review),
        "links": StateValue.text(links or None),
    }
    return {block: {"value": element} for block, element in fields.items()}


def nrm_values(nrm: str = "none") -> dict[str, Any]:
    """The NRM part of the recording form: none, or a referral by the police with its
    reasonable-grounds decision (`referred`), or awaiting it (`awaited`)."""
    if nrm == "none":
        return {
            "nrm_referred_on": StateValue.datepicker(None),
            "nrm_reference": StateValue.text(None),
            "nrm_first_responder": StateValue.static_select(None),
            "nrm_first_responder_name": StateValue.text(None),
            "nrm_reasonable_grounds": StateValue.static_select(None),
            "nrm_reasonable_grounds_on": StateValue.datepicker(None),
            "nrm_conclusive_grounds": StateValue.static_select(None),
            "nrm_conclusive_grounds_on": StateValue.datepicker(None),
        }
    decided = nrm == "referred"
    return {
        "nrm_referred_on": StateValue.datepicker("2026-11-12"),
        "nrm_reference": StateValue.text("NRM-2026-118734"),
        "nrm_first_responder": StateValue.static_select("police-ppu"),
        "nrm_first_responder_name": StateValue.text("DS Marsh, public protection"),
        "nrm_reasonable_grounds": StateValue.static_select("positive" if decided else "awaited"),
        "nrm_reasonable_grounds_on": StateValue.datepicker("2026-11-17" if decided else None),
        "nrm_conclusive_grounds": StateValue.static_select("awaited"),
        "nrm_conclusive_grounds_on": StateValue.datepicker(None),
    }


def record_item(bot: OfflineBot, user_id: str, item_id: int, values: dict[str, Any]) -> SignedResponse:
    before = views_opened(bot)
    bot.slack.block_actions(user_id, [{"action_id": f"panel_record_item_{item_id}", "value": str(item_id)}])
    view = opened_view(bot, before)
    return bot.slack.view_submission(user_id, view, values=values)


def record_attendance(
    bot: OfflineBot,
    user_id: str,
    meeting: Meeting,
    agencies: list[str],
    themes: str,
    *,
    intelligence: str = "",
    handling_code: str | None = None,
) -> SignedResponse:
    before = views_opened(bot)
    bot.slack.block_actions(user_id, [{"action_id": "panel_record_sitting", "value": str(meeting.id)}])
    view = opened_view(bot, before)
    values: dict[str, Any] = {
        f"attendance:{code}": {"value": StateValue.static_select("present")} for code in agencies
    }
    values["themes"] = {"value": StateValue.text(themes)}
    values["intelligence"] = {"value": StateValue.text(intelligence or None)}
    values["handling_code"] = {"value": StateValue.static_select(handling_code)}
    return bot.slack.view_submission(user_id, view, values=values)
