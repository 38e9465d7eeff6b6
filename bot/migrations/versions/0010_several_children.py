"""several children, or a context, in one discussion; households; decisions per child

Revision ID: 0010_several_children
Revises: 0009_partner_links
Create Date: 2026-12-01 03:45:00

Every existing strategy discussion's child becomes its first discussion child (position
0, on the discussion's episode), in one INSERT ... SELECT so the database does the work
however many discussions there are. Existing decisions stay the discussion's own (no case).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.database import UTCDateTime

revision: str = "0010_several_children"
down_revision: str | None = "0009_partner_links"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

CASE_HOUSEHOLD_FK = "fk_case_household_id_household"
MEETING_CONTEXT_FK = "fk_meeting_context_case_id_case"
DECISION_CASE_FK = "fk_decision_case_id_case"
OLD_DECISION_UNIQUE = "decision_meeting_id_topic_key"


def upgrade() -> None:
    op.create_table(
        "household",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "discussionchild",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("episode_id", sa.Integer(), nullable=True),
        sa.Column("through_context_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"]),
        sa.ForeignKeyConstraint(["episode_id"], ["caseepisode.id"]),
        sa.ForeignKeyConstraint(["meeting_id"], ["meeting.id"]),
        sa.ForeignKeyConstraint(["through_context_id"], ["case.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("meeting_id", "case_id", name="uq_discussionchild_case"),
        sa.UniqueConstraint("meeting_id", "position", name="uq_discussionchild_position"),
    )
    op.create_index(op.f("ix_discussionchild_meeting_id"), "discussionchild", ["meeting_id"], unique=False)
    op.create_index(op.f("ix_discussionchild_case_id"), "discussionchild", ["case_id"], unique=False)

    sqlite = op.get_bind().dialect.name == "sqlite"
    if sqlite:
        # SQLite takes a reference in ADD COLUMN, though not as a separate constraint.
        op.execute('ALTER TABLE "case" ADD COLUMN household_id INTEGER REFERENCES household (id)')
        op.execute('ALTER TABLE meeting ADD COLUMN context_case_id INTEGER REFERENCES "case" (id)')
    else:
        op.add_column(
            "case",
            sa.Column(
                "household_id",
                sa.Integer(),
                sa.ForeignKey("household.id", name=CASE_HOUSEHOLD_FK),
                nullable=True,
            ),
        )
        op.add_column(
            "meeting",
            sa.Column(
                "context_case_id",
                sa.Integer(),
                sa.ForeignKey("case.id", name=MEETING_CONTEXT_FK),
                nullable=True,
            ),
        )
    op.create_index(op.f("ix_case_household_id"), "case", ["household_id"], unique=False)

    # 0001 left one-decision-per-topic unnamed: PostgreSQL calls it decision_meeting_id_topic_key;
    # on SQLite a naming convention names it so that batch mode (which rebuilds the table)
    # can leave it out.
    with op.batch_alter_table(
        "decision",
        schema=None,
        naming_convention={"uq": "%(table_name)s_%(column_0_name)s_%(column_1_name)s_key"},
    ) as batch_op:
        batch_op.add_column(sa.Column("case_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(DECISION_CASE_FK, "case", ["case_id"], ["id"])
        batch_op.drop_constraint(OLD_DECISION_UNIQUE, type_="unique")
    op.create_index(
        "ux_decision_discussion_topic",
        "decision",
        ["meeting_id", "topic"],
        unique=True,
        sqlite_where=sa.text("case_id IS NULL"),
        postgresql_where=sa.text("case_id IS NULL"),
    )
    op.create_index(
        "ux_decision_child_topic",
        "decision",
        ["meeting_id", "case_id", "topic"],
        unique=True,
        sqlite_where=sa.text("case_id IS NOT NULL"),
        postgresql_where=sa.text("case_id IS NOT NULL"),
    )

    # The child of every existing discussion (not a panel sitting) becomes its first child.
    op.execute(
        """
        INSERT INTO discussionchild (meeting_id, case_id, position, episode_id, created_at)
        SELECT m.id, m.case_id, 0, m.episode_id, m.created_at
        FROM meeting m JOIN "case" c ON c.id = m.case_id
        WHERE c.subject_kind = 'child'
          AND NOT EXISTS (SELECT 1 FROM panelsitting p WHERE p.meeting_id = m.id)
        """
    )


def downgrade() -> None:
    op.drop_index("ux_decision_child_topic", table_name="decision")
    op.drop_index("ux_decision_discussion_topic", table_name="decision")
    op.execute("DELETE FROM decision WHERE case_id IS NOT NULL")
    with op.batch_alter_table("decision", schema=None) as batch_op:
        batch_op.drop_constraint(DECISION_CASE_FK, type_="foreignkey")
        batch_op.drop_column("case_id")
        batch_op.create_unique_constraint(OLD_DECISION_UNIQUE, ["meeting_id", "topic"])
    op.drop_index(op.f("ix_case_household_id"), table_name="case")
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_column("household_id")
    with op.batch_alter_table("meeting", schema=None) as batch_op:
        batch_op.drop_column("context_case_id")
    op.drop_index(op.f("ix_discussionchild_case_id"), table_name="discussionchild")
    op.drop_index(op.f("ix_discussionchild_meeting_id"), table_name="discussionchild")
    op.drop_table("discussionchild")
    op.drop_table("household")
