"""Block Kit for convening: the form, invitations, the live status and the small modals.

Everything here is built with `slack_sdk.models`, so Slack's limits are checked as it is
built, and carries case references only: never a child's name or date of birth.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    ContextBlock,
    DatePickerElement,
    DateTimePickerElement,
    DividerBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    PlainTextObject,
    RadioButtonsElement,
    SectionBlock,
    StaticMultiSelectElement,
    StaticSelectElement,
    UserMultiSelectElement,
)

from bot.convening.service import DiscussionPage
from bot.convening.summary import AgencyStatus, DiscussionSummary
from bot.convening.vocabulary import (
    ANSWERS,
    FORMATS,
    RIGHT_HELP_RIGHT_TIME,
    URGENCY_NAMES,
)
from bot.schedules import Partnership
from bot.slack.blocks import MARKING, modal, option
from bot.wording import escape_mrkdwn
from bot.working_days import WorkingCalendar

CONVENE_CALLBACK = "strategy_new"
FOLLOW_UP_CALLBACK = "strategy_follow_up"
DELEGATE_CALLBACK = "invitation_delegate"
DECLINE_CALLBACK = "invitation_decline"
RESCHEDULE_CALLBACK = "discussion_reschedule"
CANCEL_CALLBACK = "discussion_cancel"
SECTION_47_CALLBACK = "discussion_section_47"

ANSWER_ACTIONS = {
    "invitation_attending": "attending",
    "invitation_delegate": "delegate",
    "invitation_written_update": "written_update",
    "invitation_decline": "declined",
}
STATE_MARKS = {
    "invited": ":hourglass_flowing_sand:",
    "attending": ":white_check_mark:",
    "delegate": ":bust_in_silhouette:",
    "written_update": ":memo:",
    "declined": ":x:",
}


def when(calendar: WorkingCalendar, moment: datetime | None) -> str:
    """A moment as London people read it: `Tue 10 Nov 2026 14:00`."""
    if moment is None:
        return "not set"
    return calendar.local(moment).strftime("%a %d %b %Y %H:%M")


def day(value: date | None) -> str:
    return value.strftime("%a %d %b %Y") if value else "not set"


def time_left(deadline: datetime | None, now: datetime) -> str:
    """`5 h 20 min left` or `overdue by 1 d 2 h`, in plain clock time."""
    if deadline is None:
        return ""
    seconds = int((deadline - now).total_seconds())
    late = seconds < 0
    seconds = abs(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = [
        f"{days} d" if days else "",
        f"{hours} h" if hours else "",
        f"{minutes} min" if not days else "",
    ]
    text = " ".join(p for p in parts if p) or "0 min"
    return f"overdue by {text}" if late else f"{text} left"


def _input(
    block_id: str, label: str, element: Any, *, optional: bool = False, hint: str | None = None
) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=PlainTextObject(text=label),
        element=element,
        optional=optional,
        hint=PlainTextObject(text=hint) if hint else None,
    )


CONCERN_BLOCKS: dict[str, tuple[str, str]] = {
    # kind -> (block id, label)
    "exploitation": ("concerns", "Exploitation and harm outside the family"),
    "intra_familial": ("concerns_family", "Harm within the family"),
    "other": ("concerns_other", "Other concerns"),
}
CONCERN_HINTS = {
    "exploitation": "Any of these adds the agencies the partnership brings in for exploitation "
    "(e.g. Force CID, Locate, YOS).",
    "intra_familial": "These invite the core agencies only.",
    "other": "Choose the agencies to add for it under 'Also invite these agencies'.",
}


@dataclass(frozen=True)
class FollowUpOf:
    """The earlier discussion a follow-up form is for (references only)."""

    meeting_id: int
    reference: str
    case_reference: str
    meeting_type: str
    concerns: tuple[str, ...]
    right_help_right_time_level: str
    chair_slack_id: str | None
    format: str
    icpc_line: str  # e.g. "ICPC by Tue 01 Dec 2026, anchored to SD-2026-0001"
    review_on: date | None


def concerns_from(values: dict[str, Any]) -> tuple[str, ...]:
    """Every concern ticked, across the form's groups."""
    ticked: list[str] = []
    for block_id, _ in CONCERN_BLOCKS.values():
        ticked += [c for c in values.get(block_id) or () if c not in ticked]
    return tuple(ticked)


