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
from typing import Any

from sqlalchemy import delete, func, or_, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from bot.actions.models import Action, ActionEvent, Chase
from bot.agency_updates.models import AgencyUpdate, AgencyUpdateVersion
from bot.audit.models import AuditEntry
from bot.audit.service import SYSTEM, record
from bot.cases.models import Case, CaseEpisode, Section47Enquiry
from bot.children.models import DiscussionChild, Household
from bot.children.service import erase_child_part
from bot.convening.models import Attendance, Invitation, InvitationMessage, Meeting
from bot.database import session_scope, stream_scope
from bot.delivery.models import OutboxMessage, OutboxState
from bot.delivery.service import enqueue, enqueue_many
from bot.minutes.models import Decision, Document
from bot.panel.models import (
    AgendaItem,
    ConferenceLink,
    Disruption,
    Intelligence,
    MissingEpisode,
    NetworkLink,
    NrmReferral,
    PanelCase,
    PerpetratorLink,
    PoliceOperation,
    Referral,
    SuspectedPerpetrator,
)
from bot.partners.links import forget as forget_partner_links
from bot.schedules import Partnership

# What a case's erasure does with every table that refers, directly or through another row,
# to a case (tests/test_retention_panel.py derives that list from the models and fails on a
# table named in neither): erased with the case, or kept for a reason, with the rows that
# named the case removed or re-pointed.
ERASED_WITH_THE_CASE: dict[str, str] = {
    "case": "the case itself",
    "caseepisode": "its episodes of work",
    "section47enquiry": "its section 47 enquiries",
    "meeting": "its own discussions (one of several children's is kept for the others)",
    "invitation": "the invitations to its discussions",
    "invitationmessage": "the messages inviting to them (deleted in Slack too)",
    "attendance": "who attended its discussions",
    "agencyupdate": "agencies' updates for its discussions and its panel agenda items",
    "agencyupdateversion": "every version of those updates",
    "decision": "the decisions of its discussions, and about it in shared ones",
    "discussionchild": "its place in every discussion",
    "document": "its documents (their Slack files deleted too)",
    "action": "its actions wherever agreed: its discussions', and the sitting's disruption and"
    " conference-booking actions about it",
    "actionevent": "those actions' history",
    "chase": "the chases of those actions and of its invitations",
    "referral": "its referrals to a panel",
    "panelcase": "its place under a panel's review",
    "agendaitem": "its items on the sittings' agendas",
    "conferencelink": "its step ups to a child protection conference",
    "policeoperation": "the police operations its step ups named: recorded for this case alone",
    "networklink": "its network links, and other cases' links to it (a link to an erased case names only it)",
    "nrmreferral": "its National Referral Mechanism referral (its chases leave the outbox)",
    "missingepisode": "its missing episodes and return home interviews (their chases leave the outbox)",
    "disruption": "the disruption activities agreed about it, with their actions",
    "intelligence": "intelligence recorded about it or shared at its own discussions",
    "perpetratorlink": "its links to suspected perpetrators",
    "outboxmessage": "the bot's panel messages naming it, sent or not (referral decisions, chases,"
    " step-up requests), by their case",
}
KEPT_WITH_REASON: dict[str, str] = {
    "panelsitting": "a sitting covers several children and is the panel's record; this case's agenda"
    " items, updates and disruption actions on it are erased, the sitting itself is not about the child",
    "suspectedperpetrator": "the register is the police's record of an adult; it goes with the case only"
    " when no other child or context links to it and no other child's disruption targets it",
    "household": "shared by siblings; it goes when its last member's case is erased",
}


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


def _ids(session: Session, column: Any, *where: Any) -> list[int]:
    """The ids (or other int column) of the rows matching, without the Nones."""
    return [i for i in session.exec(select(column).where(*where)) if i is not None]


def _forget_panel_messages(session: Session, case_id: int | None) -> None:
    """The bot's own messages about the child's panel records (return home interview and
    NRM chases, referral decisions, step-up requests): their text names the child's case,
    and one still pending must not go out after the case has gone. They carry the case
    (`OutboxMessage.case_id`, indexed), so this is one indexed delete, whatever the outbox holds."""
    session.exec(delete(OutboxMessage).where(col(OutboxMessage.case_id) == case_id))


