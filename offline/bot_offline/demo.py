"""`python -m bot demo`: the real app on loopback, a local Slack, a fresh SQLite database, and a
scripted scenario sent as Slack would send it, on a simulated clock. Each capability adds its
steps here."""

from __future__ import annotations

import json
import logging
import textwrap
import time
import urllib.request
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from bot.clock import SettableClock
from bot.convening.jobs import sweep_invitations
from bot.convening.models import Invitation, InvitationMessage, Meeting
from bot.partnership.models import Agency
from bot_offline import panel as panel_offline
from bot_offline.driver import SAMPLE_CHILD_NAME, OfflineBot, open_strategy_form, strategy_form_values
from bot_offline.reading import plain

# The demo's people come from the sample partnership in schedules/.
SOCIAL_WORKER = "U0CSC001"
POLICE_PPU = "U0PPU001"
HEALTH = "U0HLT001"
LOCATE = "U0LOC001"
LOCATE_DELEGATE = "U0LOC002"
POLICE_LEAD = "U0PPU020"
PANEL_ADMIN = "U0BSC001"
# Tuesday 10 November 2026, 10:00 in London: a working morning.
DEMO_START = datetime(2026, 11, 10, 10, 0, tzinfo=UTC)

Step = Callable[[OfflineBot], None]


# Who a Slack user id is, from the partnership's schedules (set when the demo starts).
_names: dict[str, str] = {}


def _say(text: str) -> None:
    """Print a line of the story as a practitioner reads it: no Slack markup, people named."""
    print(textwrap.indent(plain(text, _names.get), "    "))


def _count(number: int, thing: str) -> str:
    """ "1 chase step", "3 chase steps": counts as a person writes them."""
    return f"{number} {thing}" if number == 1 else f"{number} {thing}s"


def _first_line(text: str) -> str:
    """A message's first line, whole: the demo never cuts a sentence."""
    return text.strip().splitlines()[0] if text.strip() else ""


def _clock(bot: OfflineBot) -> SettableClock:
    """The demo moves time itself, so its bot always runs on a settable clock."""
    if not isinstance(bot.clock, SettableClock):
        raise TypeError("the demo needs a SettableClock")
    return bot.clock


def _slack_text(body: str) -> str:
    try:
        return str(json.loads(body).get("text", ""))
    except (ValueError, AttributeError):
        return body


def blocks_as_text(blocks: list[dict[str, Any]]) -> str:
    """A message's blocks as plain lines, roughly as Slack shows them."""
    lines: list[str] = []
    for block in blocks:
        if block["type"] == "section" and block.get("text"):
            lines.extend(block["text"]["text"].splitlines())
        elif block["type"] == "context":
            lines.extend(e.get("text", "") for e in block["elements"])
        elif block["type"] == "actions":
            lines.append("  ".join(f"[{e['text']['text']}]" for e in block["elements"]))
        elif block["type"] == "divider":
            lines.append("-" * 40)
    return "\n".join(lines)


def step_health(bot: OfflineBot) -> None:
    """The load balancer's health check asks the database."""
    with urllib.request.urlopen(f"{bot.base_url}/healthz", timeout=5) as response:
        _say(f"GET /healthz -> {response.status} {response.read().decode()}")


def step_forged_request(bot: OfflineBot) -> None:
    """A request with a forged signature is refused before any listener runs."""
    forged = bot.slack.command("/strategy", "help", user_id=SOCIAL_WORKER, signing_secret_override="wrong")
    stale = bot.slack.command(
        "/strategy", "help", user_id=SOCIAL_WORKER, timestamp_override=int(time.time()) - 600
    )
    _say(f"forged signature -> HTTP {forged.status}; ten-minute-old timestamp -> HTTP {stale.status}")


def step_strategy_help(bot: OfflineBot) -> None:
    """A social worker asks what `/strategy` can do; the answer is private to them."""
    response = bot.slack.command("/strategy", "help", user_id=SOCIAL_WORKER)
    _say(f"/strategy help -> HTTP {response.status}, ephemeral reply:")
    _say(textwrap.indent(_slack_text(response.body), "  | "))


def step_unknown_subcommand(bot: OfflineBot) -> None:
    """A mistyped sub-command gets usage help, not silence."""
    response = bot.slack.command("/strategy", "frobnicate", user_id=SOCIAL_WORKER)
    last_line = _slack_text(response.body).splitlines()[-1]
    _say(f"/strategy frobnicate -> {last_line}")


def step_home_tab(bot: OfflineBot) -> None:
    """Opening the Home tab publishes a view naming the person's agency and roles."""
    bot.slack.event({"type": "app_home_opened", "user": SOCIAL_WORKER, "tab": "home", "channel": "D0HOME"})
    bot.local_slack.wait_for(lambda calls: any(c.method == "views.publish" for c in calls))
    view = bot.local_slack.home_view(SOCIAL_WORKER) or {}
    section = next(b for b in view.get("blocks", []) if b["type"] == "section")
    _say("Home tab published:")
    _say(textwrap.indent(section["text"]["text"], "  | "))


def _meeting(bot: OfflineBot) -> Meeting:
    with Session(bot.runtime.engine) as session:
        meeting = session.exec(select(Meeting).order_by(col(Meeting.id))).first()
    if meeting is None:
        raise RuntimeError("no discussion was convened")
    return meeting


def _invitation_id(bot: OfflineBot, agency_code: str) -> int:
    with Session(bot.runtime.engine) as session:
        invitation = session.exec(
            select(Invitation)
            .join(Agency, col(Agency.id) == col(Invitation.agency_id))
            .where(col(Invitation.meeting_id) == _meeting(bot).id, col(Agency.code) == agency_code)
        ).one()
    return invitation.id or 0


def step_convene(bot: OfflineBot) -> None:
    """A social worker convenes an urgent discussion; the form opens pre-filled."""
    view = open_strategy_form(bot, SOCIAL_WORKER, "CS-1234567")
    start = next(b for b in view["blocks"] if b.get("block_id") == "start")["element"]["initial_date_time"]
    deadlines = next(b for b in view["blocks"] if b["type"] == "context" and "Deadlines" in json.dumps(b))
    _say(
        f"/strategy new CS-1234567 -> modal '{view['title']['text']}', first free slot "
        f"{bot.runtime.calendar.local(datetime.fromtimestamp(start, UTC)):%a %d %b %H:%M}"
    )
    _say(deadlines["elements"][0]["text"])
    late = bot.slack.view_submission(
        SOCIAL_WORKER,
        view,
        values=strategy_form_values(
            start={
                "type": "datetimepicker",
                "selected_date_time": int(datetime(2026, 11, 14, 10, 0, tzinfo=UTC).timestamp()),
            }
        ),
    )
    _say(f"submitted for Saturday -> inline error: {late.json()['errors']['start']}")
    response = bot.slack.view_submission(SOCIAL_WORKER, view, values=strategy_form_values())
    bot.settle()
    meeting = _meeting(bot)
    _say(
        f"submitted -> HTTP {response.status}; stored as {meeting.reference}, deadline "
        f"{bot.runtime.calendar.local(meeting.deadline):%a %d %b %H:%M}"
        if meeting.deadline
        else ""
    )
    channel = bot.local_slack.channel(meeting.channel_id or "") or {}
    _say(f"private channel #{channel.get('name')} created; convenor and chair invited")
    with Session(bot.runtime.engine) as session:
        rows = session.exec(
            select(col(Agency.name), col(InvitationMessage.person_id))
            .join(Invitation, col(Invitation.agency_id) == col(Agency.id))
            .join(InvitationMessage, col(InvitationMessage.invitation_id) == col(Invitation.id))
            .where(col(Invitation.meeting_id) == meeting.id)
        ).all()
    agencies = sorted({name for name, _ in rows})
    _say(f"{len(rows)} invitations sent by DM to {len(agencies)} agencies: {', '.join(agencies)}")
    files = [u for u in bot.local_slack.uploaded_files() if u.filename.endswith(".ics")]
    _say(f"{len(files)} calendar invitations ({files[0].filename}) uploaded through files_upload_v2")
    flagged = [
        c
        for c in bot.local_slack.calls_to("chat.postMessage")
        if "no Slack account" in c.args.get("text", "")
    ]
    if flagged:
        _say("the convenor is told who has no Slack account:")
        _say(textwrap.indent(flagged[0].args["text"], "  | "))


def step_answers(bot: OfflineBot) -> None:
    """Three agencies answer from their invitations: attending, written update, a delegate."""
    bot.slack.block_actions(
        POLICE_PPU, [{"action_id": "invitation_attending", "value": str(_invitation_id(bot, "police-ppu"))}]
    )
    _say("Police (PPU) clicks [Attending]")
    bot.slack.block_actions(
        HEALTH, [{"action_id": "invitation_written_update", "value": str(_invitation_id(bot, "health"))}]
    )
    _say("Health clicks [Written update only]")
    forms = len(bot.local_slack.calls_to("views.open"))
    bot.slack.block_actions(
        LOCATE, [{"action_id": "invitation_delegate", "value": str(_invitation_id(bot, "locate"))}]
    )
    modal = bot.local_slack.wait_for_new("views.open", forms).response["view"]
    bot.slack.view_submission(
        LOCATE,
        modal,
        values={
            "delegate": {
                "value": {
                    "type": "static_select",
                    "selected_option": {
                        "value": LOCATE_DELEGATE,
                        "text": {"type": "plain_text", "text": "delegate"},
                    },
                }
            }
        },
    )
    _say(f"Locate clicks [Sending a delegate] and picks <@{LOCATE_DELEGATE}>")
    bot.slack.block_actions(
        HEALTH,
        [{"action_id": "invitation_attending", "value": str(_invitation_id(bot, "police-cid"))}],
        message={"ts": "1", "text": "invitation"},
        channel_id="D0HEALTH",
    )
    bot.settle()
    refusal = [c for c in bot.local_slack.calls if c.method == "response_url"]
    if refusal:
        _say(f"Health tries to answer for Force CID -> refused: {refusal[-1].args.get('text')}")
    updates = [c for c in bot.local_slack.calls_to("chat.update") if c.ok]
    # Counted as messages, not calls: how often one message is refreshed depends on timing.
    changed = {(c.args.get("channel"), c.args.get("ts")) for c in updates}
    _say(f"{len(changed)} messages updated in place (invitations and the live status)")


