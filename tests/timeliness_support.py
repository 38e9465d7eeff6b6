"""A month of the record, seeded row by row with hand-counted figures: December 2026, whose
Christmas has a bank holiday on Friday 25 and a substitute one on Monday 28 (Boxing Day is a
Saturday), and New Year's Day on Friday 1 January 2027. Every expected figure in the tests
is counted by hand from what is written here."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from typing import Any

from sqlmodel import Session, select

from bot.actions.models import Action
from bot.agency_updates.models import AgencyUpdate
from bot.cases.models import Case, CaseEpisode, Section47Enquiry
from bot.convening.models import Attendance, Invitation, Meeting
from bot.database import session_scope
from bot.panel.models import AgendaItem, PanelCase, PanelSitting
from bot.partnership.models import Agency, Person

NUMBERS = itertools.count(1)
AS_AT = datetime(2027, 1, 5, 10, 0, tzinfo=UTC)  # Tuesday 5 January 2027, 10:00 London


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


class Seeder:
    """Writes the rows the measures read, with the references and ids they need."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.agency = {a.code: a.id for a in session.exec(select(Agency))}
        self.convenor = session.exec(select(Person).where(Person.slack_user_id == "U0CSC001")).one()
        self.someone = {
            code: session.exec(select(Person).where(Person.agency_id == agency_id)).first()
            for code, agency_id in self.agency.items()
        }

    def add(self, row: Any) -> Any:
        self.session.add(row)
        self.session.flush()
        return row

    def case(self) -> Case:
        return self.add(Case(reference=f"CS-{9000000 + next(NUMBERS)}", child_name="Not For Slack"))

    def episode(self, case: Case, referred_at: datetime) -> CaseEpisode:
        return self.add(
            CaseEpisode(case_id=case.id, referred_at=referred_at, threshold_decided_at=referred_at)
        )

    def discussion(
        self,
        *,
        urgency: str,
        referred_at: datetime | None,
        held_at: datetime | None,
        deadline: datetime | None,
        out_of_hours: bool = False,
        panel: bool = False,
    ) -> Meeting:
        case = self.case()
        episode = None if panel else self.episode(case, referred_at or utc(2026, 12, 1))
        number = next(NUMBERS)
        return self.add(
            Meeting(
                reference=f"{'CEP' if panel else 'SD'}-2026-{number:04d}",
                meeting_type="criminal_exploitation_panel" if panel else "strategy_discussion",
                case_id=None if panel else case.id,
                state="held" if held_at else "scheduled",
                urgency=urgency,
                referred_at=referred_at,
                held_at=held_at,
                deadline=deadline,
                out_of_hours=out_of_hours,
                convenor_id=self.convenor.id,
                episode_id=episode.id if episode else None,
                scheduled_start=held_at or utc(2027, 1, 20, 10),
            )
        )

    def invited(self, meeting: Meeting, code: str, state: str, attendance: str | None = None) -> None:
        self.add(Invitation(meeting_id=meeting.id, agency_id=self.agency[code], state=state))
        if attendance:
            self.add(Attendance(meeting_id=meeting.id, agency_id=self.agency[code], status=attendance))

    def update(self, meeting: Meeting, code: str, *, state: str, late: bool = False) -> None:
        self.add(AgencyUpdate(meeting_id=meeting.id, agency_id=self.agency[code], state=state, late=late))

    def enquiry(self, meeting_case: Meeting | None = None, **dates: Any) -> Section47Enquiry:
        meeting = meeting_case or self.discussion(
            urgency="standard", referred_at=utc(2026, 10, 1, 9), held_at=None, deadline=None
        )
        values = {"icpc_state": "pending", "assessment_due_on": date(2027, 3, 1), **dates}
        if values.get("icpc_held_on"):
            values["icpc_state"] = "held"
        return self.add(
            Section47Enquiry(
                episode_id=meeting.episode_id,
                case_id=meeting.case_id,
                started_by_meeting_id=meeting.id,
                **values,
            )
        )

    def action(self, code: str, priority: str, due_on: date, status: str = "open", **more: Any) -> Action:
        number = next(NUMBERS)
        return self.add(
            Action(
                reference=f"ACT-2026-{number:05d}",
                text="Do the thing agreed.",
                owner_id=self.someone[code].id,
                agency_id=self.agency[code],
                priority=priority,
                assigned_on=date(2026, 11, 2),
                due_on=due_on,
                status=status,
                **more,
            )
        )

    def panel_items(self, held_on: date, outcomes: list[dict[str, str] | None]) -> None:
        meeting = self.discussion(urgency="", referred_at=None, held_at=None, deadline=None, panel=True)
        code = f"cep-{next(NUMBERS)}"  # a panel of its own each time, so seeding twice is allowed
        sitting = self.add(
            PanelSitting(
                panel_code=code,
                meeting_id=meeting.id,
                scheduled_for=held_on,
                held_on=held_on,
                referral_cutoff=utc(2026, 11, 1),
                updates_cutoff=utc(2026, 11, 1),
            )
        )
        for position, outcome in enumerate(outcomes):
            panel_case = self.add(PanelCase(panel_code=code, case_id=self.case().id))
            self.add(
                AgendaItem(
                    sitting_id=sitting.id,
                    panel_case_id=panel_case.id,
                    section="under_review",
                    position=position,
                    minutes=10,
                    outcome=outcome or {},
                    recorded_at=utc(2026, 12, 8, 12) if outcome else None,
                )
            )