def _concern_blocks(partnership: Partnership, chosen: tuple[str, ...]) -> list[Block]:
    blocks: list[Block] = []
    for kind, (block_id, label) in CONCERN_BLOCKS.items():
        concerns = partnership.cases.concerns_of_kind(kind)
        if not concerns:
            continue
        options = [option(c.code, c.name) for c in concerns]
        initial = [o for o in options if o.value in chosen]
        blocks.append(
            _input(
                block_id,
                label,
                CheckboxesElement(action_id="value", options=options, initial_options=initial or None),
                optional=True,
                hint=CONCERN_HINTS[kind],
            )
        )
    return blocks


def convene_modal(
    *,
    partnership: Partnership,
    calendar: WorkingCalendar,
    now: datetime,
    case_reference: str,
    private_metadata: str,
    deadlines: dict[str, datetime],
    proposed_start: datetime,
    follow_up: FollowUpOf | None = None,
    reason: str = "",
    concerns: tuple[str, ...] = (),
) -> dict[str, Any]:
    """The `/strategy new` form, or (given `follow_up`) the form for a follow-up discussion,
    which carries the case and asks neither the child's details nor the referral. `reason`
    and `concerns` pre-fill it (a panel's step up fills in the case and its links)."""
    meeting_type = follow_up.meeting_type if follow_up else "strategy_discussion"
    kind = partnership.meeting_type(meeting_type)
    settings = partnership.settings
    urgencies = [
        option(code, URGENCY_NAMES.get(code, code.title()), offered.description)
        for code in kind.urgencies.offered()
        if (offered := kind.urgencies.get(code)) is not None
    ]
    default_urgency = next(o for o in urgencies if o.value == kind.default_urgency)
    chairs = [
        option(p.slack_user_id, f"{p.name}, {p.title}")
        for p in partnership.people_with_role("chair")
        if p.slack_user_id
    ]
    chosen_chair = next((o for o in chairs if follow_up and o.value == follow_up.chair_slack_id), None)
    extra = [option(a.code, a.name) for a in partnership.agencies if a.code not in kind.required_agencies]
    deadline_text = " · ".join(
        f"{URGENCY_NAMES.get(code, code)}: {when(calendar, moment)}" for code, moment in deadlines.items()
    )
    levels = [option(k, v) for k, v in RIGHT_HELP_RIGHT_TIME.items()]
    level = follow_up.right_help_right_time_level if follow_up else "complex_significant"
    blocks: list[Block] = []
    if follow_up is None:
        blocks += [
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=f"{MARKING} · The child's name and date of birth are kept in the record "
                        "and the minutes, never shown in Slack."
                    )
                ]
            ),
            _input(
                "case_reference",
                "Case reference",
                PlainTextInputElement(
                    action_id="value",
                    initial_value=case_reference or None,
                    placeholder=PlainTextObject(text=settings.case_reference.example),
                    max_length=40,
                ),
                hint=f"{settings.case_reference.description}, e.g. {settings.case_reference.example}",
            ),
            _input("child_name", "Child's name", PlainTextInputElement(action_id="value", max_length=200)),
            _input(
                "child_date_of_birth",
                "Child's date of birth",
                DatePickerElement(action_id="value"),
                optional=True,
            ),
            _input(
                "referred_at",
                "When the referral was received",
                DateTimePickerElement(action_id="value", initial_date_time=int(now.timestamp())),
                hint="The urgency deadline counts from the referral, not from this form.",
            ),
        ]
    else:
        review = f" · review agreed for {day(follow_up.review_on)}" if follow_up.review_on else ""
        blocks.append(
            ContextBlock(
                elements=[
                    MarkdownTextObject(
                        text=f"{MARKING} · Follow-up to *{escape_mrkdwn(follow_up.reference)}* · case "
                        f"{escape_mrkdwn(follow_up.case_reference)}{review}\n{follow_up.icpc_line}"
                    )
                ]
            )
        )
    blocks += [
        _input(
            "reason",
            "What the follow-up is for (new information, progress)"
            if follow_up
            else "Reason for the discussion, and action already taken",
            PlainTextInputElement(
                action_id="value", multiline=True, max_length=3000, initial_value=reason[:3000] or None
            ),
        ),
        *_concern_blocks(partnership, follow_up.concerns if follow_up else concerns),
        _input(
            "right_help_right_time_level",
            "Right Help Right Time level",
            StaticSelectElement(
                action_id="value",
                options=levels,
                initial_option=next((o for o in levels if o.value == level), None),
            ),
            hint="A section 47 strategy discussion is held at complex / significant.",
        ),
        _input(
            "urgency",
            "Urgency",
            StaticSelectElement(action_id="value", options=urgencies, initial_option=default_urgency),
        ),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"Deadlines if {'asked for' if follow_up else 'referred'} now: {deadline_text}"
                )
            ]
        ),
        _input(
            "start",
            "Date and time",
            DateTimePickerElement(action_id="value", initial_date_time=int(proposed_start.timestamp())),
            hint="Pre-filled with the earliest working-hours slot.",
        ),
        _input(
            "held_already",
            "Already held",
            CheckboxesElement(
                action_id="value",
                options=[option("yes", "It was held already (by phone): I am recording it after the fact")],
            ),
            optional=True,
        ),
        _input(
            "late_reason",
            "If after the deadline: why it cannot be sooner",
            PlainTextInputElement(action_id="value", multiline=True, max_length=1000),
            optional=True,
        ),
        _input(
            "out_of_hours_reason",
            "If out of hours: why it cannot wait",
            PlainTextInputElement(action_id="value", multiline=True, max_length=300),
            optional=True,
            hint="Evenings, weekends and bank holidays: emergency duty convenors only.",
        ),
        _input(
            "format",
            "Format",
            RadioButtonsElement(
                action_id="value",
                options=[option(k, v) for k, v in FORMATS.items()],
                initial_option=option(
                    follow_up.format if follow_up and follow_up.format in FORMATS else "call",
                    FORMATS.get(follow_up.format if follow_up else "call", FORMATS["call"]),
                ),
            ),
        ),
        _input(
            "chair",
            "Chair",
            StaticSelectElement(action_id="value", options=chairs, initial_option=chosen_chair),
        ),
        _input(
            "extra_agencies",
            "Also invite these agencies",
            StaticMultiSelectElement(action_id="value", options=extra),
            optional=True,
        ),
        _input(
            "extra_people",
            "Also invite these people",
            UserMultiSelectElement(action_id="value"),
            optional=True,
        ),
    ]
    if follow_up is None:
        blocks.append(
            _input(
                "follows",
                "Follows an earlier discussion (its reference)",
                PlainTextInputElement(
                    action_id="value",
                    placeholder=PlainTextObject(
                        text=f"{settings.discussion_reference_prefix}-{now.year}-0001"
                    ),
                    max_length=40,
                ),
                optional=True,
                hint="Or use /strategy follow-up with its reference: the form carries the case.",
            )
        )
    return modal(
        title="Follow-up discussion" if follow_up else "New strategy discussion",
        callback_id=FOLLOW_UP_CALLBACK if follow_up else CONVENE_CALLBACK,
        submit="Convene",
        close="Cancel",
        metadata=private_metadata,
        blocks=blocks,
    )


