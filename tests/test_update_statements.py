"""A fixed number of statements for the agencies' updates, however many there are: the
chair's overview of a discussion (2 agencies' updates, then 8), the strategy minutes' context
built on it, and a panel sitting's agenda and minutes contexts (2 agenda items, then 10,
each item with its agencies' updates, referral, links, discussion and decision).

The records are written straight to the database (as the benchmarks' generator does), each
with more than one version and author, a link to another case and a strategy discussion
convened from the panel, so that every per-row look-up these paths could make has a row to
look up. The count is of the statements the test's own thread sends, each measurement in a
fresh session (nothing cached from the last)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import event
from sqlmodel import Session, col, select

from bot.agency_updates.models import AgencyUpdate, AgencyUpdateVersion
from bot.agency_updates.service import deadline_for, overview
from bot.cases.models import Case
from bot.convening.models import Attendance, Invitation, Meeting, MeetingState
from bot.documents.minutes import minutes_context
from bot.documents.panel import agenda_context, panel_minutes_context, panel_restricted
from bot.panel.jobs import sweep_panels
from bot.panel.models import AgendaItem, NetworkLink, PanelCase, PanelSitting, Referral
from bot.partnership.models import Agency, Person
from bot_offline.driver import OfflineBot
from tests.panel_support import PANEL

UPDATE = {
    "role": "Lead practitioner",
    "involvement_current": "Weekly visits.",
    "links": "peer: Boy known as K\nlocation: Lodge Road park",
}


def _statements(bot: OfflineBot, work: Callable[[Session], object]) -> list[str]:
    """The statements this thread sends while `work` runs in a fresh session."""
    engine = bot.runtime.engine
    me = threading.get_ident()
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if threading.get_ident() == me:
            seen.append(statement.split("\n")[0][:100])

    with Session(engine) as session:
        event.listen(engine, "before_cursor_execute", count)
        try:
            work(session)
        finally:
            event.remove(engine, "before_cursor_execute", count)
    return seen


def _agencies(session: Session) -> list[tuple[Agency, list[Person]]]:
    """Agencies with at least two people (two authors for an update's versions)."""
    people: dict[int, list[Person]] = {}
    for person in session.exec(select(Person).order_by(col(Person.id))):
        people.setdefault(person.agency_id, []).append(person)
    agencies = session.exec(select(Agency).order_by(col(Agency.id))).all()
    return [(a, people[a.id or 0]) for a in agencies if len(people.get(a.id or 0, [])) >= 2]


def _update(session: Session, meeting: Meeting, agency: Agency, authors: list[Person], item: int = 0) -> None:
    """A submitted update in three versions by two people: a draft, the submission, an amendment."""
    update = AgencyUpdate(
        meeting_id=meeting.id or 0,
        agency_id=agency.id or 0,
        agenda_item_id=item,
        state="submitted",
        current_version=3,
        amended=True,
        submitted_at=meeting.scheduled_start,
        first_submitted_at=meeting.scheduled_start,
    )
    session.add(update)
    session.flush()
    for number, (author, draft, extra) in enumerate(
        [
            (authors[0], True, {}),
            (authors[1], False, {"protective_factors": "Engages with the youth worker."}),
            (authors[0], False, {"protective_factors": "Engages with school.", "new_other": "Moved."}),
        ],
        start=1,
    ):
        session.add(
            AgencyUpdateVersion(
                update_id=update.id or 0,
                version=number,
                is_draft=draft,
                author_id=author.id or 0,
                submission_key=f"k-{update.id}-{number}",
                content={**UPDATE, **extra},
                risk_ratings={"weapons": "current"},
                lawful_basis="safeguarding",
                restrictions=["police_intelligence"] if number == 3 and agency.kind == "police" else [],
            )
        )


# ---------------------------------------------------------------- the chair's overview


def _discussion(bot: OfflineBot, session: Session) -> Meeting:
    convenor = session.exec(select(Person).where(Person.slack_user_id == "U0CSC001")).one()
    case = Case(reference="CS-9100001", child_name="Test Child Overview")
    session.add(case)
    session.flush()
    meeting = Meeting(
        reference="SD-2026-9001",
        meeting_type="strategy_discussion",
        case_id=case.id,
        state=MeetingState.HELD,
        urgency="standard",
        scheduled_start=bot.clock.now() - timedelta(days=1),
        held_at=bot.clock.now() - timedelta(days=1),
        convenor_id=convenor.id,
        chair_id=convenor.id,
    )
    session.add(meeting)
    session.flush()
    return meeting


def _invite(session: Session, meeting: Meeting, chosen: list[tuple[Agency, list[Person]]]) -> None:
    for agency, people in chosen:
        session.add(Invitation(meeting_id=meeting.id or 0, agency_id=agency.id or 0))
        session.add(Attendance(meeting_id=meeting.id or 0, agency_id=agency.id or 0, status="present"))
        session.flush()
        _update(session, meeting, agency, people)
    session.commit()


def test_the_overview_reads_eight_agencies_updates_with_the_statements_of_two(quiet_bot) -> None:
    bot = quiet_bot
    with Session(bot.runtime.engine) as session:
        agencies = _agencies(session)
        assert len(agencies) >= 8, "the sample partnership has eight agencies with two people"
        first_author = agencies[0][1][0].name
        meeting = _discussion(bot, session)
        meeting_id = meeting.id
        _invite(session, meeting, agencies[:2])

    def chair_view(session: Session) -> list[Any]:
        meeting = session.get_one(Meeting, meeting_id)
        deadline = deadline_for(meeting, bot.runtime.partnership, bot.runtime.calendar)
        return overview(session, meeting, deadline=deadline, now=bot.clock.now())

    def minutes(session: Session) -> dict[str, Any]:
        return minutes_context(
            session,
            session.get_one(Meeting, meeting_id),
            partnership=bot.runtime.partnership,
            calendar=bot.runtime.calendar,
            version=1,
            state="DRAFT",
            now=bot.clock.now(),
        )

    two = _statements(bot, chair_view), _statements(bot, minutes)
    with Session(bot.runtime.engine) as session:
        _invite(session, session.get_one(Meeting, meeting_id), _agencies(session)[2:8])
    eight = _statements(bot, chair_view), _statements(bot, minutes)

    with Session(bot.runtime.engine) as session:
        summaries = chair_view(session)
        shared = minutes(session)["information_shared"]
    # the convenor's own agency submitted, so it is listed; every one is the latest submission
    assert [s.state for s in summaries] == ["submitted"] * 8
    assert {s.version for s in summaries} == {3} and all(s.amended for s in summaries)
    assert summaries[0].authors["new_other"] == first_author  # the amendment's author
    assert summaries[0].authors["involvement_current"] == first_author  # the first draft's
    assert len(shared) == 8
    print(f"statements, overview: {len(two[0])} (2 agencies), {len(eight[0])} (8 agencies)")
    print(f"statements, minutes context: {len(two[1])} (2 agencies), {len(eight[1])} (8 agencies)")
    assert len(eight[0]) == len(two[0]), (two[0], eight[0])
    assert len(eight[1]) == len(two[1]), (two[1], eight[1])


def _drafts_after(session: Session, meeting_id: int, author_id: int, count: int) -> None:
    """`count` more drafts of every update of the meeting, saved after its latest submission
    by `author` (the chair is not shown them), each changing the role and adding a field."""
    for update in session.exec(select(AgencyUpdate).where(AgencyUpdate.meeting_id == meeting_id)):
        for _ in range(count):
            update.current_version += 1
            session.add(
                AgencyUpdateVersion(
                    update_id=update.id or 0,
                    version=update.current_version,
                    is_draft=True,
                    author_id=author_id,
                    submission_key=f"k-{update.id}-{update.current_version}",
                    content={**UPDATE, "role": f"Draft {update.current_version}", "new_later": "Not yet."},
                )
            )
        session.add(update)
    session.commit()


def test_the_overview_reads_only_the_versions_it_shows(quiet_bot) -> None:
    """Drafts saved after the latest submission are neither read nor credited: the overview
    shows that submission and who wrote each of its fields, in the same statements however
    many drafts follow it."""
    bot = quiet_bot
    with Session(bot.runtime.engine) as session:
        agencies = _agencies(session)[:2]
        first_author = agencies[0][1][0].name
        other = agencies[1][1][1]  # of another agency: a name the overview must not show
        other_id, other_name = other.id or 0, other.name
        meeting = _discussion(bot, session)
        meeting_id = meeting.id or 0
        _invite(session, meeting, agencies)
        _drafts_after(session, meeting_id, other_id, 1)
    loaded: list[int] = []

    def heard(target: AgencyUpdateVersion, _context: Any) -> None:
        loaded.append(target.version)

    def chair_view(session: Session) -> list[Any]:
        meeting = session.get_one(Meeting, meeting_id)
        deadline = deadline_for(meeting, bot.runtime.partnership, bot.runtime.calendar)
        return overview(session, meeting, deadline=deadline, now=bot.clock.now())

    event.listen(AgencyUpdateVersion, "load", heard)
    try:
        one_draft = _statements(bot, chair_view)
        assert sorted(loaded) == [1, 1, 2, 2, 3, 3], loaded  # the three shown of each, not the draft
        with Session(bot.runtime.engine) as session:
            _drafts_after(session, meeting_id, other_id, 5)
        loaded.clear()
        six_drafts = _statements(bot, chair_view)
        assert sorted(loaded) == [1, 1, 2, 2, 3, 3], loaded
        with Session(bot.runtime.engine) as session:
            summaries = chair_view(session)
    finally:
        event.remove(AgencyUpdateVersion, "load", heard)
    assert len(six_drafts) == len(one_draft), (one_draft, six_drafts)
    assert [(s.state, s.version) for s in summaries] == [("submitted", 3)] * 2
    assert summaries[0].content["role"] == UPDATE["role"] and "new_later" not in summaries[0].content
    assert summaries[0].authors["role"] == first_author  # the first draft's, not the later draft's
    assert "new_later" not in summaries[0].authors
    assert other_name not in {name for s in summaries for name in s.authors.values()}


# ------------------------------------------------------------------- a panel sitting


def _sitting(bot: OfflineBot) -> tuple[int, int]:
    sweep_panels(bot.runtime)  # opens the next sitting, its standing agencies invited
    bot.settle()
    with Session(bot.runtime.engine) as session:
        sitting = session.exec(select(PanelSitting).where(PanelSitting.panel_code == PANEL)).one()
        meeting = session.get_one(Meeting, sitting.meeting_id)
        for agency_id in session.exec(
            select(Invitation.agency_id).where(Invitation.meeting_id == meeting.id)
        ).all():
            session.add(Attendance(meeting_id=meeting.id or 0, agency_id=agency_id, status="present"))
        session.commit()
        return sitting.id or 0, meeting.id or 0


def _items(bot: OfflineBot, sitting_id: int, meeting_id: int, first: int, count: int) -> None:
    """`count` more agenda items, each a child (every third a place) with a referral, a link
    to the previous case, two agencies' updates and, for the children, a decision that
    convened a strategy discussion."""
    with Session(bot.runtime.engine) as session:
        meeting = session.get_one(Meeting, meeting_id)
        agencies = _agencies(session)[:2]
        referrer = agencies[0][1][0]
        for number in range(first, first + count):
            child = number % 3 != 2
            case = Case(
                reference=f"CS-92{number:05d}" if child else f"CTX-2026-9{number:03d}",
                subject_kind="child" if child else "location",
                subject_label="" if child else f"Place {number}",
                child_name=f"Test Child {number}" if child else "",
                child_date_of_birth=date(2011, 1, 1) if child else None,
            )
            session.add(case)
            session.flush()
            panel_case = PanelCase(panel_code=PANEL, case_id=case.id or 0, risk_level="high")
            session.add(panel_case)
            session.flush()
            session.add(
                Referral(
                    reference=f"PR-2026-9{number:03d}",
                    panel_code=PANEL,
                    subject_kind=case.subject_kind,
                    case_id=case.id or 0,
                    reasons="Missing often.",
                    risk_level="high",
                    screening_result="significant",
                    referred_by_id=referrer.id or 0,
                    state="accepted",
                    sitting_id=sitting_id,
                    panel_case_id=panel_case.id,
                    submission_key=f"referral-{number}",
                )
            )
            previous = session.exec(
                select(Case).where(col(Case.id) < case.id).order_by(col(Case.id).desc())
            ).first()
            session.add(
                NetworkLink(
                    case_id=case.id or 0,
                    kind="case",
                    label=previous.reference if previous else "",
                    label_key=f"case-{number}",
                    linked_case_id=previous.id if previous else None,
                    source="referral",
                )
            )
            convened = None
            if child:
                convened = Meeting(
                    reference=f"SD-2026-8{number:03d}",
                    meeting_type="strategy_discussion",
                    case_id=case.id,
                    scheduled_start=meeting.scheduled_start,
                )
                session.add(convened)
                session.flush()
            item = AgendaItem(
                sitting_id=sitting_id,
                panel_case_id=panel_case.id or 0,
                section="new_referral" if child else "location",
                position=number,
                minutes=10,
                outcome={"decision": "step_up" if child else "step_down", "risk_level": "high"},
                reasons=["Missing often."],
                stepped_up_meeting_id=convened.id if convened else None,
            )
            session.add(item)
            session.flush()
            for agency, people in agencies:
                _update(session, meeting, agency, people, item.id or 0)
        session.commit()


def test_a_sittings_documents_read_ten_items_with_the_statements_of_two(quiet_bot) -> None:
    bot = quiet_bot
    sitting_id, meeting_id = _sitting(bot)
    _items(bot, sitting_id, meeting_id, 1, 2)
    common = {"partnership": bot.runtime.partnership, "calendar": bot.runtime.calendar}

    def minutes(session: Session) -> dict[str, Any]:
        meeting = session.get_one(Meeting, meeting_id)
        return panel_minutes_context(
            session, meeting, version=1, state="DRAFT", now=bot.clock.now(), **common
        )[0]

    def agenda(session: Session) -> dict[str, Any]:
        return agenda_context(session, session.get_one(Meeting, meeting_id), now=bot.clock.now(), **common)

    def restricted(session: Session) -> object:
        meeting = session.get_one(Meeting, meeting_id)
        return panel_restricted(
            session, meeting, bot.runtime.partnership, bot.runtime.calendar, bot.clock.now()
        )

    two = [_statements(bot, work) for work in (minutes, agenda, restricted)]
    _items(bot, sitting_id, meeting_id, 3, 8)
    ten = [_statements(bot, work) for work in (minutes, agenda, restricted)]

    with Session(bot.runtime.engine) as session:
        cases = minutes(session)["cases"]
    assert len(cases) == 10
    children = [c for c in cases if c["subject"] != "Location"]
    assert all(len(c["updates"]) == 2 and c["reasons"] for c in cases)
    assert all("strategy discussion SD-2026-8" in c["leads_to"] for c in children)
    assert all(c["discussion"].startswith("SD\u20112026\u20118") for c in children)
    linked = [[link["label"] for link in c["links"] if link["kind"] == "Linked case"] for c in cases]
    assert all(labels and labels[0].startswith("C") for labels in linked[1:])  # each to the one before
    assert all(any(link["label"] == "Lodge Road park" for link in c["links"]) for c in cases)  # updates'
    for name, before, after in zip(("minutes", "agenda", "restricted"), two, ten, strict=True):
        print(f"statements, panel {name} context: {len(before)} (2 items), {len(after)} (10 items)")
    for before, after in zip(two, ten, strict=True):
        assert len(after) == len(before), (before, after)