def seed_december(engine: Any) -> None:
    """The month the tests count by hand (see each line's comment)."""
    with session_scope(engine) as session:
        s = Seeder(session)
        # Discussions held in December 2026 (the deadline is stored as convening worked it out).
        # D1 urgent: referred Thu 24 Dec 15:00; 25 and 28 Dec are bank holidays, so its
        # deadline is the end of Tue 29 Dec; held then: within, 1 working day.
        d1 = s.discussion(
            urgency="urgent",
            referred_at=utc(2026, 12, 24, 15),
            held_at=utc(2026, 12, 29, 10),
            deadline=utc(2026, 12, 29, 17),
        )
        # D2 standard: referred Fri 4 Dec, deadline end of Wed 9 Dec, held Thu 10 Dec: late, 4 days.
        d2 = s.discussion(
            urgency="standard",
            referred_at=utc(2026, 12, 4, 9),
            held_at=utc(2026, 12, 10, 11),
            deadline=utc(2026, 12, 9, 17),
        )
        # D3 immediate: the same day, within, 0 days; held at 00:10 on 1 Dec (the first minutes count).
        d3 = s.discussion(
            urgency="immediate",
            referred_at=utc(2026, 12, 1, 0, 5),
            held_at=utc(2026, 12, 1, 0, 10),
            deadline=utc(2026, 12, 1, 17),
        )
        # D4 urgent, out of hours: referred Sat 19 Dec 22:00, held Sun 20 Dec 01:00: within, 0 days.
        s.discussion(
            urgency="urgent",
            referred_at=utc(2026, 12, 19, 22),
            held_at=utc(2026, 12, 20, 1),
            deadline=utc(2026, 12, 21, 17),
            out_of_hours=True,
        )
        # Not counted: held on 30 November and on 1 January, not yet held, and a panel sitting.
        s.discussion(
            urgency="urgent",
            referred_at=utc(2026, 11, 27, 9),
            held_at=utc(2026, 11, 30, 23, 59),
            deadline=utc(2026, 11, 30, 17),
        )
        s.discussion(
            urgency="urgent", referred_at=utc(2026, 12, 31, 9), held_at=utc(2027, 1, 1, 0, 0), deadline=None
        )
        s.discussion(urgency="standard", referred_at=utc(2026, 12, 30, 9), held_at=None, deadline=None)
        s.discussion(urgency="", referred_at=None, held_at=utc(2026, 12, 8, 10), deadline=None, panel=True)

        # Attendance and updates. The convenor is children's social care: its own update is
        # not expected. A declined invitation owes no update.
        s.invited(d1, "csc", "attending", "present")
        s.invited(d1, "police-ppu", "delegate", "present")  # a delegate
        s.invited(d1, "health", "written_update", "written_update")
        s.invited(d2, "csc", "attending", "present")
        s.invited(d2, "police-ppu", "invited", "did_not_respond")
        s.invited(d2, "health", "declined", "apologies")
        s.invited(d3, "police-ppu", "attending")  # no attendance recorded yet
        s.update(d1, "police-ppu", state="submitted")  # on time
        s.update(d1, "health", state="submitted", late=True)  # late
        s.update(d3, "police-ppu", state="draft")  # a draft is missing; D2's has no row at all

        # Section 47 enquiries.
        # E1: started Thu 10 Dec, target Tue 5 Jan 2027 (three bank holidays on the way), held
        # Tue 22 Dec: within, 8 working days.
        s.enquiry(
            d2, started_on=date(2026, 12, 10), icpc_due_on=date(2027, 1, 5), icpc_held_on=date(2026, 12, 22)
        )
        # E2: started Tue 1 Dec, target Tue 22 Dec, held Tue 29 Dec: late, 18 working days;
        # its assessment completed on 30 Dec, within its deadline.
        s.enquiry(
            d3,
            started_on=date(2026, 12, 1),
            icpc_due_on=date(2026, 12, 22),
            icpc_held_on=date(2026, 12, 29),
            completed_on=date(2026, 12, 30),
            assessment_due_on=date(2027, 2, 2),
        )
        # E3: started 3 Dec, no ICPC required.
        s.enquiry(
            started_on=date(2026, 12, 3),
            icpc_due_on=date(2026, 12, 24),
            icpc_state="not_required",
            icpc_not_required_reason="Concerns not substantiated.",
        )
        # E4: started 20 Nov, target Fri 11 Dec, still pending: past its target. Its
        # assessment was due on 18 Dec and is still open.
        s.enquiry(
            started_on=date(2026, 11, 20),
            icpc_due_on=date(2026, 12, 11),
            assessment_due_on=date(2026, 12, 18),
        )
        # E5: November's ICPC (not counted); its assessment completed on 15 Dec, five days late.
        s.enquiry(
            started_on=date(2026, 11, 2),
            icpc_due_on=date(2026, 11, 23),
            icpc_held_on=date(2026, 11, 20),
            completed_on=date(2026, 12, 15),
            assessment_due_on=date(2026, 12, 10),
        )

        # Actions due in December.
        s.action(
            "police-cid", "high", date(2026, 12, 11), "done", completed_at=utc(2026, 12, 11, 23, 30)
        )  # on time
        s.action(
            "police-cid", "high", date(2026, 12, 11), "done", completed_at=utc(2026, 12, 12, 0, 10)
        )  # late
        s.action("yos", "normal", date(2026, 12, 18))  # open, past due, overdue now
        s.action("yos", "normal", date(2026, 12, 4), "escalated", escalation_level=1)  # and escalated
        s.action("yos", "normal", date(2026, 12, 10), "cancelled")  # not counted
        s.action("health", "immediate", date(2026, 11, 30))  # November's: overdue now only
        s.action("health", "normal", date(2027, 1, 20))  # not yet due

        # The panel on Tue 8 Dec: three items recorded (one stepped up with an NRM referral,
        # one stepped down, one continued), one not yet; and a November sitting.
        s.panel_items(
            date(2026, 12, 8),
            [
                {"decision": "step_up", "nrm": "referred"},
                {"decision": "step_down", "nrm": "none"},
                {"decision": "continue", "nrm": "already"},
                None,
            ],
        )
        s.panel_items(date(2026, 11, 24), [{"decision": "step_up", "nrm": "referred"}])
