"""The report as a Word document from `templates/timeliness_report.docx` (restylable in
Word, rebuilt by `scripts/make_word_templates.py`), with the charts, and the CSV of the rows
behind every figure. Both are kept in the record as documents (no meeting, no case), so
what the board was sent can be shown later, and go out through the outbox."""

from __future__ import annotations

import hashlib
from dataclasses import asdict
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session

from bot.minutes.documents import render_document
from bot.minutes.models import Document
from bot.timeliness.charts import headline_chart
from bot.timeliness.measures import Measures, percent
from bot.timeliness.rows import as_csv, rows
from bot.timeliness.views import agencies_for, headline_lines
from bot.working_days import StatutoryCalendar

TEMPLATE = "timeliness_report.docx"
REPORT_KIND = "timeliness_report"
DATA_KIND = "timeliness_data"
VARIABLES: frozenset[str] = frozenset(
    {
        "marking",
        "partnership",
        "period",
        "scope",
        "as_at",
        "generated_at",
        "data_file",
        "headline",
        "chart",
        "discussions",
        "referral",
        "referral_bands",
        "icpc",
        "icpc_bands",
        "assessments",
        "agencies",
        "priorities",
        "panel",
    }
)


def filenames(measures: Measures, agency_code: str | None) -> tuple[str, str]:
    stem = f"timeliness-{measures.period.code.replace(':', '-')}" + (f"-{agency_code}" if agency_code else "")
    return f"{stem}.docx", f"{stem}-rows.csv"


def context(
    measures: Measures,
    *,
    agency_code: str | None,
    partnership: str,
    marking: str,
    statutory: StatutoryCalendar,
    data_file: str,
) -> dict[str, Any]:
    """What the template shows; every figure comes from `measures`."""
    m = measures
    when = statutory.local(m.as_at).strftime("%d %B %Y %H:%M")
    shown = agencies_for(m, agency_code)
    spread, icpc = m.referral_to_discussion, m.icpcs
    return {
        "marking": marking,
        "partnership": partnership,
        "period": m.period.label,
        "scope": "your agency against the partnership" if agency_code else "every agency in the partnership",
        "as_at": when,
        "generated_at": when,
        "data_file": data_file,
        "headline": [line.replace("*", "") for line in headline_lines(m)],
        "discussions": [{**asdict(u), "share": percent(u.within, u.held)} for u in m.discussions],
        "referral": {
            "count": spread.count,
            "median": "none" if spread.median is None else f"{spread.median:g}",
            "mean": "none" if spread.mean is None else f"{spread.mean:g}",
        },
        "referral_bands": [{"label": label, "count": count} for label, count in spread.bands],
        "icpc": {
            "held": icpc.held,
            "within": icpc.within,
            "share": percent(icpc.within, icpc.held),
            "late": icpc.late,
            "not_required": icpc.not_required,
            "outstanding": icpc.outstanding_past_target,
            "started": icpc.enquiries_started,
            "median": "none" if icpc.working_days.median is None else f"{icpc.working_days.median:g}",
            "mean": "none" if icpc.working_days.mean is None else f"{icpc.working_days.mean:g}",
        },
        "icpc_bands": [{"label": label, "count": count} for label, count in icpc.working_days.bands],
        "assessments": {
            **asdict(m.assessments),
            "share": percent(m.assessments.within, m.assessments.completed),
        },
        "agencies": [
            {
                **{name: getattr(a, name) for name in a.__dataclass_fields__ if name != "by_priority"},
                "invited": a.invited,
                "updates_expected": a.updates_expected,
                "updates_share": percent(a.updates_on_time, a.updates_expected),
                "actions_share": percent(a.actions_done_on_time, a.actions_due),
            }
            for a in shown
        ],
        "priorities": [
            {
                "agency": a.name,
                "priority": priority,
                **{
                    key: counts.get(key, 0)
                    for key in (
                        "due",
                        "done_on_time",
                        "done_late",
                        "open_past_due",
                        "escalated",
                        "overdue_now",
                    )
                },
            }
            for a in shown
            if a.code != "partnership"
            for priority, counts in sorted(a.by_priority.items())
        ],
        "panel": asdict(m.panel),
    }


def make_documents(
    session: Session,
    measures: Measures,
    *,
    agency_code: str | None,
    templates_dir: Path,
    partnership: str,
    marking: str,
    statutory: StatutoryCalendar,
    created_by_id: int | None,
    now: datetime,
) -> tuple[Document, Document]:
    """Render the Word report and the rows' CSV and add both to the record (flushed, so they
    have ids for the outbox)."""
    report_name, data_name = filenames(measures, agency_code)
    chart = headline_chart(measures, agency_code)
    rendered = render_document(
        templates_dir / TEMPLATE,
        context(
            measures,
            agency_code=agency_code,
            partnership=partnership,
            marking=marking,
            statutory=statutory,
            data_file=data_name,
        ),
        images={"chart": chart},
    )
    data = as_csv(rows(session, measures.period, statutory=statutory, now=measures.as_at))
    documents = []
    for kind, filename, content, sha in (
        (REPORT_KIND, report_name, rendered.content, rendered.sha256),
        (DATA_KIND, data_name, data, hashlib.sha256(data).hexdigest()),
    ):
        document = Document(
            kind=kind,
            version=1,
            state="issued",
            filename=filename,
            sha256=sha,
            content=content,
            created_by_id=created_by_id,
            created_at=now,
        )
        session.add(document)
        documents.append(document)
    session.flush()
    return documents[0], documents[1]
