"""scale indexes: what the lists, pages and sweeps of a large partnership read by

Revision ID: 0005_scale_indexes
Revises: 0004_periodic_jobs
Create Date: 2026-12-01 03:40:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005_scale_indexes"
down_revision: str | None = "0004_periodic_jobs"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

# name, table, columns: each serves one list or sweep that grows with the years.
INDEXES = (
    # `/actions overdue` for an agency lead, and the daily digest: an agency's open actions by due date.
    ("ix_action_agency_open_due", "action", ["agency_id", "status", "due_on"]),
    # `/actions`: one person's open actions by due date.
    ("ix_action_owner_open_due", "action", ["owner_id", "status", "due_on"]),
    # `/strategy list` and the Home tab: the discussions a person convenes or chairs, by state.
    ("ix_meeting_convenor_state", "meeting", ["convenor_id", "state"]),
    ("ix_meeting_chair_state", "meeting", ["chair_id", "state"]),
    # The panel administrator's records, newest first, a page at a time.
    ("ix_meeting_scheduled_start", "meeting", ["scheduled_start"]),
    # Retention's look-up of uploaded files: the sent uploads only, not the whole outbox.
    ("ix_outbox_method_state", "outboxmessage", ["method", "state"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