def step_partner_without_slack(bot: OfflineBot) -> None:
    """Education's designated safeguarding lead has no Slack: her invitation came by e-mail
    (GOV.UK Notify, here the local stand-in) with her own link; she answers on the page."""
    import re

    import requests

    notify = bot.runtime.settings.notify_base_url
    emails = json.loads(urllib.request.urlopen(f"{notify}/_sent").read())  # the stand-in's log
    mine = [e for e in emails if e["email_address"].startswith("h.kaur@")]
    if not mine:
        _say("No partner e-mail was sent (is e-mail configured?)")
        return
    subject, body = mine[0]["personalisation"]["subject"], mine[0]["personalisation"]["body"]
    _say(f"E-mail to Harpreet Kaur (Education, no Slack): {subject}")
    link = re.search(r"https?://\S+/p/\S+", body)
    assert link is not None
    browser = requests.Session()
    shown = browser.get(link.group(0))
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', shown.text)
    assert token is not None
    page = browser.post(link.group(0), data={"csrf_token": token.group(1)})
    heading = re.search(r"<h1[^>]*>([^<]+)</h1>", page.text)
    _say(
        f"She opens her link and presses [Continue] -> page '{heading.group(1).strip() if heading else ''}', "
        f"marked {'OFFICIAL-SENSITIVE' if 'OFFICIAL-SENSITIVE' in page.text else 'nothing'}"
    )
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text)
    assert token is not None
    answered = browser.post(page.url, data={"csrf_token": token.group(1), "answer": "attending"})
    done = re.search(r'govuk-panel__title">\s*([^<]+?)\s*<', answered.text)
    _say(f"She chooses 'We will attend' and sends it -> '{done.group(1) if done else answered.status_code}'")
    bot.settle()
    with Session(bot.runtime.engine) as session:
        invitation = session.get(Invitation, _invitation_id(bot, "education"))
        state = invitation.state if invitation else "?"
    _say(f"Education's invitation is now '{state}'; the discussion's status message in Slack is updated")
    again = requests.get(link.group(0))
    _say(f"The same link opened again -> {again.status_code}: this link cannot be used (used once, audited)")


def step_chasing(bot: OfflineBot) -> None:
    """Force CID has not answered: an hour later it is reminded, then its duty officer is told."""
    for label, advance in (
        ("+1 working hour", timedelta(hours=1, minutes=1)),
        ("+2 working hours", timedelta(hours=1)),
    ):
        _clock(bot).advance(advance)
        steps = sweep_invitations(bot.runtime)
        bot.settle()
        _say(f"{label} ({bot.runtime.calendar.local(bot.clock.now()):%H:%M}): {_count(steps, 'chase step')}")
    chases = [
        ("Escalation" in text, _names.get(call.args["channel"], ""), call.args["channel"], _first_line(text))
        for call in bot.local_slack.calls_to("chat.postMessage")
        if ("Reminder" in (text := call.args.get("text", "")) or "Escalation" in text) and "Force CID" in text
    ]
    # Reminders, then escalations, each by name: delivery sends them in parallel, in any order.
    for _, _, channel, first in sorted(chases):
        _say(f"  -> <@{channel}>: {first}")


def _submit_update(
    bot: OfflineBot, user_id: str, agency_code: str, *, unrated: tuple[str, ...] = (), **changes: str
) -> dict[str, Any]:
    """Open the agency update form from the invitation and submit it, leaving the
    indicators in `unrated` unrated (the agency does not know)."""
    before = len(bot.local_slack.calls_to("views.open"))
    bot.slack.block_actions(
        user_id, [{"action_id": "agency_update_open", "value": str(_invitation_id(bot, agency_code))}]
    )
    calls = bot.local_slack.wait_for(
        lambda calls: len([c for c in calls if c.method == "views.open"]) > before
    )
    view = [c for c in calls if c.method == "views.open"][-1].response["view"]
    policy = bot.runtime.partnership.agency_updates
    text = {
        "role": "Safeguarding lead",
        "involvement_current": "Open case; weekly contact.",
        "new_missing": "Missing twice this month, found out of area.",
        "child_family_views": "Mother wants help; the child says he is fine.",
        **changes,
    }
    values: dict[str, dict[str, Any]] = {
        block: {"value": {"type": "plain_text_input", "value": value}} for block, value in text.items()
    }
    for indicator in policy.risk_indicators:
        if indicator.code in unrated:
            continue
        rating = "current" if indicator.code in {"repeated_missing", "found_out_of_area"} else "not_present"
        values[f"risk:{indicator.code}"] = {
            "value": {"type": "static_select", "selected_option": {"value": rating}}
        }
    values["lawful_basis"] = {
        "value": {"type": "static_select", "selected_option": {"value": "safeguarding"}}
    }
    restricted = ["police_intelligence"] if agency_code.startswith("police") else []
    values["restrictions"] = {
        "value": {"type": "checkboxes", "selected_options": [{"value": r} for r in restricted]}
    }
    return bot.slack.view_submission(user_id, view, values=values).json()


def step_agency_updates(bot: OfflineBot) -> None:
    """Three agencies send their updates through the form: one amends, one is late."""
    done = _submit_update(
        bot, POLICE_PPU, "police-ppu", new_police_intelligence="Seen with older males linked to a line."
    )
    _say(f"Police (PPU) submits -> {done['view']['blocks'][0]['text']['text'].splitlines()[1]}")
    _submit_update(
        bot, POLICE_PPU, "police-ppu", new_police_intelligence="Also stopped in a car with a knife."
    )
    _say("Police (PPU) amends it before the discussion: version 2 is kept beside version 1")
    _submit_update(
        bot, LOCATE_DELEGATE, "locate", involvement_current="Return home interviews after each episode."
    )
    _say("Locate's delegate submits")
    _clock(bot).set(datetime(2026, 11, 10, 13, 20, tzinfo=UTC))  # updates were due at 13:00
    late = _submit_update(
        bot,
        HEALTH,
        "health",
        unrated=("gang_connections", "controlling_peer_or_adult"),
        involvement_current="School nurse review booked.",
    )
    _say(f"Health submits at 13:20 -> {late['view']['blocks'][0]['text']['text'].splitlines()[1]}")
    _say("  (Health leaves two risk indicators unrated: they are recorded as not known)")
    bot.settle()
    meeting = _meeting(bot)
    chair = "U0CSC004"
    overview = bot.slack.command("/strategy", f"{meeting.reference} updates", user_id=chair).json()
    _say(f"/strategy {meeting.reference} updates (the chair):")
    _say(textwrap.indent(blocks_as_text(overview["blocks"]), "  | "))
    bot.slack.block_actions(chair, [{"action_id": "agency_updates_read", "value": f"{meeting.id}:1"}])
    calls = bot.local_slack.wait_for(
        lambda calls: any(
            "Combined risk grid" in json.dumps(c.args) for c in calls if c.method == "views.open"
        )
    )
    reader = [c for c in calls if c.method == "views.open"][-1].response["view"]
    grid = next(b for b in reader["blocks"] if b["type"] == "section")
    _say("the chair's reader opens with the combined risk grid:")
    _say(textwrap.indent(grid["text"]["text"].strip(), "  | "))


def step_status(bot: OfflineBot) -> None:
    """The live status message in the discussion's channel, as it now reads."""
    meeting = _meeting(bot)
    message = next(
        m for m in bot.local_slack.messages(meeting.channel_id or "") if m["ts"] == meeting.status_message_ts
    )
    _say(textwrap.indent(blocks_as_text(message["blocks"]), "  | "))


POLICE_WITHOUT_SLACK = "priya.sandhu@police-cid.example"  # DC Priya Sandhu, Force CID


def _emails_to(bot: OfflineBot, address: str) -> list[dict[str, Any]]:
    """What the local Notify accepted for `address`, by subject (delivery runs in parallel)."""
    notify = bot.runtime.settings.notify_base_url
    emails = json.loads(urllib.request.urlopen(f"{notify}/_sent").read())  # the stand-in's log
    mine = [e for e in emails if e["email_address"] == address]
    return sorted(mine, key=lambda e: str(e["personalisation"]["subject"]))


def _link_in(email: dict[str, Any]) -> str:
    import re

    found = re.search(r"https?://\S+/p/\S+", str(email["personalisation"]["body"]))
    assert found is not None, "a partner e-mail without its link"
    return found.group(0)


def _update_fields(bot: OfflineBot) -> dict[str, str | list[str]]:
    """Force CID's update as DC Sandhu types it on the page: every field the modal has."""
    policy = bot.runtime.partnership.agency_updates
    fields: dict[str, str | list[str]] = {
        "role": "Detective Constable, Force CID",
        "involvement_current": "Investigation opened into the line; he is a victim, not a suspect.",
        "new_missing": "Found twice in a trap house out of area, by the line's runners.",
        "new_police_intelligence": "The line's phone number is linked to two older males.",
        "child_family_views": "Mother wants the police to act; he will not give a statement.",
    }
    for indicator in policy.risk_indicators:
        current = indicator.code in {"repeated_missing", "found_out_of_area"}
        fields[f"risk:{indicator.code}"] = "current" if current else "not_present"
    fields["lawful_basis"] = "safeguarding"
    fields["restrictions"] = ["police_intelligence"]
    return fields


def step_police_without_slack(bot: OfflineBot) -> None:
    """Force CID's detective constable has no Slack: the invitation and the reminder came to
    her by e-mail, each with her own link. She answers and writes Force CID's update on the
    pages (in headless Chromium where it is installed, else over plain HTTP)."""
    from bot.agency_updates.models import AgencyUpdate
    from bot_offline.partner_browser import partner_browser

    meeting = _meeting(bot)
    mine = [
        e for e in _emails_to(bot, POLICE_WITHOUT_SLACK) if meeting.reference in str(e["personalisation"])
    ]
    _say(f"E-mails to DC Priya Sandhu (Force CID, no Slack): {len(mine)}")
    for email in mine:
        _say(f"  {email['personalisation']['subject']}")
    reminder = next((e for e in mine if "eminder" in str(e["personalisation"]["subject"])), mine[-1])
    with partner_browser() as browser:
        browser.open(_link_in(reminder))
        _say(f"She opens the reminder's link {browser.how}: '{browser.heading}'")
        browser.send({})
        marked = "OFFICIAL-SENSITIVE" if "OFFICIAL-SENSITIVE" in browser.text else "nothing"
        _say(f"  presses [Continue] -> '{browser.heading}', marked {marked}")
        browser.send({"answer": "attending"})
        _say(f"  chooses 'We will attend' and presses [Send] -> '{browser.heading}'")
        browser.follow("Write your agency")
        _say(f"  follows 'Write your agency's update' -> '{browser.heading}'")
        browser.send(_update_fields(bot), ("intent", "submit"))
        late = " (after the deadline: marked late)" if "after the deadline" in browser.text else ""
        _say(f"  fills in every field, presses [Submit update] -> '{browser.heading}'{late}")
    bot.settle()
    with Session(bot.runtime.engine) as session:
        invitation = session.get(Invitation, _invitation_id(bot, "police-cid"))
        update = session.exec(
            select(AgencyUpdate).where(
                col(AgencyUpdate.meeting_id) == meeting.id,
                col(AgencyUpdate.agency_id) == (invitation.agency_id if invitation else 0),
            )
        ).first()
    _say(
        f"Force CID's invitation is now '{invitation.state if invitation else '?'}' and its update "
        f"{update.state if update else 'missing'} (version {update.current_version if update else 0}); "
        "the status message in Slack is updated"
    )


CHAIR = "U0CSC004"
OUTPUT_DIR = Path("demo-output")
# Every document the demo wrote, named again at its end with its full path.
_written: list[Path] = []


