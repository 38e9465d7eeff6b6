"""What approving any version of a discussion's document has in common.

The minutes and each child's record are approved the same way: the version is locked (a
double click approves, and sends, once), only the chair may approve, only the newest draft
can be, and on approval the earlier approved versions of that document are superseded.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlmodel import Session, col, select

from bot.convening.models import Meeting
from bot.minutes.documents import RenderedDocument
from bot.minutes.models import Document


def locked_for_approval(
    session: Session,
    document_id: int,
    *,
    approver_id: int,
    refuse: Callable[[str], Exception],
    not_chair: str,
    approvable: Callable[[Document], bool] = lambda document: True,
) -> tuple[Document, Meeting, bool]:
    """The version, locked, with its discussion, and whether it is still to be approved
    (False when it already was). Raises `refuse(why)` when it cannot be approved."""
    locked = session.get(Document, document_id, with_for_update=True, populate_existing=True)
    if locked is None or not approvable(locked):
        raise refuse("That version no longer exists.")
    meeting = session.get(Meeting, locked.meeting_id)
    if meeting is None or approver_id != meeting.chair_id:
        raise refuse(not_chair)
    if locked.state == "approved":
        return locked, meeting, False
    if locked.state != "draft":
        raise refuse("That version has been replaced by a newer one.")
    newer = session.exec(
        select(Document).where(
            col(Document.meeting_id) == meeting.id,
            col(Document.kind) == locked.kind,
            col(Document.version) > locked.version,
        )
    ).first()
    if newer is not None:
        raise refuse(f"There is a newer draft (version {newer.version}); approve that one.")
    return locked, meeting, True


def store_approved(
    session: Session, document: Document, rendered: RenderedDocument, *, approver_id: int, now: datetime
) -> None:
    """The approved rendering replaces the draft's; earlier approved versions are superseded."""
    for earlier in session.exec(
        select(Document).where(
            col(Document.meeting_id) == document.meeting_id,
            col(Document.kind) == document.kind,
            col(Document.state) == "approved",
        )
    ):
        earlier.state = "superseded"
        session.add(earlier)
    document.content, document.sha256 = rendered.content, rendered.sha256
    document.sections = rendered.sections
    document.state = "approved"
    document.approved_by_id, document.approved_at = approver_id, now
    session.add(document)
