"""the outbox's panel messages by the child's case: erasure by an index, not a key pattern

Revision ID: 0016_outbox_erasure_index
Revises: 0015_home_admin_index
Create Date: 2026-12-02 11:00:00

Erasing a child's case (bot/retention) deleted the bot's panel messages about it (referral
decisions, NRM and return home interview chases, step-up offers and requests) with one
`key LIKE 'prefix:<id>:%'` per record, OR-ed 200 at a time: a scan of the whole outbox
for each batch. The messages now carry `case_id` (indexed), set when they are enqueued,
and erasure deletes `WHERE case_id = :case`. This fills it for the messages already there,
reading the record each key names.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_outbox_erasure_index"
down_revision: str | None = "0015_home_admin_index"
branch_labels: Sequence[str] | None = None
depends_on: Sequence[str] | None = None

OUTBOX_CASE_FK = "fk_outboxmessage_case_id_case"

# The key's prefix, and the query giving (record id, case id) for the id that follows it.
NAMED_BY = {
    "referral-decision": "SELECT id, case_id FROM referral",
    "referral-decided": "SELECT id, case_id FROM referral",
    "nrm-chase": "SELECT id, case_id FROM nrmreferral",
    "return-interview": "SELECT id, case_id FROM missingepisode",
    "conference-booking": "SELECT id, case_id FROM conferencelink",
    "step-up-offer": "SELECT agendaitem.id, panelcase.case_id FROM agendaitem"
    " JOIN panelcase ON panelcase.id = agendaitem.panel_case_id",
    "operation-request": "SELECT agendaitem.id, panelcase.case_id FROM agendaitem"
    " JOIN panelcase ON panelcase.id = agendaitem.panel_case_id",
}


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite takes a reference in ADD COLUMN, though not as a separate constraint.
        op.execute('ALTER TABLE outboxmessage ADD COLUMN case_id INTEGER REFERENCES "case" (id)')
    else:
        op.add_column(
            "outboxmessage",
            sa.Column("case_id", sa.Integer(), sa.ForeignKey("case.id", name=OUTBOX_CASE_FK), nullable=True),
        )
    op.create_index("ix_outboxmessage_case_id", "outboxmessage", ["case_id"])
    _fill()


def _fill() -> None:
    """The messages already in the outbox: the case of the record each key names (one pass
    over them, once)."""
    bind = op.get_bind()
    cases: dict[str, dict[int, int]] = {}
    for query in dict.fromkeys(NAMED_BY.values()):
        cases[query] = {row_id: case_id for row_id, case_id in bind.execute(sa.text(query))}
    where = " OR ".join(f"key LIKE '{prefix}:%'" for prefix in NAMED_BY)
    updates = []
    for message_id, key in bind.execute(sa.text(f"SELECT id, key FROM outboxmessage WHERE {where}")):
        prefix, _, rest = key.partition(":")
        named = rest.split(":", 1)[0]
        if prefix in NAMED_BY and named.isdigit():
            case_id = cases[NAMED_BY[prefix]].get(int(named))
            if case_id is not None:
                updates.append({"id": message_id, "case_id": case_id})
    if updates:
        bind.execute(sa.text("UPDATE outboxmessage SET case_id = :case_id WHERE id = :id"), updates)


def downgrade() -> None:
    # SQLite rebuilds `outboxmessage` to drop a column with a foreign key.
    op.drop_index("ix_outboxmessage_case_id", table_name="outboxmessage")
    with op.batch_alter_table("outboxmessage", schema=None) as batch_op:
        if op.get_bind().dialect.name != "sqlite":
            batch_op.drop_constraint(OUTBOX_CASE_FK, type_="foreignkey")
        batch_op.drop_column("case_id")
