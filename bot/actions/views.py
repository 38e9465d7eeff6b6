"""Block Kit for actions: the reminder with its answers, the small modals, and the lists."""

from __future__ import annotations

from datetime import date
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
    SectionBlock,
    StaticSelectElement,
)

from bot.actions.service import ActionRow
from bot.slack.blocks import MARKING, modal, option
from bot.wording import escape_mrkdwn

DONE_CALLBACK = "action_done"
EXTENSION_CALLBACK = "action_extension"
REASSIGN_CALLBACK = "action_reassign"


def reminder_message(row: ActionRow, action_id: int, headline: str, *, case_reference: str) -> dict[str, Any]:
    """A chase about one action, with the owner's four answers."""
    value = str(action_id)
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"{MARKING} · {headline}\n*{row.reference}*: {escape_mrkdwn(row.text[:1500])}\n"
                f"Owner <@{row.owner_slack_id}> ({escape_mrkdwn(row.agency)}) · due {row.due:%a %d %b %Y} · "
                f"from {row.meeting} (case {case_reference})"
            )
        ),
        ActionsBlock(
            block_id="action_answers",
            elements=[
                ButtonElement(text="Mark done", action_id="action_done", value=value, style="primary"),
                ButtonElement(text="Ask for an extension", action_id="action_extension", value=value),
                ButtonElement(text="Snooze a working day", action_id="action_snooze", value=value),
                ButtonElement(text="Reassign", action_id="action_reassign", value=value),
            ],
        ),
    ]
    return {
        "text": f"OFFICIAL-SENSITIVE: {headline} ({row.reference})",
        "blocks": [b.to_dict() for b in blocks],
    }


def _modal(
    callback_id: str, title: str, submit: str, action_id: int, reference: str, inputs: list[Block]
) -> dict[str, Any]:
    heading = ContextBlock(elements=[MarkdownTextObject(text=f"{MARKING} · {escape_mrkdwn(reference)}")])
    return modal(
        title=title,
        callback_id=callback_id,
        submit=submit,
        close="Back",
        metadata={"action_id": action_id},
        blocks=[heading, *inputs],
    )


def done_modal(action_id: int, reference: str) -> dict[str, Any]:
    return _modal(
        DONE_CALLBACK,
        "Mark action done",
        "Done",
        action_id,
        reference,
        [
            InputBlock(
                block_id="note",
                label=PlainTextObject(text="What was done"),
                element=PlainTextInputElement(action_id="value", multiline=True, max_length=1000),
            )
        ],
    )


def extension_modal(action_id: int, reference: str, due: date) -> dict[str, Any]:
    return _modal(
        EXTENSION_CALLBACK,
        "Ask for an extension",
        "Ask the chair",
        action_id,
        reference,
        [
            InputBlock(
                block_id="due_on",
                label=PlainTextObject(text=f"New due date (now {due:%d %b %Y})"),
                element=DatePickerElement(action_id="value"),
            ),
            InputBlock(
                block_id="reason",
                label=PlainTextObject(text="Why"),
                element=PlainTextInputElement(action_id="value", multiline=True, max_length=1000),
            ),
        ],
    )


def reassign_modal(action_id: int, reference: str, people: list[tuple[str, str]]) -> dict[str, Any]:
    options = [option(uid, name) for name, uid in people][:100]
    return _modal(
        REASSIGN_CALLBACK,
        "Reassign action",
        "Reassign",
        action_id,
        reference,
        [
            InputBlock(
                block_id="owner",
                label=PlainTextObject(text="New owner (same agency)"),
                element=StaticSelectElement(action_id="value", options=options),
            )
        ],
    )


def extension_request(
    reference: str, owner: str, current: date, wanted: date, reason: str, value: str
) -> dict[str, Any]:
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"{MARKING}\n<@{owner}> asks to move *{reference}* from {current:%a %d %b} to "
                f"*{wanted:%a %d %b %Y}*: {escape_mrkdwn(reason[:800])}"
            )
        ),
        ActionsBlock(
            block_id="extension",
            elements=[
                ButtonElement(text="Accept", action_id="extension_accept", value=value, style="primary"),
                ButtonElement(text="Refuse", action_id="extension_refuse", value=value, style="danger"),
            ],
        ),
    ]
    return {
        "text": f"OFFICIAL-SENSITIVE: extension asked for {reference}",
        "blocks": [b.to_dict() for b in blocks],
    }


def action_list(title: str, groups: list[tuple[str, list[ActionRow]]]) -> dict[str, Any]:
    """Actions grouped (overdue, due soon, later...), one line each, within Slack's limits."""
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=f"{MARKING}\n*{escape_mrkdwn(title)}*"))]
    total = 0
    for heading, rows in groups:
        if not rows:
            continue
        lines = [
            f"• *{r.reference}* {escape_mrkdwn(r.text[:120])} · <@{r.owner_slack_id}> · due {r.due:%a %d %b}"
            + (f" · escalated ({r.escalation_level})" if r.escalation_level else "")
            for r in rows
        ]
        total += len(rows)
        text = f"*{heading}* ({len(rows)})\n" + "\n".join(lines)
        blocks.append(SectionBlock(text=MarkdownTextObject(text=text[:2990])))
    if total == 0:
        blocks.append(SectionBlock(text=MarkdownTextObject(text="No open actions.")))
    return {"text": title, "blocks": [b.to_dict() for b in blocks[:50]]}
