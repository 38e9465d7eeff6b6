"""The record a request names, found by its reference or id, with the person's part in it.

Each locator reads a fixed, small number of rows by primary key or unique reference (and,
for a meeting, that one meeting's invitations), so what runs before an acknowledgement
never grows with the years. A locator runs the same look-ups whether or not the record
exists (a missing one is looked for under an id nothing has), so a refusal takes the same
path, and about the same time, either way.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, true
from sqlmodel import Session, col, select

from bot.access.requests import Requested
from bot.actions.models import Action, ActionEvent
from bot.cases.models import Case
from bot.convening.models import Invitation, InvitationMessage, Meeting
from bot.minutes.models import Document
from bot.panel.models import AgendaItem, MissingEpisode, PanelSitting, PoliceOperation, Referral
from bot.partnership.models import Agency
from bot.partnership.service import Member
from bot.schedules import Partnership

NOTHING = -1  # the id looked for when a request names no record: no row has it
REFERENCE = re.compile(r"^[A-Z]{1,6}-\d{4}-\d{4,8}$")


class Part(StrEnum):
    """A person's part in a record (their roles in the partnership are on `Member`)."""

    CONVENOR = "convenor"  # convened the discussion
    CHAIR = "chair"  # chairs it
    MINUTE_TAKER = "minute_taker"  # takes its minutes
    INVOLVED = "involved"  # has a need to know: the above, invitees, delegates, who answered
    AGENCY = "agency"  # of the agency an invitation is for, or one of its named recipients
    DELEGATE = "delegate"  # the invitation's named delegate
    OWNER = "owner"  # owns the action
    OWNER_LEAD = "owner_lead"  # leads the agency that owns the action
    PANEL_ADMIN = "panel_admin"  # administers the panel the record belongs to


@dataclass(frozen=True)
class Record:
    """What a request names, as found, and the person's parts in it."""

    kind: str  # "meeting", "invitation", "action", "extension", "document", "referral", "agenda_item"
    id: int
    reference: str  # the reference people know it by (SD-2026-0001, SD-2026-0001-A02...)
    row: Any  # the row itself (detached), for the listener
    meeting: Meeting | None  # the discussion or panel sitting it belongs to
    parts: frozenset[Part]
    case_id: int | None = None


# ------------------------------------------------------------------ where the id comes from

Source = Callable[[Requested], str]


def argument(requested: Requested) -> str:
    """A command's argument: a reference, upper-cased; anything else names nothing."""
    text = requested.argument.strip().upper()
    return text if REFERENCE.match(text) else ""


def value(index: int = 0) -> Source:
    """Part `index` of a button's value (`12`, or `12:3` for an id and a page)."""

    def read(requested: Requested) -> str:
        parts = requested.value.split(":")
        return parts[index] if len(parts) > index else ""

    return read


def metadata(key: str) -> Source:
    """One key of a form's private metadata (also a button's inside that form)."""

    def read(requested: Requested) -> str:
        try:
            found = json.loads(requested.metadata)
        except ValueError:
            return ""
        return str(found.get(key, "")) if isinstance(found, dict) else ""

    return read


def _id(text: str) -> int:
    """A row id from what a request carried; NOTHING unless it is a plain positive number."""
    return int(text) if text.isdigit() and 0 < len(text) <= 12 else NOTHING


# ------------------------------------------------------------------ parts in a meeting


def _meeting_parts(
    session: Session, meeting: Meeting | None, member: Member | None, partnership: Partnership
) -> set[Part]:
    """The person's parts in one meeting: two look-ups over its invitations, always made."""
    meeting_id = meeting.id if meeting is not None and meeting.id else NOTHING
    involved: set[int] = set()
    for delegate, answered_by in session.exec(
        select(col(Invitation.delegate_id), col(Invitation.answered_by_id)).where(
            col(Invitation.meeting_id) == meeting_id
        )
    ):
        involved.update(p for p in (delegate, answered_by) if p)
    involved.update(
        session.exec(
            select(col(InvitationMessage.person_id))
            .join(Invitation, col(Invitation.id) == col(InvitationMessage.invitation_id))
            .where(col(Invitation.meeting_id) == meeting_id)
        )
    )
    if meeting is None or member is None:
        return set()
    person = member.person_id
    parts: set[Part] = set()
    for part, holder in (
        (Part.CONVENOR, meeting.convenor_id),
        (Part.CHAIR, meeting.chair_id),
        (Part.MINUTE_TAKER, meeting.minute_taker_id),
    ):
        if holder == person:
            parts.update((part, Part.INVOLVED))
    if person in involved:
        parts.add(Part.INVOLVED)
    panel_code = meeting.details.get("panel") if isinstance(meeting.details, dict) else None
    if panel_code and administers(partnership, member, str(panel_code)):
        parts.add(Part.PANEL_ADMIN)
    return parts


