"""Large records for bench_documents, written into a generated database: a strategy
discussion with every agency's update in full, a discussion with a 400-action log, and a
panel sitting with 40 cases, 8 agency updates a case, 400 actions (60 carried forward) and
about 120 people and places linked to the children. The generator's own discussions have
short updates and 10 actions; these are the large records a chair waits for, among the
years of others."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, func, select

from bot.actions.models import Action, ActionEvent, ActionStatus, Chase
from bot.agency_updates.models import AgencyUpdate, AgencyUpdateVersion
from bot.agency_updates.service import TEXT_FIELDS
from bot.cases.models import Case
from bot.convening.models import Attendance, Meeting, MeetingState
from bot.minutes.models import Decision
from bot.minutes.service import DECISION_TOPICS
from bot.panel.models import AgendaItem, NetworkLink, PanelCase, PanelSitting
from bot.partnership.models import Agency, Person
from bot.schedules import Partnership

SENTENCES = [
    "Ella was seen at home on Tuesday with her mother & her older brother present.",
    "She said she had been staying with a friend called J but would not give an address.",
    "School report attendance below 80% this term, with three unauthorised absences on Mondays.",
    "Police hold intelligence that an older male (aged about 19) collects her from the park.",
    "Mother is worried about new trainers & a second phone she cannot account for.",
    'Ella told the school nurse she feels safer when she is "out with her people" than at home.',
    "There were two missing episodes in the last month; both return interviews were declined.",
    "A referral to the exploitation hub was made on 3 November; the outcome is awaited.",
]
SECTIONS = [f for f in TEXT_FIELDS if f not in ("role", "restriction_detail", "links")]
CONTEXT_NODES = [  # 120 peers, suspected perpetrators, locations, schools and peer groups
    ("peer", "Peer", 40),
    ("suspected_perpetrator", "Suspected perpetrator", 30),
    ("location", "Location", 30),
    ("school", "School", 10),
    ("peer_group", "Peer group", 10),
]
DECISIONS = ["step_up", "continue", "continue", "step_down"]


def paragraph(seed: int, sentences: int) -> str:
    chosen = [SENTENCES[(seed + i) % len(SENTENCES)] for i in range(sentences)]
    return "\n".join(" ".join(chosen[i : i + 3]) for i in range(0, len(chosen), 3))


@dataclass(frozen=True)
class LargeRecords:
    discussion: int  # meeting ids
    log: int
    panel: int
    panel_cases: int
    panel_actions: int


class _Writer:
    def __init__(self, session: Session, partnership: Partnership, now: datetime) -> None:
        self.session = session
        self.now = now
        self.indicators = [i.code for i in partnership.agency_updates.risk_indicators]
        agencies = session.exec(
            select(Agency).where(col(Agency.code) != "partnership").order_by(col(Agency.id))
        )
        self.agencies = list(agencies)[:8]
        self.staff: dict[int, list[int]] = {}
        for person in session.exec(select(Person).where(col(Person.active) == True)):  # noqa: E712
            self.staff.setdefault(person.agency_id, []).append(person.id or 0)
        self.serial = 0

    def person(self, agency: Agency, n: int) -> int:
        people = self.staff[agency.id or 0]
        return people[n % len(people)]

    def updates(self, meeting: Meeting, item_id: int, seed: int, sections: int) -> None:
        """A submitted update from each of the 8 agencies, every section written, a full risk grid."""
        ratings = ["current", "historic", "not_known", "not_present"]
        for a, agency in enumerate(self.agencies):
            update = AgencyUpdate(
                meeting_id=meeting.id or 0,
                agency_id=agency.id or 0,
                agenda_item_id=item_id,
                state="submitted",
                current_version=1,
                first_submitted_at=self.now - timedelta(days=2),
                submitted_at=self.now - timedelta(days=2),
            )
            self.session.add(update)
            self.session.flush()
            content = {"role": "Practitioner"} | {
                field: paragraph(seed + a + s, 4) for s, field in enumerate(SECTIONS[:sections])
            }
            self.session.add(
                AgencyUpdateVersion(
                    update_id=update.id or 0,
                    version=1,
                    is_draft=False,
                    author_id=self.person(agency, seed + a),
                    submission_key=f"bench-{update.id}",
                    content=content,
                    risk_ratings={code: ratings[(i + a) % 4] for i, code in enumerate(self.indicators)},
                    lawful_basis="public_task",
                    created_at=self.now - timedelta(days=2),
                )
            )

    def attendance(self, meeting: Meeting) -> None:
        for a, agency in enumerate(self.agencies):
            self.session.add(
                Attendance(
                    meeting_id=meeting.id or 0,
                    agency_id=agency.id or 0,
                    person_id=self.person(agency, a),
                    name=f"Attendee {a + 1}",
                    role="Practitioner",
                    status="present",
                    recorded_at=self.now,
                )
            )

    def actions(
        self, meeting: Meeting, case: Case, count: int, *, start: int = 0, updates: int, chases: int
    ) -> None:
        """`count` actions, each with `updates` updates and `chases` chases."""
        steps = ["reminder", "due_today", "overdue", "escalate_lead", "escalate_chair"]
        rows = []
        for n in range(start, start + count):
            agency = self.agencies[n % len(self.agencies)]
            self.serial += 1
            done = n % 5 == 0
            rows.append(
                Action(
                    reference=f"{meeting.reference}-B{self.serial:04d}",
                    meeting_id=meeting.id,
                    case_id=case.id,
                    concerns=case.reference,
                    text=paragraph(n, 2),
                    owner_id=self.person(agency, n),
                    agency_id=agency.id or 0,
                    priority=["normal", "high", "immediate"][n % 3],
                    assigned_on=(meeting.scheduled_start or self.now).date(),
                    due_on=(self.now + timedelta(days=n % 30 - 10)).date(),
                    completed_at=self.now - timedelta(days=1) if done else None,
                    status=ActionStatus.DONE if done else ActionStatus.OPEN,
                    created_at=self.now - timedelta(days=20),
                )
            )
        self.session.add_all(rows)
        self.session.flush()
        for n, action in enumerate(rows):
            for u in range(updates):
                self.session.add(
                    ActionEvent(
                        action_id=action.id or 0,
                        kind="updated",
                        by_id=action.owner_id,
                        details={"note": paragraph(n + u, 2)},
                        at=self.now - timedelta(days=9 - u),
                    )
                )
            for c in range(chases):
                self.session.add(
                    Chase(
                        action_id=action.id,
                        step=steps[c % len(steps)],
                        to_person_id=action.owner_id,
                        via="slack_dm",
                        at=self.now - timedelta(days=8 - c),
                    )
                )


def _held(session: Session, meeting_type: str, skip: int = 0) -> Meeting:
    return session.exec(
        select(Meeting)
        .where(col(Meeting.meeting_type) == meeting_type, col(Meeting.state) == MeetingState.HELD)
        .order_by(col(Meeting.scheduled_start).desc())
        .offset(skip)
    ).first()  # type: ignore[return-value]


def write_large_records(session: Session, partnership: Partnership, now: datetime) -> LargeRecords:
    """Enlarge two held discussions and the latest held panel sitting, and commit."""
    writer = _Writer(session, partnership, now)
    # 1. A discussion: every agency's update in full, attendance, every decision, 30 actions.
    discussion = _held(session, "strategy_discussion")
    case = session.get_one(Case, discussion.case_id)
    discussion.details = discussion.details | {
        "record": {
            key: paragraph(k, 5)
            for k, key in enumerate(
                (
                    "action_taken",
                    "child_voice",
                    "harm",
                    "likelihood",
                    "protective_factors",
                    "extra_familial",
                    "next_steps",
                )
            )
        }
    }
    discussion.reason = paragraph(0, 5)
    session.add(discussion)
    _drop_updates(session, discussion)
    writer.updates(discussion, 0, 0, sections=len(SECTIONS))
    writer.attendance(discussion)
    for t, topic in enumerate(DECISION_TOPICS):
        session.add(
            Decision(
                meeting_id=discussion.id or 0,
                topic=topic,
                outcome="Recorded",
                reason=paragraph(t, 2),
                recorded_at=now,
            )
        )
    writer.actions(discussion, case, 20, start=10, updates=3, chases=3)  # to its own 10
    # 2. Another discussion whose action log holds 400 actions.
    log = _held(session, "strategy_discussion", skip=1)
    writer.actions(log, session.get_one(Case, log.case_id), 390, updates=3, chases=3)
    # 3. The latest held panel sitting: 40 cases, 8 updates each, 400 actions, the links.
    sitting = session.exec(
        select(PanelSitting)
        .join(Meeting, col(Meeting.id) == col(PanelSitting.meeting_id))
        .where(col(Meeting.state) == MeetingState.HELD)
        .order_by(col(PanelSitting.held_on).desc())
    ).first()
    assert sitting is not None, "the generator made no held panel sitting"
    panel = session.get_one(Meeting, sitting.meeting_id)
    items = list(session.exec(select(AgendaItem).where(col(AgendaItem.sitting_id) == sitting.id)))
    position = max((i.position for i in items), default=0)
    while len(items) < 40:
        position += 1
        extra = Case(
            reference=f"CS-BENCH-{position:04d}", child_name=f"Bench Child {position}", created_at=now
        )
        session.add(extra)
        session.flush()
        panel_case = PanelCase(
            panel_code=sitting.panel_code, case_id=extra.id or 0, risk_level="high", added_at=now
        )
        session.add(panel_case)
        session.flush()
        item = AgendaItem(
            sitting_id=sitting.id or 0,
            panel_case_id=panel_case.id or 0,
            section="under_review",
            position=position,
            minutes=10,
        )
        session.add(item)
        items.append(item)
    session.flush()
    cases = []
    for c, item in enumerate(items):
        item.outcome = (item.outcome or {}) | {
            "victims": paragraph(c + 1, 2),
            "offenders": paragraph(c + 2, 2),
            "locations": paragraph(c + 3, 2),
            "themes": paragraph(c + 4, 2),
            "decision": DECISIONS[c % len(DECISIONS)],
            "decision_reason": paragraph(c + 5, 2),
            "disruption": paragraph(c + 6, 1) if c % 2 == 0 else "",
        }
        session.add(item)
        writer.updates(panel, item.id or 0, c, sections=6)
        cases.append(session.get_one(Case, session.get_one(PanelCase, item.panel_case_id).case_id))
    _drop_attendance(session, panel)
    writer.attendance(panel)
    for kind, label, count in CONTEXT_NODES:
        for i in range(count):
            for j in range(2 + i % 2):
                linked = cases[(i * 7 + j * 13 + len(kind)) % len(cases)]
                session.add(
                    NetworkLink(
                        case_id=linked.id or 0,
                        kind=kind,
                        label=f"{label} {i + 1}",
                        label_key=f"{label} {i + 1}".casefold(),
                        source=f"panel {panel.reference}",
                        created_at=now,
                    )
                )
    session.flush()
    # 60 open actions from the sitting before, carried forward; 340 of this sitting's own.
    before = session.exec(
        select(PanelSitting)
        .where(
            col(PanelSitting.panel_code) == sitting.panel_code, col(PanelSitting.held_on) < sitting.held_on
        )
        .order_by(col(PanelSitting.held_on).desc())
    ).first()
    assert before is not None
    earlier = session.get_one(Meeting, before.meeting_id)
    carried_before = session.exec(
        select(func.count()).select_from(Action).where(col(Action.meeting_id) == earlier.id)
    ).one()
    for n in range(60):
        writer.actions(earlier, cases[n % len(cases)], 1, start=n * 5 + 1, updates=3, chases=3)  # open: n*5+1
    for n in range(340):
        writer.actions(panel, cases[n % len(cases)], 1, start=n, updates=3, chases=3)
    session.commit()
    return LargeRecords(
        discussion=discussion.id or 0,
        log=log.id or 0,
        panel=panel.id or 0,
        panel_cases=len(items),
        panel_actions=400 + carried_before,
    )


def _drop_updates(session: Session, meeting: Meeting) -> None:
    for update in session.exec(select(AgencyUpdate).where(col(AgencyUpdate.meeting_id) == meeting.id)).all():
        for version in session.exec(
            select(AgencyUpdateVersion).where(col(AgencyUpdateVersion.update_id) == update.id)
        ).all():
            session.delete(version)
        session.flush()
        session.delete(update)
    session.flush()


def _drop_attendance(session: Session, meeting: Meeting) -> None:
    for row in session.exec(select(Attendance).where(col(Attendance.meeting_id) == meeting.id)).all():
        session.delete(row)
    session.flush()
