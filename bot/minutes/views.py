"""Block Kit for recording a discussion, adding actions, and approving minutes."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DatePickerElement,
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
from bot.slack.blocks import MARKING, modal, option
from bot.wording import escape_mrkdwn

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


def action_modal(
    meeting_id: int, reference: str, case_reference: str, contacts: Sequence[tuple[str, str]] = ()
) -> dict[str, Any]:
    """One action: what, who, by when, how urgent, about whom. The owner is someone in
    Slack or, from `contacts` (id in the schedules, name), a contact without Slack, who
    is e-mailed links to the partner pages."""
    without_slack: list[Block] = (
        [
            InputBlock(
                block_id="owner_contact",
                label=PlainTextObject(text="Or a contact without Slack"),
                element=StaticSelectElement(
                    action_id="value", options=[option(key, name) for key, name in contacts[:100]]
                ),
                optional=True,
                hint=PlainTextObject(text="They get their reminders by e-mail, with a link to mark it done."),
            )
        ]
        if contacts
        else []
    )
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
                optional=bool(contacts),
            ),
            *without_slack,
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
    """`owner` is a Slack id (shown as Slack shows the person) or a contact's name."""
    shown = f"<@{owner}>" if owner[:1] in ("U", "W") and owner.isalnum() else escape_mrkdwn(owner)
    return modal(
        title="Action added",
        close="Done",
        blocks=[
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"{MARKING}\n*{escape_mrkdwn(reference)}* is added, owned by {shown}, due {due}."
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


CHILD_RECORD_APPROVE = "child_record_approve"


def child_record_approval(
    reference: str, child_reference: str, document_id: int, version: int
) -> dict[str, Any]:
    """The chair's message with a child's draft record (for the child's file): approve it,
    as the minutes are approved, before it goes to the convenor. References only."""
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"{MARKING}\nDraft record of *{escape_mrkdwn(child_reference)}* for their file, from "
                f"*{escape_mrkdwn(reference)}*, version {version}, is in this conversation. Approve it to "
                "lock this version and send it to the convenor for the child's file."
            )
        ),
        ActionsBlock(
            block_id="child_record_approval",
            elements=[
                ButtonElement(
                    text=f"Approve {child_reference}'s record, version {version}"[:75],
                    action_id=CHILD_RECORD_APPROVE,
                    value=str(document_id),
                    style="primary",
                ),
            ],
        ),
    ]
    return {
        "text": f"OFFICIAL-SENSITIVE: draft record of {child_reference} (version {version}) to approve",
        "blocks": [b.to_dict() for b in blocks],
    }
