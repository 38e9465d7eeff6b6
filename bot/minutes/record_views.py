"""Block Kit for recording a strategy discussion, in two steps (see `bot.minutes.recording`):
*When and who*, then *What was decided*. Each step stays well within Slack's 100 blocks
whatever the number of agencies, and step 1 travels to step 2 in the private metadata.
Also the readers of each step's values, so the listener only moves them along."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    ContextBlock,
    DatePickerElement,
    DateTimePickerElement,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
    StaticSelectElement,
)

from bot.convening.vocabulary import RIGHT_HELP_RIGHT_TIME
from bot.minutes.decisions import (
    CHILD_TOPICS,
    NOT_YET,
    SHARED_TOPICS,
    TOPICS,
    Answer,
    Topic,
    section_47_answers,
)
from bot.minutes.recording import (
    NARRATIVE,
    OUT_OF_HOURS_REASON_LIMIT,
    QUORUM_REASON_LIMIT,
    WhatWasDecided,
    WhenAndWho,
)
from bot.minutes.service import ATTENDANCE_WORDS
from bot.slack.blocks import MARKING, modal, option
from bot.wording import escape_mrkdwn

RECORD_CALLBACK = "strategy_record"  # step 1: when and who
RECORD_DECISIONS_CALLBACK = "strategy_record_decisions"  # step 2: what was decided
RECORD_CHILD_CALLBACK = "strategy_record_child"  # several children: a step per child
NARRATIVE_LABELS = {
    "action_taken": "Reason for the discussion and action already taken",
    "child_voice": "The child's voice",
    "harm": "Harm",
    "likelihood": "Likelihood",
    "protective_factors": "Protective factors",
    "extra_familial": "Extra-familial context (peers, places, online)",
    "next_steps": "Next steps",
}


def _input(block_id: str, label: str, element: Any, *, optional: bool = False, hint: str = "") -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=PlainTextObject(text=label[:2000]),
        element=element,
        optional=optional,
        hint=PlainTextObject(text=hint) if hint else None,
    )


def _text(
    block_id: str, label: str, *, initial: str = "", limit: int = 3000, optional: bool = True, hint: str = ""
) -> InputBlock:
    return _input(
        block_id,
        label,
        PlainTextInputElement(
            action_id="value", multiline=True, initial_value=initial[:limit] or None, max_length=limit
        ),
        optional=optional,
        hint=hint,
    )


def _radio(block_id: str, label: str, answers: dict[str, str], chosen: str) -> InputBlock:
    choices = [option(k, v) for k, v in answers.items()]
    return _input(
        block_id,
        label,
        RadioButtonsElement(
            action_id="value",
            options=choices,
            initial_option=next((o for o in choices if o.value == chosen), None),
        ),
    )


def record_step_one(
    *,
    meeting_id: int,
    reference: str,
    agencies: list[tuple[str, str]],
    core: list[str],
    attendance: dict[str, str],
    actual_start: datetime | None,
    actual_end: datetime | None,
    out_of_hours_reason: str,
    quorum_reason: str = "",
    chair_proceeds: bool = False,
    version: int = 0,
    note: str = "",
) -> dict[str, Any]:
    """Step 1: when it actually ran, why out of hours, who took part, the quorum. It
    carries the version of the shared draft it was opened on; `note` says whose draft."""
    statuses = [option(str(k), v) for k, v in ATTENDANCE_WORDS.items()]
    proceed = option("yes", "The chair decided to go ahead as a strategy discussion")
    blocks: list[Block] = [
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"{MARKING} · {escape_mrkdwn(reference)} · step 1 of 2: when and who. "
                    "What is recorded goes into the minutes."
                )
            ]
        ),
        *([ContextBlock(elements=[MarkdownTextObject(text=note)])] if note else []),
        _input(
            "actual_start",
            "When it actually began",
            DateTimePickerElement(
                action_id="value", initial_date_time=int(actual_start.timestamp()) if actual_start else None
            ),
        ),
        _input(
            "actual_end",
            "When it ended",
            DateTimePickerElement(
                action_id="value", initial_date_time=int(actual_end.timestamp()) if actual_end else None
            ),
        ),
        _text(
            "out_of_hours_reason",
            "If held out of hours (evening, weekend, bank holiday): why it could not wait",
            initial=out_of_hours_reason,
            limit=OUT_OF_HOURS_REASON_LIMIT,
            hint="Shown in Slack: use the case reference, not the child's name.",
        ),
        HeaderBlock(text="Who actually took part"),
    ]
    for code, name in agencies:
        chosen = attendance.get(code, "")
        blocks.append(
            _input(
                f"attendance:{code}",
                name[:150],
                StaticSelectElement(
                    action_id="value",
                    options=statuses,
                    initial_option=next((o for o in statuses if o.value == chosen), None),
                ),
            )
        )
    core_text = ", ".join(core) if core else "none"
    blocks += [
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"Without these it is not a strategy discussion: {escape_mrkdwn(core_text)}. "
                    "A written update does not count as taking part."
                )
            ]
        ),
        _text(
            "quorum_reason",
            "If one of them did not take part: why",
            initial=quorum_reason,
            limit=QUORUM_REASON_LIMIT,
        ),
        _input(
            "quorum_proceed",
            "The chair's decision",
            CheckboxesElement(
                action_id="value", options=[proceed], initial_options=[proceed] if chair_proceeds else None
            ),
            optional=True,
        ),
    ]
    return modal(
        callback_id=RECORD_CALLBACK,
        title="Record discussion",
        submit="Next",
        close="Cancel",
        metadata={"meeting_id": meeting_id, "step": 1, "v": version},
        blocks=blocks,
    )


def record_step_two(
    *,
    carried: str,
    reference: str,
    threshold_level: str,
    narrative: dict[str, str],
    decisions: dict[str, Answer],
    review_date: date | None,
    enquiry_under_way_from: str,
    icpc_hint: str,
    children: list[str] | None = None,
) -> dict[str, Any]:
    """Step 2: the threshold, the discussion and every decision, each answered explicitly.
    `carried` is step 1 as `WhenAndWho.to_metadata` wrote it. With several `children`
    (their references), the decisions taken per child come in a step each, after this."""
    several = bool(children and len(children) > 1)
    steps = f"step 2 of {2 + len(children or [])}" if several else "step 2 of 2"
    listed = escape_mrkdwn(", ".join(children or []))
    levels = [option(k, v) for k, v in RIGHT_HELP_RIGHT_TIME.items()]
    blocks: list[Block] = [
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"{MARKING} · {escape_mrkdwn(reference)} · {steps}: what was decided"
                    + (f" for all the children; then a step for each of {listed}" if several else "")
                )
            ]
        ),
        _input(
            "threshold_level",
            "Right Help Right Time level the discussion agreed",
            StaticSelectElement(
                action_id="value",
                options=levels,
                initial_option=next((o for o in levels if o.value == threshold_level), None),
            ),
            hint="Section 47 enquiries need complex / significant.",
        ),
        HeaderBlock(text="Discussion"),
        _text("action_taken", NARRATIVE_LABELS["action_taken"], initial=narrative.get("action_taken", "")),
        _text("child_voice", NARRATIVE_LABELS["child_voice"], initial=narrative.get("child_voice", "")),
        HeaderBlock(text="Risk analysis"),
        *(
            _text(key, NARRATIVE_LABELS[key], initial=narrative.get(key, ""))
            for key in ("harm", "likelihood", "protective_factors", "extra_familial")
        ),
        HeaderBlock(text="Decisions"),
        *decision_blocks(SHARED_TOPICS if several else TOPICS, decisions, enquiry_under_way_from, icpc_hint),
    ]
    blocks += [
        _input(
            "review_date",
            "Review or next discussion",
            DatePickerElement(
                action_id="value", initial_date=review_date.isoformat() if review_date else None
            ),
            hint="The convenor is reminded on the day to convene it or to record why none is needed.",
        ),
        _text("next_steps", NARRATIVE_LABELS["next_steps"], initial=narrative.get("next_steps", "")),
    ]
    return modal(
        callback_id=RECORD_DECISIONS_CALLBACK,
        title="Record discussion",
        submit="Next" if several else "Record",
        close="Back",
        metadata=carried,
        blocks=blocks,
    )


def decision_blocks(
    topics: tuple[Topic, ...], decisions: dict[str, Answer], enquiry_under_way_from: str, icpc_hint: str
) -> list[Block]:
    """Each decision's answer, its detail and, for not yet decided, the date."""
    blocks: list[Block] = []
    for topic in topics:
        answer = decisions.get(topic.code, Answer())
        answers = section_47_answers(enquiry_under_way_from) if topic.code == "section_47" else topic.answers
        chosen = answer.outcome or (next(iter(answers)) if len(answers) == 1 else "")
        if answers:
            blocks.append(_radio(topic.code, topic.label, answers, chosen))
        blocks.append(
            _text(
                f"{topic.code}_detail",
                topic.detail_label if answers else topic.label,
                initial=answer.detail,
                optional="*" not in topic.detail_needed_for,
            )
        )
        if NOT_YET in answers:
            blocks.append(
                _input(
                    f"{topic.code}_by",
                    f"{topic.date_label} (if not yet decided)",
                    DatePickerElement(
                        action_id="value",
                        initial_date=answer.decide_by.isoformat() if answer.decide_by else None,
                    ),
                    optional=True,
                )
            )
        if topic.code == "icpc":
            blocks.append(ContextBlock(elements=[MarkdownTextObject(text=icpc_hint)]))
    return blocks


