"""Block Kit for a case's timeline: the timeline itself (in `/strategy REF`), the Home tab's
cases, the forms to record the ICPC, the assessment's outcome and closure, and the review
day's message. Built with `slack_sdk.models` so Slack's limits are checked as they are
built. Case references only, never a child's name."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
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
)

from bot.cases.closure import REASON_LIMIT as CLOSURE_REASON_LIMIT
from bot.cases.models import IcpcState
from bot.cases.reviews import REASON_LIMIT as REVIEW_REASON_LIMIT
from bot.cases.timeline import (
    ASSESSMENT_OUTCOMES,
    SUBSTANTIATION,
    CaseRow,
    CaseTimeline,
    DisruptionLine,
    EnquiryLine,
    MissingLine,
)
from bot.convening.vocabulary import RIGHT_HELP_RIGHT_TIME
from bot.schedules import Partnership
from bot.slack.blocks import MARKING, modal, option
from bot.wording import escape_mrkdwn
from bot.working_days import WorkingCalendar

ICPC_CALLBACK = "case_icpc"
OUTCOME_CALLBACK = "case_outcome"
CLOSE_CALLBACK = "case_close"
REVIEW_NOT_NEEDED_CALLBACK = "review_not_needed"
OPEN_ICPC = "case_icpc_open"
OPEN_OUTCOME = "case_outcome_open"
OPEN_CLOSE = "case_close_open"
REVIEW_FOLLOW_UP = "review_follow_up"
REVIEW_NOT_NEEDED = "review_not_needed_open"
HOME_CASES_PAGE = "home_cases_page"
HOME_CASES_NEXT = "home_cases_next"
OPEN_MISSING = "case_missing_open"  # Locate records a missing episode from the case
INTERVIEW_WORDS = {"done": "done", "declined": "declined by the child"}


def _day(value: date | None) -> str:
    return value.strftime("%a %d %b %Y") if value else "not set"


def _moment(calendar: WorkingCalendar, value: datetime | None) -> str:
    return calendar.local(value).strftime("%a %d %b %Y %H:%M") if value else "not set"


def _left_words(days: int) -> str:
    """`3 working days left`, `due today`, `overdue by 2 working days`."""
    if days < 0:
        return f"*overdue by {-days} working day{'s' if days != -1 else ''}*"
    if days == 0:
        return "due today"
    return f"{days} working day{'s' if days != 1 else ''} left"


def _left(days: int | None) -> str:
    return f" · {_left_words(days)}" if days is not None else ""


def _enquiry_lines(enquiry: EnquiryLine) -> list[str]:
    lines = [f"*Section 47 enquiries* started {_day(enquiry.started_on)} at {enquiry.started_by}"]
    if enquiry.icpc_state == IcpcState.HELD:
        within = "within" if enquiry.icpc_within_target else "*after*"
        lines.append(
            f"*ICPC:* held {_day(enquiry.icpc_held_on)} ({within} the target, {_day(enquiry.icpc_due_on)})"
        )
    elif enquiry.icpc_state == IcpcState.NOT_REQUIRED:
        lines.append(f"*ICPC:* not required: _{escape_mrkdwn(enquiry.icpc_not_required_reason[:300])}_")
    else:
        lines.append(
            f"*ICPC:* by {_day(enquiry.icpc_due_on)} (15 working days){_left(enquiry.working_days_to_icpc)}"
        )
    if enquiry.completed_on:
        within = "within" if enquiry.assessment_within_timescale else "*after*"
        lines.append(
            f"*Assessment:* concluded {_day(enquiry.completed_on)} ({within} 45 working days): "
            f"{SUBSTANTIATION.get(enquiry.concerns_substantiated, '')}; "
            f"{ASSESSMENT_OUTCOMES.get(enquiry.outcome, enquiry.outcome)}"
        )
    else:
        lines.append(
            f"*Assessment:* by {_day(enquiry.assessment_due_on)} (45 working days from the referral)"
        )
    return lines


def _missing_line(line: MissingLine, calendar: WorkingCalendar) -> str:
    """A missing episode and its return home interview, in a line."""
    text = f"• *Missing* {_moment(calendar, line.went_missing_at)}"
    if line.returned_at is None:
        return text + ": not yet returned"
    text += f", back {_moment(calendar, line.returned_at)}"
    if line.where_found:
        text += f", found: {escape_mrkdwn(line.where_found[:200])}"
    text += " (out of area)" if line.out_of_area else ""
    if line.interview_state in INTERVIEW_WORDS:
        within = (
            line.interview_offered_at is not None
            and line.interview_due_at is not None
            and line.interview_offered_at <= line.interview_due_at
        )
        by = escape_mrkdwn(line.interview_by[:200])
        text += (
            f" · return home interview offered {_moment(calendar, line.interview_offered_at)}"
            f" ({'within' if within else 'outside'} the timescale) by {by}: "
            f"{INTERVIEW_WORDS[line.interview_state]}"
        )
    else:
        text += f" · return home interview owed by {_moment(calendar, line.interview_due_at)}"
    return text


def _disruption_line(line: DisruptionLine, partnership: Partnership) -> str:
    from bot.panel.vocabulary import DISRUPTION_RESULTS

    tactic = partnership.panel_practice.tactic_name(line.tactic)
    text = f"• *Disruption* {line.action_reference} ({escape_mrkdwn(tactic)}), due {_day(line.due_on)}"
    if line.result:
        return (
            text
            + f": {DISRUPTION_RESULTS.get(line.result, line.result)}, {escape_mrkdwn(line.outcome[:300])}"
        )
    return text + f": {line.status.replace('_', ' ')}, outcome awaited"


def timeline_blocks(
    timeline: CaseTimeline,
    *,
    partnership: Partnership,
    calendar: WorkingCalendar,
    meeting_id: int,
    may_manage: bool,
    may_record_missing: bool = False,
) -> list[Block]:
    """The case's timeline, oldest first, with buttons for its next steps (for the convenor
    and the chair): record the ICPC, the assessment's outcome, close the case; and, for the
    agencies that record them, a missing episode."""
    level = RIGHT_HELP_RIGHT_TIME.get(timeline.threshold_level, timeline.threshold_level)
    lines = [
        f"*Referral:* {_moment(calendar, timeline.referred_at)}",
        f"*Threshold:* {level}, decided {_moment(calendar, timeline.threshold_decided_at)}",
    ]
    if timeline.earlier_discussions:
        lines.append(f"_{timeline.earlier_discussions} earlier discussion(s) not shown_")
    for d in timeline.discussions:
        if d.actual_start:
            ended = calendar.local(d.actual_end).strftime("%H:%M") if d.actual_end else "?"
            when = f"held {_moment(calendar, d.actual_start)}–{ended}"
            if d.within_deadline is False:
                when += " (after its deadline)"
        elif d.state == "cancelled":
            when = "cancelled"
        else:
            when = f"booked {_moment(calendar, d.scheduled_start)}, deadline {_moment(calendar, d.deadline)}"
        extra = " · out of hours" if d.out_of_hours else ""
        if d.review_on and d.review_state in ("due", "followed_up", "not_needed"):
            words = {"due": "review", "followed_up": "followed up", "not_needed": "no follow-up needed"}
            extra += f" · {words[d.review_state]} {_day(d.review_on)}"
        lines.append(f"• *{d.reference}* ({d.kind}) {when}{extra}")
    for each in timeline.enquiries:
        lines.extend(_enquiry_lines(each))
    if timeline.earlier_missing_episodes:
        lines.append(f"_{timeline.earlier_missing_episodes} earlier missing episode(s) not shown_")
    lines.extend(_missing_line(m, calendar) for m in timeline.missing_episodes)
    lines.extend(_disruption_line(d, partnership) for d in timeline.disruptions)
    lines.extend(f"• *Panel step up* {escape_mrkdwn(words)}" for words in timeline.step_ups)
    if timeline.closed_at:
        try:
            outcome = partnership.cases.closure_outcome(timeline.closure_outcome).name
        except KeyError:
            outcome = timeline.closure_outcome
        lines.append(
            f"*Closed* {_moment(calendar, timeline.closed_at)}: {escape_mrkdwn(outcome)}, "
            f"_{escape_mrkdwn(timeline.closure_reason[:300])}_. "
            f"Records kept until {_day(timeline.records_kept_until)}."
        )
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"*Case {timeline.case_reference}: timeline*\n" + "\n".join(lines)[:2900]
            )
        )
    ]
    if may_manage and timeline.state == "open":
        value = str(meeting_id)
        buttons = []
        enquiry = timeline.enquiry
        if enquiry is not None and not enquiry.completed_on:
            if enquiry.icpc_state == IcpcState.PENDING:
                buttons.append(ButtonElement(text="Record the ICPC", action_id=OPEN_ICPC, value=value))
            else:
                buttons.append(
                    ButtonElement(text="Record the assessment outcome", action_id=OPEN_OUTCOME, value=value)
                )
        buttons.append(ButtonElement(text="Child's details", action_id=OPEN_DETAILS, value=value))
        buttons.append(
            ButtonElement(text="Close the case", action_id=OPEN_CLOSE, value=value, style="danger")
        )
        blocks.append(ActionsBlock(block_id="case_timeline", elements=buttons))
    if may_record_missing:
        blocks.append(
            ActionsBlock(
                block_id="case_missing",
                elements=[
                    ButtonElement(
                        text="Record a missing episode", action_id=OPEN_MISSING, value=str(meeting_id)
                    )
                ],
            )
        )
    return blocks


def home_cases_blocks(rows: list[CaseRow], *, page: int, more: bool) -> list[Block]:
    """The Home tab's page of open cases this person convenes or chairs, with each one's
    next statutory dates: three blocks at most, whatever the page holds."""
    lines = []
    for row in rows:
        parts = [f"*{row.case_reference}* · latest {row.latest_discussion or 'none'}"]
        if row.icpc_due_on and row.icpc_state == IcpcState.PENDING:
            left = (
                f" ({_left_words(row.working_days_to_icpc)})" if row.working_days_to_icpc is not None else ""
            )
            parts.append(f"ICPC by {_day(row.icpc_due_on)}{left}")
        if row.assessment_due_on:
            parts.append(f"assessment by {_day(row.assessment_due_on)}")
        if row.review_on:
            parts.append(f"review {_day(row.review_on)}")
        lines.append("• " + " · ".join(parts))
    text = "\n".join(lines) or ("No open cases." if page == 0 else "No more cases.")
    blocks: list[Block] = [
        HeaderBlock(text="Your open cases"),
        SectionBlock(text=MarkdownTextObject(text=text[:2900])),
    ]
    nav = []
    if page > 0:
        nav.append(ButtonElement(text="Previous", action_id=HOME_CASES_PAGE, value=str(page - 1)))
    if more:
        nav.append(ButtonElement(text="Next", action_id=HOME_CASES_NEXT, value=str(page + 1)))
    if nav:
        blocks.append(ActionsBlock(block_id="home_cases_pages", elements=nav))
    return blocks


def _input(block_id: str, label: str, element: Any, *, optional: bool = False, hint: str = "") -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=PlainTextObject(text=label),
        element=element,
        optional=optional,
        hint=PlainTextObject(text=hint) if hint else None,
    )


def _text(block_id: str, label: str, limit: int, *, optional: bool = False, hint: str = "") -> InputBlock:
    return _input(
        block_id,
        label,
        PlainTextInputElement(action_id="value", multiline=True, max_length=limit),
        optional=optional,
        hint=hint,
    )


def _heading(case_reference: str, line: str) -> ContextBlock:
    return ContextBlock(
        elements=[MarkdownTextObject(text=f"{MARKING} · case {escape_mrkdwn(case_reference)} · {line}")]
    )


OPEN_DETAILS = "case_details_open"
DETAILS_CALLBACK = "case_details"


def details_modal(meeting_id: int, case_reference: str, recorded: list[str]) -> dict[str, Any]:
    """The child's details for the minutes. Never pre-filled: Slack never shows a child's
    details, so the form says only which are recorded, and a blank field keeps its value."""
    from bot.cases.details import DETAIL_FIELDS

    held = ", ".join(recorded) if recorded else "none yet"
    blocks: list[Any] = [
        _heading(case_reference, "the child's details for the minutes (never shown in Slack)"),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"Recorded: {held}. Leave a field blank to keep what is recorded; "
                    "type to replace it."
                )
            ]
        ),
    ]
    for field in DETAIL_FIELDS:
        if field.choices:
            element: Any = StaticSelectElement(
                action_id="value", options=[option(code, words) for code, words in field.choices.items()]
            )
        else:
            element = PlainTextInputElement(
                action_id="value", multiline=field.multiline, max_length=field.limit
            )
        blocks.append(_input(field.column, field.label, element, optional=True))
    return modal(
        title="Child's details",
        callback_id=DETAILS_CALLBACK,
        submit="Save",
        close="Cancel",
        metadata={"meeting_id": meeting_id},
        blocks=blocks,
    )


def icpc_modal(meeting_id: int, case_reference: str, enquiry: EnquiryLine) -> dict[str, Any]:
    """The initial child protection conference: held on a date, or not required and why."""
    return modal(
        title="Record the ICPC",
        callback_id=ICPC_CALLBACK,
        submit="Record",
        close="Cancel",
        metadata={"meeting_id": meeting_id, "enquiry_id": enquiry.id},
        blocks=[
            _heading(
                case_reference,
                f"enquiries started {_day(enquiry.started_on)} at {enquiry.started_by}; "
                f"target {_day(enquiry.icpc_due_on)}",
            ),
            _input(
                "icpc",
                "The initial child protection conference",
                RadioButtonsElement(
                    action_id="value",
                    options=[option("held", "Held"), option("not_required", "Not required")],
                ),
            ),
            _input("held_on", "Held on", DatePickerElement(action_id="value"), optional=True),
            _text(
                "not_required_reason",
                "If not required: why",
                3000,
                optional=True,
                hint="Shown in the case's timeline in Slack: use the case reference, not the child's name.",
            ),
        ],
    )


def outcome_modal(meeting_id: int, case_reference: str, enquiry: EnquiryLine) -> dict[str, Any]:
    """The assessment's outcome: substantiated or not, and what follows."""
    return modal(
        title="Assessment outcome",
        callback_id=OUTCOME_CALLBACK,
        submit="Record",
        close="Cancel",
        metadata={"meeting_id": meeting_id, "enquiry_id": enquiry.id},
        blocks=[
            _heading(case_reference, f"assessment due by {_day(enquiry.assessment_due_on)}"),
            _input(
                "substantiated",
                "The concerns",
                RadioButtonsElement(
                    action_id="value", options=[option(k, v) for k, v in SUBSTANTIATION.items()]
                ),
            ),
            _input(
                "outcome",
                "What follows",
                RadioButtonsElement(
                    action_id="value", options=[option(k, v) for k, v in ASSESSMENT_OUTCOMES.items()]
                ),
            ),
            _input("completed_on", "Concluded on", DatePickerElement(action_id="value")),
        ],
    )