def read_values(state: dict[str, Any]) -> dict[str, Any]:
    """Flatten a view's `state.values` into {block_id: value} in plain Python types."""
    flat: dict[str, Any] = {}
    for block_id, actions in state.get("values", {}).items():
        for element in actions.values():
            kind = element.get("type")
            if kind == "plain_text_input":
                flat[block_id] = element.get("value") or ""
            elif kind in ("static_select", "radio_buttons"):
                flat[block_id] = (element.get("selected_option") or {}).get("value")
            elif kind in ("multi_static_select", "checkboxes"):
                flat[block_id] = [o["value"] for o in element.get("selected_options") or []]
            elif kind == "datepicker":
                picked = element.get("selected_date")
                flat[block_id] = date.fromisoformat(picked) if picked else None
            elif kind == "datetimepicker":
                flat[block_id] = element.get("selected_date_time")
            elif kind == "users_select":
                flat[block_id] = element.get("selected_user")
            elif kind == "multi_users_select":
                flat[block_id] = list(element.get("selected_users") or [])
    return flat


def icpc_line(summary: DiscussionSummary) -> str:
    """The ICPC target, anchored to the discussion that started section 47 enquiries."""
    if summary.icpc_due is None:
        return "*ICPC:* set once section 47 enquiries are decided"
    if summary.icpc_state == "held":
        return "*ICPC:* held"
    if summary.icpc_state == "not_required":
        return "*ICPC:* not required"
    anchor = "this discussion" if summary.icpc_anchor == summary.reference else summary.icpc_anchor
    return (
        f"*ICPC:* by {day(summary.icpc_due)} (15 working days after {anchor}, "
        "which started section 47 enquiries)"
    )


