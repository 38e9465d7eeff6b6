"""The timeliness report through Slack, as people use it: signed `/strategy report`
commands, the period select and the download button, and the Home tab, against the local
Slack on both databases with the clock set to Tuesday 5 January 2027; the documents are
re-opened with python-docx and read back through LibreOffice."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import docx
import pytest
from sqlmodel import Session, select

from bot.audit.models import AuditEntry
from tests.timeliness_support import AS_AT, seed_december

ADMIN = "U0BSC001"  # a panel administrator
PPU_LEAD = "U0PPU020"  # the police Public Protection Unit's lead
SOCIAL_WORKER = "U0CSC001"  # a convenor: not an administrator or a lead
STRANGER = "U0NOBODY"
REFUSAL = "Only panel administrators and agency leads can see the partnership's timeliness report."
IN_CI = os.environ.get("CI") == "true"


@pytest.fixture
def seeded(bot):
    bot.clock.set(AS_AT)
    seed_december(bot.runtime.engine)
    return bot


def _acts(bot) -> list[str]:
    with Session(bot.runtime.engine) as session:
        return [e.act for e in session.exec(select(AuditEntry).order_by(AuditEntry.sequence))]


def _replies(bot) -> list[dict]:
    return [c.args for c in bot.local_slack.responses()]


def _uploads(bot, suffix: str) -> list:
    return [u for u in bot.local_slack.uploaded_files() if u.filename.endswith(suffix) and u.completed]


def test_an_administrator_sees_every_agency_with_the_chart_in_a_direct_message(seeded) -> None:
    bot = seeded
    response = bot.slack.command("/strategy", "report 2026-12", user_id=ADMIN)
    assert response.status == 200
    bot.settle()
    reply = json.dumps(_replies(bot)[-1])
    assert "Timeliness: December 2026" in reply
    assert "*Strategy discussions held:* 4; within their urgency's timescale 3 (75%)" in reply
    assert "*ICPCs held:* 2; within 15 working days 1 (50%), late 1" in reply
    assert "Youth" in reply and "The partnership" in reply  # every agency with something to show
    assert "CS-9" not in reply and "SD-2026" not in reply and "Not For Slack" not in reply  # figures only
    charts = _uploads(bot, ".png")
    assert [c.filename for c in charts] == ["timeliness-month-2026-12.png"]
    assert charts[0].content.startswith(b"\x89PNG") and charts[0].channel.startswith("D")
    assert "timeliness.report_viewed" in _acts(bot)


def test_an_agency_lead_sees_their_own_agency_against_the_partnership(seeded) -> None:
    bot = seeded
    bot.slack.command("/strategy", "report 2026-12", user_id=PPU_LEAD)
    bot.settle()
    blocks = _replies(bot)[-1]["blocks"]
    agency_lines = [
        b["text"]["text"] for b in blocks if b["type"] == "section" and "attended" in b["text"]["text"]
    ]
    assert len(agency_lines) == 2
    assert agency_lines[0].startswith("*West Midlands Police - Public Protection Unit")
    assert "updates on time 1 of 3 (late 0, missing 2)" in agency_lines[0]
    assert agency_lines[1].startswith("*The partnership*")


def test_everyone_else_is_refused_in_the_same_words_and_audited(seeded) -> None:
    bot = seeded
    bot.local_slack.add_user(STRANGER, "stranger")
    for user in (SOCIAL_WORKER, STRANGER):
        for text in ("report", "report 2026-12"):
            response = bot.slack.command("/strategy", text, user_id=user)
            assert response.json()["text"] == REFUSAL
        for action_id, value in (("timeliness_download", "month:2026-12"), ("timeliness_period", "ytd:2026")):
            bot.slack.block_actions(
                user,
                [{"action_id": action_id, "value": value, "selected_option": {"value": value}}],
                message={"ts": "1.000", "text": "x"},
                channel_id="C0GENERAL",
            )
    bot.settle()
    assert _acts(bot).count("timeliness.report_refused") == 8
    assert "timeliness.report_viewed" not in _acts(bot)
    assert _uploads(bot, ".png") == [] and _uploads(bot, ".docx") == []


def test_a_period_that_does_not_exist_is_explained(seeded) -> None:
    response = seeded.slack.command("/strategy", "report 2027-02", user_id=ADMIN)  # the future
    assert "I do not know that period" in response.json()["text"]


def test_choosing_another_period_replaces_the_reply(seeded) -> None:
    bot = seeded
    bot.slack.command("/strategy", "report", user_id=ADMIN)  # the last complete month
    bot.settle()
    assert "Timeliness: December 2026" in json.dumps(_replies(bot)[-1])
    select_option = {
        "action_id": "timeliness_period",
        "type": "static_select",
        "selected_option": {"value": "quarter:2026-4"},
    }
    bot.slack.block_actions(
        ADMIN, [select_option], message={"ts": "1.000", "text": "x"}, channel_id="C0GENERAL"
    )
    bot.settle()
    reply = _replies(bot)[-1]
    assert reply["replace_original"] is True
    assert "Timeliness: October to December 2026" in json.dumps(reply)
    assert "*Strategy discussions held:* 5" in json.dumps(reply)
    assert sorted(c.filename for c in _uploads(bot, ".png")) == [
        "timeliness-month-2026-12.png",
        "timeliness-quarter-2026-4.png",
    ]


def test_the_home_tab_has_the_section_for_administrators_and_leads_only(seeded) -> None:
    bot = seeded
    for user, shown in ((ADMIN, True), (PPU_LEAD, True), (SOCIAL_WORKER, False)):
        bot.local_slack.reset_calls()
        bot.slack.event({"type": "app_home_opened", "user": user, "tab": "home"})
        calls = bot.local_slack.wait_for(lambda calls: any(c.method == "views.publish" for c in calls))
        view = json.dumps([c.args for c in calls if c.method == "views.publish"][-1])
        assert ('"Timeliness"' in view) is shown, user
        if shown:
            assert "December 2026:* discussions within timescale 3 of 4" in view
    # choosing a period on the Home tab sends the figures and the chart by direct message
    bot.local_slack.reset_calls()
    option = {
        "action_id": "timeliness_period",
        "type": "static_select",
        "selected_option": {"value": "month:2026-12"},
    }
    bot.slack.block_actions(PPU_LEAD, [option], view={"type": "home", "blocks": []})
    bot.settle()
    posted = [c.args for c in bot.local_slack.calls_to("chat.postMessage") if c.ok]
    assert any("Timeliness: December 2026" in json.dumps(p) for p in posted)
    assert [u.filename for u in _uploads(bot, ".png")][-1] == "timeliness-month-2026-12-police-ppu.png"


def _pdf_text(content: bytes, tmp_path: Path) -> str:
    office = shutil.which("soffice") or shutil.which("libreoffice")
    pdftotext = shutil.which("pdftotext")
    if office is None or pdftotext is None:
        if IN_CI:
            pytest.fail("LibreOffice and pdftotext must be installed in CI: .ci/run installs them")
        pytest.skip("LibreOffice or pdftotext is not installed; CI installs them and runs this check")
    source = tmp_path / "report.docx"
    source.write_bytes(content)
    subprocess.run(
        [
            office,
            f"-env:UserInstallation={(tmp_path / 'lo-profile').as_uri()}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=240,
    )
    text = subprocess.run(
        [pdftotext, "-layout", str(tmp_path / "report.pdf"), "-"], check=True, capture_output=True, text=True
    ).stdout
    return " ".join(text.split())


def _ask_for_the_word_report(bot) -> None:
    """The administrator's *Download* for December 2026, and what follows it."""
    bot.slack.block_actions(
        ADMIN,
        [{"action_id": "timeliness_download", "value": "month:2026-12"}],
        message={"ts": "1.000", "text": "x"},
        channel_id="C0GENERAL",
    )
    bot.settle()