def _keep(filename: str, content: bytes) -> Path:
    """Write a document the bot produced into OUTPUT_DIR, and remember it for the end."""
    OUTPUT_DIR.mkdir(exist_ok=True)
    path = OUTPUT_DIR / filename
    path.write_bytes(content)
    if path.resolve() not in _written:
        _written.append(path.resolve())
    return path


_SHOWN: dict[int, set[str]] = {}  # per bot: the views already taken, so a form opened again is waited for


def _opened(bot: OfflineBot, title: str) -> dict[str, Any]:
    """The next form with this title the bot opened (not one taken before: the same form
    opened again for another discussion arrives after the request that asks for it)."""
    shown = _SHOWN.setdefault(id(bot), set())

    def fresh(calls: list[Any]) -> list[Any]:
        return [
            c
            for c in calls
            if c.method == "views.open"
            and c.ok
            and title in json.dumps(c.args)
            and c.response["view"]["id"] not in shown
        ]

    call = fresh(bot.local_slack.wait_for(fresh))[-1]
    shown.add(call.response["view"]["id"])
    return call.response["view"]


def _choice(value: str) -> dict[str, Any]:
    return {"type": "static_select", "selected_option": {"value": value}}


def _typed(value: str | None) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


def step_record(bot: OfflineBot) -> None:
    """After the discussion the chair records attendance and decisions, and adds actions."""
    meeting = _meeting(bot)
    early = bot.slack.command("/strategy", f"record {meeting.reference}", user_id=CHAIR).json()
    _say(f"at 13:20, /strategy record -> {early['text']}")
    _clock(bot).set(datetime(2026, 11, 10, 15, 0, tzinfo=UTC))
    bot.slack.command("/actions", f"add {meeting.reference}", user_id=CHAIR)
    action_view = _opened(bot, "Add an action")
    for owner, text, priority in (
        (LOCATE_DELEGATE, "Return home interview after any missing episode", "immediate"),
        (POLICE_PPU, "Disruption visit to the address linked to the line", "high"),
    ):
        values = {
            "text": {"value": _typed(text)},
            "owner": {"value": {"type": "users_select", "selected_user": owner}},
            "priority": {"value": _choice(priority)},
            "due_on": {"value": {"type": "datepicker", "selected_date": None}},
            "concerns": {"value": _typed("CS-1234567")},
        }
        done = bot.slack.view_submission(
            CHAIR, {**action_view, "id": f"{action_view['id']}-{priority}"}, values=values
        ).json()
        _say(done["view"]["blocks"][0]["text"]["text"].splitlines()[-1])
    # Force CID's officer has no Slack: the chair picks her from the contacts without Slack.
    values = {
        "text": {"value": _typed("Visit the two addresses linked to the line's phone")},
        "owner": {"value": {"type": "users_select", "selected_user": None}},
        "owner_contact": {"value": _choice("dc-sandhu")},
        "priority": {"value": _choice("normal")},
        "due_on": {"value": {"type": "datepicker", "selected_date": "2026-11-13"}},
        "concerns": {"value": _typed("CS-1234567")},
    }
    done = bot.slack.view_submission(
        CHAIR, {**action_view, "id": f"{action_view['id']}-cid"}, values=values
    ).json()
    added = done["view"]["blocks"][0]["text"]["text"].splitlines()[-1].rstrip(".")
    _say(f"{added}; she has no Slack, so her reminders come by e-mail")
    bot.slack.command("/strategy", f"record {meeting.reference}", user_id=CHAIR)
    view = _opened(bot, "Record discussion")
    step_two = _record_when_and_who(
        bot,
        CHAIR,
        view,
        quorum_reason="Health sent a written update: the named nurse was in clinic. Read out in full.",
    )
    decided = _record_decisions(
        bot,
        CHAIR,
        step_two,
        child_voice="He says he owes money and is scared.",
        harm="Criminal exploitation: carrying drugs out of area.",
        likelihood="High: three missing episodes in a month.",
        next_steps="ICPC to be arranged.",
        review="2026-12-03",
    )
    _say(
        "step 1, when and who: the pre-filled times and answers; health took part by written "
        "update only, so the reason and the chair's decision to go ahead are recorded"
    )
    _say(f"step 2, what was decided -> {'accepted; the form closes' if 'clear' in decided else decided}")
    _say(f"recorded by the chair: {len(DECISIONS)} decisions answered explicitly, the review on Thu 03 Dec")
    _say("draft minutes v1 sent to the chair privately; the action log circulated to the channel")
    _say(_status_line(bot, meeting.id or 0, "ICPC"))


DECISIONS = {
    "section_47": ("start", "Reasonable cause to suspect significant harm."),
    "enquiry_type": ("joint", "Children's social care with Force CID"),
    "criminal_investigation": ("yes", "CID to open an investigation this week."),
    "medical_assessment": ("no", "No injuries reported."),
    "legal_action": ("no", "Not at this stage: the safety plan is working."),
    "immediate_safety": ("", "Safety plan agreed with mother; missing protocol in place."),
    "sharing_with_family": ("yes", "Mother told today; police intelligence withheld."),
    "parents_told": ("yes", "Told by the social worker at the home visit today."),
    "icpc": ("needed", ""),
    "dissent": ("no", ""),
}


def _radio(value: str) -> dict[str, Any]:
    return {"type": "radio_buttons", "selected_option": {"value": value} if value else None}


def _record_when_and_who(
    bot: OfflineBot, user: str, view: dict[str, Any], *, everyone: str = "", **typed: str
) -> dict[str, Any]:
    """Step 1 as the form was pre-filled (times and answers; or `everyone` present), plus
    anything typed; returns the pushed step 2."""
    values: dict[str, dict[str, Any]] = {}
    for block in view["blocks"]:
        block_id, element = block.get("block_id", ""), block.get("element", {})
        if block_id.startswith("attendance:"):
            answer = everyone or element.get("initial_option", {}).get("value", "present")
            values[block_id] = {"value": _choice(answer)}
        elif element.get("type") == "datetimepicker":
            values[block_id] = {
                "value": {"type": "datetimepicker", "selected_date_time": element["initial_date_time"]}
            }
    values["out_of_hours_reason"] = {"value": _typed(typed.get("out_of_hours_reason"))}
    values["quorum_reason"] = {"value": _typed(typed.get("quorum_reason"))}
    proceed = [{"value": "yes"}] if typed.get("quorum_reason") else []
    values["quorum_proceed"] = {"value": {"type": "checkboxes", "selected_options": proceed}}
    for block_id, status in typed.items():
        if block_id.startswith("attendance:"):
            values[block_id] = {"value": _choice(status)}
    for block_id in ("actual_start", "actual_end"):
        if block_id in typed:
            values[block_id] = {
                "value": {"type": "datetimepicker", "selected_date_time": int(typed[block_id])}
            }
    body = bot.slack.view_submission(user, view, values=values).json()
    if body.get("response_action") != "push":
        raise RuntimeError(f"step 1 of the record form was refused: {body}")
    return {**body["view"], "id": f"{view['id']}-2"}


def _record_decisions(
    bot: OfflineBot,
    user: str,
    view: dict[str, Any],
    *,
    review: str,
    section_47: str = "start",
    **narrative: str,
) -> str:
    """Step 2: every decision answered; returns what Slack was told."""
    values: dict[str, dict[str, Any]] = {
        "threshold_level": {"value": _choice("complex_significant")},
        "review_date": {"value": {"type": "datepicker", "selected_date": review}},
    }
    for topic, (answer, detail) in {
        **DECISIONS,
        "section_47": (section_47, DECISIONS["section_47"][1]),
    }.items():
        if answer:
            values[topic] = {"value": _radio(answer)}
        values[f"{topic}_detail"] = {"value": _typed(detail or None)}
    values.update({key: {"value": _typed(text)} for key, text in narrative.items()})
    response = bot.slack.view_submission(user, view, values=values)
    bot.settle()
    if "clear" not in response.body:
        raise RuntimeError(f"step 2 of the record form was refused: {response.body}")
    return response.body


def _status_line(bot: OfflineBot, meeting_id: int, starts: str) -> str:
    """One line of a discussion's live status message, as it now reads."""
    with Session(bot.runtime.engine) as session:
        meeting = session.get(Meeting, meeting_id)
    message = (
        next(
            m
            for m in bot.local_slack.messages(meeting.channel_id or "")
            if m.get("ts") == meeting.status_message_ts
        )
        if meeting
        else {}
    )
    lines = blocks_as_text(message.get("blocks", [])).splitlines()
    return next((line for line in lines if line.startswith(f"*{starts}")), "")


def step_approve(bot: OfflineBot) -> None:
    """The chair approves the draft; it is locked with its hash and circulated."""
    from bot.minutes.models import Document

    with Session(bot.runtime.engine) as session:
        draft = session.exec(select(Document).where(col(Document.kind) == "minutes")).one()
    bot.slack.block_actions(CHAIR, [{"action_id": "minutes_approve", "value": str(draft.id)}])
    bot.settle()
    OUTPUT_DIR.mkdir(exist_ok=True)
    with Session(bot.runtime.engine) as session:
        documents = session.exec(select(Document).order_by(col(Document.id))).all()
        for document in documents:
            path = _keep(document.filename, document.content)
            # The hash is kept with the record; it is not shown, as a Word file's bytes carry
            # the moment it was zipped and would differ from run to run.
            locked = ", locked by its SHA-256 hash" if document.state == "approved" else ""
            _say(f"{document.kind} v{document.version} ({document.state}{locked}): {path}")
    channel = _meeting(bot).channel_id
    shared = sorted(u.filename for u in bot.local_slack.uploaded_files() if u.channel == channel)
    _say(f"circulated to the discussion's channel: {', '.join(shared)}")
    _say_who_got_the_full_copy(bot)


def _say_who_got_the_full_copy(bot: OfflineBot) -> None:
    """The police restricted their update: its handling instruction, and who received the
    full text (privately) rather than the copy with it withheld."""
    import io

    import docx

    from bot.minutes.models import Document
    from bot.partnership.models import Person

    with Session(bot.runtime.engine) as session:
        full = session.exec(
            select(Document).where(col(Document.kind) == "minutes", col(Document.state) == "approved")
        ).one()
        people = {p.slack_user_id: p for p in session.exec(select(Person)) if p.slack_user_id}
    text = "\n".join(p.text for p in docx.Document(io.BytesIO(full.content)).paragraphs)
    instruction = next((line for line in text.splitlines() if line.startswith("Handling instruction")), "")
    if instruction:
        _say(instruction)
    opened = {
        c.response["channel"]["id"]: c.args["users"] for c in bot.local_slack.calls_to("conversations.open")
    }
    receivers = sorted(
        {
            f"{people[opened[u.channel]].name}, {people[opened[u.channel]].role_title}"
            for u in bot.local_slack.uploaded_files()
            if u.filename == full.filename and opened.get(u.channel) in people
        }
    )
    _say(f"the full copy went privately to: {'; '.join(receivers) or 'nobody'}")