def _agency_line(agency: AgencyStatus, calendar: WorkingCalendar) -> str:
    mark = STATE_MARKS.get(agency.state, "")
    line = f"{mark} *{escape_mrkdwn(agency.name)}*: {ANSWERS.get(agency.state, agency.state)}"
    if agency.state == "delegate" and agency.delegate:
        line += f" (<@{agency.delegate}>)"
    if agency.state == "declined" and agency.decline_reason:
        line += f": _{escape_mrkdwn(agency.decline_reason[:200])}_"
    if agency.answered_by and agency.answered_at and agency.state != "invited":
        line += f" · <@{agency.answered_by}> at {calendar.local(agency.answered_at):%H:%M %d %b}"
    if agency.state == "invited" and not agency.recipients:
        line += " · :warning: no contact on Slack"
    if agency.chases and agency.state == "invited":
        last = agency.chases[-1]
        step = last.step.replace("_", " ")
        line += f" · {step} {calendar.local(last.at):%H:%M %d %b}"
    if agency.update_state:
        line += f" · update: {agency.update_state}"
    if not agency.required:
        line += " · _invited as relevant_"
    return line


def _summary_fields(summary: DiscussionSummary, calendar: WorkingCalendar) -> str:
    concerns = ", ".join(summary.concern_names) or "none recorded"
    chair = f"<@{summary.chair}>" if summary.chair else "not set"
    convenor = f"<@{summary.convenor}>" if summary.convenor else "not set"
    lines = [
        f"*When:* {when(calendar, summary.start)} ({FORMATS.get(summary.format, summary.format)}, "
        f"{summary.duration_minutes} min)",
        f"*Urgency:* {URGENCY_NAMES.get(summary.urgency, summary.urgency)} · *Concerns:* {concerns}",
        f"*Convenor:* {convenor} · *Chair:* {chair}",
    ]
    if summary.panel:
        lines[1:3] = [f"*Administrator:* {convenor} · *Chair:* {chair}"]
    if summary.follows:
        lines.append(f"*Follows:* {summary.follows}")
    if summary.out_of_hours:
        lines.append(f"*Out of hours:* {escape_mrkdwn(summary.out_of_hours_reason[:300])}")
    return "\n".join(lines)


def _kind(summary: DiscussionSummary) -> str:
    return "panel" if summary.panel else "strategy discussion"


