"""Block Kit for the panel: the referral form, the administrator's decision, the agenda
message with a pre-panel update button per item, and the recording forms. Slack sees
case references and context kinds only, never a child's name."""

from __future__ import annotations

from datetime import date
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    CheckboxesElement,
    ContextBlock,
    DatePickerElement,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
    UserSelectElement,
)

from bot.cases.links import HOW_TO
from bot.minutes.service import ATTENDANCE_WORDS
from bot.panel.nrm import DECISIONS as NRM_DECISIONS
from bot.panel.service import AgendaLine
from bot.panel.vocabulary import DECISIONS, RISK_LEVELS, SCREENING_RESULTS, SECTIONS, SUBJECT_KINDS
from bot.schedules import Panel
from bot.slack.blocks import MARKING, modal, option
from bot.wording import escape_mrkdwn

REFER_CALLBACK = "panel_refer"
DECLINE_CALLBACK = "panel_decline"
ITEM_CALLBACK = "panel_item"
SITTING_CALLBACK = "panel_sitting"
PERPETRATOR_CALLBACK = "panel_perpetrator"
BUTTONS_PER_ROW = 5


def _text(
    block_id: str,
    label: str,
    *,
    optional: bool = False,
    multiline: bool = True,
    limit: int = 3000,
    initial: str | None = None,
    hint: str | None = None,
) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=PlainTextObject(text=label),
        element=PlainTextInputElement(
            action_id="value", multiline=multiline, max_length=limit, initial_value=initial or None
        ),
        optional=optional,
        hint=PlainTextObject(text=hint) if hint else None,
    )


def _select(
    block_id: str, label: str, choices: dict[str, str], *, initial: str | None = None, optional: bool = False
) -> InputBlock:
    options = [option(code, text) for code, text in choices.items()]
    chosen = next((o for o in options if o.value == initial), None)
    return InputBlock(
        block_id=block_id,
        label=PlainTextObject(text=label),
        element=StaticSelectElement(action_id="value", options=options, initial_option=chosen),
        optional=optional,
    )


def referral_modal(panels: list[Panel], case_example: str) -> dict[str, Any]:
    """`/panel refer`: a child (by case reference) or a context, with reasons and risk."""
    blocks: list[Block] = [
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"{MARKING} · The panel administrator accepts or declines; accepted referrals go "
                    "on the next agenda. Names stay in the record, never in Slack."
                )
            ]
        ),
        _select(
            "panel", "Panel", {p.code: p.name for p in panels}, initial=panels[0].code if panels else None
        ),
        _select("subject_kind", "Who or what are you referring?", SUBJECT_KINDS, initial="child"),
        _text(
            "case_reference",
            "Child: case reference",
            optional=True,
            multiline=False,
            limit=40,
            hint=f"For a child, e.g. {case_example}. Referring a child already under review links to it.",
        ),
        _text(
            "child_name", "Child: full name (for the record only)", optional=True, multiline=False, limit=200
        ),
        InputBlock(
            block_id="child_date_of_birth",
            label=PlainTextObject(text="Child: date of birth"),
            element=DatePickerElement(action_id="value"),
            optional=True,
        ),
        _text("school", "Child: school", optional=True, multiline=False, limit=200),
        _text("label", "Location, peer group or school: its name", optional=True, multiline=False, limit=200),
        _text("reasons", "Reasons for referral"),
        _select("risk_level", "Risk level", RISK_LEVELS),
        _select("screening_result", "Screening result", SCREENING_RESULTS),
        _text(
            "links", "Known links", optional=True, hint=f"Peers, suspected perpetrators, places: {HOW_TO}."
        ),
    ]
    return modal(title="Refer to the panel", callback_id=REFER_CALLBACK, submit="Refer", blocks=blocks)


def referral_done(reference: str, case_reference: str, linked: bool) -> dict[str, Any]:
    text = f"{MARKING}\nReferral *{reference}* for *{case_reference}* is recorded. " + (
        "It is already under review by the panel, so your referral is linked to that case and "
        "will be heard at the next sitting."
        if linked
        else "The panel administrator will accept or decline it; you will be told."
    )
    return modal(title="Referral sent", blocks=[SectionBlock(text=MarkdownTextObject(text=text))])


