"""The administrators' desk: discussions and panels (filtered, a page at a time), their
approved documents to download, the audit trail's export and the timeliness figures.

A panel administrator or agency lead signs in from the Home tab (a one-time link by Slack
DM, `bot.partners.listeners`). Each page names its rule below and passes the same guard as
Slack's requests; agency leads see the discussions their agency was invited to
(`bot.access.meetings_listed_for`, beside the guard's record rules). Lists are
pages of a fixed size read with a fixed number of queries; the audit export streams in
batches and never holds the whole trail in memory.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import Blueprint, Response, render_template, request, stream_with_context
from sqlmodel import col, func, select

from bot.access import (
    Part,
    Rule,
    document_by_id,
    meeting_by_id,
    meetings_listed_for,
    page,
    part,
    role,
    value,
)
from bot.audit.models import AuditEntry
from bot.audit.service import EXPORT_COLUMNS, HASHED_COLUMNS, export_row, record
from bot.cases.models import Case
from bot.convening.models import Meeting
from bot.convening.views import when
from bot.database import read_scope, session_scope
from bot.minutes.models import Document
from bot.partners.guard import PageRefused, current_runtime, guarded, needs_session, problem, word_download
from bot.partners.links import DESK
from bot.partners.models import PartnerSession

blueprint = Blueprint("desk", __name__)

DESK_ROLES = ("panel_admin", "agency_lead")
MAY_HAVE_DOCUMENTS = part(Part.INVOLVED, Part.PANEL_ADMIN) | role("panel_admin")
RULES = (
    Rule(
        page("desk"),
        role(*DESK_ROLES),
        refusal="The desk is for panel administrators and agency leads.",
        act="desk.refused",
    ),
    Rule(
        page("desk_meeting"),
        MAY_HAVE_DOCUMENTS,
        meeting_by_id(value()),
        refusal="Only the people who took part and panel administrators can see this.",
        act="desk.meeting_refused",
    ),
    Rule(
        page("desk_download"),
        MAY_HAVE_DOCUMENTS,
        document_by_id(value()),
        refusal="Only the people who took part and panel administrators can have this document.",
        act="document.download_refused",
    ),
    Rule(
        page("desk_audit"),
        role("panel_admin", "auditor"),
        refusal="The audit export is for panel administrators and auditors.",
        act="audit.export_refused",
    ),
)
PAGE_SIZE = 25
EXPORT_BATCH = 2000
STATES = ("convening", "scheduled", "held", "cancelled", "closed")


def _refused(refusal: PageRefused) -> tuple[str, int]:
    return problem("You cannot see this", str(refusal), 403)


def _filters() -> dict[str, str]:
    args = request.args
    kind = args.get("kind", "")
    state = args.get("state", "")
    text = "".join(c for c in args.get("reference", "").upper() if c.isalnum() or c == "-")[:40]
    start = args.get("from", "")
    try:
        date.fromisoformat(start)
    except ValueError:
        start = ""
    return {
        "kind": kind if kind in ("discussion", "panel") else "",
        "state": state if state in STATES else "",
        "reference": text,
        "from": start,
    }


@needs_session(DESK)
def desk_home(opened: PartnerSession) -> Any:
    runtime = current_runtime()
    try:
        access = guarded("desk", opened)
    except PageRefused as refused:
        return _refused(refused)
    member = access.known_member
    filters = _filters()
    number = request.args.get("page", "1")
    page_number = int(number) if number.isdigit() and 0 < int(number) < 100_000 else 1
    query = select(Meeting).where(meetings_listed_for(member))
    if filters["kind"] == "panel":
        query = query.where(col(Meeting.meeting_type).like("%panel%"))
    elif filters["kind"] == "discussion":
        query = query.where(col(Meeting.meeting_type).notlike("%panel%"))
    if filters["state"]:
        query = query.where(col(Meeting.state) == filters["state"])
    if filters["reference"]:
        query = query.where(col(Meeting.reference).contains(filters["reference"]))
    if filters["from"]:
        start = datetime.combine(date.fromisoformat(filters["from"]), time(), tzinfo=UTC)
        query = query.where(col(Meeting.scheduled_start) >= start)
    with read_scope(runtime.engine) as session:
        total = int(session.exec(select(func.count()).select_from(query.subquery())).one())
        rows = session.exec(
            select(Meeting, Case.reference)
            .outerjoin(Case, col(Case.id) == Meeting.case_id)
            .where(col(Meeting.id).in_(query.with_only_columns(col(Meeting.id))))
            .order_by(col(Meeting.scheduled_start).desc(), col(Meeting.id).desc())
            .offset((page_number - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE)
        ).all()
    shown = [
        {
            "id": meeting.id,
            "reference": meeting.reference,
            "case": case_reference or "",
            "kind": "Panel" if "panel" in meeting.meeting_type else "Strategy discussion",
            "when": when(runtime.calendar, meeting.scheduled_start),
            "state": meeting.state,
        }
        for meeting, case_reference in rows
    ]
    return render_template(
        "desk/home.html",
        rows=shown,
        total=total,
        page_number=page_number,
        pages=max(1, -(-total // PAGE_SIZE)),
        filters=filters,
        states=STATES,
        query={k: v for k, v in filters.items() if v},
        member=member,
        may_export=bool(member.roles & {"panel_admin", "auditor"}),
    )


@needs_session(DESK)
def desk_meeting(opened: PartnerSession, meeting_id: int) -> Any:
    runtime = current_runtime()
    try:
        access = guarded("desk_meeting", opened, str(meeting_id))
    except PageRefused as refused:
        return _refused(refused)
    meeting = access.known_record.row
    with read_scope(runtime.engine) as session:
        documents = session.exec(
            select(col(Document.id), col(Document.kind), col(Document.version), col(Document.state))
            .where(Document.meeting_id == meeting.id, col(Document.state) == "approved")
            .order_by(col(Document.kind), col(Document.version))
        ).all()
        case = session.get(Case, meeting.case_id) if meeting.case_id else None
    return render_template(
        "desk/meeting.html",
        meeting=meeting,
        case_reference=case.reference if case else "",
        when=when(runtime.calendar, meeting.scheduled_start),
        documents=documents,
    )


@needs_session(DESK)
def desk_download(opened: PartnerSession, document_id: int) -> Any:
    runtime = current_runtime()
    try:
        access = guarded("desk_download", opened, str(document_id))
    except PageRefused as refused:
        return _refused(refused)
    with session_scope(runtime.engine) as session:
        document = session.get(Document, access.known_record.id)
        if document is None or document.state != "approved":
            return problem("Not available", "Only approved documents can be downloaded.", 404)
        content, filename = document.content, document.filename
        record(
            session,
            at=runtime.clock.now(),
            actor=access.actor,
            act="document.downloaded",
            record_type="document",
            record_id=document.id or 0,
            details={"via": "desk"},
        )
    return word_download(content, filename, "document.docx")


@needs_session(DESK)
def desk_audit(opened: PartnerSession) -> Any:
    runtime = current_runtime()
    try:
        access = guarded("desk_audit", opened)
    except PageRefused as refused:
        return _refused(refused)
    today = runtime.calendar.local(runtime.clock.now()).date()
    try:
        start = date.fromisoformat(request.args.get("from", ""))
    except ValueError:
        start = today - timedelta(days=30)
    try:
        end = date.fromisoformat(request.args.get("to", ""))
    except ValueError:
        end = today
    since = datetime.combine(start, time(), tzinfo=UTC)
    until = datetime.combine(end + timedelta(days=1), time(), tzinfo=UTC)
    with session_scope(runtime.engine) as session:
        record(
            session,
            at=runtime.clock.now(),
            actor=access.actor,
            act="audit.exported",
            record_type="audit",
            details={"from": start.isoformat(), "to": end.isoformat(), "via": "desk"},
        )
    filename = f"audit-{start.isoformat()}-{end.isoformat()}.csv"
    return Response(
        stream_with_context(_audit_csv(runtime.engine, since, until)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@needs_session(DESK)
def desk_timeliness(opened: PartnerSession) -> Any:
    """The timeliness figures of `bot.timeliness` (the `/timeliness` report), for the
    period chosen; an agency lead sees their agency against the partnership."""
    from bot.timeliness import service as timeliness
    from bot.timeliness.periods import choices
    from bot.timeliness.views import agencies_for, agency_line, headline_lines

    runtime = current_runtime()
    try:
        access = guarded("desk", opened)
    except PageRefused as refused:
        return _refused(refused)
    member = access.known_member
    today = timeliness.today(runtime)
    period = timeliness.period_asked(runtime, request.args.get("period", "")) or choices(today)[0]
    scope = timeliness.scope_of(member)
    with session_scope(runtime.engine) as session:
        measures = timeliness.measures_for(session, runtime, period)
        timeliness.audit_viewed(session, runtime, access.actor, period, scope, "timeliness.report_viewed")
    plain = lambda line: line.replace("*", "")  # noqa: E731 - Slack's bold marks, not needed here
    return render_template(
        "desk/timeliness.html",
        period=period,
        periods=choices(today),
        headline=[plain(line) for line in headline_lines(measures)],
        agencies=[plain(agency_line(a)) for a in agencies_for(measures, scope)],
    )


@needs_session(DESK)
def desk_timeliness_chart(opened: PartnerSession) -> Any:
    from bot.timeliness import service as timeliness
    from bot.timeliness.charts import headline_chart
    from bot.timeliness.periods import choices

    runtime = current_runtime()
    try:
        access = guarded("desk", opened)
    except PageRefused as refused:
        return _refused(refused)
    today = timeliness.today(runtime)
    period = timeliness.period_asked(runtime, request.args.get("period", "")) or choices(today)[0]
    with read_scope(runtime.engine) as session:
        measures = timeliness.measures_for(session, runtime, period)
    png = headline_chart(measures, timeliness.scope_of(access.known_member))
    return Response(png, mimetype="image/png")


blueprint.add_url_rule("/desk/", "home", desk_home)
blueprint.add_url_rule("/desk/meetings/<int:meeting_id>", "meeting", desk_meeting)
blueprint.add_url_rule("/desk/documents/<int:document_id>", "download", desk_download)
blueprint.add_url_rule("/desk/audit.csv", "audit", desk_audit)
blueprint.add_url_rule("/desk/timeliness", "timeliness", desk_timeliness)
blueprint.add_url_rule("/desk/timeliness/chart.png", "timeliness_chart", desk_timeliness_chart)


def _audit_csv(engine: Any, since: datetime, until: datetime) -> Iterator[str]:
    """The audit trail between two moments as CSV, a batch of entries per read (each its
    own short read, so a slow download holds no connection), read as columns, not objects."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(EXPORT_COLUMNS)
    after = 0
    while True:
        with read_scope(engine) as session:
            batch = session.execute(
                select(*HASHED_COLUMNS)
                .where(
                    col(AuditEntry.sequence) > after, col(AuditEntry.at) >= since, col(AuditEntry.at) < until
                )
                .order_by(col(AuditEntry.sequence))
                .limit(EXPORT_BATCH)
            ).all()
        writer.writerows(export_row(entry) for entry in batch)
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if len(batch) < EXPORT_BATCH:
            return
        after = batch[-1].sequence
