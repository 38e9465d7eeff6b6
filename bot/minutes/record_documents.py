"""Writing the minutes and the action log once a discussion is recorded.

The record is committed and acknowledged first; the documents follow through the outbox
(a courier sender), because rendering Word documents can outlast Slack's three seconds.
The outbox retries the writing until it succeeds and reports it if it never does; the
meeting remembers which recording its documents were written for, so a retry after a
crash never writes a second version."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from sqlmodel import Session

from bot.audit.service import Actor
from bot.convening.models import Meeting
from bot.database import session_scope
from bot.delivery.models import OutboxMessage
from bot.delivery.service import Skip, enqueue
from bot.minutes import effects
from bot.minutes.models import Document
from bot.minutes.service import generate
from bot.minutes.views import approval_request, child_record_approval
from bot.partnership.models import Person
from bot.runtime import Runtime

WRITE_METHOD = "minutes.write_record_documents"
WRITTEN_FOR = "documents_written_for"


def owe_record_documents(
    session: Session, meeting: Meeting, actor: Actor, *, key: str, now: datetime
) -> None:
    """In the recording's own transaction: the documents are owed, and will be written."""
    enqueue(
        session,
        key=f"record-documents:{meeting.id}:{key}",
        method=WRITE_METHOD,
        arguments={"meeting_id": meeting.id, "actor": asdict(actor), "recording": key},
        now=now,
        subject_id=meeting.id,
    )


def write_version(
    session: Session, runtime: Runtime, meeting: Meeting, kind: str, actor: Actor, now: Any
) -> Document:
    """A new version of the minutes or the action log, rendered from the record."""
    return generate(
        session,
        meeting,
        kind,
        templates_dir=runtime.settings.templates_dir,
        partnership=runtime.partnership,
        calendar=runtime.calendar,
        actor=actor,
        now=now,
    )


def send_draft_to_chair(
    session: Session, runtime: Runtime, meeting: Meeting, document: Document, now: Any
) -> None:
    """The draft minutes to the chair privately, with the buttons to approve them."""
    chair = session.get(Person, meeting.chair_id) if meeting.chair_id else None
    if chair is None or not chair.slack_user_id:
        return
    effects.send_privately(session, document, chair.slack_user_id, "", now, why="draft")
    message = approval_request(meeting.reference, document.id or 0, document.version, meeting.id or 0)
    enqueue(
        session,
        key=f"approval-request:{document.id}",
        method="chat.postMessage",
        arguments={"channel": chair.slack_user_id, **message},
        now=now,
    )


def child_documents(session: Session, runtime: Runtime, meeting: Meeting, actor: Actor, now: Any) -> None:
    """Several children: each child's action log privately to the convenor (the lead
    practitioner files it), and each child's own record, a draft, privately to the chair
    to approve (it goes to the convenor once approved); nothing for one child."""
    from bot.children.documents import generate_child_documents, is_child_record

    documents = generate_child_documents(
        session,
        meeting,
        templates_dir=runtime.settings.templates_dir,
        partnership=runtime.partnership,
        calendar=runtime.calendar,
        actor=actor,
        now=now,
    )
    chair = session.get(Person, meeting.chair_id) if meeting.chair_id else None
    for document in documents:
        if is_child_record(document) and chair is not None and chair.slack_user_id:
            effects.send_privately(session, document, chair.slack_user_id, "", now, why="draft")
            message = child_record_approval(
                meeting.reference, document.kind.split(":", 1)[-1], document.id or 0, document.version
            )
            enqueue(
                session,
                key=f"approval-request:{document.id}",
                method="chat.postMessage",
                arguments={"channel": chair.slack_user_id, **message},
                now=now,
            )
        elif not is_child_record(document):
            send_to_convenor(session, runtime, meeting, document, now)


def send_to_convenor(
    session: Session, runtime: Runtime, meeting: Meeting, document: Document, now: Any
) -> None:
    """A document for a child's file, privately to the convenor (the lead practitioner)."""
    convenor = session.get(Person, meeting.convenor_id) if meeting.convenor_id else None
    if convenor is None or not convenor.slack_user_id:
        return
    marking = runtime.partnership.settings.protective_marking
    comment = f"{marking}: for the child's file ({document.kind.split(':', 1)[-1]})"
    effects.send_privately(session, document, convenor.slack_user_id, comment, now, why="child")


def install(runtime: Runtime) -> None:
    """Teach the courier to write a recording's documents."""

    @runtime.courier.sender(WRITE_METHOD)
    def write(client: WebClient, message: OutboxMessage, arguments: dict[str, Any]) -> dict[str, Any]:
        now = runtime.clock.now()
        actor = Actor(**arguments.get("actor", {}))
        with session_scope(runtime.engine) as session:
            meeting = session.get(Meeting, arguments.get("meeting_id"))
            if meeting is None:
                raise Skip()  # erased since: nothing left to write
            if (meeting.details or {}).get(WRITTEN_FOR) == arguments.get("recording"):
                return {"ok": True, "already": True}
            minutes = write_version(session, runtime, meeting, "minutes", actor, now)
            send_draft_to_chair(session, runtime, meeting, minutes, now)
            # Decisions and actions go out the same working day, before the full minutes.
            log = write_version(session, runtime, meeting, "action_log", actor, now)
            marking = runtime.partnership.settings.protective_marking
            effects.circulate(
                session, log, f"{marking}: decisions and action log of {meeting.reference}", now
            )
            child_documents(session, runtime, meeting, actor, now)  # several children: each one's own
            meeting.details = {**(meeting.details or {}), WRITTEN_FOR: arguments.get("recording")}
            session.add(meeting)
        runtime.kick_delivery()
        return {"ok": True}