def test_the_word_report_and_its_rows_are_sent_on_request(seeded, tmp_path) -> None:
    bot = seeded
    _ask_for_the_word_report(bot)
    [report] = _uploads(bot, ".docx")
    [data] = _uploads(bot, ".csv")
    assert report.filename == "timeliness-month-2026-12.docx"
    assert data.filename == "timeliness-month-2026-12-rows.csv"
    assert report.channel.startswith("D") and data.channel == report.channel
    assert "Sending you timeliness-month-2026-12.docx and timeliness-month-2026-12-rows.csv" in json.dumps(
        _replies(bot)
    )
    assert _acts(bot).count("document.downloaded") == 2

    document = docx.Document(io.BytesIO(report.content))
    text = "\n".join(p.text for p in document.paragraphs)
    cells = [[c.text for c in row.cells] for table in document.tables for row in table.rows]
    assert "Timeliness report: December 2026" in text
    assert "OFFICIAL-SENSITIVE" in document.sections[0].header.paragraphs[0].text
    assert ["urgent", "2", "2", "0", "100%", "1"] in cells
    assert ["16 to 20", "1"] in cells  # the ICPC working days summary
    assert ["Within 15 working days", "1 (50%)"] in cells
    assert any(row[0] == "The partnership" and row[1:5] == ["4", "1 (25%)", "1", "2"] for row in cells)
    assert len(document.inline_shapes) == 1  # the chart
    assert "Not For Slack" not in text

    rows = list(csv.DictReader(io.StringIO(data.content.decode("utf-8-sig"))))
    counted = Counter((r["measure"], r["counted_as"]) for r in rows)
    assert counted[("discussion", "within")] == 3 and counted[("discussion", "late")] == 1
    assert counted[("icpc", "held within 15 working days")] == 1 and counted[("icpc", "held late")] == 1
    assert counted[("icpc", "not required")] == 1 and counted[("icpc", "past target, not held")] == 1
    assert (
        counted[("assessment", "completed late")] == 1
        and counted[("assessment", "open past the deadline")] == 1
    )
    assert counted[("agency update", "missing")] == 2 and counted[("attendance", "delegate")] == 1
    assert counted[("action due", "done by the due date")] == 1 and counted[("action due", "done late")] == 1
    assert sum(v for (m, _), v in counted.items() if m == "action overdue now") == 3
    # An action's row read from its columns alone (not the whole record) says all it did.
    assert counted[("action due", "open past due; escalated")] == 1
    assert counted[("action overdue now", "escalated")] == 1
    late = next(r for r in rows if (r["measure"], r["counted_as"]) == ("action due", "done late"))
    assert late["record"].startswith("ACT-2026-") and (
        late["agency"],
        late["category"],
        late["from"],
        late["to"],
        late["target"],
    ) == ("police-cid", "high", "2026-11-02", "2026-12-12", "2026-12-11")
    assert counted[("panel review", "NRM referred")] == 1
    late_icpc = next(r for r in rows if r["counted_as"] == "held late")
    assert (late_icpc["from"], late_icpc["to"], late_icpc["target"], late_icpc["working_days"]) == (
        "2026-12-01",
        "2026-12-29",
        "2026-12-22",
        "18",
    )

    flat = _pdf_text(report.content, tmp_path)
    assert "Timeliness report: December 2026" in flat
    assert "ICPC working days summary" in flat
    assert flat.count("OFFICIAL-SENSITIVE") >= 2
    assert "Strategy discussions held: 4; within their urgency's timescale 3 (75%)" in flat


