"""agency updates by agenda item: the Home tab's network lines at a partnership's size

Revision ID: 0015_home_admin_index
Revises: 0014_stepup_links
Create Date: 2026-12-02 02:30:00

`network_links` (bot/panel/service.py, shown on every panel member's Home tab) reads the
submitted updates of the cases under review by joining agency updates to agenda items.
Without an index on `agencyupdate.agenda_item_id` PostgreSQL scanned every agency update
(210,000 at a partnership's full size: 45-75 ms, up to 325 ms under load) on each
publish of the Home tab; with it the panel's updates are an index lookup (under 1 ms).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0015_home_admin_index"
down_revision: str | None = "0014_stepup_links"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_agencyupdate_agenda_item_id", "agencyupdate", ["agenda_item_id"])


def downgrade() -> None:
    op.drop_index("ix_agencyupdate_agenda_item_id", table_name="agencyupdate")
