"""Block Kit for the panel administrators' *Messages that failed* on their Home tab."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.delivery.failures import FailedMessage, shown_reason
from bot.wording import escape_mrkdwn

HOME_FAILED_PAGE = "home_failed_page"
HOME_FAILED_NEXT = "home_failed_next"
RETRY_FAILED = "outbox_retry"


def failed_messages_blocks(
    rows: list[FailedMessage], *, page: int, more: bool, when: Callable[[datetime], str]
) -> list[Block]:
    """A page of failed messages, newest first, each with *Send again*: a fixed number of
    blocks whatever the outbox holds. `when` writes a moment in the partnership's time."""
    blocks: list[Block] = [HeaderBlock(text="Messages that failed")]
    if not rows:
        empty = "No message has failed." if page == 0 else "No more failed messages."
        blocks.append(SectionBlock(text=MarkdownTextObject(text=empty)))
    for row in rows:
        what = row.method + (f" for {row.purpose}" if row.purpose else "")
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=f"*Outbox {row.id}* · {escape_mrkdwn(what)} · {when(row.created_at)} · "
                    f"{escape_mrkdwn(shown_reason(row.reason))}"
                ),
                accessory=ButtonElement(text="Send again", action_id=RETRY_FAILED, value=str(row.id)),
            )
        )
    nav = []
    if page > 0:
        nav.append(ButtonElement(text="Previous", action_id=HOME_FAILED_PAGE, value=str(page - 1)))
    if more:
        nav.append(ButtonElement(text="Next", action_id=HOME_FAILED_NEXT, value=str(page + 1)))
    if nav:
        blocks.append(ActionsBlock(elements=nav))
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="Shown to panel administrators. `python -m bot outbox` lists them all with "
                    "their full reasons."
                )
            ]
        )
    )
    return blocks