def step_chase_actions(bot: OfflineBot) -> None:
    """Police's action goes overdue: reminded, then its lead is told, then it is marked done."""
    from bot.actions.jobs import sweep_actions
    from bot.actions.models import Action

    with Session(bot.runtime.engine) as session:
        action = session.exec(
            select(Action).where(col(Action.owner_id) != 0, col(Action.priority) == "high")
        ).one()
    _say(f"{action.reference} owned by <@{POLICE_PPU}>, due {action.due_on:%a %d %b}")
    for moment in (
        datetime(2026, 11, 12, 9, 0, tzinfo=UTC),
        datetime(2026, 11, 13, 9, 0, tzinfo=UTC),
        datetime(2026, 11, 14, 11, 0, tzinfo=UTC),
        datetime(2026, 11, 16, 9, 0, tzinfo=UTC),
    ):
        _clock(bot).set(moment)
        taken = sweep_actions(bot.runtime)
        bot.settle()
        _say(f"{bot.runtime.calendar.local(moment):%a %d %b %H:%M}: {_count(taken, 'chase step')}")
    chased = sorted(
        (_names.get(call.args["channel"], ""), call.args["channel"], call.args["blocks"][0]["text"]["text"])
        for call in bot.local_slack.calls_to("chat.postMessage")
        if action.reference in json.dumps(call.args) and "blocks" in call.args
    )
    # By name: delivery sends the reminder and the escalation in parallel, in any order.
    for _, channel, text in chased:
        _say(f"  -> <@{channel}>: {text.splitlines()[0]}")
    # The agency lead's list: answered after the acknowledgement, a page at a time.
    answered = len(bot.local_slack.responses())
    bot.slack.command("/actions", "overdue", user_id=POLICE_LEAD)
    bot.local_slack.wait_for(lambda _calls: len(bot.local_slack.responses()) > answered)
    page = bot.local_slack.responses()[-1].args
    _say(f"<@{POLICE_LEAD}> types /actions overdue and sees a page:")
    _say(textwrap.indent(blocks_as_text(page["blocks"]).replace("*", ""), "  "))
    bot.slack.block_actions(POLICE_PPU, [{"action_id": "action_done", "value": str(action.id)}])
    modal = _opened(bot, "Mark action done")
    bot.slack.view_submission(
        POLICE_PPU, modal, values={"note": {"value": _typed("Disruption visit made with housing.")}}
    )
    bot.settle()
    with Session(bot.runtime.engine) as session:
        done = session.get(Action, action.id)
    _say(f"the owner marks it done -> {done.status if done else '?'}; chasing stops")


def step_police_action_done(bot: OfflineBot) -> None:
    """DC Sandhu's action came due: its reminders came by e-mail with a link to her
    actions, where she marks it done (the same browser as before)."""
    from bot.actions.models import Action
    from bot_offline.partner_browser import partner_browser

    with Session(bot.runtime.engine) as session:
        action = session.exec(select(Action).where(col(Action.priority) == "normal")).one()
    reminders = [
        e for e in _emails_to(bot, POLICE_WITHOUT_SLACK) if action.reference in str(e["personalisation"])
    ]
    _say(f"{_count(len(reminders), 'reminder')} e-mailed to DC Priya Sandhu about {action.reference}")
    with partner_browser() as browser:
        browser.open(_link_in(reminders[-1]))
        browser.send({})
        _say(f"She opens the latest {browser.how} and presses [Continue] -> '{browser.heading}'")
        browser.follow("Mark done")
        _say(f"  follows 'Mark done' beside {action.reference} -> '{browser.heading}'")
        browser.send({"note": "Both addresses visited with housing; the line's phone seized."})
        _say(f"  writes what was done and presses the button -> '{browser.heading}'")
    bot.settle()
    with Session(bot.runtime.engine) as session:
        done = session.get(Action, action.id)
    _say(f"{action.reference} is now {done.status if done else '?'}; its chasing stops")


# --------------------------------------------------------------------------------- panel

PANEL_CHILDREN = [
    (
        "CS-1234567",
        SAMPLE_CHILD_NAME,
        "high",
        "significant",
        "perpetrator: Adult male known as T\ncase: CS-7654321",
    ),
    (
        "CS-7654321",
        "Amara Test-Child",
        "high",
        "moderate",
        "perpetrator: Adult Male known as T\nlocation: Lodge Road park",
    ),
    ("CS-5550001", "Kai Test-Example", "medium", "moderate", "peer: Older boy known as Dee"),
]


def _panel_meeting(bot: OfflineBot, held_on: str) -> tuple[Meeting, Any]:
    from bot.panel.models import PanelSitting

    with Session(bot.runtime.engine) as session:
        for sitting, meeting in session.exec(
            select(PanelSitting, Meeting).join(Meeting, col(Meeting.id) == col(PanelSitting.meeting_id))
        ).all():
            if sitting.panel_code == panel_offline.PANEL and sitting.held_on.isoformat() == held_on:
                return meeting, sitting
    raise RuntimeError(f"no panel sitting on {held_on}")


def step_panel_sittings(bot: OfflineBot) -> None:
    """Each panel's next sitting opens as a meeting: standing agencies invited, a channel."""
    from bot.panel.jobs import sweep_panels
    from bot.panel.models import PanelSitting

    sweep_panels(bot.runtime)
    bot.settle()
    with Session(bot.runtime.engine) as session:
        sittings = session.exec(
            select(col(Meeting.reference), col(PanelSitting.agenda_issued_at))
            .join(PanelSitting, col(PanelSitting.meeting_id) == col(Meeting.id))
            .order_by(col(Meeting.reference))
        ).all()
    opened = [reference for reference, _ in sittings]
    issued = [reference for reference, at in sittings if at is not None]
    _say(f"the sweep opened {_count(len(opened), 'sitting')}: {', '.join(opened)}")
    if issued:
        _say(f"and issued the agenda of {', '.join(issued)}, whose referral cut-off had passed")
    _say("/panel next (any partner):")
    answer = bot.slack.command("/panel", "next", user_id=POLICE_PPU).json()
    _say(textwrap.indent(answer["text"], "  | "))
    meeting, _ = _panel_meeting(bot, "2026-11-24")
    invited = {
        c.args["channel"]
        for c in bot.local_slack.calls_to("chat.postMessage")
        if f"invitation to panel {meeting.reference}" in c.args.get("text", "")
    }
    _say(
        f"{meeting.reference}: invitations to {len(invited)} standing members, "
        f"channel #{meeting.reference.lower()}"
    )


def step_panel_referrals(bot: OfflineBot) -> None:
    """Three children and a location are referred; the administrator accepts them, declines one
    below threshold, and a second referral of a child under review joins the first."""
    from bot.panel.models import Referral

    for reference, name, risk, screening, links in PANEL_CHILDREN:
        panel_offline.refer(
            bot,
            SOCIAL_WORKER,
            case_reference=reference,
            child_name=name,
            risk=risk,
            screening=screening,
            links=links,
        )
    panel_offline.refer(
        bot,
        POLICE_PPU,
        subject="location",
        label="Lodge Road park",
        reasons="Daily dealing; children seen with adults in cars.",
        links="perpetrator: Adult male known as T",
    )
    panel_offline.refer(
        bot,
        SOCIAL_WORKER,
        case_reference="CS-5550002",
        child_name="Noah Test-Decline",
        risk="low",
        screening="low",
        reasons="One missing episode; no exploitation indicators.",
    )
    with Session(bot.runtime.engine) as session:
        referrals = session.exec(select(Referral).order_by(col(Referral.id))).all()
    asks = bot.local_slack.calls_to("chat.postMessage")
    ask = next(
        c
        for c in asks
        if c.args.get("channel") == panel_offline.ADMIN
        and "panel_referral_accept" in json.dumps(c.args.get("blocks"))
    )
    _say("the administrator's DM:")
    _say(textwrap.indent(blocks_as_text(ask.args["blocks"]), "  | "))
    for referral in referrals[:-1]:
        panel_offline.decide(bot, referral.id or 0, accept=True)
    panel_offline.decide(
        bot, referrals[-1].id or 0, accept=False, reason="Below threshold: early help to lead."
    )
    panel_offline.refer(
        bot,
        LOCATE,
        case_reference="CS-1234567",
        reasons="Missing again overnight; found in Coventry.",
        links="location: Wellington Road flat",
    )
    with Session(bot.runtime.engine) as session:
        for referral in session.exec(select(Referral).order_by(col(Referral.id))):
            linked = " (linked to the case already under review)" if referral.linked_to_existing else ""
            _say(f"{referral.reference}: {referral.subject_kind} -> {referral.state}{linked}")


def step_panel_agenda(bot: OfflineBot) -> None:
    """At the referral cut-off the agenda goes out, and each agency is asked per item."""
    from bot.panel.jobs import sweep_panels

    _clock(bot).set(datetime(2026, 11, 18, 9, 0, tzinfo=UTC))
    sweep_panels(bot.runtime)
    bot.settle()
    meeting, _ = _panel_meeting(bot, "2026-11-24")
    agenda = next(
        c
        for c in bot.local_slack.calls_to("chat.postMessage")
        if c.args.get("text") == f"OFFICIAL-SENSITIVE: agenda for {meeting.reference}"
    )
    _say("in the panel's channel (references only):")
    _say(textwrap.indent(blocks_as_text(agenda.args["blocks"]), "  | "))
    request = next(
        c
        for c in bot.local_slack.calls_to("chat.postMessage")
        if c.args.get("channel") == POLICE_PPU and "Pre-panel updates" in json.dumps(c.args.get("blocks"))
    )
    _say("to each agency's contacts, e.g. police:")
    _say(textwrap.indent(blocks_as_text(request.args["blocks"]), "  | "))


def step_panel_updates(bot: OfflineBot) -> None:
    """Police and health write pre-panel updates with the same form, per child, with links."""
    meeting, sitting = _panel_meeting(bot, "2026-11-24")
    items = _panel_items(bot, sitting)
    for user_id, agency, reference, links in (
        (POLICE_PPU, "police-ppu", "CS-1234567", "location: Wellington Road flat"),
        (POLICE_PPU, "police-ppu", "CS-7654321", "perpetrator: Adult male known as T"),
        (HEALTH, "health", "CS-5550001", ""),
    ):
        invitation = _invitation_for(bot, meeting, agency)
        item = items[reference]
        before = len(bot.local_slack.calls_to("views.open"))
        bot.slack.block_actions(
            user_id, [{"action_id": f"agency_update_open_{item}", "value": f"{invitation}:{item}"}]
        )
        view = panel_offline.opened_view(bot, before)
        values = _update_values(bot, user_id, links)
        bot.slack.view_submission(user_id, view, values=values)
        _say(
            f"<@{user_id}> submits the pre-panel update on {reference}"
            + (f" with a link ({links})" if links else "")
        )
    bot.settle()


def _panel_items(bot: OfflineBot, sitting: Any) -> dict[str, int]:
    from bot.cases.models import Case
    from bot.panel.models import AgendaItem, PanelCase

    with Session(bot.runtime.engine) as session:
        rows = session.exec(
            select(col(AgendaItem.id), col(Case.reference))
            .join(PanelCase, col(PanelCase.id) == col(AgendaItem.panel_case_id))
            .join(Case, col(Case.id) == col(PanelCase.case_id))
            .where(col(AgendaItem.sitting_id) == sitting.id)
        ).all()
    return {reference: item_id or 0 for item_id, reference in rows}


