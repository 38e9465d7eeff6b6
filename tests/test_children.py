"""Several children, or a context, in one strategy discussion (issue 16): the model and its
migration, convening siblings through Slack, recording a step per child, agency updates
that say which child, the documents per child, households and others at risk."""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session, select

from bot.children.models import DiscussionChild
from bot.minutes.models import Decision


def test_the_migration_makes_each_discussions_child_its_first_child(engine) -> None:
    """A record from before this version (at 0004): every strategy discussion's child becomes
    its first discussion child on the discussion's episode; a panel sitting gets none; the
    decisions stay the discussion's own and one decision per topic is still enforced."""
    from sqlalchemy.exc import IntegrityError

    from bot.database import upgrade
    from bot.models import metadata

    metadata.drop_all(engine)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE alembic_version"))
    upgrade(engine, "0004_periodic_jobs")
    meeting_row = (
        "INSERT INTO meeting (id, reference, meeting_type, case_id, state, urgency, format, reason, concerns, "
        "right_help_right_time_level, scheduled_start, duration_minutes, late_reason, calendar_sequence, "
        "cancelled_reason, details, created_at, out_of_hours, out_of_hours_reason, review_state, "
        "review_chase_step, review_resolution, episode_id) VALUES (:id, :ref, :kind, :case_id, 'held', "
        "'urgent', 'call', 'r', '[]', 'complex_significant', '2026-01-07 10:00:00', 60, '', 0, '', '{}', "
        "'2026-01-06 10:00:00', false, '', '', 0, '', :episode)"
    )
    with engine.begin() as connection:
        connection.execute(
            text(
                'INSERT INTO "case" (id, reference, subject_kind, subject_label, child_name, child_address, school, '
                "siblings_and_others_at_risk, right_help_right_time_level, created_at) VALUES "
                "(1, 'CS-1234567', 'child', '', 'A Child', '', '', '', 'complex_significant', "
                "'2025-12-18 10:00:00')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO caseepisode (id, case_id, state, referred_at, threshold_level, threshold_decided_at, "
                "closure_outcome, closure_reason, created_at) VALUES (1, 1, 'open', '2026-01-06 09:00:00', "
                "'complex_significant', '2026-01-06 09:00:00', '', '', '2026-01-06 09:00:00')"
            )
        )
        connection.execute(
            text(meeting_row),
            {"id": 1, "ref": "SD-2026-0001", "kind": "strategy_discussion", "case_id": 1, "episode": 1},
        )
        connection.execute(
            text(meeting_row),
            {"id": 2, "ref": "CEP-2026-0001", "kind": "cep", "case_id": None, "episode": None},
        )
        connection.execute(
            text(
                "INSERT INTO decision (meeting_id, topic, outcome, reason, details, recorded_at) VALUES "
                "(1, 'section_47', 'start', 'Significant harm', '{}', '2026-01-07 11:00:00')"
            )
        )
    upgrade(engine)
    with Session(engine) as session:
        [child] = session.exec(select(DiscussionChild)).all()
        [decision] = session.exec(select(Decision)).all()
    assert (child.meeting_id, child.case_id, child.position, child.episode_id) == (1, 1, 0, 1)
    assert (decision.topic, decision.case_id, decision.outcome) == ("section_47", None, "start")
    # One decision per topic for the discussion, and one per topic for each child.
    with Session(engine) as session:
        session.add(Decision(meeting_id=1, topic="section_47", case_id=1, outcome="start"))
        session.commit()
    try:
        with Session(engine) as session:
            session.add(Decision(meeting_id=1, topic="section_47", outcome="no_enquiries"))
            session.commit()
        raise AssertionError("a second discussion-wide decision on one topic was stored")
    except IntegrityError:
        pass
    try:
        with Session(engine) as session:
            session.add(Decision(meeting_id=1, topic="section_47", case_id=1, outcome="no_enquiries"))
            session.commit()
        raise AssertionError("a second decision on one topic for one child was stored")
    except IntegrityError:
        pass
