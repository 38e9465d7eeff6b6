"""The administrators' desk: a sign-in link by Slack DM from the Home tab, for panel
administrators and agency leads only; discussions and panels a page at a time with filters;
the audit export (streamed CSV) for administrators; refusals on the audit trail."""

from __future__ import annotations

import csv
import io
import re

import requests
from sqlmodel import Session, select

from bot.audit.models import AuditEntry
from bot.partners.models import PartnerLink
from tests.convening_support import CHILD_NAME, SOCIAL_WORKER, convene, settle
from tests.partners_support import use_link

PANEL_ADMIN = "U0BSC001"
POLICE_LEAD = "U0PPU020"  # DI Aled Hughes, lead of police-ppu
EDUCATION_LEAD = "U0EDU020"
DM_LINK = re.compile(r"<(http[^|>]+/p/[^|>]+)\|")


def _sign_in_link(bot, user: str) -> str | None:
    before = len(bot.local_slack.calls)
    bot.slack.block_actions(user, [{"action_id": "desk_sign_in", "block_id": "desk", "value": "desk"}])
    settle(bot)
    for call in bot.local_slack.calls[before:]:
        if call.method == "chat.postMessage" and call.args.get("channel") == user:
            found = DM_LINK.search(str(call.args.get("text", "")))
            if found:
                return found.group(1)
    return None


def _acts(bot) -> list[str]:
    with Session(bot.runtime.engine) as session:
        return list(session.exec(select(AuditEntry.act).order_by(AuditEntry.sequence)))


def test_the_home_tab_offers_the_desk_to_administrators_only(bot) -> None:
    bot.slack.event({"type": "app_home_opened", "user": PANEL_ADMIN, "tab": "home"})
    bot.slack.event({"type": "app_home_opened", "user": SOCIAL_WORKER, "tab": "home"})
    settle(bot)
    views = {
        c.args["user_id"]: str(c.args["view"]) for c in bot.local_slack.calls if c.method == "views.publish"
    }
    assert "desk_sign_in" in views[PANEL_ADMIN]
    assert "desk_sign_in" not in views[SOCIAL_WORKER]
    assert _sign_in_link(bot, SOCIAL_WORKER) is None
    assert _acts(bot)[-1] == "desk.sign_in_refused"
    with Session(bot.runtime.engine) as session:
        assert session.exec(select(PartnerLink)).all() == []


def test_an_administrator_signs_in_filters_and_exports_the_audit_trail(bot) -> None:
    meeting = convene(bot)
    link = _sign_in_link(bot, PANEL_ADMIN)
    assert link is not None
    with Session(bot.runtime.engine) as session:
        stored = " ".join(str(c.args) for c in bot.local_slack.calls if c.method == "chat.postMessage")
        outbox = " ".join(str(m) for m in session.exec(select(AuditEntry.details)))
    assert link.rsplit("/", 1)[1] in stored and link.rsplit("/", 1)[1] not in outbox
    browser = requests.Session()
    desk = use_link(browser, link)
    assert desk.url.endswith("/desk/") and meeting.reference in desk.text
    assert "OFFICIAL-SENSITIVE" in desk.text and CHILD_NAME not in desk.text
    assert meeting.reference not in browser.get(f"{bot.base_url}/desk/?kind=panel").text
    assert meeting.reference in browser.get(f"{bot.base_url}/desk/?kind=discussion&state=convening").text or (
        meeting.reference in browser.get(f"{bot.base_url}/desk/?kind=discussion").text
    )
    assert meeting.reference not in browser.get(f"{bot.base_url}/desk/?reference=ZZZ").text
    detail = browser.get(f"{bot.base_url}/desk/meetings/{meeting.id}")
    assert detail.status_code == 200 and "No approved documents yet." in detail.text
    figures = browser.get(f"{bot.base_url}/desk/timeliness")
    assert figures.status_code == 200 and "Strategy discussions held" in figures.text
    chart = browser.get(f"{bot.base_url}/desk/timeliness/chart.png")
    assert chart.headers["Content-Type"] == "image/png" and chart.content.startswith(b"\x89PNG")
    assert "timeliness.report_viewed" in _acts(bot)
    export = browser.get(f"{bot.base_url}/desk/audit.csv")
    assert export.status_code == 200 and export.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(export.text)))
    assert rows[0][0] == "sequence" and any(r[5] == "partner_link.used" for r in rows[1:])
    assert "audit.exported" in _acts(bot)
    # The link worked once; the session does not open another person's pages.
    assert requests.get(link).status_code == 410
    assert browser.get(f"{bot.base_url}/partner/actions").status_code == 401


def test_an_agency_lead_sees_their_agencys_discussions_and_no_audit_export(bot) -> None:
    meeting = convene(bot)
    browser = requests.Session()
    desk = use_link(browser, _sign_in_link(bot, POLICE_LEAD))
    assert meeting.reference in desk.text  # police-ppu was invited
    assert "audit.csv" not in desk.text
    refused = browser.get(f"{bot.base_url}/desk/audit.csv")
    assert refused.status_code == 403 and "panel administrators and auditors" in refused.text
    assert _acts(bot)[-1] == "audit.export_refused"
    other = requests.Session()
    other_desk = use_link(other, _sign_in_link(bot, "U0EHP020"))  # early help was not invited
    assert meeting.reference not in other_desk.text
    hidden = other.get(f"{bot.base_url}/desk/meetings/{meeting.id}")
    missing = other.get(f"{bot.base_url}/desk/meetings/999999")
    nonce = re.compile(r'nonce="[^"]+"')  # each page's script nonce differs; nothing else may
    assert hidden.status_code == missing.status_code == 403
    assert nonce.sub("", hidden.text) == nonce.sub("", missing.text)