def decision_request(
    referral_id: int, reference: str, case_reference: str, subject: str, risk: str, screening: str, panel: str
) -> dict[str, Any]:
    """To each administrator: accept or decline a new referral."""
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"{MARKING}\nNew referral *{reference}* to *{escape_mrkdwn(panel)}*: {subject} "
                f"*{case_reference}* · risk {risk} · {screening}. Reasons are in `/panel referrals`."
            )
        ),
        ActionsBlock(
            block_id="referral_decision",
            elements=[
                ButtonElement(
                    text="Accept", action_id="panel_referral_accept", value=str(referral_id), style="primary"
                ),
                ButtonElement(
                    text="Decline", action_id="panel_referral_decline", value=str(referral_id), style="danger"
                ),
            ],
        ),
    ]
    return {
        "text": f"OFFICIAL-SENSITIVE: new panel referral {reference} to decide",
        "blocks": [b.to_dict() for b in blocks],
    }


def decline_modal(referral_id: int, reference: str) -> dict[str, Any]:
    return modal(
        title="Decline referral",
        callback_id=DECLINE_CALLBACK,
        submit="Decline",
        metadata={"referral_id": referral_id},
        blocks=[
            SectionBlock(text=MarkdownTextObject(text=f"{MARKING} · {reference}")),
            _text("reason", "Why is it declined? The referrer is told."),
        ],
    )


def agenda_message(
    reference: str,
    panel: str,
    when: str,
    lines: list[AgendaLine],
    clock: Any,
    moved_note: str,
    not_for_discussion: list[str] | None = None,
) -> dict[str, Any]:
    """The agenda in the panel's channel: a time for each item and why it is there, by
    reference only; cases under review but not due are listed as not for discussion."""
    rows = []
    section = ""
    for line in lines:
        if line.section != section and line.item_id:
            rows.append(f"*{SECTIONS.get(line.section, line.section)}*")
        section = line.section
        risk = f" · risk {line.risk_level}" if line.risk_level else ""
        why = f" · _{escape_mrkdwn(line.why)}_" if line.why else ""
        rows.append(f"`{clock(line.starts)}` {escape_mrkdwn(line.title)}{risk} ({line.minutes} min){why}")
    if not_for_discussion:
        rows.append("*Not for discussion* (under review, not due): " + ", ".join(not_for_discussion))
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(text=f"{MARKING}\n*Agenda: {escape_mrkdwn(panel)} {reference}*, {when}")
        )
    ]
    if moved_note:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f":calendar: {escape_mrkdwn(moved_note)}")))
    text = ""
    for row in rows:
        if len(text) + len(row) > 2900:
            blocks.append(SectionBlock(text=MarkdownTextObject(text=text)))
            text = ""
        text += row + "\n"
    if text:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=text)))
    blocks.append(
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text="The agenda as a Word document follows. Each agency is asked "
                    "for a pre-panel update on every item."
                )
            ]
        )
    )
    return {
        "text": f"OFFICIAL-SENSITIVE: agenda for {reference}",
        "blocks": [b.to_dict() for b in blocks[:50]],
    }


def update_request(
    reference: str, agency: str, due: str, invitation_id: int, items: list[tuple[int, str]]
) -> dict[str, Any]:
    """To an agency's contacts: one button per agenda item opens its pre-panel update."""
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"{MARKING}\nPre-panel updates for *{reference}* from *{escape_mrkdwn(agency)}*, due "
                f"{due}: one per child or context on the agenda. Say if you know nothing new."
            )
        )
    ]
    for start in range(0, min(len(items), 45 * BUTTONS_PER_ROW), BUTTONS_PER_ROW):
        blocks.append(
            ActionsBlock(
                elements=[
                    ButtonElement(
                        text=case_reference[:75],
                        action_id=f"agency_update_open_{item_id}",
                        value=f"{invitation_id}:{item_id}",
                    )
                    for item_id, case_reference in items[start : start + BUTTONS_PER_ROW]
                ]
            )
        )
    return {
        "text": f"OFFICIAL-SENSITIVE: pre-panel updates for {reference} due {due}",
        "blocks": [b.to_dict() for b in blocks[:50]],
    }