def _invitation_for(bot: OfflineBot, meeting: Meeting, agency_code: str) -> int:
    with Session(bot.runtime.engine) as session:
        return (
            session.exec(
                select(col(Invitation.id))
                .join(Agency, col(Agency.id) == col(Invitation.agency_id))
                .where(col(Invitation.meeting_id) == meeting.id, col(Agency.code) == agency_code)
            ).one()
            or 0
        )


def _update_values(bot: OfflineBot, user_id: str, links: str) -> dict[str, Any]:
    policy = bot.runtime.partnership.agency_updates
    values: dict[str, Any] = {
        "role": {"value": _typed("Safeguarding lead")},
        "involvement_current": {"value": _typed("Known to us; intelligence since the last panel.")},
        "new_missing": {"value": _typed("Missing overnight twice; found out of area.")},
        "links": {"value": _typed(links or None)},
        "lawful_basis": {"value": _choice("safeguarding")},
        "restrictions": {"value": {"type": "checkboxes", "selected_options": []}},
    }
    for indicator in policy.risk_indicators:
        values[f"risk:{indicator.code}"] = {
            "value": _choice("current" if indicator.code == "repeated_missing" else "not_present")
        }
    return values


def step_panel_sits(bot: OfflineBot) -> None:
    """The panel sits; the chair records each item under VOLT, then attendance and themes,
    adds a disruption action and sends the draft for approval, then approves it."""
    from bot.minutes.models import Document

    meeting, sitting = _panel_meeting(bot, "2026-11-24")
    _clock(bot).set(datetime(2026, 11, 24, 12, 45, tzinfo=UTC))
    recording = panel_offline.recording(bot, panel_offline.CHAIR, meeting.reference)
    _say(f"/panel record {meeting.reference} (the chair):")
    _say(textwrap.indent(blocks_as_text(recording["blocks"]), "  | "))
    decisions = {
        "CS-1234567": panel_offline.outcome_values(
            "step_up",
            nrm="referred",
            review="2026-12-08",
            reason="Linked to the line the police are targeting; found with cash in Coventry again.",
            destination="up:police_operation",
        ),
        "CS-7654321": {
            **panel_offline.outcome_values(
                "step_up", review="2026-12-08", reason="Found in Coventry with cash; a new older associate."
            ),
            "disruption_tactic": {"value": _choice("cawn")},
            "disruption_owner": {"value": {"type": "users_select", "selected_user": POLICE_PPU}},
            "disruption_due": {"value": {"type": "datepicker", "selected_date": "2026-12-01"}},
            "disruption_target": {"value": _typed("Adult male known as T")},
        },
        "CS-5550001": panel_offline.outcome_values(
            "step_down",
            review=None,
            risk="low",
            reason="No missing episodes for eight weeks; back in school full time.",
            taken_by_person="Early help family support worker",
        ),
        "CTX-2026-0001": panel_offline.outcome_values("continue", review="2026-12-08", risk="medium"),
    }
    refused = panel_offline.outcome_values("step_down", review=None, risk="low")
    items = _panel_items(bot, sitting)
    answer = panel_offline.record_item(bot, panel_offline.CHAIR, items["CS-5550001"], refused).json()
    _say("a step down with the reason 'Risk still high' is refused beside the field:")
    _say(f"  | {answer['errors']['decision_reason']}")
    for reference, item in items.items():
        panel_offline.record_item(bot, panel_offline.CHAIR, item, decisions[reference])
        _say(f"{reference}: recorded under victims, offenders, locations and themes")
    _say("CS-5550001 steps down to early help (taken on by the early help family support worker);")
    _say("CS-1234567's NRM referral is recorded: referred 12 Nov by the police, reasonable grounds positive.")
    _say(
        "CS-7654321: a disruption action, a child abduction warning notice to the adult male known as T, "
        "owned by the police, due Tue 1 Dec"
    )
    step_up_convenes(bot)
    step_up_police_operation(bot)
    agencies = ["csc", "police-cid", "police-ppu", "locate", "yos", "health", "education", "early-help"]
    panel_offline.record_attendance(
        bot,
        panel_offline.CHAIR,
        meeting,
        agencies,
        "Recruitment through a music video channel; a new line into Coventry.",
        intelligence="T has moved the line to a flat above the Lodge Road garage.",
        handling_code="C",
    )
    _say("police intelligence is recorded under handling code C (police and children's social care only)")
    before = len(bot.local_slack.calls_to("views.open"))
    bot.slack.command("/actions", f"add {meeting.reference}", user_id=panel_offline.CHAIR)
    action_form = panel_offline.opened_view(bot, before)
    bot.slack.view_submission(
        panel_offline.CHAIR,
        action_form,
        values={
            "text": {"value": _typed("Joint disruption visit to Lodge Road park with housing")},
            "owner": {"value": {"type": "users_select", "selected_user": POLICE_PPU}},
            "priority": {"value": _choice("high")},
            "due_on": {"value": {"type": "datepicker", "selected_date": "2026-12-04"}},
            "concerns": {"value": _typed("CTX-2026-0001")},
        },
    )
    bot.slack.block_actions(
        panel_offline.CHAIR, [{"action_id": "panel_draft_minutes", "value": str(meeting.id)}]
    )
    bot.settle()
    with Session(bot.runtime.engine) as session:
        draft = session.exec(select(Document).where(col(Document.kind) == "panel_minutes")).one()
    uploaded_before = len(bot.local_slack.uploaded_files())
    bot.slack.block_actions(panel_offline.CHAIR, [{"action_id": "minutes_approve", "value": str(draft.id)}])
    bot.settle()
    OUTPUT_DIR.mkdir(exist_ok=True)
    with Session(bot.runtime.engine) as session:
        for document in session.exec(select(Document).where(col(Document.meeting_id) == meeting.id)):
            path = _keep(document.filename, document.content)
            _say(f"{document.kind} v{document.version} ({document.state}): {path}")
    _say("on approval, who received which copy of the minutes (the circulation list says the same):")
    channel = meeting.channel_id
    received = []
    for upload in bot.local_slack.uploaded_files()[uploaded_before:]:
        if upload.filename.startswith(f"{meeting.reference}-panel-minutes"):
            if upload.channel == channel:
                where = "the panel's channel (every agency)"
            elif "-withheld-" in upload.filename:  # a copy for a set of the restricted texts
                where = "privately, to someone who took part, with the texts their agency may read"
            else:
                where = "privately, to someone who took part for an agency entitled to it all"
            # the channel first, then the private copies: delivery sends them in parallel,
            # so the order they arrived in differs from run to run
            received.append((upload.channel != channel, upload.filename, where))
    for _, filename, where in sorted(received):
        _say(f"  {filename} -> {where}")


def step_up_convenes(bot: OfflineBot) -> None:
    """The step up of CS-7654321 offers the chair a button that opens /strategy new with the
    case and its links filled in; the discussion convened is linked to the decision."""
    from bot.panel.models import AgendaItem

    offer = next(
        c
        for c in bot.local_slack.calls_to("chat.postMessage")
        if c.args.get("channel") == panel_offline.CHAIR
        and "panel_convene_step_up" in json.dumps(c.args.get("blocks"))
    )
    _say("the step up of CS-7654321, in the chair's DMs:")
    _say(textwrap.indent(blocks_as_text(offer.args["blocks"]), "  | "))
    item_id = offer.args["blocks"][1]["elements"][0]["value"]
    before = len(bot.local_slack.calls_to("views.open"))
    bot.slack.block_actions(panel_offline.CHAIR, [{"action_id": "panel_convene_step_up", "value": item_id}])
    form = panel_offline.opened_view(bot, before)
    fields = {b.get("block_id"): b for b in form["blocks"]}
    reason = fields["reason"]["element"]["initial_value"]
    case_reference = fields["case_reference"]["element"]["initial_value"]
    _say(f"the /strategy new form opens for {case_reference}, reason filled in:")
    _say(textwrap.indent(reason, "  | "))
    start = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
    values = {
        "case_reference": {"value": _typed("CS-7654321")},
        "child_name": {"value": _typed(PANEL_CHILDREN[1][1])},
        "referred_at": {
            "value": {"type": "datetimepicker", "selected_date_time": int(_clock(bot).now().timestamp())}
        },
        "reason": {"value": _typed(reason)},
        "concerns": {
            "value": {"type": "checkboxes", "selected_options": [{"value": "criminal_exploitation"}]}
        },
        "right_help_right_time_level": {"value": _choice("complex_significant")},
        "urgency": {"value": _choice("urgent")},
        "start": {"value": {"type": "datetimepicker", "selected_date_time": int(start.timestamp())}},
        "format": {"value": _radio("call")},
        "chair": {"value": _choice(panel_offline.CHAIR)},
    }
    bot.slack.view_submission(panel_offline.CHAIR, form, values=values)
    bot.settle()
    with Session(bot.runtime.engine) as session:
        item = session.get(AgendaItem, int(item_id))
        linked = (
            session.get(Meeting, item.stepped_up_meeting_id) if item and item.stepped_up_meeting_id else None
        )
    if linked is None:
        raise RuntimeError("the strategy discussion was not linked to the step up")
    _say(f"{linked.reference} is convened and linked to the panel's decision.")


def step_up_police_operation(bot: OfflineBot) -> None:
    """The step up of CS-1234567 to a police operation: Force CID is asked to record it; a
    social worker is refused; the officer records it with a summary released to the panel;
    the police see the whole record, everyone else only that summary."""
    cid = "U0CID001"
    ask = next(
        c
        for c in bot.local_slack.calls_to("chat.postMessage")
        if c.args.get("channel") == cid and "panel_operation_open" in json.dumps(c.args.get("blocks"))
    )
    _say("CS-1234567 steps up to a police operation; in Force CID's DMs:")
    _say(textwrap.indent(blocks_as_text(ask.args["blocks"]), "  | "))
    item_id = ask.args["blocks"][1]["elements"][0]["value"]
    before = len(bot.local_slack.calls)
    bot.slack.block_actions(SOCIAL_WORKER, [{"action_id": "panel_operation_open", "value": item_id}])
    bot.settle()
    told = [c.args.get("text", "") for c in bot.local_slack.calls[before:] if c.args.get("text")]
    _say(f"a social worker presses it -> refused: {told[-1] if told else '(no answer)'}")
    opened = len(bot.local_slack.calls_to("views.open"))
    bot.slack.block_actions(cid, [{"action_id": "panel_operation_open", "value": item_id}])
    form = panel_offline.opened_view(bot, opened)
    values = {
        "name": {"value": _typed("Operation Larch")},
        "police_reference": {"value": _typed("WMP/LARCH/2026/44")},
        "lead_officer": {"value": {"type": "users_select", "selected_user": "U0CID002"}},
        "started_on": {"value": {"type": "datepicker", "selected_date": "2026-11-20"}},
        "summary": {"value": _typed("A police operation is disrupting the line into Coventry.")},
    }
    bot.slack.view_submission(cid, form, values=values)
    bot.settle()
    seen = bot.slack.command("/panel", "operation PO-2026-0001", user_id=POLICE_PPU)
    bot.settle()
    reply = next((c.args.get("text", "") for c in reversed(bot.local_slack.calls_to("response_url"))), "")
    _say(f"/panel operation PO-2026-0001 (a police officer, HTTP {seen.status}):")
    _say(f"  | {reply}")
    refused = bot.slack.command("/panel", "operation PO-2026-0001", user_id=SOCIAL_WORKER).json()
    _say(f"the same command from a social worker -> {refused.get('text', '')}")