def _heading(summary: DiscussionSummary) -> str:
    if summary.panel:
        return f"{MARKING}\n*{escape_mrkdwn(summary.panel)} {summary.reference}*"
    return f"{MARKING}\n*Strategy discussion {summary.reference}* · case {summary.case_reference}"


def status_message(summary: DiscussionSummary, *, calendar: WorkingCalendar, now: datetime) -> dict[str, Any]:
    """The live status in the discussion's channel: deadline, agencies, ICPC."""
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=_heading(summary)))]
    if summary.state == "cancelled":
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=f":no_entry: *Cancelled:* {escape_mrkdwn(summary.cancelled_reason[:500])}"
                )
            )
        )
    deadline = f"*Deadline:* {when(calendar, summary.deadline)} ({time_left(summary.deadline, now)})"
    if summary.panel:
        deadline = "*Agenda:* issued at the referral cut-off, with a form per item for each agency."
    elif summary.start and summary.deadline and summary.start > summary.deadline:
        deadline += "\n:warning: Booked after the deadline: " + escape_mrkdwn(summary.late_reason[:300])
    blocks.append(
        SectionBlock(text=MarkdownTextObject(text=_summary_fields(summary, calendar) + "\n" + deadline))
    )
    blocks.append(DividerBlock())
    lines = [_agency_line(agency, calendar) for agency in summary.agencies]
    answered = sum(1 for a in summary.agencies if a.state != "invited")
    blocks.append(
        SectionBlock(
            text=MarkdownTextObject(
                text=f"*Agencies* ({answered} of {len(summary.agencies)} answered)\n" + "\n".join(lines)
            )
        )
    )
    if summary.core_missing:
        missing = " and ".join(summary.core_missing)
        missing = missing[:1].upper() + missing[1:]
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(
                    text=f":rotating_light: {escape_mrkdwn(missing)} cannot attend: this cannot go ahead "
                    "as a strategy discussion unless the chair decides so, with the reason recorded."
                )
            )
        )
    icpc = icpc_line(summary)
    if summary.actions_open or summary.actions_done:
        icpc += (
            f" · *Actions:* {summary.actions_open} open ({summary.actions_overdue} overdue), "
            f"{summary.actions_done} done"
        )
    if summary.panel:
        icpc = icpc.split(" · ", 1)[1] if " · " in icpc else ""
    if icpc:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=icpc)]))
    if summary.state in ("convening", "scheduled") and not summary.panel:
        value = str(summary.meeting_id)
        blocks.append(
            ActionsBlock(
                block_id="discussion_actions",
                elements=[
                    ButtonElement(text="Section 47 decision", action_id="open_section_47", value=value),
                    ButtonElement(text="Reschedule", action_id="open_reschedule", value=value),
                    ButtonElement(
                        text="Cancel discussion",
                        action_id="open_cancel",
                        value=value,
                        style="danger",
                    ),
                ],
            )
        )
    return {
        "text": f"OFFICIAL-SENSITIVE: {_kind(summary)} {summary.reference} ({answered} of "
        f"{len(summary.agencies)} agencies answered)",
        "blocks": [block.to_dict() for block in blocks],
    }


