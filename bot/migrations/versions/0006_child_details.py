"""child details: what a local authority's record holds about the child, for the minutes

Revision ID: 0006_child_details
Revises: 0005_scale_indexes
Create Date: 2026-12-01 04:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0006_child_details"
down_revision: str | None = "0005_scale_indexes"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

COLUMNS = (
    ("sex", 20),
    ("ethnicity", 100),
    ("disability", 500),
    ("first_language", 100),
    ("interpreter_needed", 10),
    ("nhs_number", 12),
    ("legal_status", 30),
    ("parents_and_carers", 2000),
)


def upgrade() -> None:
    # Added in place (ALTER TABLE ... ADD COLUMN), never by rebuilding `case`, which every
    # meeting, action and document refers to.
    for name, length in COLUMNS:
        op.add_column(
            "case",
            sa.Column(
                name, sqlmodel.sql.sqltypes.AutoString(length=length), nullable=False, server_default=""
            ),
        )


def downgrade() -> None:
    with op.batch_alter_table("case", schema=None) as batch_op:
        for name, _ in reversed(COLUMNS):
            batch_op.drop_column(name)
