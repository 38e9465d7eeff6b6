"""the life of a case: episodes, section 47 enquiries, actual times, out of hours, reviews

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 00:18:56.101692

Existing strategy discussions are given an episode per case (open, or closed when the case
is), and a discussion that decided to start section 47 enquiries its enquiry, with the ICPC
target and the assessment deadline counted on the statutory calendar (Europe/London).
"""

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

from bot.database import UTCDateTime

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

MEETING_EPISODE_FK = "fk_meeting_episode_id_caseepisode"


def upgrade() -> None:
    op.create_table(
        "caseepisode",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("referred_at", UTCDateTime(), nullable=False),
        sa.Column("threshold_level", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("threshold_decided_at", UTCDateTime(), nullable=False),
        sa.Column("threshold_decided_by_id", sa.Integer(), nullable=True),
        sa.Column("closed_at", UTCDateTime(), nullable=True),
        sa.Column("closed_by_id", sa.Integer(), nullable=True),
        sa.Column("closure_outcome", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("closure_reason", sqlmodel.sql.sqltypes.AutoString(length=3000), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"]),
        sa.ForeignKeyConstraint(["closed_by_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["threshold_decided_by_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("caseepisode", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_caseepisode_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            "ux_caseepisode_one_open_per_case",
            ["case_id"],
            unique=True,
            sqlite_where=sa.text("state = 'open'"),
            postgresql_where=sa.text("state = 'open'"),
        )

    op.create_table(
        "section47enquiry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("started_by_meeting_id", sa.Integer(), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("icpc_due_on", sa.Date(), nullable=False),
        sa.Column("icpc_state", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("icpc_held_on", sa.Date(), nullable=True),
        sa.Column("icpc_not_required_reason", sqlmodel.sql.sqltypes.AutoString(length=3000), nullable=False),
        sa.Column("assessment_due_on", sa.Date(), nullable=False),
        sa.Column("concerns_substantiated", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("completed_on", sa.Date(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"]),
        sa.ForeignKeyConstraint(["episode_id"], ["caseepisode.id"]),
        sa.ForeignKeyConstraint(["started_by_meeting_id"], ["meeting.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("section47enquiry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_section47enquiry_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_section47enquiry_episode_id"), ["episode_id"], unique=False)
        batch_op.create_index("ix_section47enquiry_started_on", ["started_on"], unique=False)
        batch_op.create_index(
            "ux_section47enquiry_one_open_per_episode",
            ["episode_id"],
            unique=True,
            sqlite_where=sa.text("completed_on IS NULL"),
            postgresql_where=sa.text("completed_on IS NULL"),
        )

    # Columns are added in place (ALTER TABLE ... ADD COLUMN), not by rebuilding the table:
    # on SQLite a rebuild drops `meeting`, which every invitation, action and document refers
    # to, and would fail on a database that holds records.
    text_default: dict[str, Any] = {"nullable": False, "server_default": ""}
    op.add_column("meeting", sa.Column("referred_at", UTCDateTime(), nullable=True))
    op.add_column("meeting", sa.Column("ended_at", UTCDateTime(), nullable=True))
    if op.get_bind().dialect.name == "sqlite":
        # SQLite takes a reference in ADD COLUMN, though not as a separate constraint.
        op.execute("ALTER TABLE meeting ADD COLUMN episode_id INTEGER REFERENCES caseepisode (id)")
    else:
        op.add_column(
            "meeting",
            sa.Column(
                "episode_id",
                sa.Integer(),
                sa.ForeignKey("caseepisode.id", name=MEETING_EPISODE_FK),
                nullable=True,
            ),
        )
    op.add_column(
        "meeting", sa.Column("out_of_hours", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column(
        "meeting",
        sa.Column("out_of_hours_reason", sqlmodel.sql.sqltypes.AutoString(length=1000), **text_default),
    )
    op.add_column("meeting", sa.Column("review_on", sa.Date(), nullable=True))
    op.add_column(
        "meeting", sa.Column("review_state", sqlmodel.sql.sqltypes.AutoString(length=20), **text_default)
    )
    op.add_column(
        "meeting", sa.Column("review_chase_step", sa.Integer(), nullable=False, server_default=sa.text("0"))
    )
    op.add_column("meeting", sa.Column("review_next_chase_at", UTCDateTime(), nullable=True))
    op.add_column(
        "meeting",
        sa.Column("review_resolution", sqlmodel.sql.sqltypes.AutoString(length=1000), **text_default),
    )
    op.create_index(op.f("ix_meeting_episode_id"), "meeting", ["episode_id"], unique=False)
    op.create_index(
        op.f("ix_meeting_review_next_chase_at"), "meeting", ["review_next_chase_at"], unique=False
    )

    _backfill(op.get_bind())


def _backfill(connection: sa.Connection) -> None:
    """An episode for each case's existing strategy discussions, and the enquiry of any that
    started section 47 enquiries, so the record before this version reads the same way."""
    from bot.working_days import StatutoryCalendar

    statutory = StatutoryCalendar("Europe/London")
    meeting = sa.table(
        "meeting",
        sa.column("id"),
        sa.column("case_id"),
        sa.column("meeting_type"),
        sa.column("created_at", UTCDateTime()),
        sa.column("scheduled_start", UTCDateTime()),
        sa.column("held_at", UTCDateTime()),
        sa.column("right_help_right_time_level"),
        sa.column("convenor_id"),
        sa.column("episode_id"),
        sa.column("referred_at", UTCDateTime()),
    )
    case = sa.table("case", sa.column("id"), sa.column("closed_at", UTCDateTime()))
    episode = sa.table(
        "caseepisode",
        sa.column("id"),
        sa.column("case_id"),
        sa.column("state"),
        sa.column("referred_at", UTCDateTime()),
        sa.column("threshold_level"),
        sa.column("threshold_decided_at", UTCDateTime()),
        sa.column("threshold_decided_by_id"),
        sa.column("closed_at", UTCDateTime()),
        sa.column("closure_outcome"),
        sa.column("closure_reason"),
        sa.column("created_at", UTCDateTime()),
    )
    decision = sa.table("decision", sa.column("meeting_id"), sa.column("topic"), sa.column("outcome"))
    enquiry = sa.table(
        "section47enquiry",
        sa.column("episode_id"),
        sa.column("case_id"),
        sa.column("started_by_meeting_id"),
        sa.column("started_on", sa.Date()),
        sa.column("icpc_due_on", sa.Date()),
        sa.column("icpc_state"),
        sa.column("icpc_not_required_reason"),
        sa.column("assessment_due_on", sa.Date()),
        sa.column("concerns_substantiated"),
        sa.column("outcome"),
        sa.column("updated_at", UTCDateTime()),
    )
    rows = connection.execute(
        sa.select(meeting, case.c.closed_at)
        .join(case, case.c.id == meeting.c.case_id)
        .where(meeting.c.meeting_type.in_(("strategy_discussion", "follow_up_strategy_discussion")))
        .order_by(meeting.c.case_id, meeting.c.id)
    ).all()
    starts = {
        row.meeting_id
        for row in connection.execute(
            sa.select(decision.c.meeting_id).where(
                decision.c.topic == "section_47", decision.c.outcome == "start"
            )
        )
    }
    episodes: dict[int, tuple[int, date]] = {}
    enquiries: set[int] = set()
    for row in rows:
        if row.case_id not in episodes:
            referred = row.created_at or datetime.now(UTC)
            closed = row.closed_at
            new_id = connection.execute(
                sa.insert(episode)
                .values(
                    case_id=row.case_id,
                    state="closed" if closed else "open",
                    referred_at=referred,
                    threshold_level=row.right_help_right_time_level or "",
                    threshold_decided_at=referred,
                    threshold_decided_by_id=row.convenor_id,
                    closed_at=closed,
                    closure_outcome="",
                    closure_reason="Closed before case timelines were kept." if closed else "",
                    created_at=referred,
                )
                .returning(episode.c.id)
            ).scalar_one()
            episodes[row.case_id] = (new_id, statutory.local_date(referred))
        episode_id, referred_on = episodes[row.case_id]
        connection.execute(
            sa.update(meeting)
            .where(meeting.c.id == row.id)
            .values(episode_id=episode_id, referred_at=row.created_at)
        )
        held = row.held_at or row.scheduled_start
        if row.id in starts and held is not None and episode_id not in enquiries:
            enquiries.add(episode_id)
            started_on = statutory.local_date(held)
            connection.execute(
                sa.insert(enquiry).values(
                    episode_id=episode_id,
                    case_id=row.case_id,
                    started_by_meeting_id=row.id,
                    started_on=started_on,
                    icpc_due_on=statutory.add_working_days(started_on, 15),
                    icpc_state="pending",
                    icpc_not_required_reason="",
                    assessment_due_on=statutory.add_working_days(referred_on, 45),
                    concerns_substantiated="",
                    outcome="",
                    updated_at=datetime.now(UTC),
                )
            )


def downgrade() -> None:
    # SQLite rebuilds `meeting` to drop a column with a foreign key: run it with foreign keys
    # off (e.g. on a copy of the database) where other tables hold rows that refer to it.
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.drop_constraint(MEETING_EPISODE_FK, type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_meeting_review_next_chase_at"))
        batch_op.drop_index(batch_op.f("ix_meeting_episode_id"))
        for column in (
            "review_resolution",
            "review_next_chase_at",
            "review_chase_step",
            "review_state",
            "review_on",
            "out_of_hours_reason",
            "out_of_hours",
            "episode_id",
            "ended_at",
            "referred_at",
        ):
            batch_op.drop_column(column)

    with op.batch_alter_table("section47enquiry", schema=None) as batch_op:
        batch_op.drop_index("ux_section47enquiry_one_open_per_episode")
        batch_op.drop_index("ix_section47enquiry_started_on")
        batch_op.drop_index(batch_op.f("ix_section47enquiry_episode_id"))
        batch_op.drop_index(batch_op.f("ix_section47enquiry_case_id"))
    op.drop_table("section47enquiry")
    with op.batch_alter_table("caseepisode", schema=None) as batch_op:
        batch_op.drop_index("ux_caseepisode_one_open_per_case")
        batch_op.drop_index(batch_op.f("ix_caseepisode_case_id"))
    op.drop_table("caseepisode")
