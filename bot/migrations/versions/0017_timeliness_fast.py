"""documents' content compressed with LZ4 on PostgreSQL, not pglz

Revision ID: 0017_timeliness_fast
Revises: 0016_outbox_erasure_index
Create Date: 2026-12-02 14:50:00

A timeliness report's rows (a large partnership's month: 1.25 MB of CSV) are stored with
every download; PostgreSQL's default pglz took 17-47 ms to compress them on the way in,
LZ4 5-10 ms (the stored value a third larger: 192 KB against 141 KB). Word documents are
zip files already and are stored as they are either way. Only values written from now on
are compressed with LZ4; those already stored stay as they are, readable as before. A
server built without LZ4 (it has been optional since PostgreSQL 14) keeps pglz.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017_timeliness_fast"
down_revision: str | None = "0016_outbox_erasure_index"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def _lz4_available() -> bool:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    methods: list[str] = (
        bind.execute(
            sa.text("SELECT enumvals FROM pg_settings WHERE name = 'default_toast_compression'")
        ).scalar()
        or []
    )
    return "lz4" in methods


def upgrade() -> None:
    if _lz4_available():
        op.execute("ALTER TABLE document ALTER COLUMN content SET COMPRESSION lz4")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE document ALTER COLUMN content SET COMPRESSION default")