def meetings_listed_for(member: Member) -> ColumnElement[bool]:
    """Which discussions and panels a list may show the member (the desk's): a panel
    administrator sees every one, an agency lead those their agency was invited to. A
    condition on `Meeting`, so a list stays one paged query."""
    if member.has_role("panel_admin"):
        return true()
    invited = (
        select(Invitation.meeting_id)
        .join(Agency, col(Agency.id) == Invitation.agency_id)
        .where(Agency.code == member.agency_code)
    )
    return col(Meeting.id).in_(invited)


def configured_person(partnership: Partnership, member: Member | None) -> Any:
    """The person as the schedules name them: by Slack id, or (on the partner pages, for
    people without Slack) by their id in agencies.yaml."""
    if member is None:
        return None
    if member.slack_user_id:
        return partnership.person_by_slack_id(member.slack_user_id)
    try:
        return partnership.person(member.schedule_id) if member.schedule_id else None
    except KeyError:
        return None


def administers(partnership: Partnership, member: Member | None, panel_code: str) -> bool:
    """Whether the person is named as an administrator of this panel (in memory)."""
    configured = configured_person(partnership, member)
    if configured is None:
        return False
    try:
        return configured.id in partnership.panel(panel_code).administrators
    except KeyError:
        return False


def _meeting_record(
    session: Session, meeting: Meeting | None, member: Member | None, partnership: Partnership
) -> Record | None:
    parts = _meeting_parts(session, meeting, member, partnership)
    if meeting is None:
        return None
    return Record(
        "meeting", meeting.id or 0, meeting.reference, meeting, meeting, frozenset(parts), meeting.case_id
    )


# ------------------------------------------------------------------ locators

Loader = Callable[[Session, str, Member | None, Partnership], "Record | None"]


@dataclass(frozen=True)
class Locator:
    """How a rule finds the record a request names: what to load, from where."""

    kind: str
    source: Source
    load: Loader

    def find(
        self, session: Session, requested: Requested, member: Member | None, partnership: Partnership
    ) -> Record | None:
        return self.load(session, self.source(requested), member, partnership)


def _load_meeting_by_reference(
    session: Session, text: str, member: Member | None, partnership: Partnership
) -> Record | None:
    meeting = session.exec(select(Meeting).where(col(Meeting.reference) == (text or "-"))).first()
    return _meeting_record(session, meeting, member, partnership)


def _load_sitting_by_reference(
    session: Session, text: str, member: Member | None, partnership: Partnership
) -> Record | None:
    meeting = session.exec(select(Meeting).where(col(Meeting.reference) == (text or "-"))).first()
    is_sitting = (
        meeting is not None and isinstance(meeting.details, dict) and bool(meeting.details.get("panel"))
    )
    return _meeting_record(session, meeting if is_sitting else None, member, partnership)


def _load_meeting(
    session: Session, text: str, member: Member | None, partnership: Partnership
) -> Record | None:
    return _meeting_record(session, session.get(Meeting, _id(text)), member, partnership)


def _load_sitting(
    session: Session, text: str, member: Member | None, partnership: Partnership
) -> Record | None:
    meeting = session.get(Meeting, _id(text))
    is_sitting = (
        meeting is not None and isinstance(meeting.details, dict) and bool(meeting.details.get("panel"))
    )
    return _meeting_record(session, meeting if is_sitting else None, member, partnership)


def _load_invitation(
    session: Session, text: str, member: Member | None, partnership: Partnership
) -> Record | None:
    invitation = session.get(Invitation, _id(text))
    meeting = session.get(Meeting, invitation.meeting_id if invitation else NOTHING)
    agency = session.get(Agency, invitation.agency_id if invitation else NOTHING)
    recipients = set(
        session.exec(
            select(col(InvitationMessage.person_id)).where(
                col(InvitationMessage.invitation_id) == (invitation.id if invitation else NOTHING)
            )
        )
    )
    parts = _meeting_parts(session, meeting, member, partnership)
    if invitation is None or meeting is None or agency is None:
        return None
    if member is not None and (member.agency_code == agency.code or member.person_id in recipients):
        parts.add(Part.AGENCY)
    if member is not None and member.person_id == invitation.delegate_id:
        parts.add(Part.DELEGATE)
    return Record(
        "invitation",
        invitation.id or 0,
        meeting.reference,
        invitation,
        meeting,
        frozenset(parts),
        meeting.case_id,
    )