def _erase_panel_rows(session: Session, case: Case) -> dict[str, Any]:
    """The panel's rows about this child or context: referrals, its place under review, its
    agenda items with the agencies' pre-panel updates on them, its step-ups (conference
    links and police operations), missing episodes, NRM referral, disruption activities,
    intelligence about it, its links to suspected perpetrators and its network links both
    ways. The sitting's own minutes cover several children and are kept with the panel's
    records. Returns the actions to erase with the case (the disruptions' and conference
    bookings', which belong to the sitting's meeting) and what the audit entry names."""
    cid = case.id
    panel_cases = _ids(session, col(PanelCase.id), col(PanelCase.case_id) == cid)
    items = _ids(session, col(AgendaItem.id), col(AgendaItem.panel_case_id).in_(panel_cases))
    enquiries = _ids(session, col(Section47Enquiry.id), col(Section47Enquiry.case_id) == cid)
    conference_where = or_(
        col(ConferenceLink.case_id) == cid,
        col(ConferenceLink.agenda_item_id).in_(items),
        col(ConferenceLink.enquiry_id).in_(enquiries),
    )
    conferences = _ids(session, col(ConferenceLink.id), conference_where)
    actions = _ids(session, col(ConferenceLink.action_id), conference_where)
    actions += _ids(session, col(Disruption.action_id), col(Disruption.case_id) == cid)
    episodes = _ids(session, col(MissingEpisode.id), col(MissingEpisode.case_id) == cid)
    nrms = _ids(session, col(NrmReferral.id), col(NrmReferral.case_id) == cid)
    _forget_panel_messages(session, cid)
    updates = _ids(session, col(AgencyUpdate.id), col(AgencyUpdate.agenda_item_id).in_(items))
    session.exec(delete(AgencyUpdateVersion).where(col(AgencyUpdateVersion.update_id).in_(updates)))
    session.exec(delete(AgencyUpdate).where(col(AgencyUpdate.id).in_(updates)))
    session.exec(
        delete(Referral).where(
            or_(col(Referral.case_id) == cid, col(Referral.panel_case_id).in_(panel_cases))
        )
    )
    session.exec(delete(ConferenceLink).where(col(ConferenceLink.id).in_(conferences)))
    session.exec(
        delete(PoliceOperation).where(
            or_(col(PoliceOperation.case_id) == cid, col(PoliceOperation.agenda_item_id).in_(items))
        )
    )
    session.exec(delete(Disruption).where(col(Disruption.case_id) == cid))
    session.exec(delete(MissingEpisode).where(col(MissingEpisode.case_id) == cid))
    session.exec(delete(NrmReferral).where(col(NrmReferral.case_id) == cid))
    session.exec(delete(Intelligence).where(col(Intelligence.case_id) == cid))
    # The register of suspected perpetrators is the police's: the child's links to it go,
    # and an entry goes with them only when no other child or context (nor another child's
    # disruption) still refers to it, since it was then recorded about this child alone.
    linked = _ids(session, col(PerpetratorLink.perpetrator_id), col(PerpetratorLink.case_id) == cid)
    session.exec(delete(PerpetratorLink).where(col(PerpetratorLink.case_id) == cid))
    still_used = set(
        _ids(session, col(PerpetratorLink.perpetrator_id), col(PerpetratorLink.perpetrator_id).in_(linked))
    ) | set(_ids(session, col(Disruption.perpetrator_id), col(Disruption.perpetrator_id).in_(linked)))
    alone = [p for p in linked if p not in still_used]
    removed_perpetrators = sorted(
        session.exec(select(SuspectedPerpetrator.reference).where(col(SuspectedPerpetrator.id).in_(alone)))
    )
    session.exec(delete(SuspectedPerpetrator).where(col(SuspectedPerpetrator.id).in_(alone)))
    session.exec(delete(AgendaItem).where(col(AgendaItem.id).in_(items)))
    # Links both ways: a link from another case to this one says nothing but this case.
    session.exec(
        delete(NetworkLink).where(
            or_(col(NetworkLink.case_id) == cid, col(NetworkLink.linked_case_id) == cid)
        )
    )
    session.exec(delete(PanelCase).where(col(PanelCase.id).in_(panel_cases)))
    return {
        "actions": actions,
        "audit": {
            "missing_episodes": len(episodes),
            "nrm_referrals": len(nrms),
            "perpetrator_links": len(linked),
            "perpetrators_removed": removed_perpetrators,
            "conference_links": len(conferences),
        },
    }