def recording_message(
    meeting_id: int,
    reference: str,
    lines: list[AgendaLine],
    recorded: set[int],
    step_ups: list[str] | None = None,
) -> dict[str, Any]:
    """`/panel record REF`: attendance and themes, then each item, then the draft minutes;
    and what this sitting's step ups linked, with their state (case references only)."""
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"{MARKING}\nRecording *{reference}*: attendance and themes, each item under the VOLT "
                f"headings, then draft the minutes for the chair. {len(recorded)} of "
                f"{sum(1 for line in lines if line.item_id)} items recorded."
            )
        ),
        ActionsBlock(
            block_id="panel_recording",
            elements=[
                ButtonElement(
                    text="Attendance and themes", action_id="panel_record_sitting", value=str(meeting_id)
                ),
                ButtonElement(
                    text="Draft the minutes",
                    action_id="panel_draft_minutes",
                    value=str(meeting_id),
                    style="primary",
                ),
            ],
        ),
    ]
    case_lines = [line for line in lines if line.item_id]
    for start in range(0, min(len(case_lines), 45 * BUTTONS_PER_ROW), BUTTONS_PER_ROW):
        blocks.append(
            ActionsBlock(
                elements=[
                    ButtonElement(
                        text=(("✓ " if line.item_id in recorded else "") + line.case_reference)[:75],
                        action_id=f"panel_record_item_{line.item_id}",
                        value=str(line.item_id),
                    )
                    for line in case_lines[start : start + BUTTONS_PER_ROW]
                ]
            )
        )
    if step_ups:
        text = "*Step ups*\n" + "\n".join(f"• {escape_mrkdwn(line)}" for line in step_ups[:30])
        blocks.insert(2, SectionBlock(text=MarkdownTextObject(text=text[:2900])))
    return {"text": f"OFFICIAL-SENSITIVE: record {reference}", "blocks": [b.to_dict() for b in blocks[:50]]}


def item_modal(
    item_id: int,
    reference: str,
    case_reference: str,
    subject: str,
    outcome: dict[str, Any],
    risk: str,
    *,
    destinations: dict[str, str],
    agencies: dict[str, str],
    responders: dict[str, str] | None = None,
    nrm: dict[str, Any] | None = None,
    tactics: dict[str, str] | None = None,
) -> dict[str, Any]:
    """One child or context: VOLT, the decision and where it leads, NRM, disruption, risk
    and next review."""
    review = outcome.get("next_review_on") or ""
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=f"{MARKING} · {reference} · {subject} *{case_reference}*")),
        _text("victims", "Victims", optional=True, initial=outcome.get("victims")),
        _text(
            "offenders", "Offenders (suspected perpetrators)", optional=True, initial=outcome.get("offenders")
        ),
        _text("locations", "Locations", optional=True, initial=outcome.get("locations")),
        _text("themes", "Themes and trends", optional=True, initial=outcome.get("themes")),
        _select("decision", "Decision", DECISIONS, initial=outcome.get("decision")),
        _text("decision_reason", "Why", initial=outcome.get("decision_reason")),
        _select(
            "destination",
            "Where it leads (step up or step down)",
            destinations,
            initial=outcome.get("destination") or None,
            optional=True,
        ),
        _select(
            "taken_by_agency",
            "Stepping down: the agency that takes it",
            agencies,
            initial=outcome.get("taken_by_agency") or None,
            optional=True,
        ),
        _text(
            "taken_by_person",
            "Stepping down: who takes it (name and role)",
            optional=True,
            multiline=False,
            limit=200,
        ),
        InputBlock(
            block_id="chair_confirms",
            label=PlainTextObject(text="Chair's confirmation"),
            element=CheckboxesElement(
                action_id="value",
                options=[option("yes", "The chair confirms this decision against its risk level or reason")],
            ),
            optional=True,
            hint=PlainTextObject(text="Only when the decision goes against the risk level; the chair only."),
        ),
        *(nrm_blocks(nrm or {}, responders) if subject == "Child" else []),
        _text("disruption", "Disruption (notes)", optional=True, initial=outcome.get("disruption")),
        *disruption_blocks(tactics or {}),
        _select("risk_level", "Risk level now", RISK_LEVELS, initial=outcome.get("risk_level") or risk),
        _text(
            "plan_status",
            "Plan status",
            optional=True,
            multiline=False,
            limit=200,
            initial=outcome.get("plan_status"),
        ),
        InputBlock(
            block_id="next_review_on",
            label=PlainTextObject(text="Next review"),
            element=DatePickerElement(action_id="value", initial_date=review or None),
            optional=True,
            hint=PlainTextObject(text="Needed unless the case steps down."),
        ),
        _text("links", "New links", optional=True, hint=f"{HOW_TO}."),
    ]
    return modal(
        title="Record panel item",
        callback_id=ITEM_CALLBACK,
        submit="Save",
        metadata={"item_id": item_id},
        blocks=blocks,
    )


