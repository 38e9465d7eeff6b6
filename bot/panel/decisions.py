"""Where a panel decision leads: a step up names what follows (a strategy discussion the
bot offers to convene, a child protection conference, a police operation), a step down
names where the case goes and who takes it. A reason or risk level that contradicts the
decision is refused unless the chair confirms it. Plain Python: no Slack here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.audit.service import Actor, record
from bot.cases.links import KINDS as LINK_KINDS
from bot.cases.models import Case
from bot.convening.models import Meeting
from bot.panel.models import AgendaItem, PanelCase, PanelSitting
from bot.schedules import Partnership
from bot.schedules.practice import PanelPractice

UP, DOWN = "up", "down"
CLOSURE = "closure"


@dataclass(frozen=True)
class Destination:
    """A step-up or step-down destination as a form offers it (`up:strategy_discussion`)."""

    direction: str
    code: str
    name: str
    convenes: str = ""
    taken_by: str = ""

    @property
    def value(self) -> str:
        return f"{self.direction}:{self.code}"

    @property
    def label(self) -> str:
        return ("Step up to: " if self.direction == UP else "Step down to: ") + self.name


def destinations(practice: PanelPractice) -> list[Destination]:
    return [Destination(UP, s.code, s.name, s.convenes or "") for s in practice.step_up] + [
        Destination(DOWN, s.code, s.name, taken_by=s.taken_by or "") for s in practice.step_down
    ]


def destination(practice: PanelPractice, value: str) -> Destination | None:
    return next((d for d in destinations(practice) if d.value == value), None)


def contradiction(practice: PanelPractice, decision: str, risk_level: str, reason: str) -> str:
    """Why the decision contradicts its own risk level or reason ('' when it does not)."""
    fit = practice.decisions.of(decision)
    if fit is None:
        return ""
    if risk_level and risk_level not in fit.fits_risk:
        return (
            f"A {decision.replace('_', ' ')} at {risk_level} risk goes against the panel's practice "
            f"(it fits {', '.join(fit.fits_risk)} risk)."
        )
    words = " ".join(reason.casefold().split())
    for phrase in fit.contradicted_by:
        if " ".join(phrase.casefold().split()) in words:
            return f"The reason says \u201c{phrase}\u201d, which contradicts a {decision.replace('_', ' ')}."
    return ""


def destination_errors(
    partnership: Partnership,
    *,
    decision: str,
    chosen: str,
    taken_by_agency: str,
    taken_by_person: str,
) -> dict[str, str]:
    """A step up or down names a destination of its own direction; a step down (other
    than closure) names the agency that takes the case."""
    practice = partnership.panel_practice
    errors: dict[str, str] = {}
    found = destination(practice, chosen) if chosen else None
    if decision == "continue":
        if chosen:
            errors["destination"] = "A case that continues under review has no destination: leave it empty."
        return errors
    if decision not in ("step_up", "step_down"):
        return errors
    want = UP if decision == "step_up" else DOWN
    if found is None or found.direction != want:
        errors["destination"] = (
            "Say what follows the step up." if want == UP else "Say where the case goes when it steps down."
        )
        return errors
    if want == DOWN and found.code != CLOSURE:
        if not taken_by_agency:
            errors["taken_by_agency"] = f"Say which agency takes the case on ({found.name})."
        else:
            try:
                partnership.agency(taken_by_agency)
            except KeyError:
                errors["taken_by_agency"] = "Choose an agency from the list."
    if len(taken_by_person) > 200:
        errors["taken_by_person"] = "Keep this under 200 characters."
    return errors


def link_step_up(session: Session, item_id: int, meeting: Meeting, now: datetime) -> None:
    """Link the strategy discussion a step up convened to the panel's decision (once)."""
    item = session.get(AgendaItem, item_id, with_for_update=True, populate_existing=True)
    if item is None or item.stepped_up_meeting_id is not None:
        return
    panel_case = session.get(PanelCase, item.panel_case_id)
    if panel_case is None or panel_case.case_id != meeting.case_id:
        return  # the form's case was changed: it is not this case's step up
    item.stepped_up_meeting_id = meeting.id
    session.add(item)
    record(
        session,
        at=now,
        actor=Actor("system", "", None),
        act="panel.step_up_convened",
        record_type="agenda_item",
        record_id=item.id or 0,
        details={"meeting": meeting.reference},
    )
    session.flush()


def step_up_prefill(session: Session, item_id: int) -> tuple[str, str] | None:
    """The case reference and the pre-filled reason (case and links, by reference and the
    labels already shown to panel members, never a name) for the convene form."""
    from bot.panel.service import network_links

    item = session.get(AgendaItem, item_id)
    panel_case = session.get(PanelCase, item.panel_case_id) if item else None
    case = session.get(Case, panel_case.case_id) if panel_case else None
    sitting = session.get(PanelSitting, item.sitting_id) if item else None
    meeting = session.get(Meeting, sitting.meeting_id) if sitting else None
    if item is None or case is None or meeting is None:
        return None
    links = [
        f"{LINK_KINDS.get(row.kind, row.kind)}: {row.linked_reference or row.label}"
        for row in network_links(session, [case.id])
    ]
    reason = f"Stepped up to a strategy discussion by the panel at {meeting.reference}."
    if links:
        reason += "\nKnown links: " + "; ".join(links)
    return case.reference, reason
