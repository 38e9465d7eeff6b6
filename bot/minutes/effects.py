"""Sending documents: privately to a person, or to the discussion's channel, through the
outbox (the file is read from the record when it is sent)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from sqlmodel import Session

from bot.convening.models import Meeting
from bot.database import session_scope
from bot.delivery.models import OutboxMessage
from bot.delivery.service import Defer, Skip, enqueue
from bot.minutes.models import Document
from bot.runtime import Runtime

UPLOAD_METHOD = "document.upload"


def install(runtime: Runtime) -> None:
    """Teach the courier to upload a stored document and record when it was circulated."""

    @runtime.courier.on_prepare("document_to_channel")
    def to_channel(session: Session, message: OutboxMessage) -> dict[str, Any]:
        meeting = session.get(Meeting, message.subject_id)
        if meeting is None:
            raise Skip()
        if not meeting.channel_id:
            raise Defer()
        return {**message.arguments, "channel": meeting.channel_id}

    @runtime.courier.sender(UPLOAD_METHOD)
    def upload(client: WebClient, message: OutboxMessage, arguments: dict[str, Any]) -> dict[str, Any]:
        with session_scope(runtime.engine) as session:
            document = session.get(Document, arguments["document_id"])
            if document is None:
                raise Skip()
            content, filename = document.content, document.filename
        channel = arguments["channel"]
        if channel.startswith(("U", "W")):
            channel = client.conversations_open(users=channel)["channel"]["id"]
        response = client.files_upload_v2(
            channel=channel,
            content=content,
            filename=filename,
            title=arguments.get("title") or filename,
            initial_comment=arguments.get("comment"),
        )
        return {"ok": True, "file": response.get("file") or {}, "channel": channel}

    @runtime.courier.on_delivered("document_to_channel")
    def circulated(session: Session, message: OutboxMessage, response: dict[str, Any]) -> None:
        document = session.get(Document, message.arguments.get("document_id"))
        if document is not None and document.circulated_at is None:
            document.circulated_at = runtime.clock.now()
            session.add(document)


def send_privately(
    session: Session, document: Document, slack_id: str, comment: str, now: datetime, *, why: str
) -> None:
    """Upload a document into one person's DM (a download, or a draft for the chair)."""
    enqueue(
        session,
        key=f"document:{document.id}:{slack_id}:{why}",
        method=UPLOAD_METHOD,
        arguments={
            "document_id": document.id,
            "channel": slack_id,
            "comment": comment,
            "title": document.filename,
        },
        now=now,
    )


def circulate(session: Session, document: Document, comment: str, now: datetime) -> None:
    """Upload an approved document to the discussion's channel, for everyone who took part."""
    enqueue(
        session,
        key=f"circulate:{document.id}",
        method=UPLOAD_METHOD,
        arguments={"document_id": document.id, "comment": comment, "title": document.filename},
        now=now,
        purpose="document_to_channel",
        subject_id=document.meeting_id,
    )