def step_missing_episode(bot: OfflineBot) -> None:
    """Locate records a missing episode; on the child's return the return home interview is
    asked for, chased when it falls due, and recorded; it brings the case onto the agenda."""
    from bot.panel.jobs import sweep_panels

    _clock(bot).set(datetime(2026, 11, 27, 9, 0, tzinfo=UTC))
    timeline = bot.slack.command("/strategy", "SD-2026-0001", user_id=LOCATE).json().get("blocks", [])
    button = next(
        (
            e
            for b in timeline
            for e in b.get("elements", [])
            if isinstance(e, dict) and e.get("action_id") == "case_missing_open"
        ),
        None,
    )
    before = len(bot.local_slack.calls_to("views.open"))
    if button is not None:  # from the case's timeline, as Locate takes part in its discussion
        _say("/strategy SD-2026-0001 (Locate): the case's timeline offers Record a missing episode")
        bot.slack.block_actions(LOCATE, [{"action_id": "case_missing_open", "value": button["value"]}])
    else:
        bot.slack.command("/panel", "missing CS-1234567", user_id=LOCATE)
    form = panel_offline.opened_view(bot, before)

    def moment(value: datetime | None) -> dict[str, Any]:
        return {"type": "datetimepicker", "selected_date_time": int(value.timestamp()) if value else None}

    values = {
        "went_missing_at": {"value": moment(datetime(2026, 11, 26, 18, 0, tzinfo=UTC))},
        "returned_at": {"value": moment(datetime(2026, 11, 27, 8, 30, tzinfo=UTC))},
        "where_found": {"value": _typed("Coventry bus station")},
        "out_of_area": {"value": {"type": "checkboxes", "selected_options": [{"value": "yes"}]}},
    }
    bot.slack.view_submission(LOCATE, form, values=values)
    bot.settle()
    _say(
        "the missing-episode form for CS-1234567 (Locate): missing Thu 26 Nov 18:00, found in Coventry "
        "Fri 27 Nov 08:30 (out of area)"
    )
    ask = next(
        c
        for c in bot.local_slack.calls_to("chat.postMessage")
        if c.args.get("channel") == LOCATE_DELEGATE
        and "panel_return_interview" in json.dumps(c.args.get("blocks"))
    )
    _say("Locate's contacts are asked:")
    _say(textwrap.indent(blocks_as_text(ask.args["blocks"]), "  | "))
    _clock(bot).set(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    sweep_panels(bot.runtime)
    bot.settle()
    overdue = [
        c
        for c in bot.local_slack.calls_to("chat.postMessage")
        if "is overdue" in c.args.get("text", "") and "return home interview" in c.args.get("text", "")
    ]
    _say(f"not recorded within 72 hours: the sweep chases Locate and its lead ({len(overdue)} messages)")
    episode_id = ask.args["blocks"][1]["elements"][0]["value"]
    before = len(bot.local_slack.calls_to("views.open"))
    bot.slack.block_actions(LOCATE, [{"action_id": "panel_return_interview", "value": episode_id}])
    interview = panel_offline.opened_view(bot, before)
    bot.slack.view_submission(
        LOCATE,
        interview,
        values={
            "offered_at": {"value": moment(datetime(2026, 11, 29, 14, 0, tzinfo=UTC))},
            "outcome": {"value": _choice("done")},
            "by": {"value": _typed("Amira Farah, Locate return home worker")},
        },
    )
    bot.settle()
    _say("Locate records it: offered Sun 29 Nov 14:00 (within 72 hours) by Amira Farah, done.")
    timeline = bot.slack.command("/strategy", "SD-2026-0001", user_id=LOCATE).json().get("blocks", [])
    line = next((t for t in blocks_as_text(timeline).splitlines() if "Missing" in t), "")
    _say("on the case's timeline:")
    _say(textwrap.indent(line.strip(), "  | "))


def step_disruption_outcome(bot: OfflineBot) -> None:
    """The disruption agreed at the panel is chased like any other action; its Mark done
    asks for its outcome, which goes on the case's record and the next minutes."""
    from bot.actions.jobs import sweep_actions
    from bot.actions.models import Action
    from bot.panel.models import Disruption

    with Session(bot.runtime.engine) as session:
        row = session.exec(
            select(Disruption, Action).join(Action, col(Action.id) == col(Disruption.action_id))
        ).first()
    if row is None:
        raise RuntimeError("no disruption action was recorded at the panel")
    disruption, action = row
    _clock(bot).set(datetime(2026, 12, 2, 10, 0, tzinfo=UTC))
    sweep_actions(bot.runtime)
    bot.settle()
    chase = [
        c
        for c in bot.local_slack.calls_to("chat.postMessage")
        if c.args.get("channel") == POLICE_PPU and action.reference in json.dumps(c.args.get("blocks"))
    ]
    if chase:
        _say(f"Wed 2 Dec: the owner is chased for {action.reference}:")
        _say(textwrap.indent(blocks_as_text(chase[-1].args["blocks"]), "  | "))
    before = len(bot.local_slack.calls_to("views.open"))
    bot.slack.block_actions(POLICE_PPU, [{"action_id": "action_done", "value": str(action.id)}])
    form = panel_offline.opened_view(bot, before)
    _say(f"Mark done opens the form for its outcome ({form['title']['text']})")
    bot.slack.view_submission(
        POLICE_PPU,
        form,
        values={
            "result": {"value": _choice("achieved")},
            "what_happened": {"value": _typed("Notice served on T at the Lodge Road flats on 1 December.")},
        },
    )
    bot.settle()
    with Session(bot.runtime.engine) as session:
        recorded = session.get(Disruption, disruption.id)
        closed = session.get(Action, action.id)
    if recorded is None or closed is None or not recorded.result:
        raise RuntimeError("the disruption's outcome was not recorded")
    _say(f"recorded: achieved, notice served; {action.reference} is {closed.status}, and no longer chased")


def step_panel_carry_forward(bot: OfflineBot) -> None:
    """The next sitting opens; at its cut-off the children still under review and the open
    action carry forward; the child stepped down does not."""
    from bot.panel.jobs import sweep_panels

    sweep_panels(bot.runtime)
    _clock(bot).set(datetime(2026, 12, 2, 9, 0, tzinfo=UTC))
    sweep_panels(bot.runtime)
    bot.settle()
    meeting, sitting = _panel_meeting(bot, "2026-12-08")
    _say(
        f"{meeting.reference} agenda: {', '.join(sorted(_panel_items(bot, sitting)))} "
        "(CS-5550001 stepped down)"
    )
    from bot.panel.models import AgendaItem

    with Session(bot.runtime.engine) as session:
        for reference, item_id in sorted(_panel_items(bot, sitting).items()):
            item = session.get(AgendaItem, item_id)
            _say(f"  {reference}: on the agenda because {'; '.join(item.reasons) if item else ''}")
    agenda = next(
        c
        for c in bot.local_slack.calls_to("chat.postMessage")
        if c.args.get("text") == f"OFFICIAL-SENSITIVE: agenda for {meeting.reference}"
    )
    line = next(
        t for t in blocks_as_text(agenda.args["blocks"]).splitlines() if "Actions from last time" in t
    )
    _say(line.strip())
    bot.slack.event({"type": "app_home_opened", "user": POLICE_PPU, "tab": "home"})
    bot.settle()
    home = bot.local_slack.home_view(POLICE_PPU) or {}
    network = next(
        (
            b
            for i, b in enumerate(home.get("blocks", []))
            if i and home["blocks"][i - 1].get("text", {}).get("text") == "Panel network"
        ),
        None,
    )
    if network:
        _say("the Home tab of a panel member, Panel network:")
        _say(textwrap.indent(network["text"]["text"], "  | "))


# ------------------------------------------------------------------------ the life of a case

EDT = "U0CSC007"
OTHER_CHAIR = "U0CSC005"


def _ephemeral_text(bot: OfflineBot, user: str, text: str) -> str:
    return blocks_as_text(bot.slack.command("/strategy", text, user_id=user).json().get("blocks", []))


def _follow_up_values(start: datetime) -> dict[str, dict[str, Any]]:
    return {
        "reason": {"value": _typed("Review of progress, and a new missing episode at the weekend.")},
        "concerns": {"value": {"type": "checkboxes", "selected_options": [{"value": "county_lines"}]}},
        "right_help_right_time_level": {"value": _choice("complex_significant")},
        "urgency": {"value": _choice("standard")},
        "start": {"value": {"type": "datetimepicker", "selected_date_time": int(start.timestamp())}},
        "held_already": {"value": {"type": "checkboxes", "selected_options": []}},
        "late_reason": {"value": _typed(None)},
        "out_of_hours_reason": {"value": _typed(None)},
        "format": {"value": _radio("call")},
        "chair": {"value": _choice(CHAIR)},
        "extra_agencies": {"value": {"type": "multi_static_select", "selected_options": []}},
        "extra_people": {"value": {"type": "multi_users_select", "selected_users": []}},
    }


def step_review_follow_up(bot: OfflineBot) -> None:
    """On the review day the convenor is asked to convene the follow-up; it keeps the ICPC
    anchored to the discussion that started section 47 enquiries."""
    from bot.cases.jobs import sweep_reviews

    first = _meeting(bot)
    _clock(bot).set(datetime(2026, 12, 3, 9, 0, tzinfo=UTC))
    taken = sweep_reviews(bot.runtime)
    bot.settle()
    review = [
        c for c in bot.local_slack.calls_to("chat.postMessage") if "review_follow_up" in json.dumps(c.args)
    ]
    _say(f"Thu 03 Dec 09:00: the review sweep takes {taken} step; <@{review[-1].args['channel']}> is asked:")
    _say(textwrap.indent(blocks_as_text(review[-1].args["blocks"]), "  | "))
    bot.slack.block_actions(SOCIAL_WORKER, [{"action_id": "review_follow_up", "value": str(first.id)}])
    form = _opened(bot, "Follow-up discussion")
    context = blocks_as_text([b for b in form["blocks"] if b["type"] == "context"][:1])
    _say(f"[Convene the follow-up] -> the form, pre-filled: {context.splitlines()[-1]}")
    response = bot.slack.view_submission(
        SOCIAL_WORKER, form, values=_follow_up_values(datetime(2026, 12, 4, 10, 0, tzinfo=UTC))
    )
    bot.settle()
    with Session(bot.runtime.engine) as session:
        follow = session.exec(select(Meeting).where(col(Meeting.follows_meeting_id) == first.id)).one()
    kind = bot.runtime.partnership.meeting_type(follow.meeting_type).name
    _say(f"submitted -> HTTP {response.status}; {follow.reference}: {kind}, following {first.reference}")
    _clock(bot).set(datetime(2026, 12, 4, 11, 0, tzinfo=UTC))
    bot.slack.command("/strategy", f"record {follow.reference}", user_id=CHAIR)
    view = _opened(bot, "Record discussion")
    step_two = _record_when_and_who(bot, CHAIR, view, everyone="present")
    offered = next(b for b in step_two["blocks"] if b.get("block_id") == "section_47")
    _say("recording it, section 47 offers: " + offered["element"]["options"][0]["text"]["text"])
    _record_decisions(bot, CHAIR, step_two, section_47="continue", review="2026-12-17")
    _say(_status_line(bot, follow.id or 0, "ICPC"))


def step_out_of_hours(bot: OfflineBot) -> None:
    """Saturday night: the Emergency Duty Team convenes and records a discussion."""
    _clock(bot).set(datetime(2026, 12, 5, 21, 30, tzinfo=UTC))
    values = strategy_form_values(
        case_reference=_typed("CS-7654321"),
        child_name=_typed("Amara Test-Child"),
        child_date_of_birth={"type": "datepicker", "selected_date": None},
        referred_at={"type": "datetimepicker", "selected_date_time": int(bot.clock.now().timestamp())},
        urgency=_choice("immediate"),
        start={
            "type": "datetimepicker",
            "selected_date_time": int(datetime(2026, 12, 5, 22, 0, tzinfo=UTC).timestamp()),
        },
        chair=_choice(OTHER_CHAIR),
        concerns={"type": "checkboxes", "selected_options": [{"value": "criminal_exploitation"}]},
    )
    view = open_strategy_form(bot, SOCIAL_WORKER, "CS-7654321")
    refused = bot.slack.view_submission(SOCIAL_WORKER, view, values=values).json()
    _say(f"Sat 05 Dec 21:30, the social worker tries -> inline error: {refused['errors']['start']}")
    view = open_strategy_form(bot, EDT, "CS-7654321")
    reason = "Found at an address linked to the county line tonight; police protection used."
    values["out_of_hours_reason"] = {"value": _typed(reason)}
    response = bot.slack.view_submission(EDT, view, values=values)
    bot.settle()
    with Session(bot.runtime.engine) as session:
        meeting = session.exec(select(Meeting).order_by(col(Meeting.id).desc()).limit(1)).one()
        chased = min(
            i.next_chase_at
            for i in session.exec(select(Invitation).where(col(Invitation.meeting_id) == meeting.id))
            if i.next_chase_at
        )
    line = _status_line(bot, meeting.id or 0, "Out of hours")
    _say(f"the emergency duty convenor -> HTTP {response.status}; {meeting.reference}: {line}")
    first_chase = bot.runtime.calendar.local(chased)
    _say(f"invitations go now; chasing keeps to the service calendar: first at {first_chase:%a %d %b %H:%M}")
    _clock(bot).set(datetime(2026, 12, 5, 23, 15, tzinfo=UTC))
    bot.slack.command("/strategy", f"record {meeting.reference}", user_id=EDT)
    view = _opened(bot, "Record discussion")
    step_two = _record_when_and_who(
        bot,
        EDT,
        view,
        everyone="present",
        **{"attendance:health": "apologies", "attendance:education": "did_not_respond"},
        actual_start=str(int(datetime(2026, 12, 5, 22, 5, tzinfo=UTC).timestamp())),
        actual_end=str(int(datetime(2026, 12, 5, 22, 50, tzinfo=UTC).timestamp())),
        out_of_hours_reason=reason,
        quorum_reason="Out of hours: the named nurse could not be reached; the on-call paediatrician "
        "advised by phone.",
    )
    _record_decisions(bot, EDT, step_two, review="2026-12-08")
    _say(
        "recorded by the emergency duty convenor at 23:15, as held 22:05-22:50 "
        "(health absent: the chair went ahead)"
    )
    _say(_status_line(bot, meeting.id or 0, "ICPC"))


def step_close_case(bot: OfflineBot) -> None:
    """The ICPC and the assessment are recorded on the case's timeline, and the case closes:
    refused while an action is open, then with the action handed on."""
    first = _meeting(bot)
    _clock(bot).set(datetime(2026, 12, 7, 10, 0, tzinfo=UTC))
    timeline = _ephemeral_text(bot, SOCIAL_WORKER, first.reference)
    start = timeline.index("*Case CS-1234567: timeline*")
    _say("/strategy SD-2026-0001, the case's timeline:")
    _say(textwrap.indent("\n".join(timeline[start:].splitlines()[:9]), "  | "))
    bot.slack.block_actions(SOCIAL_WORKER, [{"action_id": "case_icpc_open", "value": str(first.id)}])
    icpc = _opened(bot, "Record the ICPC")
    bot.slack.view_submission(
        SOCIAL_WORKER,
        icpc,
        values={
            "icpc": {"value": _radio("held")},
            "held_on": {"value": {"type": "datepicker", "selected_date": "2026-12-01"}},
            "not_required_reason": {"value": _typed(None)},
        },
    )
    bot.slack.block_actions(SOCIAL_WORKER, [{"action_id": "case_outcome_open", "value": str(first.id)}])
    outcome = _opened(bot, "Assessment outcome")
    bot.slack.view_submission(
        SOCIAL_WORKER,
        outcome,
        values={
            "substantiated": {"value": _radio("substantiated")},
            "outcome": {"value": _radio("child_protection_plan")},
            "completed_on": {"value": {"type": "datepicker", "selected_date": "2026-12-01"}},
        },
    )
    bot.settle()
    _say(
        "[Record the ICPC] held Tue 01 Dec; [Record the assessment outcome] substantiated, "
        "child protection plan"
    )
    bot.slack.command("/strategy", f"close {first.reference}", user_id=SOCIAL_WORKER)
    closing = _opened(bot, "Close the case")
    values = {
        "outcome": {"value": _choice("child_protection_plan")},
        "reason": {
            "value": _typed("A child protection plan was made at the ICPC; the core group takes it on.")
        },
        "hand_on": {"value": {"type": "checkboxes", "selected_options": []}},
        "hand_on_note": {"value": _typed(None)},
    }
    refused = bot.slack.view_submission(SOCIAL_WORKER, closing, values=values).json()
    _say(f"/strategy close SD-2026-0001 -> inline: {refused['errors']['hand_on']}")
    values["hand_on"] = {"value": {"type": "checkboxes", "selected_options": [{"value": "yes"}]}}
    bot.slack.view_submission(SOCIAL_WORKER, closing, values=values)
    bot.settle()
    notice = next(
        c.args["text"]
        for c in bot.local_slack.calls_to("chat.postMessage")
        if c.args.get("text", "").startswith("*OFFICIAL-SENSITIVE* · Case CS-1234567 is closed")
    )
    _say("ticked 'Hand on the open actions' -> closed; in the discussions' channels:")
    _say(textwrap.indent(notice, "  | "))


SIBLINGS = (
    ("CS-4000001", "Mia Test-Sibling", "2012-03-09"),
    ("CS-4000002", "Leo Test-Sibling", "2014-07-21"),
)


def step_siblings(bot: OfflineBot) -> None:
    """Two siblings in one discussion: one form (*Add a child*), one channel, one set of
    invitations; their decisions taken a step per child; each child's own record."""
    import io

    import docx

    from bot.minutes.models import Document
    from bot_offline import children as children_offline
    from bot_offline.local_slack.signed_client import StateValue

    (first_ref, first_name, first_born), second = SIBLINGS
    clock = _clock(bot)
    clock.set(datetime(2026, 12, 8, 9, 30, tzinfo=UTC))  # Tuesday 8 December, 09:30 London
    view = open_strategy_form(bot, SOCIAL_WORKER, first_ref)
    view = children_offline.add_a_child(bot, SOCIAL_WORKER, view)
    values = strategy_form_values(
        case_reference=StateValue.text(first_ref),
        child_name=StateValue.text(first_name),
        child_date_of_birth=StateValue.datepicker(first_born),
        referred_at=StateValue.datetimepicker(int(datetime(2026, 12, 8, 9, 0, tzinfo=UTC).timestamp())),
        reason=StateValue.text("Both seen at a trap house with an older male; missing together twice."),
        start=StateValue.datetimepicker(int(datetime(2026, 12, 8, 14, 0, tzinfo=UTC).timestamp())),
        **children_offline.further_children(second, siblings=True),
    )
    response = bot.slack.view_submission(SOCIAL_WORKER, view, values=values)
    bot.settle()
    if response.body not in ("", "{}"):
        raise RuntimeError(f"the siblings' form was refused: {response.body}")
    with Session(bot.runtime.engine) as session:
        meeting = session.exec(select(Meeting).order_by(col(Meeting.id).desc())).first()
        assert meeting is not None
        invited = session.exec(select(Invitation).where(col(Invitation.meeting_id) == meeting.id)).all()
    _say(
        textwrap.fill(
            f"/strategy new {first_ref}, then [Add a child]: the form grows in place with the second "
            "child's reference, name and date of birth; 'siblings living together' is ticked",
            96,
        )
    )
    _say(
        f"-> {meeting.reference}: one channel (#{meeting.reference.lower()}), {len(invited)} agencies "
        "invited once each, one status message:"
    )
    _say("  " + _status_line(bot, meeting.id or 0, "Strategy discussion").replace("*", ""))
    clock.set(datetime(2026, 12, 8, 15, 0, tzinfo=UTC))
    bot.slack.command("/strategy", f"record {meeting.reference}", user_id=CHAIR)
    record_view = _opened(bot, "Record discussion")
    shared = _record_when_and_who(bot, CHAIR, record_view, everyone="present")
    shared_values: dict[str, dict[str, Any]] = {
        "threshold_level": {"value": _choice("complex_significant")},
        "review_date": {"value": {"type": "datepicker", "selected_date": "2026-12-15"}},
        "harm": {
            "value": _typed("Criminal exploitation of both; Leo is being groomed by his sister's contacts.")
        },
        "next_steps": {"value": _typed("ICPC for Mia; Leo's needs met under a child in need plan.")},
    }
    for topic, (answer, detail) in DECISIONS.items():
        if topic in ("section_47", "enquiry_type", "icpc"):
            continue
        if answer:
            shared_values[topic] = {"value": _radio(answer)}
        shared_values[f"{topic}_detail"] = {"value": _typed(detail or None)}
    first = bot.slack.view_submission(CHAIR, shared, values=shared_values)
    children_offline.submit_child_steps(
        bot,
        CHAIR,
        first.body,
        [
            children_offline.child_step_values(
                "start",
                "joint",
                "needed",
                "Exploited to carry drugs; significant harm.",
                "CSC with Force CID",
            ),
            children_offline.child_step_values(
                "no_enquiries",
                "not_applicable",
                "not_needed",
                "At risk, not yet harmed: a child in need plan.",
            ),
        ],
    )
    bot.settle()
    _say(
        textwrap.fill(
            "recorded in 4 steps: when and who, the decisions shared by both children, then a step "
            f"for {first_ref} (section 47 enquiries start, joint) and one for {second[0]} (no enquiries)",
            96,
        )
    )
    _say(textwrap.fill(_status_line(bot, meeting.id or 0, "ICPC").replace("*", ""), 96))
    with Session(bot.runtime.engine) as session:
        records = session.exec(
            select(Document)
            .where(col(Document.meeting_id) == meeting.id, col(Document.kind).startswith("child_record:"))
            .order_by(col(Document.id))
        ).all()
    _say("each child's own record, a draft for the chair to approve before it goes to their file:")
    for document in records:
        _say(f"  {document.filename} ({document.state})")
    # The chair approves the brother's record, as the minutes are approved: it is locked,
    # stamped, and only then sent to the convenor for his file.
    bot.slack.block_actions(CHAIR, [{"action_id": "child_record_approve", "value": str(records[-1].id)}])
    bot.settle()
    with Session(bot.runtime.engine) as session:
        approved = session.get_one(Document, records[-1].id)
    leo = docx.Document(io.BytesIO(approved.content))
    stamp = next((p.text for p in leo.paragraphs if p.text.startswith("Approved by")), "not approved")
    _say(f"the chair approves {second[0]}'s record: {approved.state}; {stamp} It goes to the convenor.")
    rows = {row.cells[0].text: row.cells[1].text for row in leo.tables[0].rows}
    harm = next(p.text for p in leo.paragraphs if p.text.startswith("Harm:"))
    _say(textwrap.fill(f"in {second[0]}'s record: household {rows['Household (siblings)']}; {harm}", 96))
    named = any(first_name.split()[0] in p.text for p in leo.paragraphs)
    _say(f"his sister's name {'IS' if named else 'is not'} in it: she is {first_ref} there")
    if named:
        raise RuntimeError("a sibling's name is in another child's record")


PANEL_ADMIN = "U0BSC001"


def step_failed_message(bot: OfflineBot) -> None:
    """A message Slack refuses for good is told to the panel administrators, who send it
    again once the cause is fixed."""
    from bot.database import session_scope
    from bot.delivery.models import OutboxMessage, OutboxState
    from bot.delivery.service import enqueue

    meeting = _meeting(bot)
    with session_scope(bot.runtime.engine) as session:  # as any capability owes Slack a message
        entry = enqueue(
            session,
            key="demo-archived-channel",
            method="chat.postMessage",
            arguments={"channel": meeting.channel_id, "text": f"{meeting.reference}: a note."},
            now=bot.clock.now(),
        )
        session.flush()
        entry_id = entry.id
    bot.local_slack.error_next("chat.postMessage", "is_archived")  # someone archived the channel
    failures = logging.getLogger("bot.delivery.service")
    level = failures.level
    failures.setLevel(logging.CRITICAL)  # said below, without the wall-clock time
    try:
        bot.settle()
    finally:
        failures.setLevel(level)
    dm = next(
        c.args["text"]
        for c in bot.local_slack.calls_to("chat.postMessage")
        if c.args["channel"] == PANEL_ADMIN and "failed for good" in c.args.get("text", "")
    )
    _say("Slack refuses a message to an archived channel (logged as an error: outbox.failed,")
    _say(f"outbox_id={entry_id}, error=200 is_archived; never its text). The panel administrator's DM:")
    _say(textwrap.indent(textwrap.fill(_slack_text(dm), 88), "  | "))
    bot.slack.event({"type": "app_home_opened", "user": PANEL_ADMIN, "tab": "home"})
    bot.local_slack.wait_for(
        lambda calls: any(c.method == "views.publish" and c.args.get("user_id") == PANEL_ADMIN for c in calls)
    )
    blocks = (bot.local_slack.home_view(PANEL_ADMIN) or {}).get("blocks", [])
    start = next(i for i, b in enumerate(blocks) if "Messages that failed" in json.dumps(b))
    _say("and their Home tab lists it:")
    _say(textwrap.indent(blocks_as_text(blocks[start : start + 2]), "  | "))
    bot.slack.block_actions(PANEL_ADMIN, [{"action_id": "outbox_retry", "value": str(entry_id)}])
    bot.settle()
    with Session(bot.runtime.engine) as session:
        again = session.get(OutboxMessage, entry_id)
        state = again.state if again else ""
    outcome = "sent" if state == OutboxState.SENT else state
    _say(f"the channel is unarchived; they press Send again -> {outcome}")


def step_need_to_know(bot: OfflineBot) -> None:
    """The child's name and date of birth went into the record, never into Slack."""
    sent = "\n".join(json.dumps(c.args, default=str) for c in bot.local_slack.calls if c.method != "upload")
    calendars = b"".join(
        u.content or b"" for u in bot.local_slack.uploaded_files() if u.filename.endswith(".ics")
    )
    names = [SAMPLE_CHILD_NAME, *(name for _, name, _ in SIBLINGS)]
    found = any(name in sent or name.encode() in calendars for name in names) or "2011-05-01" in sent
    _say(
        "every Web API call checked: the children's names "
        f"{'WERE FOUND' if found else 'appear in none of them'} (it is only inside the Word "
        "documents, which go to the discussion's private channel and to authorised people)"
    )
    if found:
        raise RuntimeError("the child's name reached Slack")


def step_monthly_report(bot: OfflineBot) -> None:
    """The first working day of the month: last month's timeliness report goes to the panel
    administrators (once); an administrator asks for the figures in Slack."""
    import io

    import docx

    from bot.timeliness.jobs import send_monthly_report

    clock = _clock(bot)
    first_working_day = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)  # Tuesday 1 December
    if clock.now() < first_working_day:
        clock.set(first_working_day)
    send_monthly_report(bot.runtime)
    bot.settle()
    again = send_monthly_report(bot.runtime)
    sent = [u for u in bot.local_slack.uploaded_files() if u.completed and "month-2026-11" in u.filename]
    report = next(u for u in sent if u.filename.endswith(".docx"))
    rows = next(u for u in sent if u.filename.endswith(".csv"))
    administrators = len({u.channel for u in sent})
    _say(
        f"the sweep sent {report.filename} and {rows.filename} to {administrators} panel "
        f"administrators, by direct message; a second sweep sent it to {again} more (once a month)"
    )
    document = docx.Document(io.BytesIO(report.content or b""))
    headline = [p.text for p in document.paragraphs if p.style is not None and p.style.name == "List Bullet"]
    _say("the report's headline (the Word document, with its chart and a table for each measure):")
    for line in headline:
        _say(textwrap.indent(textwrap.fill(line, 96), "  | "))
    bot.slack.command("/strategy", "report 2026-11", user_id=PANEL_ADMIN)
    bot.settle()
    reply = bot.local_slack.responses()[-1].args
    agency_lines = [
        b["text"]["text"].replace("*", "")
        for b in reply.get("blocks", [])
        if b["type"] == "section" and b["text"]["text"].startswith("*") and "attended" in b["text"]["text"]
    ]
    chart = next(u for u in bot.local_slack.uploaded_files() if u.filename == "timeliness-month-2026-11.png")
    _say(
        f"/strategy report 2026-11 (a panel administrator): the figures by agency, and "
        f"{chart.filename} in a direct message; the last of {len(agency_lines)} agency lines:"
    )
    _say(textwrap.indent(textwrap.fill(agency_lines[-1], 96), "  | "))
    for upload in (report, rows):
        if SAMPLE_CHILD_NAME.encode() in (upload.content or b""):
            raise RuntimeError("the child's name is in the timeliness report")