def record_child_step(
    *,
    meeting_id: int,
    reference: str,
    child_reference: str,
    number: int,
    total: int,
    decisions: dict[str, Answer],
    enquiry_under_way_from: str,
    icpc_hint: str,
    version: int = 0,
) -> dict[str, Any]:
    """One child's step (carrying the shared draft's version): their section 47 decision
    and why, the enquiry and who leads it, and their ICPC. About a dozen blocks, whatever
    the number of children."""
    last = number == total
    blocks: list[Block] = [
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"{MARKING} · {escape_mrkdwn(reference)} · step {number + 2} of {total + 2}: "
                    f"child {number} of {total}, case {escape_mrkdwn(child_reference)}"
                )
            ]
        ),
        HeaderBlock(text=f"Decisions for {child_reference}"[:150]),
        *decision_blocks(CHILD_TOPICS, decisions, enquiry_under_way_from, icpc_hint),
    ]
    return modal(
        callback_id=RECORD_CHILD_CALLBACK,
        title="Record discussion",
        submit="Record" if last else "Next child",
        close="Back",
        metadata={"meeting_id": meeting_id, "child": number - 1, "v": version},
        blocks=blocks,
    )


def child_answers_from(values: dict[str, Any]) -> dict[str, Answer]:
    """One child's step's values as their answers."""
    return {
        topic.code: Answer(
            outcome=values.get(topic.code) or "",
            detail=values.get(f"{topic.code}_detail") or "",
            decide_by=values.get(f"{topic.code}_by") if values.get(topic.code) == NOT_YET else None,
        )
        for topic in CHILD_TOPICS
    }