def sitting_modal(
    meeting_id: int,
    reference: str,
    agencies: list[tuple[str, str]],
    defaults: dict[str, str],
    themes: str,
    handling_codes: dict[str, str] | None = None,
) -> dict[str, Any]:
    words = {str(k): v for k, v in ATTENDANCE_WORDS.items()}
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=f"{MARKING} · {reference}"))]
    for code, name in agencies[:40]:
        blocks.append(_select(f"attendance:{code}", name[:75], words, initial=defaults.get(code)))
    blocks.append(_text("themes", "Themes and intelligence across the panel", optional=True, initial=themes))
    if handling_codes:
        blocks.append(
            _text(
                "intelligence",
                "Police intelligence shared at the panel",
                optional=True,
                hint="Recorded with its handling code; withheld from copies going to agencies it is not "
                "released to.",
            )
        )
        blocks.append(_select("handling_code", "Its handling code", handling_codes, optional=True))
    return modal(
        title="Attendance and themes",
        callback_id=SITTING_CALLBACK,
        submit="Save",
        metadata={"meeting_id": meeting_id},
        blocks=blocks,
    )


def day(value: date) -> str:
    return value.strftime("%a %d %b %Y")


def convene_offer(item_id: int, reference: str, case_reference: str, marking: str) -> dict[str, Any]:
    """After a step up to a strategy discussion: a button to convene it, pre-filled."""
    blocks: list[Block] = [
        SectionBlock(
            text=MarkdownTextObject(
                text=f"*{marking}* · {reference} stepped up *{case_reference}* to a strategy discussion. "
                "Convene it now: the form has the case and its links filled in, and the discussion "
                "is linked to the panel's decision."
            )
        ),
        ActionsBlock(
            elements=[
                ButtonElement(
                    text="Convene the strategy discussion",
                    action_id="panel_convene_step_up",
                    value=str(item_id),
                    style="primary",
                )
            ]
        ),
    ]
    return {
        "text": f"{marking}: convene the strategy discussion for {case_reference}",
        "blocks": [b.to_dict() for b in blocks],
    }


def _date(block_id: str, label: str, initial: Any) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label=PlainTextObject(text=label),
        element=DatePickerElement(action_id="value", initial_date=initial.isoformat() if initial else None),
        optional=True,
    )


def nrm_blocks(nrm: dict[str, Any], responders: dict[str, str] | None) -> list[Block]:
    """The child's National Referral Mechanism record (children only): leave it empty when
    there is no referral."""
    return [
        SectionBlock(
            text=MarkdownTextObject(
                text="*National Referral Mechanism* (children only; leave empty if no referral)"
            )
        ),
        _date("nrm_referred_on", "NRM: date referred", nrm.get("referred_on")),
        _text(
            "nrm_reference",
            "NRM: reference",
            optional=True,
            multiline=False,
            limit=60,
            initial=nrm.get("reference"),
        ),
        _select(
            "nrm_first_responder",
            "NRM: first responder organisation",
            responders or {},
            initial=nrm.get("first_responder"),
            optional=True,
        ),
        _text(
            "nrm_first_responder_name",
            "NRM: first responder (name and role)",
            optional=True,
            multiline=False,
            limit=200,
            initial=nrm.get("first_responder_name"),
        ),
        _select(
            "nrm_reasonable_grounds",
            "NRM: reasonable-grounds decision",
            NRM_DECISIONS,
            initial=nrm.get("reasonable_grounds"),
            optional=True,
        ),
        _date(
            "nrm_reasonable_grounds_on",
            "NRM: reasonable-grounds decision date",
            nrm.get("reasonable_grounds_on"),
        ),
        _select(
            "nrm_conclusive_grounds",
            "NRM: conclusive-grounds decision",
            NRM_DECISIONS,
            initial=nrm.get("conclusive_grounds"),
            optional=True,
        ),
        _date(
            "nrm_conclusive_grounds_on",
            "NRM: conclusive-grounds decision date",
            nrm.get("conclusive_grounds_on"),
        ),
    ]


