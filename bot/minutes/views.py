"""Block Kit for recording a discussion, adding actions, and approving minutes."""

from __future__ import annotations

from datetime import date
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DatePickerElement,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
    SectionBlock,
    StaticSelectElement,
    UserSelectElement,
)

from bot.actions.service import PRIORITIES
from bot.minutes.service import ATTENDANCE_WORDS
from bot.slack.blocks import MARKING, modal, option
from bot.wording import escape_mrkdwn

RECORD_CALLBACK = "strategy_record"
ACTION_CALLBACK = "action_add"


def _text(
    block_id: str,
    label: str,
    *,
    initial: str = "",
    optional: bool = True,
    multiline: bool = True,
    hint: str = "",
) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=PlainTextObject(text=label),
        element=PlainTextInputElement(
            action_id="value", multiline=multiline, initial_value=initial or None, max_length=3000
        ),
        optional=optional,
        hint=PlainTextObject(text=hint) if hint else None,
    )


def _radio(block_id: str, label: str, options: dict[str, str], chosen: str = "") -> InputBlock:
    choices = [option(k, v) for k, v in options.items()]
    return InputBlock(
        block_id=block_id,
        label=PlainTextObject(text=label),
        element=RadioButtonsElement(
            action_id="value",
            options=choices,
            initial_option=next((o for o in choices if o.value == chosen), None),
        ),
    )


def record_modal(
    *,
    meeting_id: int,
    reference: str,
    agencies: list[tuple[str, str]],
    attendance: dict[str, str],
    decisions: dict[str, tuple[str, str]],
    narrative: dict[str, str],
    review_date: date | None,
    icpc_hint: str,
) -> dict[str, Any]:
    """`/strategy record REF`: attendance as it happened and every decision of DESIGN.md §3."""
    statuses = [option(str(k), v) for k, v in ATTENDANCE_WORDS.items()]
    blocks: list[Block] = [
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"{MARKING} · {escape_mrkdwn(reference)} · "
                    "what is recorded here goes into the minutes"
                )
            ]
        ),
        HeaderBlock(text="Attendance"),
    ]
    for code, name in agencies:
        chosen = attendance.get(code, "")
        blocks.append(
            InputBlock(
                block_id=f"attendance:{code}",
                label=PlainTextObject(text=name[:150]),
                element=StaticSelectElement(
                    action_id="value",
                    options=statuses,
                    initial_option=next((o for o in statuses if o.value == chosen), None),
                ),
            )
        )
    d = decisions
    blocks += [
        HeaderBlock(text="Discussion"),
        _text(
            "action_taken",
            "Reason for the discussion and action already taken",
            initial=narrative.get("action_taken", ""),
        ),
        _text("child_voice", "The child's voice", initial=narrative.get("child_voice", "")),
        HeaderBlock(text="Risk analysis"),
        _text("harm", "Harm", initial=narrative.get("harm", "")),
        _text("likelihood", "Likelihood", initial=narrative.get("likelihood", "")),
        _text("protective_factors", "Protective factors", initial=narrative.get("protective_factors", "")),
        _text(
            "extra_familial",
            "Extra-familial context (peers, places, online)",
            initial=narrative.get("extra_familial", ""),
        ),
        HeaderBlock(text="Decisions"),
        _radio(
            "section_47",
            "Section 47 enquiries",
            {"start": "Start section 47 enquiries", "no_enquiries": "No section 47 enquiries"},
            d.get("section_47", ("", ""))[0],
        ),
        _text("section_47_reason", "Why", initial=d.get("section_47", ("", ""))[1], optional=False),
        _radio(
            "enquiry_type",
            "Single-agency or joint",
            {"joint": "Joint with the police", "single": "Single-agency"},
            d.get("enquiry_type", ("", ""))[0],
        ),
        _text("enquiry_lead", "Who leads", initial=d.get("enquiry_type", ("", ""))[1], multiline=False),
        _text(
            "criminal_investigation",
            "Criminal investigation and its timing",
            initial=d.get("criminal_investigation", ("", ""))[1],
        ),
        _text("medical_assessment", "Medical assessment", initial=d.get("medical_assessment", ("", ""))[1]),
        _text("legal_action", "Legal action", initial=d.get("legal_action", ("", ""))[1]),
        _text(
            "immediate_safety",
            "Immediate safety actions (the safety plan)",
            initial=d.get("immediate_safety", ("", ""))[1],
            optional=False,
        ),
        _text(
            "sharing_with_family",
            "What is shared with the child and family, and when (or why not)",
            initial=d.get("sharing_with_family", ("", ""))[1],
            optional=False,
        ),
        _radio(
            "icpc",
            "Initial child protection conference",
            {"needed": "Needed", "not_needed": "Not needed"},
            d.get("icpc", ("", ""))[0],
        ),
        ContextBlock(elements=[MarkdownTextObject(text=icpc_hint)]),
        InputBlock(
            block_id="review_date",
            label=PlainTextObject(text="Review or next discussion"),
            element=DatePickerElement(
                action_id="value", initial_date=review_date.isoformat() if review_date else None
            ),
        ),
        _text("next_steps", "Next steps", initial=narrative.get("next_steps", "")),
        _text("dissent", "Dissent, and how it is escalated", initial=d.get("dissent", ("", ""))[1]),
    ]
    return modal(
        callback_id=RECORD_CALLBACK,
        title="Record discussion",
        submit="Record",
        close="Cancel",
        metadata={"meeting_id": meeting_id},
        blocks=blocks,
    )


