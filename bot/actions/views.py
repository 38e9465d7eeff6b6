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

from bot.actions.service import ActionPage, ActionRow
from bot.slack.blocks import MARKING, modal, option
from bot.wording import escape_mrkdwn

DONE_CALLBACK = "action_done"
EXTENSION_CALLBACK = "action_extension"
REASSIGN_CALLBACK = "action_reassign"


def reminder_message(row: ActionRow, action_id: int, headline: str, *, case_reference: str) -> dict[str, Any]:
    """A chase about one action, with the owner's four answers."""
    value = str(action_id)
    # Plain Block Kit dictionaries, as slack_sdk's models would give them (a test holds them
    # to it): a sweep writes hundreds of reminders, and building the models cost it the most.
    text = (
        f"{MARKING} · {headline}\n*{row.reference}*: {escape_mrkdwn(row.text[:1500])}\n"
        f"Owner <@{row.owner_slack_id}> ({escape_mrkdwn(row.agency)}) · due {row.due:%a %d %b %Y} · "
        f"from {row.meeting} (case {case_reference})"
    )
    answers = (
        ("Mark done", "action_done"),
        ("Ask for an extension", "action_extension"),
        ("Snooze a working day", "action_snooze"),
        ("Reassign", "action_reassign"),
    )
    buttons: list[dict[str, Any]] = [
        {
            "type": "button",
            "text": {"type": "plain_text", "text": label, "emoji": True},
            "action_id": action,
            "value": value,
        }
        for label, action in answers
    ]
    buttons[0]["style"] = "primary"
    return {
        "text": f"OFFICIAL-SENSITIVE: {headline} ({row.reference})",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": text}},
            {"type": "actions", "block_id": "action_answers", "elements": buttons},
        ],
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


def _who(owner: str) -> str:
    """A Slack mention for a Slack id; a partner without Slack (the partner pages) by name."""
    return f"<@{owner}>" if owner[:1] in ("U", "W") and owner.isalnum() else escape_mrkdwn(owner)


def extension_request(
    reference: str, owner: str, current: date, wanted: date, reason: str, value: str
) -> dict[str, Any]:
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"{MARKING}\n{_who(owner)} asks to move *{reference}* from {current:%a %d %b} to "
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


def _owner(r: ActionRow) -> str:
    """The owner as Slack shows a person, or by name for a contact without Slack."""
    return f"<@{r.owner_slack_id}>" if r.owner_slack_id else escape_mrkdwn(r.owner or "no owner")


def _line(r: ActionRow) -> str:
    return f"• *{r.reference}* {escape_mrkdwn(r.text[:120])} · {_owner(r)} · due {r.due:%a %d %b}" + (
        f" · escalated ({r.escalation_level})" if r.escalation_level else ""
    )


def _sections(heading: str, lines: list[str]) -> list[Block]:
    """A heading and its lines, split over as many sections as Slack's 3,000 characters
    a section need: nothing is cut."""
    blocks: list[Block] = []
    text = heading
    for line in lines:
        if len(text) + len(line) + 1 > 2900:
            blocks.append(SectionBlock(text=MarkdownTextObject(text=text)))
            text = ""
        text = f"{text}\n{line}" if text else line
    blocks.append(SectionBlock(text=MarkdownTextObject(text=text)))
    return blocks


def action_list(title: str, groups: list[tuple[str, list[ActionRow]]]) -> dict[str, Any]:
    """One discussion's actions grouped (overdue, due soon, later, done), one line each.
    Within Slack's 50 blocks; whatever does not fit is counted, never dropped silently."""
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=f"{MARKING}\n*{escape_mrkdwn(title)}*"))]
    total = 0
    for heading, rows in groups:
        if not rows:
            continue
        total += len(rows)
        blocks.extend(_sections(f"*{heading}* ({len(rows)})", [_line(r) for r in rows]))
    if total == 0:
        blocks.append(SectionBlock(text=MarkdownTextObject(text="No open actions.")))
    if len(blocks) > 50:
        note = "More than a message holds: the action log has every action."
        blocks = [*blocks[:49], ContextBlock(elements=[MarkdownTextObject(text=note)])]
    return {"text": title, "blocks": [b.to_dict() for b in blocks]}


MINE_PAGE = "actions_mine_page"
OVERDUE_PAGE = "actions_overdue_page"
PAGE_BUTTONS = tuple(f"{base}_{way}" for base in (MINE_PAGE, OVERDUE_PAGE) for way in ("previous", "next"))


def action_page(
    title: str, page: ActionPage, *, page_buttons: str, today: date, soon_by: date | None = None
) -> dict[str, Any]:
    """One page of a long list of open actions, most urgent first: where the page sits
    ("21-40 of 1,534"), each action on its line, grouped by urgency when `soon_by` is given,
    and *Previous* and *Next* buttons (`page_buttons` names them) when there is more."""
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=f"{MARKING}\n*{escape_mrkdwn(title)}*"))]
    if not page.rows:
        blocks.append(SectionBlock(text=MarkdownTextObject(text="No open actions.")))
        return {"text": title, "blocks": [b.to_dict() for b in blocks]}
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"{page.first:,}-{page.last:,} of {page.total:,}, the earliest due first"
                )
            ]
        )
    )
    if soon_by is None:
        groups = [("Overdue", page.rows)]
    else:
        groups = [
            ("Overdue", [r for r in page.rows if r.due < today]),
            ("Due soon", [r for r in page.rows if today <= r.due <= soon_by]),
            ("Later", [r for r in page.rows if r.due > soon_by]),
        ]
    for heading, rows in groups:
        if rows:
            blocks.extend(_sections(f"*{heading}*", [_line(r) for r in rows]))
    buttons = []
    if page.page > 0:
        buttons.append(
            ButtonElement(text="Previous", action_id=f"{page_buttons}_previous", value=str(page.page - 1))
        )
    if page.has_next:
        buttons.append(ButtonElement(text="Next", action_id=f"{page_buttons}_next", value=str(page.page + 1)))
    if buttons:
        blocks.append(ActionsBlock(block_id="action_pages", elements=buttons))
    return {"text": title, "blocks": [b.to_dict() for b in blocks]}