def _action_parts(
    session: Session, action: Action | None, member: Member | None, partnership: Partnership
) -> tuple[Meeting | None, set[Part]]:
    agency = session.get(Agency, action.agency_id if action else NOTHING)
    meeting = session.get(Meeting, action.meeting_id if action and action.meeting_id else NOTHING)
    parts = _meeting_parts(session, meeting, member, partnership)
    if action is None or member is None:
        return meeting, parts
    if member.person_id == action.owner_id:
        parts.add(Part.OWNER)
    configured = configured_person(partnership, member)
    if agency is not None and configured is not None:
        try:
            if partnership.agency(agency.code).lead_person().id == configured.id:
                parts.add(Part.OWNER_LEAD)
        except (KeyError, LookupError):
            pass
    return meeting, parts


def _load_action(
    session: Session, text: str, member: Member | None, partnership: Partnership
) -> Record | None:
    action = session.get(Action, _id(text))
    meeting, parts = _action_parts(session, action, member, partnership)
    if action is None:
        return None
    return Record(
        "action", action.id or 0, action.reference, action, meeting, frozenset(parts), action.case_id
    )


def _load_extension(
    session: Session, text: str, member: Member | None, partnership: Partnership
) -> Record | None:
    """An extension request (an action event), with the person's parts in its action."""
    request = session.get(ActionEvent, _id(text))
    asked = request is not None and request.kind == "extension_requested"
    action = session.get(Action, request.action_id if request and asked else NOTHING)
    meeting, parts = _action_parts(session, action, member, partnership)
    if request is None or action is None:
        return None
    return Record(
        "extension", request.id or 0, action.reference, request, meeting, frozenset(parts), action.case_id
    )


def _load_document(
    session: Session, text: str, member: Member | None, partnership: Partnership
) -> Record | None:
    document = session.get(Document, _id(text))
    meeting = session.get(Meeting, document.meeting_id if document and document.meeting_id else NOTHING)
    parts = _meeting_parts(session, meeting, member, partnership)
    if document is None or meeting is None:
        return None
    return Record(
        "document", document.id or 0, meeting.reference, document, meeting, frozenset(parts), meeting.case_id
    )


def _load_referral(
    session: Session, text: str, member: Member | None, partnership: Partnership
) -> Record | None:
    referral = session.get(Referral, _id(text))
    if referral is None:
        return None
    parts = {Part.PANEL_ADMIN} if administers(partnership, member, referral.panel_code) else set()
    return Record(
        "referral", referral.id or 0, referral.reference, referral, None, frozenset(parts), referral.case_id
    )


def _load_agenda_item(
    session: Session, text: str, member: Member | None, partnership: Partnership
) -> Record | None:
    item = session.get(AgendaItem, _id(text))
    sitting = session.get(PanelSitting, item.sitting_id if item else NOTHING)
    meeting = session.get(Meeting, sitting.meeting_id if sitting else NOTHING)
    parts = _meeting_parts(session, meeting, member, partnership)
    if item is None or meeting is None:
        return None
    return Record(
        "agenda_item", item.id or 0, meeting.reference, item, meeting, frozenset(parts), meeting.case_id
    )


def _load_missing_episode(
    session: Session, text: str, member: Member | None, partnership: Partnership
) -> Record | None:
    """A missing episode; the agencies that record episodes and offer return home
    interviews have the AGENCY part in it."""
    episode = session.get(MissingEpisode, _id(text))
    case = session.get(Case, episode.case_id if episode else NOTHING)
    if episode is None or case is None:
        return None
    practice = partnership.panel_practice.missing
    agencies = {practice.interview_agency, *practice.recorded_by}
    parts = {Part.AGENCY} if member is not None and member.agency_code in agencies else set()
    return Record(
        "missing_episode", episode.id or 0, case.reference, episode, None, frozenset(parts), case.id
    )


def _load_police_operation(
    session: Session, text: str, member: Member | None, partnership: Partnership
) -> Record | None:
    """A police operation by its reference (PO-2026-0001): one read, found or not. Who may
    see it is the rule's policy (police and panel administrators), not the listener's."""
    row = session.exec(select(PoliceOperation).where(col(PoliceOperation.reference) == (text or "-"))).first()
    if row is None:
        return None
    return Record("police_operation", row.id or 0, row.reference, row, None, frozenset(), row.case_id)


