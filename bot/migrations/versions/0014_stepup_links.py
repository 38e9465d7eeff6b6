"""a step up's links: the child protection conference it books and the police operation
it records

Revision ID: 0014_stepup_links
Revises: 0013_panel_disruption_outcome
Create Date: 2026-12-02 01:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.database import UTCDateTime

revision = "0014_stepup_links"
down_revision: str | None = "0013_panel_disruption_outcome"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "conferencelink",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agenda_item_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("enquiry_id", sa.Integer(), nullable=True),
        sa.Column("action_id", sa.Integer(), nullable=True),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("booked_for", sa.Date(), nullable=True),
        sa.Column("booked_by_id", sa.Integer(), nullable=True),
        sa.Column("booked_at", UTCDateTime(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["action_id"], ["action.id"]),
        sa.ForeignKeyConstraint(["agenda_item_id"], ["agendaitem.id"]),
        sa.ForeignKeyConstraint(["booked_by_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"]),
        sa.ForeignKeyConstraint(["enquiry_id"], ["section47enquiry.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("action_id"),
        sa.UniqueConstraint("agenda_item_id"),
    )
    with op.batch_alter_table("conferencelink", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_conferencelink_case_id"), ["case_id"], unique=False)

    op.create_table(
        "policeoperation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=40), nullable=False),
        sa.Column("panel_code", sa.String(length=60), nullable=False),
        sa.Column("agenda_item_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("police_reference", sa.String(length=60), nullable=False),
        sa.Column("lead_officer_id", sa.Integer(), nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("released_summary", sa.String(length=1000), nullable=False),
        sa.Column("released_by_id", sa.Integer(), nullable=True),
        sa.Column("released_at", UTCDateTime(), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["agenda_item_id"], ["agendaitem.id"]),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"]),
        sa.ForeignKeyConstraint(["lead_officer_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["released_by_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("agenda_item_id"),
    )
    with op.batch_alter_table("policeoperation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_policeoperation_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_policeoperation_reference"), ["reference"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("policeoperation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_policeoperation_reference"))
        batch_op.drop_index(batch_op.f("ix_policeoperation_case_id"))
    op.drop_table("policeoperation")
    with op.batch_alter_table("conferencelink", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conferencelink_case_id"))
    op.drop_table("conferencelink")
