"""What the retention policy (`schedules/retention.yaml`) removes, and removing it.

Draft and superseded minutes go some days after the final version is approved; a closed
case's whole record goes some years after closure; the audit trail is pruned after its own
period. What Slack holds goes too: the files uploaded from those documents, the messages
the bot posted about the case, and its channel (archived). Every removal is audited, and a
pruned audit trail keeps an attested anchor so the rest of the chain still verifies.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, func, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from bot.actions.models import Action, ActionEvent, Chase
from bot.agency_updates.models import AgencyUpdate, AgencyUpdateVersion
from bot.audit.models import AuditEntry
from bot.audit.service import SYSTEM, record
from bot.cases.models import Case, CaseEpisode, Section47Enquiry
from bot.children.models import DiscussionChild
from bot.children.service import erase_child_part
from bot.convening.models import Attendance, Invitation, InvitationMessage, Meeting
from bot.database import session_scope, stream_scope
from bot.delivery.models import OutboxMessage, OutboxState
from bot.delivery.service import enqueue, enqueue_many
from bot.minutes.models import Decision, Document
from bot.panel.models import AgendaItem, ConferenceLink, NetworkLink, PanelCase, PoliceOperation, Referral
from bot.partners.links import forget as forget_partner_links
from bot.schedules import Partnership


@dataclass(frozen=True)
class DraftToGo:
    """A draft or superseded document due to go: what the audit entry names, not its content."""

    id: int
    filename: str
    version: int
    sha256: str


@dataclass
class RetentionPlan:
    """What is due to go now."""

    drafts: list[DraftToGo] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)
    audit_through: int | None = None  # prune audit entries up to this sequence
    audit_count: int = 0

    def lines(self) -> list[str]:
        """The plan in words, without any child's details."""
        out = [f"draft minutes {d.filename} (version {d.version})" for d in self.drafts]
        out += [
            f"case {c.reference} (closed {c.closed_at:%d %b %Y}) and all its records"
            for c in self.cases
            if c.closed_at
        ]
        if self.audit_through:
            out.append(f"{self.audit_count} audit entries up to number {self.audit_through}")
        return out


def plan(session: Session, partnership: Partnership, now: datetime) -> RetentionPlan:
    """What the policy says should go now: three queries, whatever the size of the record
    (drafts matched to their approved successor in the database, not one query per draft)."""
    policy = partnership.retention
    result = RetentionPlan()
    draft_cutoff = now - timedelta(days=policy.drafts_deleted_days_after_approval)
    approved = aliased(Document)
    successor = (
        select(col(approved.id))
        .where(
            col(approved.meeting_id) == col(Document.meeting_id),
            col(approved.kind) == col(Document.kind),
            col(approved.state) == "approved",
            col(approved.version) > col(Document.version),
            col(approved.approved_at) <= draft_cutoff,
        )
        .exists()
    )
    # Only minutes (strategy or panel) go through drafts; issued documents are kept.
    drafts = select(
        col(Document.id), col(Document.filename), col(Document.version), col(Document.sha256)
    ).where(
        col(Document.state).in_(("draft", "superseded")),
        successor,
    )
    result.drafts = [
        DraftToGo(id or 0, filename, version, sha256)
        for id, filename, version, sha256 in session.exec(drafts.order_by(col(Document.id)))
    ]
    case_cutoff = now - timedelta(days=round(365.25 * policy.case_records_years_after_closure))
    result.cases = list(
        session.exec(select(Case).where(col(Case.closed_at).is_not(None), col(Case.closed_at) <= case_cutoff))
    )
    audit_cutoff = now - timedelta(days=round(365.25 * policy.audit_log_years))
    through, count = session.exec(
        select(func.max(col(AuditEntry.sequence)), func.count()).where(col(AuditEntry.at) < audit_cutoff)
    ).one()
    if through:
        result.audit_through, result.audit_count = through, count
    return result


def uploaded_files(session: Session) -> dict[int, list[str]]:
    """Slack's file ids for each document uploaded, read once (one pass over the sent
    uploads) so that matching a document to its files is a look-up, not a scan."""
    files: dict[int, list[str]] = {}
    query = select(OutboxMessage.arguments, OutboxMessage.result).where(
        OutboxMessage.method == "document.upload", OutboxMessage.state == OutboxState.SENT
    )
    for arguments, result in session.execute(query.execution_options(yield_per=5000)):
        document_id, file_id = arguments.get("document_id"), ((result or {}).get("file") or {}).get("id")
        if isinstance(document_id, int) and file_id:
            files.setdefault(document_id, []).append(file_id)
    return files