def when_and_who_from(values: dict[str, Any]) -> WhenAndWho:
    """Step 1's values (from `read_values`) as a `WhenAndWho`."""

    def moment(value: Any) -> datetime | None:
        return datetime.fromtimestamp(int(value), UTC) if value else None

    return WhenAndWho(
        actual_start=moment(values.get("actual_start")),
        actual_end=moment(values.get("actual_end")),
        out_of_hours_reason=values.get("out_of_hours_reason") or "",
        attendance={
            k.removeprefix("attendance:"): v or "" for k, v in values.items() if k.startswith("attendance:")
        },
        quorum_reason=values.get("quorum_reason") or "",
        chair_proceeds="yes" in (values.get("quorum_proceed") or []),
    )


def what_was_decided_from(values: dict[str, Any]) -> WhatWasDecided:
    """Step 2's values (from `read_values`) as a `WhatWasDecided`."""
    decisions = {
        topic.code: Answer(
            outcome=values.get(topic.code) or "",
            detail=values.get(f"{topic.code}_detail") or "",
            decide_by=values.get(f"{topic.code}_by") if values.get(topic.code) == NOT_YET else None,
        )
        for topic in TOPICS
    }
    return WhatWasDecided(
        threshold_level=values.get("threshold_level") or "",
        narrative={key: values.get(key) or "" for key in NARRATIVE},
        decisions=decisions,
        review_date=values.get("review_date"),
    )