def _erase_actions(session: Session, actions: list[int]) -> None:
    """Actions with their history, their chases and the partner links and e-mails about them."""
    forget_partner_links(session, invitation_ids=[], action_ids=actions)
    session.exec(delete(Chase).where(col(Chase.action_id).in_(actions)))
    session.exec(delete(ActionEvent).where(col(ActionEvent.action_id).in_(actions)))
    session.exec(delete(Action).where(col(Action.id).in_(actions)))


def _erase_case(session: Session, case: Case, now: datetime, files: dict[int, list[str]]) -> dict[str, Any]:
    """Everything about the case; returns what the audit entry names (counts and the
    register entries that went, never the child's details)."""
    panel = _erase_panel_rows(session, case)
    # A discussion of several children loses this child's part and is kept for the others.
    erase_child_part(session, case)
    meetings = session.exec(select(Meeting).where(Meeting.case_id == case.id)).all()
    meeting_ids = [m.id for m in meetings if m.id is not None]
    documents = session.exec(select(Document.id).where(Document.case_id == case.id)).all()
    _delete_slack_files(session, [d for d in documents if d], now, files)
    # The child's own actions wherever agreed (a disruption or a conference booking is the
    # sitting's action about this child), and every action of the child's own meetings.
    actions = set(panel["actions"])
    actions |= set(_ids(session, col(Action.id), col(Action.case_id) == case.id))
    actions |= set(_ids(session, col(Action.id), col(Action.meeting_id).in_(meeting_ids)))
    _erase_actions(session, sorted(actions))
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
        updates = [
            u.id for u in session.exec(select(AgencyUpdate).where(col(AgencyUpdate.meeting_id) == meeting.id))
        ]
        forget_partner_links(
            session, invitation_ids=[i for i in invitation_ids if i is not None], action_ids=[]
        )
        session.exec(delete(Chase).where(col(Chase.invitation_id).in_(invitation_ids)))
        session.exec(delete(AgencyUpdateVersion).where(col(AgencyUpdateVersion.update_id).in_(updates)))
        session.exec(delete(AgencyUpdate).where(col(AgencyUpdate.meeting_id) == meeting.id))
        session.exec(delete(Decision).where(col(Decision.meeting_id) == meeting.id))
        session.exec(delete(DiscussionChild).where(col(DiscussionChild.meeting_id) == meeting.id))
        session.exec(delete(Attendance).where(col(Attendance.meeting_id) == meeting.id))
        session.exec(
            delete(InvitationMessage).where(col(InvitationMessage.invitation_id).in_(invitation_ids))
        )
        session.exec(delete(Invitation).where(col(Invitation.meeting_id) == meeting.id))
    # What other records say of the child's meetings: intelligence shared there goes, and a
    # step up or NRM referral of another case that pointed at one no longer does.
    session.exec(delete(Intelligence).where(col(Intelligence.meeting_id).in_(meeting_ids)))
    session.exec(
        update(AgendaItem)
        .where(col(AgendaItem.stepped_up_meeting_id).in_(meeting_ids))
        .values(stepped_up_meeting_id=None)
    )
    session.exec(
        update(NrmReferral)
        .where(col(NrmReferral.strategy_meeting_id).in_(meeting_ids))
        .values(strategy_meeting_id=None)
    )
    session.exec(delete(Decision).where(col(Decision.case_id) == case.id))
    session.exec(delete(Document).where(col(Document.case_id) == case.id))
    # The case's timeline: its enquiries refer to discussions, and discussions to episodes.
    session.exec(delete(Section47Enquiry).where(col(Section47Enquiry.case_id) == case.id))
    for meeting in meetings:
        session.exec(delete(Meeting).where(col(Meeting.follows_meeting_id) == meeting.id))
    session.exec(delete(Meeting).where(col(Meeting.case_id) == case.id))
    session.exec(delete(CaseEpisode).where(col(CaseEpisode.case_id) == case.id))
    household = case.household_id
    session.delete(case)
    session.flush()
    if (
        household is not None
        and not session.exec(select(Case.id).where(col(Case.household_id) == household)).first()
    ):
        session.exec(delete(Household).where(col(Household.id) == household))  # its last member gone
    return panel["audit"] | {"actions": len(actions)}


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
    reference = case.reference
    erased = _erase_case(session, case, now, files)
    record(
        session,
        at=now,
        actor=SYSTEM,
        act="retention.case_erased",
        record_type="case",
        record_id=reference,
        case_reference=reference,
        details=erased,
    )


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