def _delete_slack_files(
    session: Session, document_ids: list[int], now: datetime, files: dict[int, list[str]] | None = None
) -> None:
    """The files uploaded from these documents, wherever they were shared."""
    files = uploaded_files(session) if files is None else files
    calls = [
        (f"retention:file:{file_id}", "files.delete", {"file": file_id})
        for document_id in document_ids
        for file_id in files.get(document_id, ())
    ]
    enqueue_many(session, calls, now=now)


def _erase_panel_rows(session: Session, case: Case) -> None:
    """The panel's rows about this child or context: referrals, its place under review, its
    agenda items with the agencies' pre-panel updates on them, and its links. The sitting's
    own minutes cover several children and are kept with the panel's records."""
    panel_cases = [p.id for p in session.exec(select(PanelCase).where(col(PanelCase.case_id) == case.id))]
    items = [
        i.id for i in session.exec(select(AgendaItem).where(col(AgendaItem.panel_case_id).in_(panel_cases)))
    ]
    updates = [
        u.id for u in session.exec(select(AgencyUpdate).where(col(AgencyUpdate.agenda_item_id).in_(items)))
    ]
    session.exec(delete(AgencyUpdateVersion).where(col(AgencyUpdateVersion.update_id).in_(updates)))
    session.exec(delete(AgencyUpdate).where(col(AgencyUpdate.id).in_(updates)))
    session.exec(delete(Referral).where(col(Referral.case_id) == case.id))
    session.exec(delete(ConferenceLink).where(col(ConferenceLink.case_id) == case.id))
    session.exec(delete(PoliceOperation).where(col(PoliceOperation.case_id) == case.id))
    session.exec(delete(AgendaItem).where(col(AgendaItem.id).in_(items)))
    session.exec(delete(NetworkLink).where(col(NetworkLink.case_id) == case.id))
    session.exec(
        update(NetworkLink).where(col(NetworkLink.linked_case_id) == case.id).values(linked_case_id=None)
    )
    session.exec(delete(PanelCase).where(col(PanelCase.case_id) == case.id))


def _erase_case(session: Session, case: Case, now: datetime, files: dict[int, list[str]]) -> None:
    _erase_panel_rows(session, case)
    # A discussion of several children loses this child's part and is kept for the others.
    erase_child_part(session, case)
    meetings = session.exec(select(Meeting).where(Meeting.case_id == case.id)).all()
    documents = session.exec(select(Document.id).where(Document.case_id == case.id)).all()
    _delete_slack_files(session, [d for d in documents if d], now, files)
    for meeting in meetings:
        if meeting.channel_id and meeting.status_message_ts:
            enqueue(
                session,
                key=f"retention:msg:{meeting.channel_id}:{meeting.status_message_ts}",
                method="chat.delete",
                arguments={"channel": meeting.channel_id, "ts": meeting.status_message_ts},
                now=now,
            )
        if meeting.channel_id:
            enqueue(
                session,
                key=f"retention:archive:{meeting.channel_id}",
                method="conversations.archive",
                arguments={"channel": meeting.channel_id},
                now=now,
            )
        invitations = session.exec(select(Invitation).where(col(Invitation.meeting_id) == meeting.id)).all()
        invitation_ids = [i.id for i in invitations]
        for row in session.exec(
            select(InvitationMessage).where(col(InvitationMessage.invitation_id).in_(invitation_ids))
        ):
            if row.channel and row.ts:
                enqueue(
                    session,
                    key=f"retention:msg:{row.channel}:{row.ts}",
                    method="chat.delete",
                    arguments={"channel": row.channel, "ts": row.ts},
                    now=now,
                )
        actions = [a.id for a in session.exec(select(Action).where(col(Action.meeting_id) == meeting.id))]
        updates = [
            u.id for u in session.exec(select(AgencyUpdate).where(col(AgencyUpdate.meeting_id) == meeting.id))
        ]
        forget_partner_links(
            session,
            invitation_ids=[i for i in invitation_ids if i is not None],
            action_ids=[i for i in actions if i is not None],
        )
        session.exec(delete(Chase).where(col(Chase.action_id).in_(actions)))
        session.exec(delete(Chase).where(col(Chase.invitation_id).in_(invitation_ids)))
        session.exec(delete(ActionEvent).where(col(ActionEvent.action_id).in_(actions)))
        session.exec(delete(Action).where(col(Action.meeting_id) == meeting.id))
        session.exec(delete(AgencyUpdateVersion).where(col(AgencyUpdateVersion.update_id).in_(updates)))
        session.exec(delete(AgencyUpdate).where(col(AgencyUpdate.meeting_id) == meeting.id))
        session.exec(delete(Decision).where(col(Decision.meeting_id) == meeting.id))
        session.exec(delete(DiscussionChild).where(col(DiscussionChild.meeting_id) == meeting.id))
        session.exec(delete(Attendance).where(col(Attendance.meeting_id) == meeting.id))
        session.exec(
            delete(InvitationMessage).where(col(InvitationMessage.invitation_id).in_(invitation_ids))
        )
        session.exec(delete(Invitation).where(col(Invitation.meeting_id) == meeting.id))
    session.exec(delete(Document).where(col(Document.case_id) == case.id))
    # The case's timeline: its enquiries refer to discussions, and discussions to episodes.
    session.exec(delete(Section47Enquiry).where(col(Section47Enquiry.case_id) == case.id))
    for meeting in meetings:
        session.exec(delete(Meeting).where(col(Meeting.follows_meeting_id) == meeting.id))
    session.exec(delete(Action).where(col(Action.case_id) == case.id))
    session.exec(delete(Meeting).where(col(Meeting.case_id) == case.id))
    session.exec(delete(CaseEpisode).where(col(CaseEpisode.case_id) == case.id))
    session.delete(case)


