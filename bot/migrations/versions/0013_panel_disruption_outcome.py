"""a disruption action's own outcome: its result, and when and by whom it was recorded

Revision ID: 0013_panel_disruption_outcome
Revises: 0011_documents_fingerprints
Create Date: 2026-12-01 08:30:00

Existing disruptions have no result yet ('' means awaited); their free-text `outcome`
column (unused until now) keeps what happened.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from bot.database import UTCDateTime

revision = "0013_panel_disruption_outcome"
down_revision: str | None = "0012_partners_tries"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

RECORDED_BY_FK = "fk_disruption_outcome_recorded_by_id_person"


def upgrade() -> None:
    with op.batch_alter_table("disruption", schema=None) as batch_op:
        batch_op.add_column(sa.Column("result", sa.String(length=30), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("outcome_recorded_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("outcome_recorded_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(RECORDED_BY_FK, "person", ["outcome_recorded_by_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("disruption", schema=None) as batch_op:
        batch_op.drop_constraint(RECORDED_BY_FK, type_="foreignkey")
        batch_op.drop_column("outcome_recorded_by_id")
        batch_op.drop_column("outcome_recorded_at")
        batch_op.drop_column("result")