def close_modal(
    meeting_id: int,
    case_reference: str,
    *,
    partnership: Partnership,
    open_actions: list[str],
    more_actions: bool,
) -> dict[str, Any]:
    """Closing the case: the outcome, why, and (when actions are open) handing them on."""
    outcomes = [option(o.code, o.name) for o in partnership.cases.closure_outcomes]
    blocks: list[Block] = [
        _heading(case_reference, "closing ends all chasing and starts the retention clock"),
        _input("outcome", "How the case closes", StaticSelectElement(action_id="value", options=outcomes)),
        _text(
            "reason",
            "Why it closes",
            CLOSURE_REASON_LIMIT,
            hint="Shown in the case's timeline in Slack: use the case reference, not the child's name.",
        ),
    ]
    if open_actions:
        listed = ", ".join(open_actions) + (" and more" if more_actions else "")
        takers = "; ".join(
            f"{o.name}: {o.hand_on_to}" if o.hand_on_to else f"{o.name}: nobody (every action must be done)"
            for o in partnership.cases.closure_outcomes
        )
        blocks += [
            SectionBlock(
                text=MarkdownTextObject(
                    text=(
                        f"*Open actions:* {escape_mrkdwn(listed)}\n"
                        f"_Who takes them on:_ {escape_mrkdwn(takers)}"
                    )[:2900]
                )
            ),
            _input(
                "hand_on",
                "Open actions",
                CheckboxesElement(
                    action_id="value",
                    options=[option("yes", "Hand on the open actions to whoever takes the case on")],
                ),
                optional=True,
            ),
            _text("hand_on_note", "A note for whoever takes them on", 1000, optional=True),
        ]
    return modal(
        title="Close the case",
        callback_id=CLOSE_CALLBACK,
        submit="Close the case",
        close="Cancel",
        metadata={"meeting_id": meeting_id},
        blocks=blocks,
    )