def test_a_chart_that_cannot_be_drawn_sends_neither_document(seeded, monkeypatch) -> None:
    """A chart that cannot be drawn fails the download whole: no document kept, queued or
    audited, and no promise of them."""
    from bot.minutes.models import Document
    from bot.timeliness import report

    def broken(*_args: object) -> bytes:
        raise RuntimeError("no chart")

    monkeypatch.setattr(report, "headline_chart", broken)
    bot = seeded
    _ask_for_the_word_report(bot)
    assert not _uploads(bot, ".docx") and not _uploads(bot, ".csv")
    assert "Sending you" not in json.dumps(_replies(bot))
    assert "document.downloaded" not in _acts(bot)
    with Session(bot.runtime.engine) as session:
        kinds = session.exec(select(Document.kind)).all()
    assert not {report.REPORT_KIND, report.DATA_KIND} & set(kinds)


def test_the_monthly_report_goes_to_administrators_on_the_first_working_day_once(seeded) -> None:
    """New Year's Day 2027 is a Friday bank holiday: December's report goes out on Monday 4
    January, in working hours, to both panel administrators, and only once."""
    from bot.timeliness.jobs import send_monthly_report
    from tests.timeliness_support import utc

    bot = seeded
    bot.clock.set(utc(2026, 12, 31, 10))
    assert send_monthly_report(bot.runtime) == 2  # November's had not gone (a new bot catches up)
    for moment in (utc(2026, 12, 31, 11), utc(2027, 1, 1, 10), utc(2027, 1, 4, 7)):  # not yet
        bot.clock.set(moment)
        assert send_monthly_report(bot.runtime) == 0
    bot.clock.set(utc(2027, 1, 4, 9, 30))
    assert send_monthly_report(bot.runtime) == 2
    assert send_monthly_report(bot.runtime) == 0  # the next sweep: already sent
    bot.clock.set(utc(2027, 1, 20, 9, 30))
    assert send_monthly_report(bot.runtime) == 0  # nor later in the month
    bot.settle()
    # Each administrator got each document (as a set: the outbox delivers at least once, and
    # an upload whose answer was lost under load may be repeated; the month itself is claimed
    # once, as the audit trail below shows).
    sent = sorted(
        {
            (u.filename, u.channel)
            for u in bot.local_slack.uploaded_files()
            if u.completed and "2026-12" in u.filename
        }
    )
    assert [name for name, _ in sent] == [
        "timeliness-month-2026-12-rows.csv",
        "timeliness-month-2026-12-rows.csv",
        "timeliness-month-2026-12.docx",
        "timeliness-month-2026-12.docx",
    ]
    assert len({channel for _, channel in sent}) == 2  # one direct message each
    assert _acts(bot).count("timeliness.monthly_report_sent") == 2  # November's and December's
    report = next(u for u in bot.local_slack.uploaded_files() if u.filename.endswith("2026-12.docx"))
    assert "Timeliness report: December 2026" in "\n".join(
        p.text for p in docx.Document(io.BytesIO(report.content)).paragraphs
    )