SCENARIO: list[tuple[str, Step]] = [
    ("The bot answers its health check", step_health),
    ("Slack's signature is checked", step_forged_request),
    ("A social worker asks for help", step_strategy_help),
    ("A mistyped command", step_unknown_subcommand),
    ("The Home tab", step_home_tab),
    ("Convening a strategy discussion", step_convene),
    ("Agencies answer their invitations", step_answers),
    ("A partner without Slack answers from an e-mailed link", step_partner_without_slack),
    ("An agency that does not answer is chased and escalated", step_chasing),
    ("Agencies send their updates", step_agency_updates),
    ("The live status message", step_status),
    ("A police officer without Slack answers and writes her update on the pages", step_police_without_slack),
    ("Recording the discussion and its actions", step_record),
    ("The chair approves the minutes", step_approve),
    ("An overdue action is chased until it is done", step_chase_actions),
    ("The police officer without Slack marks her action done on the pages", step_police_action_done),
    ("The panel's next sittings open", step_panel_sittings),
    ("Referrals to the Criminal Exploitation Panel", step_panel_referrals),
    ("The agenda at the referral cut-off", step_panel_agenda),
    ("Pre-panel updates, one per child or context", step_panel_updates),
    ("The panel sits: VOLT minutes with the network picture", step_panel_sits),
    ("Locate: a missing episode and its return home interview", step_missing_episode),
    ("Carried forward to the next sitting", step_panel_carry_forward),
    ("A disruption action is chased until its outcome is recorded", step_disruption_outcome),
    ("The review day brings a follow-up discussion", step_review_follow_up),
    ("Out of hours: the Emergency Duty Team", step_out_of_hours),
    ("The ICPC, the assessment's outcome, and closing the case", step_close_case),
    ("Two siblings in one discussion", step_siblings),
    ("Nothing fails silently: a message Slack refused", step_failed_message),
    ("Need to know", step_need_to_know),
    ("The month's timeliness report", step_monthly_report),
]


