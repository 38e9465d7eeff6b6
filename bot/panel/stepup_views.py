"""Block Kit for a step up's links: the booking request to the conference's lead, the
form that books it, the request to the police to record their operation, and its form.
Case references only, never a child's name; a police operation's details only in the
police's own DMs and forms."""

from __future__ import annotations

from datetime import date
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    DatePickerElement,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    UserSelectElement,
)

from bot.slack.blocks import MARKING, modal

BOOKING_CALLBACK = "panel_conference_booked"
OPERATION_CALLBACK = "panel_operation"
OPEN_OPERATION = "panel_operation_open"


def booking_request(
    action_id: int, action_reference: str, sitting: str, case_reference: str, due: date, marking: str
) -> dict[str, Any]:
    """To the booking agency's lead: the panel stepped the child up to a conference."""
    text = (
        f"*{marking}* · {sitting} stepped up *{case_reference}* to a child protection conference. "
        f"Book it ({action_reference}): the ICPC is due by *{due:%a %d %b %Y}*. You are reminded "
        "like any other action until it is booked."
    )
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=text)),
        ActionsBlock(
            elements=[
                ButtonElement(
                    text="Book the conference", action_id="action_done", value=str(action_id), style="primary"
                )
            ]
        ),
    ]
    return {
        "text": f"{marking}: book the child protection conference for {case_reference}",
        "blocks": [b.to_dict() for b in blocks],
    }


def booking_modal(action_id: int, action_reference: str, case_reference: str, due: date) -> dict[str, Any]:
    """Mark done, for a conference's booking action: the date it is booked for."""
    return modal(
        title="Book the conference",
        callback_id=BOOKING_CALLBACK,
        submit="Save",
        metadata={"action_id": action_id},
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"{MARKING} · *{action_reference}* · child protection conference for "
                    f"*{case_reference}*; the ICPC is due by {due:%a %d %b %Y}."
                )
            ),
            InputBlock(
                block_id="booked_for",
                label=PlainTextObject(text="Booked for"),
                element=DatePickerElement(action_id="value"),
            ),
        ],
    )


def operation_request(item_id: int, sitting: str, case_reference: str, marking: str) -> dict[str, Any]:
    """To the police: the panel stepped the case up to an operation; record it."""
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"*{marking}* · {sitting} stepped up *{case_reference}* to a police operation. "
                "Record it (name, police reference, lead officer, start): police and panel "
                "administrators see it; other agencies see only a summary you release."
            )
        ),
        ActionsBlock(
            elements=[
                ButtonElement(
                    text="Record the police operation",
                    action_id=OPEN_OPERATION,
                    value=str(item_id),
                    style="primary",
                )
            ]
        ),
    ]
    return {
        "text": f"{marking}: record the police operation for {case_reference}",
        "blocks": [b.to_dict() for b in blocks],
    }


def _text(
    block_id: str, label: str, initial: str, *, optional: bool, limit: int, multiline: bool = False
) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=PlainTextObject(text=label),
        element=PlainTextInputElement(
            action_id="value", initial_value=initial or None, max_length=limit, multiline=multiline
        ),
        optional=optional,
    )


def operation_modal(
    item_id: int, case_reference: str, current: dict[str, Any], *, police: bool
) -> dict[str, Any]:
    """The police operation's record (pre-filled when it exists); the summary for police only."""
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=f"{MARKING} · police operation for *{case_reference}*")),
        _text("name", "Operation name", current.get("name", ""), optional=False, limit=200),
        _text(
            "police_reference",
            "Police reference",
            current.get("police_reference", ""),
            optional=True,
            limit=60,
        ),
        InputBlock(
            block_id="lead_officer",
            label=PlainTextObject(text="Lead officer"),
            element=UserSelectElement(action_id="value", initial_user=current.get("lead_officer") or None),
        ),
        InputBlock(
            block_id="started_on",
            label=PlainTextObject(text="Started on"),
            element=DatePickerElement(
                action_id="value",
                initial_date=current["started_on"].isoformat() if current.get("started_on") else None,
            ),
        ),
    ]
    if police:
        blocks.append(
            _text(
                "summary",
                "Summary released to the panel's agencies (optional; no names)",
                current.get("summary", ""),
                optional=True,
                limit=1000,
                multiline=True,
            )
        )
    return modal(
        title="Police operation",
        callback_id=OPERATION_CALLBACK,
        submit="Save",
        metadata={"item_id": item_id},
        blocks=blocks,
    )
