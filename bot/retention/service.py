"""What the retention policy (`schedules/retention.yaml`) removes, and removing it.

Draft and superseded minutes go some days after the final version is approved; a closed
case's whole record goes some years after closure; the audit trail is pruned after its own
period. What Slack holds goes too: the files uploaded from those documents, the messages
the bot posted about the case, and its channel (archived). Every removal is audited, and a
pruned audit trail keeps an attested anchor so the rest of the chain still verifies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from bot.actions.models import Action, ActionEvent, Chase
from bot.agency_updates.models import AgencyUpdate, AgencyUpdateVersion
from bot.audit.models import AuditEntry
from bot.audit.service import SYSTEM, record
from bot.cases.models import Case, CaseEpisode, Section47Enquiry
from bot.convening.models import Attendance, Invitation, InvitationMessage, Meeting
from bot.delivery.models import OutboxMessage, OutboxState
from bot.delivery.service import enqueue
from bot.minutes.models import Decision, Document
from bot.panel.models import AgendaItem, NetworkLink, PanelCase, Referral
from bot.partners.links import forget as forget_partner_links
from bot.schedules import Partnership


@dataclass
class RetentionPlan:
    """What is due to go now."""

    drafts: list[Document] = field(default_factory=list)
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
    policy = partnership.retention
    result = RetentionPlan()
    draft_cutoff = now - timedelta(days=policy.drafts_deleted_days_after_approval)
    for draft in session.exec(
        # Only minutes (strategy or panel) go through drafts; issued documents are kept.
        select(Document).where(col(Document.state).in_(("draft", "superseded")))
    ):
        approved = session.exec(
            select(Document).where(
                col(Document.meeting_id) == draft.meeting_id,
                col(Document.kind) == draft.kind,
                col(Document.state) == "approved",
                col(Document.version) > draft.version,
                col(Document.approved_at) <= draft_cutoff,
            )
        ).first()
        if approved is not None:
            result.drafts.append(draft)
    case_cutoff = now - timedelta(days=round(365.25 * policy.case_records_years_after_closure))
    result.cases = list(
        session.exec(select(Case).where(col(Case.closed_at).is_not(None), col(Case.closed_at) <= case_cutoff))
    )
    audit_cutoff = now - timedelta(days=round(365.25 * policy.audit_log_years))
    old = session.exec(
        select(col(AuditEntry.sequence))
        .where(col(AuditEntry.at) < audit_cutoff)
        .order_by(col(AuditEntry.sequence))
    ).all()
    if old:
        result.audit_through, result.audit_count = max(old), len(old)
    return result


def _delete_slack_files(session: Session, document_ids: list[int], now: datetime) -> None:
    """The files uploaded from these documents, wherever they were shared."""
    for message in session.exec(
        select(OutboxMessage).where(
            col(OutboxMessage.method) == "document.upload", col(OutboxMessage.state) == OutboxState.SENT
        )
    ):
        if message.arguments.get("document_id") in document_ids:
            file_id = (message.result.get("file") or {}).get("id")
            if file_id:
                enqueue(
                    session,
                    key=f"retention:file:{file_id}",
                    method="files.delete",
                    arguments={"file": file_id},
                    now=now,
                )


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
    session.exec(delete(AgendaItem).where(col(AgendaItem.id).in_(items)))
    session.exec(delete(NetworkLink).where(col(NetworkLink.case_id) == case.id))
    session.exec(
        update(NetworkLink).where(col(NetworkLink.linked_case_id) == case.id).values(linked_case_id=None)
    )
    session.exec(delete(PanelCase).where(col(PanelCase.case_id) == case.id))


def _erase_case(session: Session, case: Case, now: datetime) -> None:
    _erase_panel_rows(session, case)
    meetings = session.exec(select(Meeting).where(col(Meeting.case_id) == case.id)).all()
    documents = session.exec(select(Document).where(col(Document.case_id) == case.id)).all()
    _delete_slack_files(session, [d.id for d in documents if d.id], now)
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


def apply(session: Session, result: RetentionPlan, now: datetime) -> list[str]:
    """Remove what the plan lists, in the caller's transaction; returns what was removed."""
    removed = result.lines()
    draft_ids = [d.id for d in result.drafts if d.id]
    _delete_slack_files(session, draft_ids, now)
    for draft in result.drafts:
        record(
            session,
            at=now,
            actor=SYSTEM,
            act="retention.draft_deleted",
            record_type="document",
            record_id=draft.id or 0,
            details={"filename": draft.filename, "version": draft.version, "sha256": draft.sha256},
        )
        session.delete(draft)
    for case in result.cases:
        record(
            session,
            at=now,
            actor=SYSTEM,
            act="retention.case_erased",
            record_type="case",
            record_id=case.reference,
            case_reference=case.reference,
        )
        _erase_case(session, case, now)
    if result.audit_through:
        last = session.exec(select(AuditEntry).where(col(AuditEntry.sequence) == result.audit_through)).one()
        anchor = last.entry_hash
        session.exec(delete(AuditEntry).where(col(AuditEntry.sequence) <= result.audit_through))
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
    session.flush()
    return removed