def run_demo(*, verbose: bool = False) -> int:
    """Play the scenario and print each step; non-zero if a step fails."""
    from bot_offline.local_notify import API_KEY, TEMPLATE_ID, LocalNotify

    clock = SettableClock(DEMO_START)
    with (
        LocalNotify() as notify,
        OfflineBot(
            clock=clock,
            email_provider="notify",
            notify_api_key=API_KEY,
            notify_base_url=notify.base_url,
            notify_template_id=TEMPLATE_ID,
        ) as bot,
    ):
        _names.clear()
        _names.update({p.slack_user_id: p.name for p in bot.runtime.partnership.people() if p.slack_user_id})
        _written.clear()
        print("Safeguarding panel bot: offline demo")
        print("  the real app and a local Slack on this machine's loopback, a fresh SQLite database,")
        print("  the sample partnership in schedules/; people are named as the schedules name them")
        print(
            f"  simulated clock from {bot.runtime.calendar.local(DEMO_START):%a %d %b %Y %H:%M}; "
            "every time shown is London time"
        )
        if verbose:
            print(f"  app on {bot.server.events_url}; local Slack Web API on {bot.local_slack.api_url}")
            print(f"  database {bot.database_url.removeprefix('sqlite:///')}")
        print()
        for number, (title, step) in enumerate(SCENARIO, start=1):
            print(f"{number}. {title}")
            step(bot)
            print()
        # The methods, not how often each was called: refreshes of a message are coalesced
        # differently from run to run, and the demo prints the same story every time.
        made = ", ".join(sorted({call.method for call in bot.local_slack.calls}))
        print(f"Web API methods the bot called: {made}")
    print()
    print(f"Documents written ({len(_written)}):")
    for path in _written:
        print(f"  {path}")
    print("Demo finished.")
    return 0
