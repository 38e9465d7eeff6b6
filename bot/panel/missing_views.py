"""Block Kit for Locate's work: the missing-episode form, the request for a return home
interview with its button, and the interview form. Case references only, never a name."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    DateTimePickerElement,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)

from bot.panel.missing import OUTCOMES
from bot.slack.blocks import MARKING, modal, option

MISSING_CALLBACK = "panel_missing"
INTERVIEW_CALLBACK = "panel_return_interview"


def _moment(
    block_id: str, label: str, initial: datetime | None, *, optional: bool, hint: str = ""
) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=PlainTextObject(text=label),
        element=DateTimePickerElement(
            action_id="value", initial_date_time=int(initial.timestamp()) if initial else None
        ),
        optional=optional,
        hint=PlainTextObject(text=hint) if hint else None,
    )


def missing_modal(case_reference: str, went_missing_at: datetime | None) -> dict[str, Any]:
    """`/panel missing REF`: a new episode, or the return of the child's open one."""
    heading = (
        f"{MARKING} · *{case_reference}* · recording the return from the open episode"
        if went_missing_at
        else f"{MARKING} · *{case_reference}* · a new missing episode"
    )
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=heading)),
        _moment("went_missing_at", "Went missing", went_missing_at, optional=False),
        _moment(
            "returned_at",
            "Returned or found",
            None,
            optional=True,
            hint="Leave empty while the child is still missing; the return home interview is asked for "
            "once they are back.",
        ),
        InputBlock(
            block_id="where_found",
            label=PlainTextObject(text="Where found"),
            element=PlainTextInputElement(action_id="value", max_length=300),
            optional=True,
        ),
        InputBlock(
            block_id="out_of_area",
            label=PlainTextObject(text="Out of area"),
            element=CheckboxesElement(action_id="value", options=[option("yes", "Found out of area")]),
            optional=True,
        ),
    ]
    return modal(
        title="Missing episode",
        callback_id=MISSING_CALLBACK,
        submit="Save",
        metadata={"case_reference": case_reference},
        blocks=blocks,
    )


def interview_request(
    episode_id: int, case_reference: str, due: str, *, overdue: bool, marking: str
) -> dict[str, Any]:
    """To the interview agency: a return home interview is owed (or overdue)."""
    text = (
        f"*{marking}* · *{case_reference}* is back from a missing episode: a return home interview "
        f"must be offered by *{due}*."
        if not overdue
        else f"*{marking}* · The return home interview for *{case_reference}* is overdue: it was due "
        f"by *{due}*. Offer it now and record it."
    )
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=text)),
        ActionsBlock(
            elements=[
                ButtonElement(
                    text="Record the return home interview",
                    action_id="panel_return_interview",
                    value=str(episode_id),
                    style="primary",
                )
            ]
        ),
    ]
    return {
        "text": f"{marking}: return home interview for {case_reference}"
        + (" is overdue" if overdue else f" due by {due}"),
        "blocks": [b.to_dict() for b in blocks],
    }


def interview_modal(episode_id: int, case_reference: str, due: str) -> dict[str, Any]:
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=f"{MARKING} · *{case_reference}* · due by {due}")),
        _moment("offered_at", "Offered", None, optional=False),
        InputBlock(
            block_id="outcome",
            label=PlainTextObject(text="Outcome"),
            element=StaticSelectElement(
                action_id="value", options=[option(code, name) for code, name in OUTCOMES.items()]
            ),
        ),
        InputBlock(
            block_id="by",
            label=PlainTextObject(text="Offered by (name and role)"),
            element=PlainTextInputElement(action_id="value", max_length=200),
        ),
    ]
    return modal(
        title="Return home interview",
        callback_id=INTERVIEW_CALLBACK,
        submit="Save",
        metadata={"episode_id": episode_id},
        blocks=blocks,
    )