def action_modal(meeting_id: int, reference: str, case_reference: str) -> dict[str, Any]:
    """One action: what, who, by when, how urgent, about whom."""
    return modal(
        callback_id=ACTION_CALLBACK,
        title="Add an action",
        submit="Add action",
        close="Cancel",
        metadata={"meeting_id": meeting_id},
        blocks=[
            ContextBlock(elements=[MarkdownTextObject(text=f"{MARKING} · {escape_mrkdwn(reference)}")]),
            _text("text", "What is to be done", optional=False),
            InputBlock(
                block_id="owner",
                label=PlainTextObject(text="Owner"),
                element=UserSelectElement(action_id="value"),
            ),
            InputBlock(
                block_id="priority",
                label=PlainTextObject(text="Priority"),
                element=StaticSelectElement(
                    action_id="value",
                    options=[option(k, v) for k, v in PRIORITIES.items()],
                    initial_option=option("normal", PRIORITIES["normal"]),
                ),
            ),
            InputBlock(
                block_id="due_on",
                label=PlainTextObject(text="Due"),
                element=DatePickerElement(action_id="value"),
                optional=True,
                hint=PlainTextObject(text="Leave empty for the policy's default for this priority."),
            ),
            _text("concerns", "The child or context it concerns", initial=case_reference, multiline=False),
        ],
    )


def action_added_view(reference: str, due: str, owner: str) -> dict[str, Any]:
    return modal(
        title="Action added",
        close="Done",
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"{MARKING}\n*{escape_mrkdwn(reference)}* is added, owned by <@{owner}>, due {due}."
                )
            )
        ],
    )


def approval_request(reference: str, document_id: int, version: int, meeting_id: int) -> dict[str, Any]:
    """The chair's message with the draft: approve it, or make a new draft."""
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"{MARKING}\nDraft minutes of *{escape_mrkdwn(reference)}*, version {version}, "
                "are in this conversation. "
                "Approve them to lock this version and circulate it to the discussion's channel."
            )
        ),
        ActionsBlock(
            block_id="minutes_approval",
            elements=[
                ButtonElement(
                    text=f"Approve version {version}",
                    action_id="minutes_approve",
                    value=str(document_id),
                    style="primary",
                ),
                ButtonElement(text="Make a new draft", action_id="minutes_regenerate", value=str(meeting_id)),
            ],
        ),
    ]
    return {
        "text": f"OFFICIAL-SENSITIVE: draft minutes of {reference} (version {version}) to approve",
        "blocks": [b.to_dict() for b in blocks],
    }
