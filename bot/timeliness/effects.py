"""Sending the report's charts and figures through the outbox: the chart is drawn when it is
sent, from the record at that moment, and uploaded with files_upload_v2 into the person's
direct message."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from sqlmodel import Session

from bot.database import read_scope
from bot.delivery.models import OutboxMessage
from bot.delivery.service import Skip, enqueue
from bot.runtime import Runtime
from bot.timeliness import periods
from bot.timeliness.charts import headline_chart
from bot.timeliness.measures import Measures, measure

CHART_METHOD = "timeliness.chart"


def install(runtime: Runtime) -> None:
    """Teach the courier to draw and upload a report's chart."""

    @runtime.courier.sender(CHART_METHOD)
    def upload_chart(client: WebClient, message: OutboxMessage, arguments: dict[str, Any]) -> dict[str, Any]:
        now = runtime.clock.now()
        period = periods.parse(arguments["period"], runtime.statutory_calendar.local_date(now))
        if period is None:
            raise Skip()
        with read_scope(runtime.engine) as session:
            measures = measure(session, period, statutory=runtime.statutory_calendar, now=now)
        agency = arguments.get("agency") or None
        content = headline_chart(measures, agency)
        channel = arguments["channel"]
        if channel.startswith(("U", "W")):
            channel = client.conversations_open(users=channel)["channel"]["id"]
        name = f"timeliness-{period.code.replace(':', '-')}{'-' + agency if agency else ''}.png"
        response = client.files_upload_v2(
            channel=channel,
            content=content,
            filename=name,
            title=f"Timeliness: {period.label}",
            initial_comment=arguments.get("comment") or None,
        )
        return {"ok": True, "file": response.get("file") or {}, "channel": channel}


def send_chart(
    session: Session,
    measures: Measures,
    *,
    slack_id: str,
    agency_code: str | None,
    now: datetime,
    why: str = "",
) -> None:
    """Queue the chart for one person; `why` keeps a repeat of the same request from sending
    it twice (a fresh one each time the person asks again)."""
    enqueue(
        session,
        key=f"timeliness-chart:{measures.period.code}:{slack_id}:{why or uuid.uuid4().hex[:12]}",
        method=CHART_METHOD,
        arguments={
            "period": measures.period.code,
            "agency": agency_code or "",
            "channel": slack_id,
            "comment": f"Timeliness: {measures.period.label}. Figures only; OFFICIAL-SENSITIVE.",
        },
        now=now,
    )


def send_figures(
    session: Session, blocks_message: dict[str, Any], *, slack_id: str, now: datetime, why: str
) -> None:
    """The figures as a direct message (from the Home tab, where there is no reply to answer)."""
    enqueue(
        session,
        key=f"timeliness-figures:{slack_id}:{why}",
        method="chat.postMessage",
        arguments={"channel": slack_id, **blocks_message},
        now=now,
    )
