"""The administrators' desk at the scale the bar sets: 30,000 discussions, the list's first
and last pages and a filtered page over HTTP, each a fixed number of queries.

    .venv/bin/python tests/benchmarks/bench_desk.py [discussions]
"""

from __future__ import annotations

import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

import requests
from sqlalchemy import insert
from sqlmodel import Session, select

from bot.convening.models import Meeting
from bot.partners.links import issue_link, token_for
from bot.partnership.models import Person
from bot_offline.driver import OfflineBot

CSRF = 'name="csrf_token" type="hidden" value="'


def main(count: int = 30_000) -> None:
    with OfflineBot(delivery_interval_seconds=None) as bot:
        start = datetime(2024, 1, 1, 10, 0, tzinfo=UTC)
        rows = [
            {
                "reference": f"SD-{2024 + n // 9000}-{n % 9000 + 1:04d}",
                "meeting_type": "strategy_discussion",
                "state": ("scheduled", "held", "closed", "cancelled")[n % 4],
                "scheduled_start": start + timedelta(hours=n),
                "format": "meeting",
                "concerns": [],
                "details": {},
                "duration_minutes": 60,
                "calendar_sequence": 0,
                "created_at": start,
            }
            for n in range(count)
        ]
        with Session(bot.runtime.engine) as session:
            for chunk in range(0, count, 5000):
                session.exec(insert(Meeting), params=rows[chunk : chunk + 5000])  # type: ignore[call-overload]
            admin = session.exec(select(Person).where(Person.slack_user_id == "U0BSC001")).one()
            link = issue_link(
                session,
                person_id=admin.id or 0,
                purpose="desk",
                subject_id=None,
                now=bot.clock.now(),
                lifetime=timedelta(minutes=15),
            )
            session.commit()
            url = f"{bot.base_url}/p/{token_for(bot.runtime.settings.site_secret, link)}"
        browser = requests.Session()
        shown = browser.get(url).text
        token = shown.split(CSRF, 1)[1].split('"', 1)[0]
        browser.post(url, data={"csrf_token": token})
        last = -(-count // 25)
        for label, path in (
            ("first page", "/desk/"),
            (f"page {last}", f"/desk/?page={last}"),
            ("filtered: held, reference 2025", "/desk/?state=held&reference=2025"),
        ):
            times = []
            for _ in range(5):
                began = time.perf_counter()
                answer = browser.get(bot.base_url + path)
                times.append((time.perf_counter() - began) * 1000)
                assert answer.status_code == 200
            print(f"{count} discussions, {label}: median {statistics.median(times):.0f} ms (5 requests)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30_000)