def _remove_drafts(
    session: Session, drafts: list[DraftToGo], now: datetime, files: dict[int, list[str]]
) -> None:
    _delete_slack_files(session, [d.id for d in drafts], now, files)
    # One entry for the batch, naming each document removed with its hash: a backlog of
    # thousands is audited in as many entries as batches, not three statements a draft.
    record(
        session,
        at=now,
        actor=SYSTEM,
        act="retention.draft_deleted",
        record_type="document",
        record_id=f"{len(drafts)} document(s)",
        details={
            "documents": [
                {"id": d.id, "filename": d.filename, "version": d.version, "sha256": d.sha256} for d in drafts
            ]
        },
    )
    session.exec(delete(Document).where(col(Document.id).in_([d.id for d in drafts])))


def _erase(session: Session, case: Case, now: datetime, files: dict[int, list[str]]) -> None:
    record(
        session,
        at=now,
        actor=SYSTEM,
        act="retention.case_erased",
        record_type="case",
        record_id=case.reference,
        case_reference=case.reference,
    )
    _erase_case(session, case, now, files)


def _prune_audit(session: Session, result: RetentionPlan, now: datetime) -> None:
    through = result.audit_through or 0
    last = session.exec(select(AuditEntry).where(col(AuditEntry.sequence) == through)).one()
    anchor = last.entry_hash
    session.exec(delete(AuditEntry).where(col(AuditEntry.sequence) <= through))
    record(
        session,
        at=now,
        actor=SYSTEM,
        act="audit.pruned",
        record_type="audit",
        details={
            "through_sequence": result.audit_through,
            "last_hash": anchor,
            "count": result.audit_count,
        },
    )


def apply(session: Session, result: RetentionPlan, now: datetime) -> list[str]:
    """Remove what the plan lists, in the caller's transaction; returns what was removed."""
    removed = result.lines()
    files = uploaded_files(session)
    if result.drafts:
        _remove_drafts(session, result.drafts, now, files)
    for case in result.cases:
        _erase(session, case, now, files)
    if result.audit_through:
        _prune_audit(session, result, now)
    session.flush()
    return removed


# Drafts removed per transaction: each batch commits, so a stopped run keeps what it did and
# the next run (which plans again) carries on from there.
DRAFTS_PER_BATCH = 500


def apply_in_batches(
    engine: Engine, result: RetentionPlan, now: datetime, *, batch: int = DRAFTS_PER_BATCH
) -> Iterator[str]:
    """Remove what the plan lists, committing as it goes: drafts a batch per transaction,
    each case in its own, then the audit trail's prune. Yields each line once committed."""
    with stream_scope(engine) as session:
        files = uploaded_files(session)
    for start in range(0, len(result.drafts), batch):
        drafts = result.drafts[start : start + batch]
        with session_scope(engine) as session:
            _remove_drafts(session, drafts, now, files)
        yield from RetentionPlan(drafts=drafts).lines()
    for case in result.cases:
        with session_scope(engine) as session:
            _erase(session, session.get(Case, case.id) or case, now, files)
        yield from RetentionPlan(cases=[case]).lines()
    if result.audit_through:
        with session_scope(engine) as session:
            _prune_audit(session, result, now)
        yield from RetentionPlan(audit_through=result.audit_through, audit_count=result.audit_count).lines()