def invitation_message(
    summary: DiscussionSummary, agency: AgencyStatus, *, calendar: WorkingCalendar
) -> dict[str, Any]:
    """One contact's invitation; it shows their agency's answer and updates in place."""
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"{_heading(summary)}\nYou are invited for *{escape_mrkdwn(agency.name)}*."
            )
        ),
        SectionBlock(
            text=MarkdownTextObject(
                text=_summary_fields(summary, calendar)
                + ("" if summary.panel else f"\n*Deadline:* {when(calendar, summary.deadline)}")
            )
        ),
    ]
    answer = f"*Your agency's answer:* {ANSWERS.get(agency.state, agency.state)}"
    if agency.state == "delegate" and agency.delegate:
        answer += f", <@{agency.delegate}>"
    if agency.answered_by and agency.state != "invited":
        answer += f" (<@{agency.answered_by}>)"
    if summary.state == "cancelled":
        answer = f":no_entry: *Cancelled:* {escape_mrkdwn(summary.cancelled_reason[:500])}"
    blocks.append(SectionBlock(text=MarkdownTextObject(text=answer)))
    if summary.state in ("convening", "scheduled"):
        value = str(agency.invitation_id)
        # A panel asks for its updates per agenda item, once the agenda is out.
        update = (
            []
            if summary.panel
            else [ButtonElement(text="Submit agency update", action_id="agency_update_open", value=value)]
        )
        blocks.append(
            ActionsBlock(
                block_id="invitation_answer",
                elements=[
                    ButtonElement(
                        text="Attending",
                        action_id="invitation_attending",
                        value=value,
                        style="primary",
                    ),
                    ButtonElement(text="Sending a delegate", action_id="invitation_delegate", value=value),
                    ButtonElement(
                        text="Written update only",
                        action_id="invitation_written_update",
                        value=value,
                    ),
                    ButtonElement(
                        text="Decline", action_id="invitation_decline", value=value, style="danger"
                    ),
                    *update,
                ],
            )
        )
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="Representatives should be senior enough to decide for their agency. "
                    "If nobody can attend, send a written update."
                )
            ]
        )
    )
    return {
        "text": f"OFFICIAL-SENSITIVE: invitation to {_kind(summary)} {summary.reference} for {agency.name}",
        "blocks": [block.to_dict() for block in blocks],
    }


def _small_modal(
    callback_id: str, title: str, submit: str, metadata: dict[str, Any], blocks: list[Block]
) -> dict[str, Any]:
    return modal(
        title=title, callback_id=callback_id, submit=submit, close="Back", metadata=metadata, blocks=blocks
    )


def delegate_modal(invitation_id: int, reference: str, people: list[tuple[str, str]]) -> dict[str, Any]:
    """Pick the delegate from the agency's own people (name, Slack id)."""
    return _small_modal(
        DELEGATE_CALLBACK,
        "Send a delegate",
        "Send",
        {"invitation_id": invitation_id},
        [
            SectionBlock(text=MarkdownTextObject(text=f"{MARKING} · {reference}")),
            _input(
                "delegate",
                "Who will attend for your agency?",
                StaticSelectElement(
                    action_id="value", options=[option(uid, name) for name, uid in people][:100]
                ),
            ),
        ],
    )


def decline_modal(invitation_id: int, reference: str) -> dict[str, Any]:
    return _small_modal(
        DECLINE_CALLBACK,
        "Decline invitation",
        "Decline",
        {"invitation_id": invitation_id},
        [
            SectionBlock(text=MarkdownTextObject(text=f"{MARKING} · {reference}")),
            _input(
                "reason",
                "Why can your agency not take part?",
                PlainTextInputElement(action_id="value", multiline=True, max_length=1000),
            ),
        ],
    )


def reschedule_modal(meeting_id: int, reference: str, start: datetime | None) -> dict[str, Any]:
    picker = DateTimePickerElement(
        action_id="value", initial_date_time=int(start.timestamp()) if start else None
    )
    return _small_modal(
        RESCHEDULE_CALLBACK,
        "Reschedule",
        "Reschedule",
        {"meeting_id": meeting_id},
        [
            SectionBlock(text=MarkdownTextObject(text=f"{MARKING} · {reference}")),
            _input("start", "New date and time", picker),
            _input(
                "reason",
                "Reason (required if after the deadline)",
                PlainTextInputElement(action_id="value", multiline=True, max_length=1000),
                optional=True,
            ),
        ],
    )


def cancel_modal(meeting_id: int, reference: str) -> dict[str, Any]:
    return _small_modal(
        CANCEL_CALLBACK,
        "Cancel discussion",
        "Cancel it",
        {"meeting_id": meeting_id},
        [
            SectionBlock(text=MarkdownTextObject(text=f"{MARKING} · {reference}")),
            _input(
                "reason",
                "Why is it cancelled?",
                PlainTextInputElement(action_id="value", multiline=True, max_length=1000),
            ),
        ],
    )