def case_argument(requested: Requested) -> str:
    """A command's argument as a case reference would be typed: upper-cased, short, and only
    letters, digits and hyphens (the loader checks it against the partnership's format)."""
    text = requested.argument.strip().upper()
    return text if 0 < len(text) <= 40 and re.fullmatch(r"[A-Z0-9-]+", text) else ""


def _load_child(
    session: Session, text: str, member: Member | None, partnership: Partnership
) -> Record | None:
    """A child's case by its reference, with the person's part: INVOLVED in any discussion
    concerning the child (first child or one of several), PANEL_ADMIN for an administrator of
    any panel. Three reads whether or not the case exists: the case, the discussions where
    the person has a part of their own, and the invitations naming them."""
    valid = bool(text) and partnership.settings.matches_case_reference(text)
    case = session.exec(select(Case).where(col(Case.reference) == (text if valid else "-"))).first()
    return _child_record(session, case, member, partnership)


def _load_child_by_id(
    session: Session, text: str, member: Member | None, partnership: Partnership
) -> Record | None:
    return _child_record(session, session.get(Case, _id(text)), member, partnership)


def _child_record(
    session: Session, case: Case | None, member: Member | None, partnership: Partnership
) -> Record | None:
    """The child's case as a record, with the person's parts (the same reads, found or not)."""
    from bot.children.service import concerning_child

    case_id = case.id if case is not None and case.subject_kind == "child" else NOTHING
    concerning = concerning_child(case_id)
    person = member.person_id if member is not None and member.person_id else NOTHING
    holds = session.exec(
        select(col(Meeting.id))
        .where(
            col(Meeting.id).in_(concerning),
            (col(Meeting.convenor_id) == person)
            | (col(Meeting.chair_id) == person)
            | (col(Meeting.minute_taker_id) == person),
        )
        .limit(1)
    ).first()
    invited = session.exec(
        select(col(Invitation.id))
        .outerjoin(InvitationMessage, col(InvitationMessage.invitation_id) == col(Invitation.id))
        .where(
            col(Invitation.meeting_id).in_(concerning),
            (col(Invitation.delegate_id) == person)
            | (col(Invitation.answered_by_id) == person)
            | (col(InvitationMessage.person_id) == person),
        )
        .limit(1)
    ).first()
    if case is None or case_id == NOTHING:
        return None
    parts: set[Part] = set()
    if member is not None and (holds is not None or invited is not None):
        parts.add(Part.INVOLVED)
    configured = configured_person(partnership, member)
    if configured is not None and any(configured.id in p.administrators for p in partnership.panels):
        parts.add(Part.PANEL_ADMIN)
    return Record("child", case.id or 0, case.reference, case, None, frozenset(parts), case.id)


def child_by_reference() -> Locator:
    """A child's case by the case reference typed after a command (`/actions CS-1234567`)."""
    return Locator("child", case_argument, _load_child)


def child_by_id(source: Source) -> Locator:
    """A child's case by its id (a page button of the child's list carries it)."""
    return Locator("child", source, _load_child_by_id)


def missing_episode_by_id(source: Source) -> Locator:
    return Locator("missing_episode", source, _load_missing_episode)


def meeting_by_reference() -> Locator:
    """A discussion or panel sitting by the reference typed after a command."""
    return Locator("meeting", argument, _load_meeting_by_reference)


def sitting_by_reference() -> Locator:
    """A panel sitting by the reference typed after a command (a discussion is not one)."""
    return Locator("meeting", argument, _load_sitting_by_reference)


def meeting_by_id(source: Source) -> Locator:
    return Locator("meeting", source, _load_meeting)


def sitting_by_id(source: Source) -> Locator:
    return Locator("meeting", source, _load_sitting)


def invitation_by_id(source: Source) -> Locator:
    return Locator("invitation", source, _load_invitation)


def action_by_id(source: Source) -> Locator:
    return Locator("action", source, _load_action)


def extension_by_id(source: Source) -> Locator:
    return Locator("extension", source, _load_extension)


def document_by_id(source: Source) -> Locator:
    return Locator("document", source, _load_document)


def referral_by_id(source: Source) -> Locator:
    return Locator("referral", source, _load_referral)


def police_operation_by_reference() -> Locator:
    """A police operation by the reference typed after a command (`/panel operation PO-…`)."""
    return Locator("police_operation", argument, _load_police_operation)


def agenda_item_by_id(source: Source) -> Locator:
    return Locator("agenda_item", source, _load_agenda_item)
