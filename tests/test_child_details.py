"""The child's details the minutes print (sex, ethnicity, NHS number, legal status,
parents with parental responsibility...): written through a form that never shows them,
stored on the case, printed in the minutes, never in Slack; through signed requests."""

from __future__ import annotations

import json

from sqlmodel import Session, select

from bot.audit.models import AuditEntry
from bot.cases.models import Case
from bot.minutes.models import Document
from bot_offline.local_slack.signed_client import StateValue
from tests.convening_support import HEALTH, SOCIAL_WORKER, all_slack_text, convene, settle
from tests.test_case_life import _click, _opened, _record
from tests.test_minutes import AFTER_THE_MEETING, _text_of

TYPED = {
    "sex": StateValue.static_select("male"),
    "ethnicity": StateValue.text("Mixed: White and Black Caribbean"),
    "disability": StateValue.text(None),
    "first_language": StateValue.text("English"),
    "interpreter_needed": StateValue.static_select("no"),
    "nhs_number": StateValue.text("943 476 5919"),
    "legal_status": StateValue.static_select("child_in_need"),
    "school": StateValue.text("Northfield Academy"),
    "siblings_and_others_at_risk": StateValue.text("Sister, 8, same address"),
    "parents_and_carers": StateValue.text("Donna Quillfeather (mother, parental responsibility)"),
}


def _values(**changes) -> dict:
    return {key: {"value": value} for key, value in (TYPED | changes).items()}


def test_the_childs_details_reach_the_minutes_and_never_slack(bot) -> None:
    meeting = convene(bot)
    # someone with no part in the discussion is refused, and it is audited
    _click(bot, HEALTH, "case_details_open", str(meeting.id))
    _click(bot, SOCIAL_WORKER, "case_details_open", str(meeting.id))
    form = _opened(bot, "Child's details")
    shown = json.dumps(form)
    assert "Recorded: none yet" in shown and "initial_value" not in shown and "initial_option" not in shown
    wrong = bot.slack.view_submission(
        SOCIAL_WORKER, form, values=_values(nhs_number=StateValue.text("943 476 5918"))
    )
    assert "not a valid NHS number" in wrong.json()["errors"]["nhs_number"]
    with Session(bot.runtime.engine) as session:
        assert session.exec(select(Case)).one().nhs_number == ""  # nothing half-written
    saved = bot.slack.view_submission(SOCIAL_WORKER, form, values=_values())
    assert saved.body in ("", "{}"), saved.body
    settle(bot)
    with Session(bot.runtime.engine) as session:
        case = session.exec(select(Case)).one()
        assert (case.nhs_number, case.legal_status, case.sex) == ("9434765919", "child_in_need", "male")
        entries = [e for e in session.exec(select(AuditEntry)) if e.act.startswith("case.details")]
    assert {e.act for e in entries} == {"case.details_updated", "case.details_refused"}
    assert "Donna" not in json.dumps([e.details for e in entries])  # field names only
    # the form, opened again, says what is recorded but never shows it
    _click(bot, SOCIAL_WORKER, "case_details_open", str(meeting.id))
    again = json.dumps(_opened(bot, "Child's details"))
    assert "NHS number (10 digits)" in again and "9434765919" not in again and "Quillfeather" not in again
    # the minutes print them
    bot.clock.set(AFTER_THE_MEETING)
    _record(bot, meeting)
    with Session(bot.runtime.engine) as session:
        minutes = session.exec(select(Document).where(Document.kind == "minutes")).one()
        text = _text_of(minutes.content)
    for expected in ("943 476 5919", "Child in need", "Donna Quillfeather", "Northfield Academy", "Male"):
        assert expected in text, expected
    sent = all_slack_text(bot)
    assert "Quillfeather" not in sent and "9434765919" not in sent and "943 476 5919" not in sent
