"""Driving a discussion of several children through signed Slack requests, for the offline
demo: *Add a child* in the form, then a recording step per child."""

from __future__ import annotations

import json
from typing import Any

from bot_offline.driver import OfflineBot
from bot_offline.local_slack.signed_client import StateValue

ADD_CHILD = "convene_add_child"


def add_a_child(bot: OfflineBot, user_id: str, view: dict[str, Any]) -> dict[str, Any]:
    """Click *Add a child* in an open `/strategy new` form; returns the form as updated."""
    block = next(b for b in view["blocks"] if b.get("block_id") == "children_actions")
    button = block["elements"][0]
    before = len(bot.local_slack.calls_to("views.update"))
    bot.slack.block_actions(
        user_id,
        [
            {
                "action_id": ADD_CHILD,
                "block_id": "children_actions",
                "value": button["value"],
                "type": "button",
            }
        ],
        view=view,
    )
    calls = bot.local_slack.wait_for(
        lambda calls: len([c for c in calls if c.method == "views.update"]) > before
    )
    call = [c for c in calls if c.method == "views.update"][-1]
    if not call.ok:
        raise RuntimeError(f"views.update was refused: {call.response}")
    return dict(call.response["view"])


def further_children(*children: tuple[str, str, str | None], siblings: bool) -> dict[str, Any]:
    """Form values for further children (reference, name, date of birth) and the siblings box."""
    values: dict[str, Any] = {"siblings": StateValue.checkboxes(["yes"] if siblings else [])}
    for number, (reference, name, born) in enumerate(children, start=1):
        values[f"child_{number}_reference"] = StateValue.text(reference)
        values[f"child_{number}_name"] = StateValue.text(name)
        values[f"child_{number}_dob"] = StateValue.datepicker(born)
    return values


def child_step_values(section_47: str, enquiry: str, icpc: str, why: str, lead: str = "") -> dict[str, Any]:
    """One child's step of the record form, in Slack's state shape."""
    fields = {
        "section_47": StateValue.radio_buttons(section_47),
        "section_47_detail": StateValue.text(why),
        "enquiry_type": StateValue.radio_buttons(enquiry),
        "enquiry_type_detail": StateValue.text(lead or None),
        "icpc": StateValue.radio_buttons(icpc),
        "icpc_detail": StateValue.text(None),
        "icpc_by": StateValue.datepicker(None),
    }
    return {block: {"value": element} for block, element in fields.items()}


def submit_child_steps(
    bot: OfflineBot, user_id: str, response_body: str, steps: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Submit each pushed child step in turn; returns the views Slack was told to push."""
    views = []
    body = json.loads(response_body or "{}")
    for number, values in enumerate(steps, start=1):
        if body.get("response_action") != "push":
            raise RuntimeError(f"the record form did not move on to child {number}: {body}")
        view = {**body["view"], "id": f"demo-child-step-{number}"}
        views.append(view)
        body = json.loads(bot.slack.view_submission(user_id, view, values=values).body or "{}")
    if body.get("response_action") != "clear":
        raise RuntimeError(f"the last child's step was refused: {body}")
    return views
