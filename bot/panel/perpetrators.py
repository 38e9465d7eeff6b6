"""Disruption and suspected perpetrators: a register of the people the panel suspects of
exploiting children (a record of their own, linked to children and contexts, seen only by
police and the panel's administrators unless a police member releases a summary),
disruption activities as actions (owner, tactic from the configured list, due date,
chased like any other), and police intelligence with its handling code, withheld from
documents that go to agencies it is not released to. Plain Python: no Slack here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlmodel import Session, col, select

from bot.actions.models import Action
from bot.actions.service import NewAction, add_action, mark_done, validate_action
from bot.audit.service import Actor, record
from bot.cases.models import Case
from bot.convening.models import Meeting
from bot.panel.models import Disruption, Intelligence, PerpetratorLink, SuspectedPerpetrator
from bot.panel.vocabulary import DISRUPTION_RESULTS
from bot.partnership.service import Member
from bot.references import next_reference
from bot.schedules import Partnership
from bot.working_days import WorkingCalendar

PREFIX = "SP"
PAGE = 30


def is_police(member: Member | None, partnership: Partnership) -> bool:
    """The guard's `SEES_REGISTER` reads the same from the member's agency kind."""
    if member is None:
        return False
    try:
        return partnership.agency(member.agency_code).kind == "police"
    except KeyError:
        return False


def sees_register(member: Member | None, partnership: Partnership) -> bool:
    return is_police(member, partnership) or (member is not None and "panel_admin" in member.roles)


@dataclass(frozen=True)
class PerpetratorForm:
    panel_code: str
    description: str
    police_reference: str = ""
    linked: str = ""  # case references, one per line or comma-separated
    summary: str = ""  # a summary a police member releases to the panel's agencies

    def references(self, partnership: Partnership) -> list[str]:
        words = self.linked.replace(",", "\n").split()
        return [partnership.settings.normalise_case_reference(w) for w in words if w.strip()]


def validate_perpetrator(
    session: Session, form: PerpetratorForm, partnership: Partnership, *, police: bool
) -> dict[str, str]:
    errors: dict[str, str] = {}
    if form.panel_code not in {p.code for p in partnership.panels}:
        errors["panel"] = "Choose the panel."
    if not form.description.strip():
        errors["description"] = "Describe them as the panel knows them (e.g. adult male known as T)."
    elif len(form.description) > 200:
        errors["description"] = "Keep the description under 200 characters."
    if len(form.police_reference) > 60:
        errors["police_reference"] = "Keep the police reference under 60 characters."
    if form.summary.strip() and not police:
        errors["summary"] = "Only a police member can release a summary to the panel's agencies."
    elif len(form.summary) > 1000:
        errors["summary"] = "Keep the summary under 1000 characters."
    references = form.references(partnership)
    if len(references) > 50:
        errors["linked"] = "Link at most 50 children or contexts."
    elif references:
        known = set(session.exec(select(Case.reference).where(col(Case.reference).in_(references))))
        unknown = [r for r in references if r not in known]
        if unknown:
            errors["linked"] = f"Not known to the bot: {', '.join(unknown[:5])}."
    return errors


def add_perpetrator(
    session: Session,
    form: PerpetratorForm,
    *,
    member: Member,
    actor: Actor,
    key: str,
    partnership: Partnership,
    calendar: WorkingCalendar,
    now: datetime,
) -> SuspectedPerpetrator:
    existing = session.exec(
        select(SuspectedPerpetrator).where(SuspectedPerpetrator.submission_key == key)
    ).first()
    if existing is not None:
        return existing
    police = is_police(member, partnership)
    row = SuspectedPerpetrator(
        reference=next_reference(session, PREFIX, calendar.local(now).year),
        panel_code=form.panel_code,
        description=" ".join(form.description.split()),
        police_reference=form.police_reference.strip(),
        released_summary=form.summary.strip() if police else "",
        released_by_id=member.person_id if police and form.summary.strip() else None,
        released_at=now if police and form.summary.strip() else None,
        recorded_by_id=member.person_id,
        submission_key=key,
        created_at=now,
    )
    session.add(row)
    session.flush()
    references = form.references(partnership)
    for case in session.exec(select(Case).where(col(Case.reference).in_(references))):
        session.add(PerpetratorLink(perpetrator_id=row.id or 0, case_id=case.id or 0, created_at=now))
    record(
        session,
        at=now,
        actor=actor,
        act="panel.perpetrator_added",
        record_type="suspected_perpetrator",
        record_id=row.reference,
        details={"links": len(references), "summary_released": bool(row.released_summary)},
    )
    session.flush()
    return row


def register_page(
    session: Session, panel_codes: list[str], *, before: int | None = None, per_page: int = PAGE
) -> tuple[list[tuple[SuspectedPerpetrator, list[str]]], int | None]:
    """A page of the register, newest first (entries older than `before`, an id), with each
    entry's linked references, and the id the next page starts before (None: the last
    page). Two queries, however long the register."""
    query = select(SuspectedPerpetrator).where(col(SuspectedPerpetrator.panel_code).in_(panel_codes))
    if before is not None:
        query = query.where(col(SuspectedPerpetrator.id) < before)
    rows = list(session.exec(query.order_by(col(SuspectedPerpetrator.id).desc()).limit(per_page + 1)))
    more = len(rows) > per_page
    rows = rows[:per_page]
    links: dict[int, list[str]] = {}
    for perpetrator_id, reference in session.exec(
        select(PerpetratorLink.perpetrator_id, Case.reference)
        .join(Case, col(Case.id) == col(PerpetratorLink.case_id))
        .where(col(PerpetratorLink.perpetrator_id).in_([r.id for r in rows]))
    ):
        links.setdefault(perpetrator_id, []).append(reference)
    page = [(row, sorted(links.get(row.id or 0, []))) for row in rows]
    return page, (rows[-1].id if more and rows else None)


def perpetrators_of_cases(session: Session, case_ids: list[int | None]) -> list[dict[str, str]]:
    """For documents going to every agency: each suspected perpetrator linked to these
    cases, by reference, with the summary a police member released (or a note that none
    was)."""
    ids = [i for i in case_ids if i]
    if not ids:
        return []
    found: dict[int, tuple[SuspectedPerpetrator, set[str]]] = {}
    for row, reference in session.exec(
        select(SuspectedPerpetrator, Case.reference)
        .join(PerpetratorLink, col(PerpetratorLink.perpetrator_id) == col(SuspectedPerpetrator.id))
        .join(Case, col(Case.id) == col(PerpetratorLink.case_id))
        .where(col(PerpetratorLink.case_id).in_(ids))
    ):
        found.setdefault(row.id or 0, (row, set()))[1].add(reference)
    return [
        {
            "reference": row.reference,
            "summary": row.released_summary or "No summary released: details are held by the police.",
            "linked": ", ".join(sorted(cases)),
        }
        for row, cases in sorted(found.values(), key=lambda e: e[0].reference)
    ]


# -------------------------------------------------------------------- disruption


@dataclass(frozen=True)
class DisruptionForm:
    tactic: str = ""
    owner_slack_id: str | None = None
    due_on: date | None = None
    target: str = ""  # a suspected perpetrator's reference, or a place

    @property
    def given(self) -> bool:
        return bool(self.tactic or self.owner_slack_id or self.due_on or self.target.strip())


def validate_disruption(
    session: Session, form: DisruptionForm, partnership: Partnership, *, case_id: int | None, today: date
) -> dict[str, str]:
    if not form.given:
        return {}
    errors: dict[str, str] = {}
    if form.tactic not in {t.code for t in partnership.panel_practice.disruption_tactics}:
        errors["disruption_tactic"] = "Choose the disruption tactic."
    problems = validate_action(  # the words typed (the target) are checked, not the tactic's name
        session,
        NewAction(
            text=form.target.strip() or "disruption",
            owner_slack_id=form.owner_slack_id,
            priority="high",
            due_on=form.due_on,
            concerns="",
        ),
        today=today,
        case_id=case_id,
    )
    for block, problem in problems.items():
        errors[
            {"owner": "disruption_owner", "due_on": "disruption_due", "text": "disruption_target"}.get(
                block, block
            )
        ] = problem
    if len(form.target) > 200:
        errors["disruption_target"] = "Keep this under 200 characters."
    return errors


def _action_text(partnership: Partnership, form: DisruptionForm) -> str:
    text = f"Disruption: {partnership.panel_practice.tactic_name(form.tactic)}"
    return text + (f" ({form.target.strip()})" if form.target.strip() else "")


def add_disruption(
    session: Session,
    meeting: Meeting,
    case: Case,
    form: DisruptionForm,
    *,
    partnership: Partnership,
    calendar: WorkingCalendar,
    actor: Actor,
    key: str,
    now: datetime,
) -> Disruption | None:
    """The disruption as an action of the sitting (chased like any other) with its tactic."""
    if not form.given:
        return None
    action, created = add_action(
        session,
        meeting,
        NewAction(
            text=_action_text(partnership, form),
            owner_slack_id=form.owner_slack_id,
            priority="high",
            due_on=form.due_on,
            concerns=case.reference,
        ),
        partnership=partnership,
        calendar=calendar,
        actor=actor,
        key=key,
        now=now,
    )
    if not created:
        return session.exec(select(Disruption).where(Disruption.action_id == action.id)).first()
    action.case_id = case.id  # the child's (a sitting has no case of its own): its chases name it
    session.add(action)
    target = form.target.strip().upper()
    perpetrator = session.exec(
        select(SuspectedPerpetrator).where(SuspectedPerpetrator.reference == target)
    ).first()
    row = Disruption(
        action_id=action.id or 0,
        case_id=case.id or 0,
        perpetrator_id=perpetrator.id if perpetrator else None,
        tactic=form.tactic,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


def disruptions_of(
    session: Session,
    meeting: Meeting,
    partnership: Partnership,
    calendar: WorkingCalendar,
    case_ids: list[int | None] | None = None,
) -> list[dict[str, Any]]:
    """For the minutes: the sitting's disruption activities, and those agreed earlier for
    the cases on its agenda (the latest 30), each with its status and its outcome once
    recorded (in the status, as the template's table shows it)."""
    ids = [i for i in (case_ids or []) if i]
    mine = col(Action.meeting_id) == meeting.id
    rows = session.exec(
        select(Disruption, Action, Case)
        .join(Action, col(Action.id) == col(Disruption.action_id))
        .join(Case, col(Case.id) == col(Disruption.case_id))
        .where(mine | col(Disruption.case_id).in_(ids) if ids else mine)
        .order_by(col(Action.id).desc())
        .limit(30)
    ).all()
    out = []
    for disruption, action, case in reversed(rows):
        outcome = outcome_words(disruption, calendar)
        status = str(action.status).replace("_", " ").capitalize()
        out.append(
            {
                "reference": action.reference,
                "case": case.reference,
                "tactic": partnership.panel_practice.tactic_name(disruption.tactic),
                "text": action.text,
                "due": action.due_on.strftime("%d %b %Y"),
                "status": f"{status}. Outcome: {outcome}" if outcome else f"{status}. Outcome awaited",
                "outcome": outcome,
            }
        )
    return out


def disruption_of_action(session: Session, action_id: int | None) -> Disruption | None:
    """The disruption an action carries out, if it is one."""
    return session.exec(select(Disruption).where(Disruption.action_id == (action_id or -1))).first()


@dataclass(frozen=True)
class DisruptionOutcome:
    """What the owner records when the disruption is done: its result and what happened."""

    result: str = ""
    text: str = ""


def validate_disruption_outcome(
    session: Session, form: DisruptionOutcome, disruption: Disruption
) -> dict[str, str]:
    """Problems keyed by the outcome form's blocks; the text is shown in Slack, so it
    must not name the child."""
    from bot.cases.service import NAME_IN_SLACK_TEXT, mentions_child_of_case

    errors: dict[str, str] = {}
    if form.result not in DISRUPTION_RESULTS:
        errors["result"] = "Choose what came of the disruption."
    text = form.text.strip()
    if not text:
        errors["what_happened"] = "Say what happened (for example, the notice was served on 20 November)."
    elif len(text) > 1000:
        errors["what_happened"] = "Keep this under 1000 characters."
    elif mentions_child_of_case(session, disruption.case_id, text):
        errors["what_happened"] = NAME_IN_SLACK_TEXT
    return errors


def record_disruption_outcome(
    session: Session,
    action_id: int,
    form: DisruptionOutcome,
    *,
    actor: Actor,
    partnership: Partnership,
    now: datetime,
) -> tuple[Disruption, bool]:
    """The disruption's outcome is recorded and its action marked done (so its chasing
    stops), in one transaction; a second submission changes nothing. Returns the row and
    whether this call recorded it. `ActionRefused` if the person may not close it."""
    disruption = session.exec(
        select(Disruption).where(Disruption.action_id == action_id).with_for_update()
    ).first()
    if disruption is None:
        raise ValueError("not a disruption action")
    if disruption.result:
        return disruption, False
    mark_done(
        session,
        action_id,
        f"{DISRUPTION_RESULTS[form.result]}: {form.text.strip()}",
        actor=actor,
        partnership=partnership,
        now=now,
    )
    disruption.result = form.result
    disruption.outcome = form.text.strip()
    disruption.outcome_recorded_at = now
    disruption.outcome_recorded_by_id = actor.person_id
    session.add(disruption)
    case = session.get(Case, disruption.case_id)
    record(
        session,
        at=now,
        actor=actor,
        act="panel.disruption_outcome_recorded",
        record_type="disruption",
        record_id=disruption.id or 0,
        case_reference=case.reference if case else "",
        details={"result": form.result, "tactic": disruption.tactic},
    )
    session.flush()
    return disruption, True


def outcome_words(disruption: Disruption, calendar: WorkingCalendar) -> str:
    """The outcome as the record and the minutes show it ('' while it is awaited)."""
    if not disruption.result:
        return ""
    when = (
        calendar.local(disruption.outcome_recorded_at).strftime("%d %b %Y")
        if disruption.outcome_recorded_at
        else ""
    )
    return f"{DISRUPTION_RESULTS.get(disruption.result, disruption.result)}: {disruption.outcome}" + (
        f" (recorded {when})" if when else ""
    )


# -------------------------------------------------------------------- intelligence


def validate_intelligence(text: str, code: str, partnership: Partnership) -> dict[str, str]:
    """Intelligence the police share at the panel, as the minute-taker records it: it must
    carry its handling code."""
    if not text.strip():
        return (
            {"handling_code": "Handling codes go with intelligence: add it or clear the code."}
            if code
            else {}
        )
    if partnership.panel_practice.handling_code(code) is None:
        return {"handling_code": "Choose the handling code the intelligence carries."}
    if len(text) > 3000:
        return {"intelligence": "Keep this under 3000 characters."}
    return {}


def add_intelligence(
    session: Session,
    meeting: Meeting,
    text: str,
    code: str,
    *,
    by: int | None,
    actor: Actor,
    key: str,
    now: datetime,
) -> Intelligence | None:
    if not text.strip():
        return None
    existing = session.exec(select(Intelligence).where(Intelligence.submission_key == key)).first()
    if existing is not None:
        return existing
    row = Intelligence(
        meeting_id=meeting.id or 0,
        text=text.strip(),
        handling_code=code,
        recorded_by_id=by,
        submission_key=key,
        created_at=now,
    )
    session.add(row)
    session.flush()
    record(
        session,
        at=now,
        actor=actor,
        act="panel.intelligence_recorded",
        record_type="intelligence",
        record_id=row.id or 0,
        details={"handling_code": code},
    )
    return row
