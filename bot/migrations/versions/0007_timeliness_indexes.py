"""timeliness indexes: the monthly measures at five years' scale

Revision ID: 0007_timeliness_indexes
Revises: 0006_child_details
Create Date: 2026-12-01 04:10:00

Two indexes the timeliness report (bot/timeliness/measures.py) reads through: actions by
status and due date, covering every column the report counts (so the actions due in a
period and those overdue now are index range scans, never a scan of every action), and
meetings by the moment they were held (so a period's discussions are found directly and
their invitations, attendance and updates joined from there).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007_timeliness_indexes"
down_revision: str | None = "0006_child_details"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

ACTION_COLUMNS = ["status", "due_on", "agency_id", "priority", "escalation_level", "completed_at"]


def upgrade() -> None:
    op.create_index("ix_action_status_due", "action", ACTION_COLUMNS)
    op.create_index("ix_meeting_held_at", "meeting", ["held_at"])


def downgrade() -> None:
    op.drop_index("ix_meeting_held_at", table_name="meeting")
    op.drop_index("ix_action_status_due", table_name="action")