def section_47_modal(meeting_id: int, reference: str) -> dict[str, Any]:
    return _small_modal(
        SECTION_47_CALLBACK,
        "Section 47 decision",
        "Record",
        {"meeting_id": meeting_id},
        [
            SectionBlock(text=MarkdownTextObject(text=f"{MARKING} · {reference}")),
            _input(
                "decision",
                "Start section 47 enquiries?",
                RadioButtonsElement(
                    action_id="value",
                    options=[
                        option("start", "Yes, start enquiries"),
                        option("no_enquiries", "No"),
                    ],
                ),
            ),
            _input(
                "reason",
                "Why",
                PlainTextInputElement(action_id="value", multiline=True, max_length=3000),
            ),
        ],
    )


def discussion_details(
    summary: DiscussionSummary, *, calendar: WorkingCalendar, now: datetime
) -> dict[str, Any]:
    """`/strategy REF`: the status, privately, with the chase history per agency."""
    message = status_message(summary, calendar=calendar, now=now)
    blocks = [b for b in message["blocks"] if b["type"] != "actions"]
    history = []
    for agency in summary.agencies:
        for chase in agency.chases:
            history.append(
                f"{calendar.local(chase.at):%d %b %H:%M} {escape_mrkdwn(agency.name)}: "
                f"{chase.step.replace('_', ' ')} {escape_mrkdwn(chase.to_name)}"
            )
    if history:
        blocks.append(
            SectionBlock(
                text=MarkdownTextObject(text="*Chasing*\n" + "\n".join(history[-30:])[:2900])
            ).to_dict()
        )
    if summary.channel_id:
        blocks.append(
            ContextBlock(elements=[MarkdownTextObject(text=f"Channel: <#{summary.channel_id}>")]).to_dict()
        )
    return {"text": message["text"], "blocks": blocks}


LIST_PAGE = "strategy_list_page"
LIST_PAGE_BUTTONS = (f"{LIST_PAGE}_previous", f"{LIST_PAGE}_next")


def discussion_list(listed: DiscussionPage, *, calendar: WorkingCalendar, now: datetime) -> dict[str, Any]:
    """`/strategy list`: a page of my open discussions, one line each, soonest first, with
    where the page sits and *Previous* and *Next* when there are more."""
    if not listed.rows:
        text = "You have no open strategy discussions."
        return {
            "text": text,
            "blocks": [SectionBlock(text=MarkdownTextObject(text=text)).to_dict()],
        }
    lines = [
        f"• *{s.reference}* (case {s.case_reference}) · {when(calendar, s.start)} · "
        f"{s.answered}/{s.invited} answered · deadline {time_left(s.deadline, now)}"
        for s in listed.rows
    ]
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=f"{MARKING}\n*Your open strategy discussions*")),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"{listed.first:,}-{listed.last:,} of {listed.total:,}, the soonest first"
                )
            ]
        ),
    ]
    # Ten lines a section: each well inside Slack's 3,000 characters, so nothing is cut.
    blocks += [
        SectionBlock(text=MarkdownTextObject(text="\n".join(lines[i : i + 10])))
        for i in range(0, len(lines), 10)
    ]
    buttons = []
    if listed.page > 0:
        buttons.append(
            ButtonElement(text="Previous", action_id=LIST_PAGE_BUTTONS[0], value=str(listed.page - 1))
        )
    if listed.has_next:
        buttons.append(ButtonElement(text="Next", action_id=LIST_PAGE_BUTTONS[1], value=str(listed.page + 1)))
    if buttons:
        blocks.append(ActionsBlock(block_id="discussion_pages", elements=buttons))
    return {"text": "Your open strategy discussions", "blocks": [b.to_dict() for b in blocks]}
