"""partner tries: the pages' rate limits, shared by every process through the database

Revision ID: 0012_partners_tries
Revises: 0011_documents_fingerprints
Create Date: 2026-12-01 08:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0012_partners_tries"
down_revision: str | None = "0011_documents_fingerprints"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "partnertry",
        sa.Column("key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("tries", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", "slot"),
    )
    with op.batch_alter_table("partnertry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_partnertry_slot"), ["slot"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("partnertry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_partnertry_slot"))
    op.drop_table("partnertry")
