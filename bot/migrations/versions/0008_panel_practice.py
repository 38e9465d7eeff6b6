"""the panel's practice: step up and down, reviews when due, NRM, perpetrators, disruption,
intelligence with handling codes, missing episodes and return home interviews

Revision ID: 0008_panel_practice
Revises: 0007_timeliness_indexes
Create Date: 2026-12-01 03:34:53.322190
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

from bot.database import UTCDateTime

revision: str = "0008_panel_practice"
down_revision: str | None = "0007_timeliness_indexes"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

STEPPED_UP_FK = "fk_agendaitem_stepped_up_meeting_id_meeting"


def upgrade() -> None:
    op.create_table(
        "missingepisode",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("went_missing_at", UTCDateTime(), nullable=False),
        sa.Column("returned_at", UTCDateTime(), nullable=True),
        sa.Column("where_found", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("out_of_area", sa.Boolean(), nullable=False),
        sa.Column("reported_by_id", sa.Integer(), nullable=True),
        sa.Column("interview_state", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("interview_due_at", UTCDateTime(), nullable=True),
        sa.Column("interview_offered_at", UTCDateTime(), nullable=True),
        sa.Column("interview_by", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("interview_recorded_at", UTCDateTime(), nullable=True),
        sa.Column("next_chase_at", UTCDateTime(), nullable=True),
        sa.Column("chases", sa.Integer(), nullable=False),
        sa.Column("submission_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["case.id"],
        ),
        sa.ForeignKeyConstraint(
            ["reported_by_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("submission_key"),
    )
    with op.batch_alter_table("missingepisode", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_missingepisode_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_missingepisode_next_chase_at"), ["next_chase_at"], unique=False)

    op.create_table(
        "suspectedperpetrator",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("panel_code", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("description", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("police_reference", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("released_summary", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("released_by_id", sa.Integer(), nullable=True),
        sa.Column("released_at", UTCDateTime(), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("submission_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["released_by_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("submission_key"),
    )
    with op.batch_alter_table("suspectedperpetrator", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_suspectedperpetrator_panel_code"), ["panel_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_suspectedperpetrator_reference"), ["reference"], unique=True)

    op.create_table(
        "perpetratorlink",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("perpetrator_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["case.id"],
        ),
        sa.ForeignKeyConstraint(
            ["perpetrator_id"],
            ["suspectedperpetrator.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("perpetrator_id", "case_id"),
    )
    with op.batch_alter_table("perpetratorlink", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_perpetratorlink_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_perpetratorlink_perpetrator_id"), ["perpetrator_id"], unique=False
        )

    op.create_table(
        "intelligence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("meeting_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("text", sqlmodel.sql.sqltypes.AutoString(length=3000), nullable=False),
        sa.Column("handling_code", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("submission_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["case.id"],
        ),
        sa.ForeignKeyConstraint(
            ["meeting_id"],
            ["meeting.id"],
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["person.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("submission_key"),
    )
    with op.batch_alter_table("intelligence", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_intelligence_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_intelligence_meeting_id"), ["meeting_id"], unique=False)

    op.create_table(
        "nrmreferral",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("panel_code", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("referred_on", sa.Date(), nullable=False),
        sa.Column("nrm_reference", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("first_responder_agency", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("first_responder_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("reasonable_grounds", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("reasonable_grounds_on", sa.Date(), nullable=True),
        sa.Column("conclusive_grounds", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("conclusive_grounds_on", sa.Date(), nullable=True),
        sa.Column("strategy_meeting_id", sa.Integer(), nullable=True),
        sa.Column("chased", sa.JSON(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("submission_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["case.id"],
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["person.id"],
        ),
        sa.ForeignKeyConstraint(
            ["strategy_meeting_id"],
            ["meeting.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("submission_key"),
    )
    with op.batch_alter_table("nrmreferral", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_nrmreferral_case_id"), ["case_id"], unique=False)

    op.create_table(
        "disruption",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("perpetrator_id", sa.Integer(), nullable=True),
        sa.Column("tactic", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("outcome", sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["action_id"],
            ["action.id"],
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["case.id"],
        ),
        sa.ForeignKeyConstraint(
            ["perpetrator_id"],
            ["suspectedperpetrator.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("action_id"),
    )
    with op.batch_alter_table("disruption", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_disruption_case_id"), ["case_id"], unique=False)

    with op.batch_alter_table("agendaitem", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reasons", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("stepped_up_meeting_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(STEPPED_UP_FK, "meeting", ["stepped_up_meeting_id"], ["id"])

    with op.batch_alter_table("panelsitting", schema=None) as batch_op:
        batch_op.add_column(sa.Column("not_for_discussion", sa.JSON(), nullable=False, server_default="[]"))
        batch_op.add_column(sa.Column("referrals_chased_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("panelsitting", schema=None) as batch_op:
        batch_op.drop_column("referrals_chased_at")
        batch_op.drop_column("not_for_discussion")

    with op.batch_alter_table("agendaitem", schema=None) as batch_op:
        batch_op.drop_constraint(STEPPED_UP_FK, type_="foreignkey")
        batch_op.drop_column("stepped_up_meeting_id")
        batch_op.drop_column("reasons")

    with op.batch_alter_table("disruption", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_disruption_case_id"))

    op.drop_table("disruption")
    with op.batch_alter_table("nrmreferral", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_nrmreferral_case_id"))

    op.drop_table("nrmreferral")
    with op.batch_alter_table("intelligence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_intelligence_meeting_id"))
        batch_op.drop_index(batch_op.f("ix_intelligence_case_id"))

    op.drop_table("intelligence")
    with op.batch_alter_table("perpetratorlink", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_perpetratorlink_perpetrator_id"))
        batch_op.drop_index(batch_op.f("ix_perpetratorlink_case_id"))

    op.drop_table("perpetratorlink")
    with op.batch_alter_table("suspectedperpetrator", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_suspectedperpetrator_reference"))
        batch_op.drop_index(batch_op.f("ix_suspectedperpetrator_panel_code"))

    op.drop_table("suspectedperpetrator")
    with op.batch_alter_table("missingepisode", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_missingepisode_next_chase_at"))
        batch_op.drop_index(batch_op.f("ix_missingepisode_case_id"))

    op.drop_table("missingepisode")