def disruption_blocks(tactics: dict[str, str]) -> list[Block]:
    """A disruption activity agreed for this child or context: an action with its tactic,
    owner and due date, chased like any other."""
    return [
        SectionBlock(text=MarkdownTextObject(text="*Disruption activity* (optional: becomes an action)")),
        _select("disruption_tactic", "Disruption: tactic", tactics, optional=True),
        InputBlock(
            block_id="disruption_owner",
            label=PlainTextObject(text="Disruption: owner"),
            element=UserSelectElement(action_id="value"),
            optional=True,
        ),
        InputBlock(
            block_id="disruption_due",
            label=PlainTextObject(text="Disruption: due"),
            element=DatePickerElement(action_id="value"),
            optional=True,
        ),
        _text(
            "disruption_target",
            "Disruption: aimed at",
            optional=True,
            multiline=False,
            limit=200,
            hint="A suspected perpetrator's reference (SP-…) or a place.",
        ),
    ]


def perpetrator_modal(panels: dict[str, str], police: bool) -> dict[str, Any]:
    blocks: list[Block] = [
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"{MARKING} · The register is seen by police and panel administrators only. "
                    "Describe them as the panel knows them; never a child's name."
                )
            ]
        ),
        _select("panel", "Panel", panels, initial=next(iter(panels), None)),
        _text("description", "Description the panel knows them by", multiline=False, limit=200),
        _text("police_reference", "Police reference", optional=True, multiline=False, limit=60),
        _text("linked", "Linked children and contexts (case references)", optional=True, limit=1000),
    ]
    if police:
        blocks.append(
            _text(
                "summary",
                "Summary released to the panel's agencies",
                optional=True,
                limit=1000,
                hint="Police only. Leave empty to keep the entry to police and administrators.",
            )
        )
    return modal(title="Suspected perpetrator", callback_id=PERPETRATOR_CALLBACK, submit="Add", blocks=blocks)


REGISTER_MORE = "panel_register_more"


def register_message(
    rows: list[tuple[Any, list[str]]], *, before: int | None, marking: str
) -> dict[str, Any]:
    """A page of the register of suspected perpetrators, newest first, with a More button
    that carries the id the next page starts before. Only police and administrators see it."""
    if not rows:
        text = f"*{marking}* · The register of suspected perpetrators is empty."
        return {"text": text, "blocks": [SectionBlock(text=MarkdownTextObject(text=text)).to_dict()]}
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=f"*{marking}* · Suspected perpetrators (newest first):"))
    ]
    for row, links in rows:
        line = (
            f"• *{row.reference}* {escape_mrkdwn(row.description)}"
            + (f" · police ref {escape_mrkdwn(row.police_reference)}" if row.police_reference else "")
            + (f" · linked: {', '.join(links)}" if links else "")
            + (" · summary released" if row.released_summary else " · police and administrators only")
        )
        blocks.append(SectionBlock(text=MarkdownTextObject(text=line[:2900])))
    if before is not None:
        blocks.append(
            ActionsBlock(
                block_id="panel_register_page",
                elements=[ButtonElement(text="More", action_id=REGISTER_MORE, value=str(before))],
            )
        )
    return {"text": f"{marking}: suspected perpetrators", "blocks": [b.to_dict() for b in blocks]}


DISRUPTION_OUTCOME_CALLBACK = "disruption_outcome"


def disruption_outcome_modal(action_id: int, reference: str, tactic: str) -> dict[str, Any]:
    """A disruption action is done: what came of it. Opened by the action's Mark done."""
    from bot.panel.vocabulary import DISRUPTION_RESULTS

    blocks: list[Block] = [
        ContextBlock(
            elements=[MarkdownTextObject(text=f"{MARKING} · *{reference}* · {escape_mrkdwn(tactic)}")]
        ),
        _select("result", "Outcome", DISRUPTION_RESULTS),
        _text(
            "what_happened",
            "What happened",
            limit=1000,
            hint="Shown in Slack and the panel's minutes: use case references, never a child's name.",
        ),
    ]
    return modal(
        title="Disruption outcome",
        callback_id=DISRUPTION_OUTCOME_CALLBACK,
        submit="Record",
        metadata={"action_id": action_id},
        blocks=blocks,
    )
