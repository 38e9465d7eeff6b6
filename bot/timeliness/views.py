"""Block Kit for the report: the headline figures in words, a table by agency, the period
select and the download button. Figures only: no case reference, no name."""

from __future__ import annotations

from datetime import date
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    SectionBlock,
    StaticSelectElement,
)

from bot.timeliness import periods
from bot.timeliness.measures import AgencyFigures, Measures, percent

PERIOD_SELECT = "timeliness_period"
DOWNLOAD = "timeliness_download"
MARKING = "*OFFICIAL-SENSITIVE* · figures only; the rows behind them are in the report's data file."


def headline_lines(m: Measures) -> list[str]:
    """The headline figures, one sentence each, as the board reads them."""
    urgencies = ", ".join(f"{u.urgency} {u.within} of {u.held}" for u in m.discussions) or "none held"
    ooh = sum(u.out_of_hours for u in m.discussions)
    spread = m.referral_to_discussion
    days = (
        f"median {spread.median:g} working days from the referral (mean {spread.mean:g}); "
        + ", ".join(f"{label}: {count}" for label, count in spread.bands)
        if spread.count
        else "no referral dates recorded"
    )
    i, a, p = m.icpcs, m.assessments, m.panel
    return [
        f"*Strategy discussions held:* {m.discussions_held}; within their urgency's timescale "
        f"{m.discussions_within} ({percent(m.discussions_within, m.discussions_held)}). "
        f"By urgency: {urgencies}. Out of hours: {ooh}.",
        f"*Referral to discussion:* {days}.",
        f"*ICPCs held:* {i.held}; within 15 working days {i.within} ({percent(i.within, i.held)}), "
        f"late {i.late}. Not required: {i.not_required}. Past the target and not yet held: "
        f"{i.outstanding_past_target}. Section 47 enquiries started: {i.enquiries_started}.",
        f"*Section 47 assessments completed:* {a.completed}; within 45 working days {a.within} "
        f"({percent(a.within, a.completed)}), late {a.late}. Open past the deadline: {a.open_past_deadline}.",
        f"*Panel:* {p.items_reviewed} reviews of {p.cases_reviewed} children and contexts; "
        f"stepped up {p.stepped_up}, stepped down {p.stepped_down}; NRM referrals {p.nrm_referrals}.",
    ]


def agency_line(a: AgencyFigures) -> str:
    return (
        f"*{a.name}*: attended {a.attended + a.delegate} of {a.invited} (delegate {a.delegate}, "
        f"written update {a.written_update}, apologies {a.apologies}, did not respond "
        f"{a.did_not_respond}); updates on time {a.updates_on_time} of {a.updates_expected} "
        f"(late {a.updates_late}, missing {a.updates_missing}); actions due {a.actions_due}: "
        f"done by the due date {a.actions_done_on_time} ({percent(a.actions_done_on_time, a.actions_due)}), "
        f"late {a.actions_done_late}, open past due {a.actions_open_past_due}, escalated "
        f"{a.actions_escalated}; overdue now {a.overdue_now}."
    )


def agencies_for(m: Measures, agency_code: str | None) -> list[AgencyFigures]:
    """An agency lead sees their own agency against the partnership; an administrator sees
    every agency with something to show, then the partnership."""
    if agency_code:
        own = m.agency(agency_code)
        return [a for a in (own, m.partnership()) if a is not None]
    shown = [a for a in m.agencies if a.invited or a.updates_expected or a.actions_due or a.overdue_now]
    return [*shown, m.partnership()]


def period_select(today: date, chosen: str) -> StaticSelectElement:
    options = [Option(value=p.code, text=p.label[:75]) for p in periods.choices(today)]
    initial = next((o for o in options if o.value == chosen), None)
    return StaticSelectElement(
        action_id=PERIOD_SELECT, placeholder="Choose a period", options=options, initial_option=initial
    )


def report_blocks(m: Measures, *, agency_code: str | None, as_at: str, today: date) -> list[Block]:
    """The report in Slack: headline, by agency, the period select and the download."""
    whose = "your agency against the partnership" if agency_code else "every agency"
    blocks: list[Block] = [
        HeaderBlock(text=f"Timeliness: {m.period.label}"[:150]),
        ContextBlock(elements=[MarkdownTextObject(text=f"{MARKING} As at {as_at}; {whose}.")]),
        SectionBlock(
            text=MarkdownTextObject(text="\n".join(f"• {line}" for line in headline_lines(m))[:2990])
        ),
        DividerBlock(),
    ]
    for figures in agencies_for(m, agency_code)[:20]:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=agency_line(figures)[:2990])))
    blocks.append(
        ActionsBlock(
            block_id="timeliness_controls",
            elements=[
                period_select(today, m.period.code),
                ButtonElement(
                    text="Send me the Word report and data", action_id=DOWNLOAD, value=m.period.code
                ),
            ],
        )
    )
    blocks.append(
        ContextBlock(elements=[MarkdownTextObject(text="The charts come in a direct message from the bot.")])
    )
    return blocks


def home_section(m: Measures, *, agency_code: str | None, today: date) -> list[Block]:
    """A short section on the Home tab: this period's headline and how to see the rest."""
    own = m.agency(agency_code) if agency_code else None
    overdue = (own or m.partnership()).overdue_now
    return [
        HeaderBlock(text="Timeliness"),
        SectionBlock(
            text=MarkdownTextObject(
                text=(
                    f"*{m.period.label}:* discussions within timescale {m.discussions_within} of "
                    f"{m.discussions_held}; ICPCs within 15 working days {m.icpcs.within} of "
                    f"{m.icpcs.held}; actions overdue now "
                    f"{overdue}"
                    f"{' (your agency)' if agency_code else ''}."
                )
            )
        ),
        ActionsBlock(
            block_id="timeliness_home",
            elements=[
                period_select(today, m.period.code),
                ButtonElement(
                    text="Send me the Word report and data", action_id=DOWNLOAD, value=m.period.code
                ),
            ],
        ),
        ContextBlock(
            elements=[MarkdownTextObject(text="Choose a period to have its figures and charts sent to you.")]
        ),
    ]


def message(blocks: list[Block], fallback: str) -> dict[str, Any]:
    return {"text": fallback, "blocks": [b.to_dict() for b in blocks]}