def review_message(
    *, reference: str, case_reference: str, review_on: date, meeting_id: int, overdue: bool
) -> dict[str, Any]:
    """The review day's direct message to the convenor (and, a day late, the chair)."""
    headline = (
        f"The review of *{reference}* (case {case_reference}) was due on {_day(review_on)} and no follow-up "
        "is convened yet."
        if overdue
        else f"The review of *{reference}* (case {case_reference}) agreed at the discussion is today, "
        f"{_day(review_on)}."
    )
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"{MARKING}\n{headline}\nConvene the follow-up discussion, or record why none is needed."
            )
        ),
        ActionsBlock(
            block_id="review_day",
            elements=[
                ButtonElement(
                    text="Convene the follow-up",
                    action_id=REVIEW_FOLLOW_UP,
                    value=str(meeting_id),
                    style="primary",
                ),
                ButtonElement(text="No follow-up needed", action_id=REVIEW_NOT_NEEDED, value=str(meeting_id)),
            ],
        ),
    ]
    return {
        "text": f"OFFICIAL-SENSITIVE: review of {reference} {'overdue' if overdue else 'due today'}",
        "blocks": [b.to_dict() for b in blocks],
    }


def review_not_needed_modal(meeting_id: int, reference: str) -> dict[str, Any]:
    return modal(
        title="No follow-up needed",
        callback_id=REVIEW_NOT_NEEDED_CALLBACK,
        submit="Record",
        close="Cancel",
        metadata={"meeting_id": meeting_id},
        blocks=[
            SectionBlock(text=MarkdownTextObject(text=f"{MARKING} · review of {escape_mrkdwn(reference)}")),
            _text(
                "reason",
                "Why no follow-up discussion is needed",
                REVIEW_REASON_LIMIT,
                hint="Use the case reference, not the child's name.",
            ),
        ],
    )
