"""Block Kit for a child's discussions (`/strategy CS-…`): references only, never a name."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.children.service import ChildDiscussionsPage
from bot.slack.blocks import MARKING
from bot.wording import escape_mrkdwn
from bot.working_days import WorkingCalendar

CHILD_DISCUSSIONS_PAGE = "strategy_child_page"  # the buttons' value is "case id:page"
CHILD_DISCUSSIONS_BUTTONS = tuple(f"{CHILD_DISCUSSIONS_PAGE}_{way}" for way in ("previous", "next"))


def child_discussions(
    listed: ChildDiscussionsPage, *, case_id: int, calendar: WorkingCalendar
) -> dict[str, Any]:
    """A page of the discussions concerning one child, the latest first, with the other
    children each concerned (by case reference) and *Previous*/*Next* when there is more."""
    title = f"Discussions concerning {listed.case_reference}"
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=f"{MARKING}\n*{escape_mrkdwn(title)}*"))]
    if not listed.rows:
        blocks.append(SectionBlock(text=MarkdownTextObject(text="No discussions.")))
        return {"text": title, "blocks": [b.to_dict() for b in blocks]}
    first = listed.page * listed.size + 1
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"{first:,}-{first + len(listed.rows) - 1:,} of {listed.total:,}, the latest first"
                )
            ]
        )
    )
    lines = []
    for row in listed.rows:
        when = f"{calendar.local(row.scheduled_start):%a %d %b %Y}" if row.scheduled_start else "no date"
        kind = row.meeting_type.replace("_", " ")
        also = f" · with {', '.join(row.others)}" if row.others else ""
        lines.append(f"• *{row.reference}* · {kind} · {when} · {row.state.replace('_', ' ')}{also}")
    blocks.append(SectionBlock(text=MarkdownTextObject(text="\n".join(lines)[:2900])))
    buttons = []
    if listed.page > 0:
        buttons.append(
            ButtonElement(
                text="Previous",
                action_id=f"{CHILD_DISCUSSIONS_PAGE}_previous",
                value=f"{case_id}:{listed.page - 1}",
            )
        )
    if listed.has_next:
        buttons.append(
            ButtonElement(
                text="Next", action_id=f"{CHILD_DISCUSSIONS_PAGE}_next", value=f"{case_id}:{listed.page + 1}"
            )
        )
    if buttons:
        blocks.append(ActionsBlock(block_id="child_discussion_pages", elements=buttons))
    return {"text": title, "blocks": [b.to_dict() for b in blocks]}
