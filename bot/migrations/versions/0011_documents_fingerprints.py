"""each document version keeps a fingerprint of every part it showed

Revision ID: 0011_documents_fingerprints
Revises: 0010_several_children
Create Date: 2026-12-01 08:30:00

A new version says which parts changed since the one before by comparing these
fingerprints (SHA-256 of each part's content, never the content itself). Versions written
before this revision have none, and the next version says so.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_documents_fingerprints"
down_revision: str | None = "0010_several_children"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("document") as batch:
        batch.add_column(sa.Column("sections", sa.JSON(), nullable=False, server_default="{}"))


def downgrade() -> None:
    with op.batch_alter_table("document") as batch:
        batch.drop_column("sections")
