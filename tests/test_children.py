"""Several children, or a context, in one strategy discussion (issue 16): the model and its
migration, convening siblings through Slack, recording a step per child, agency updates
that say which child, the documents per child, households and others at risk."""

from __future__ import annotations

import json

from sqlalchemy import text
from sqlmodel import Session, select

from bot.children.models import DiscussionChild
from bot.minutes.models import Decision


def test_the_migration_makes_each_discussions_child_its_first_child(engine) -> None:
    """A record from before this version (at 0009): every strategy discussion's child becomes
    its first discussion child on the discussion's episode; a panel sitting gets none; the
    decisions stay the discussion's own and one decision per topic is still enforced."""
    from sqlalchemy.exc import IntegrityError

    from bot.database import upgrade
    from bot.models import metadata

    metadata.drop_all(engine)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE alembic_version"))
    upgrade(engine, "0009_partner_links")
    meeting_row = (
        "INSERT INTO meeting (id, reference, meeting_type, case_id, state, urgency, format, reason, concerns, "
        "right_help_right_time_level, scheduled_start, duration_minutes, late_reason, calendar_sequence, "
        "cancelled_reason, details, created_at, out_of_hours, out_of_hours_reason, review_state, "
        "review_chase_step, review_resolution, episode_id) VALUES (:id, :ref, :kind, :case_id, 'held', "
        "'urgent', 'call', 'r', '[]', 'complex_significant', '2026-01-07 10:00:00', 60, '', 0, '', '{}', "
        "'2026-01-06 10:00:00', false, '', '', 0, '', :episode)"
    )
    with engine.begin() as connection:
        connection.execute(
            text(
                'INSERT INTO "case" (id, reference, subject_kind, subject_label, child_name, child_address, school, '
                "siblings_and_others_at_risk, right_help_right_time_level, created_at) VALUES "
                "(1, 'CS-1234567', 'child', '', 'A Child', '', '', '', 'complex_significant', "
                "'2025-12-18 10:00:00')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO caseepisode (id, case_id, state, referred_at, threshold_level, threshold_decided_at, "
                "closure_outcome, closure_reason, created_at) VALUES (1, 1, 'open', '2026-01-06 09:00:00', "
                "'complex_significant', '2026-01-06 09:00:00', '', '', '2026-01-06 09:00:00')"
            )
        )
        connection.execute(
            text(meeting_row),
            {"id": 1, "ref": "SD-2026-0001", "kind": "strategy_discussion", "case_id": 1, "episode": 1},
        )
        connection.execute(
            text(meeting_row),
            {"id": 2, "ref": "CEP-2026-0001", "kind": "cep", "case_id": None, "episode": None},
        )
        connection.execute(
            text(
                "INSERT INTO decision (meeting_id, topic, outcome, reason, details, recorded_at) VALUES "
                "(1, 'section_47', 'start', 'Significant harm', '{}', '2026-01-07 11:00:00')"
            )
        )
    upgrade(engine)
    with Session(engine) as session:
        [child] = session.exec(select(DiscussionChild)).all()
        [decision] = session.exec(select(Decision)).all()
    assert (child.meeting_id, child.case_id, child.position, child.episode_id) == (1, 1, 0, 1)
    assert (decision.topic, decision.case_id, decision.outcome) == ("section_47", None, "start")
    # One decision per topic for the discussion, and one per topic for each child.
    with Session(engine) as session:
        session.add(Decision(meeting_id=1, topic="section_47", case_id=1, outcome="start"))
        session.commit()
    try:
        with Session(engine) as session:
            session.add(Decision(meeting_id=1, topic="section_47", outcome="no_enquiries"))
            session.commit()
        raise AssertionError("a second discussion-wide decision on one topic was stored")
    except IntegrityError:
        pass
    try:
        with Session(engine) as session:
            session.add(Decision(meeting_id=1, topic="section_47", case_id=1, outcome="no_enquiries"))
            session.commit()
        raise AssertionError("a second decision on one topic for one child was stored")
    except IntegrityError:
        pass


# ---------------------------------------------------------------- convening siblings

from bot.audit.models import AuditEntry  # noqa: E402
from bot.cases.models import Case, CaseEpisode  # noqa: E402
from bot.convening.models import Invitation, Meeting  # noqa: E402
from bot_offline.local_slack.signed_client import StateValue  # noqa: E402
from tests.convening_support import (  # noqa: E402
    CHILD_NAME,
    SOCIAL_WORKER,
    all_slack_text,
    open_form,
    settle,
    status_text,
    submit,
)

SISTER, SISTER_REF, SISTER_BORN = "Amara Okonkwo-Test", "CS-2345678", "2013-02-14"
BROTHER, BROTHER_REF = "Tobi Okonkwo-Test", "CS-3456789"


def sibling_values(*children: tuple[str, str, str | None], siblings: bool = True) -> dict[str, object]:
    """Form overrides naming further children, as *Add a child* lays them out."""
    values: dict[str, object] = {"siblings": StateValue.checkboxes(["yes"] if siblings else [])}
    for number, (reference, name, born) in enumerate(children, start=1):
        values[f"child_{number}_reference"] = StateValue.text(reference)
        values[f"child_{number}_name"] = StateValue.text(name)
        values[f"child_{number}_dob"] = StateValue.datepicker(born)
    return values


def _add_a_child(bot, view: dict) -> dict:
    """Click *Add a child* in the open form; the form Slack was asked to show instead."""
    button = next(b for b in view["blocks"] if b.get("block_id") == "children_actions")["elements"][0]
    before = len(bot.local_slack.calls_to("views.update"))
    response = bot.slack.block_actions(
        SOCIAL_WORKER,
        [
            {
                "action_id": button["action_id"],
                "block_id": "children_actions",
                "value": button["value"],
                "type": "button",
            }
        ],
        view=view,
    )
    assert response.status == 200
    calls = bot.local_slack.wait_for(
        lambda calls: len([c for c in calls if c.method == "views.update"]) > before
    )
    call = [c for c in calls if c.method == "views.update"][-1]
    assert call.ok, call.response
    return dict(call.response["view"])


def test_add_a_child_grows_the_form_in_place_and_siblings_convene_once(bot) -> None:
    view = open_form(bot)
    assert not any(b.get("block_id", "").startswith("child_1_") for b in view["blocks"])
    view = _add_a_child(bot, view)
    view = _add_a_child(bot, view)
    ids = [b.get("block_id") for b in view["blocks"]]
    assert {"child_1_reference", "child_1_name", "child_1_dob", "child_2_reference", "child_2_name"} <= set(
        ids
    )
    assert len(view["blocks"]) <= 100
    response = submit(
        bot, view, **sibling_values((SISTER_REF, SISTER, SISTER_BORN), (BROTHER_REF, BROTHER, None))
    )
    assert response.status == 200 and response.body in ("", "{}"), response.body
    settle(bot)
    with Session(bot.runtime.engine) as session:
        [meeting] = session.exec(select(Meeting)).all()
        children = session.exec(
            select(DiscussionChild)
            .where(DiscussionChild.meeting_id == meeting.id)
            .order_by(DiscussionChild.position)
        ).all()
        cases = [session.get(Case, c.case_id) for c in children]
        episodes = {c.episode_id for c in children}
        invitations = session.exec(select(Invitation).where(Invitation.meeting_id == meeting.id)).all()
        added = session.exec(select(AuditEntry).where(AuditEntry.act == "discussion.child_added")).all()
    assert [c.reference for c in cases] == ["CS-1234567", SISTER_REF, BROTHER_REF]
    assert [c.child_name for c in cases] == [CHILD_NAME, SISTER, BROTHER]
    assert len(episodes) == 3 and None not in episodes  # each child's own timeline
    assert len({c.household_id for c in cases}) == 1 and cases[0].household_id is not None
    # One set of invitations (one per agency), one channel, one status message.
    assert len(invitations) == len({i.agency_id for i in invitations})
    assert len(bot.local_slack.calls_to("conversations.create")) == 1
    status = status_text(bot, meeting.id)
    assert f"CS-1234567, {SISTER_REF}, {BROTHER_REF} (siblings)" in status
    assert {a.case_reference for a in added} == {SISTER_REF, BROTHER_REF}
    # The household is one node of the panel's network, linking the three.
    from bot.children.service import others_at_risk
    from bot.panel.service import network_groups, network_links

    with Session(bot.runtime.engine) as session:
        groups = network_groups(network_links(session, [c.id for c in cases]))
        others = others_at_risk(session, cases[1], meeting)
    assert groups["household"] == [("Household of CS-1234567", ["CS-1234567", SISTER_REF, BROTHER_REF])]
    assert others.siblings == ["CS-1234567", BROTHER_REF] and others.alongside == []
    # The convenor's Home tab lists each child's case, each on its own timeline.
    bot.slack.event({"type": "app_home_opened", "user": SOCIAL_WORKER, "tab": "home", "channel": "D0HOME"})
    bot.local_slack.wait_for(lambda calls: any(c.method == "views.publish" for c in calls))
    home = json.dumps(bot.local_slack.home_view(SOCIAL_WORKER))
    assert all(reference in home for reference in ("CS-1234567", SISTER_REF, BROTHER_REF))
    # Names never reach Slack.
    text = all_slack_text(bot)
    for name in (CHILD_NAME, SISTER, BROTHER, "Amara", "Tobi"):
        assert name not in text


def test_each_further_child_is_checked_where_it_was_typed(bot) -> None:
    view = _add_a_child(bot, _add_a_child(bot, open_form(bot)))
    response = submit(
        bot,
        view,
        **sibling_values(("CS-1234567", SISTER, None), ("XX-1", "", "2099-01-01")),
        late_reason=StateValue.text("Tobi is away until Friday"),
    )
    errors = json.loads(response.body)["errors"]
    assert errors["child_1_reference"] == "That child is already in this discussion."
    assert "case reference is" in errors["child_2_reference"]
    assert "name" in errors["child_2_name"]
    assert errors["child_2_dob"] == "The date of birth is in the future."
    with Session(bot.runtime.engine) as session:
        assert session.exec(select(Meeting)).all() == []
        assert session.exec(select(CaseEpisode)).all() == []


def test_a_childs_name_in_a_slack_visible_field_is_refused_for_every_child(bot) -> None:
    view = _add_a_child(bot, open_form(bot))
    response = submit(
        bot,
        view,
        **sibling_values((SISTER_REF, SISTER, None)),
        out_of_hours_reason=StateValue.text("Amara was seen at the station"),
    )
    assert "must not name the child" in json.loads(response.body)["errors"]["out_of_hours_reason"]


def test_a_context_from_the_register_brings_its_linked_children(bot) -> None:
    """A park on the panel's register, linked to two children: a discussion about the park
    concerns both, each linked through it, and the status names the context and references."""
    from bot.panel.jobs import sweep_panels
    from bot.panel.models import Referral
    from bot_offline.panel import decide, refer

    sweep_panels(bot.runtime)
    refer(bot, SOCIAL_WORKER, case_reference="CS-2000001", child_name="Test Child Alpha")
    refer(bot, SOCIAL_WORKER, case_reference="CS-2000002", child_name="Test Child Beta")
    refer(
        bot,
        "U0PPU001",
        subject="location",
        label="Lodge Road park",
        reasons="Daily dealing; children seen with adults.",
        links="case: CS-2000001\ncase: CS-2000002\nperpetrator: Adult male T",
    )
    with Session(bot.runtime.engine) as session:
        referrals = session.exec(select(Referral)).all()
    for referral in referrals:  # the administrator accepts them onto the register
        decide(bot, referral.id or 0, accept=True)
    with Session(bot.runtime.engine) as session:
        park = session.exec(select(Case).where(Case.subject_kind == "location")).one()
    view = open_form(bot, text="")
    response = submit(
        bot,
        view,
        case_reference=StateValue.text(None),
        child_name=StateValue.text(None),
        child_date_of_birth=StateValue.datepicker(None),
        context=StateValue.text(park.reference.lower()),
    )
    assert response.status == 200 and response.body in ("", "{}"), response.body
    settle(bot)
    with Session(bot.runtime.engine) as session:
        [meeting] = session.exec(select(Meeting).where(Meeting.meeting_type == "strategy_discussion")).all()
        children = session.exec(
            select(DiscussionChild)
            .where(DiscussionChild.meeting_id == meeting.id)
            .order_by(DiscussionChild.position)
        ).all()
        references = [session.get(Case, c.case_id).reference for c in children]
    assert meeting.context_case_id == park.id
    assert references == ["CS-2000001", "CS-2000002"]
    assert {c.through_context_id for c in children} == {park.id}
    assert f"{park.reference}: CS-2000001, CS-2000002" in status_text(bot, meeting.id)
    # Linked through the park: each is the other's "other at risk", and the park is a node
    # of the panel's network with both.
    from bot.children.service import others_at_risk
    from bot.panel.service import network_groups, network_links

    with Session(bot.runtime.engine) as session:
        alpha = session.exec(select(Case).where(Case.reference == "CS-2000001")).one()
        others = others_at_risk(session, alpha)  # from the record alone, no discussion given
        groups = network_groups(network_links(session, [alpha.id]))
    assert others.alongside == ["CS-2000002"] and others.contexts == [park.reference]
    assert ("Lodge Road park", ["CS-2000001"]) in groups["location"]
    text = all_slack_text(bot)
    assert "Test Child Alpha" not in text and "Test Child Beta" not in text


def test_a_context_that_is_not_on_the_register_is_refused_inline(bot) -> None:
    response = submit(
        bot,
        open_form(bot),
        case_reference=StateValue.text(None),
        child_name=StateValue.text(None),
        context=StateValue.text("CTX-2026-0099"),
    )
    errors = json.loads(response.body)["errors"]
    assert "register" in errors["context"]
    assert "case_reference" not in errors or "child_name" in errors


# ---------------------------------------------------------------- recording a step per child

from datetime import UTC, datetime  # noqa: E402

from bot.cases.models import Section47Enquiry  # noqa: E402
from tests.minutes_support import decision_values, when_and_who_values  # noqa: E402

AGENCIES = ["csc", "police-ppu", "health", "police-cid", "locate", "yos", "education"]
AFTER_THE_MEETING = datetime(2026, 11, 10, 15, 0, tzinfo=UTC)
from tests.convening_support import CHAIR  # noqa: E402


def convene_siblings(bot) -> Meeting:
    """Three siblings convened through the form (two added with *Add a child*)."""
    view = _add_a_child(bot, _add_a_child(bot, open_form(bot)))
    response = submit(
        bot, view, **sibling_values((SISTER_REF, SISTER, SISTER_BORN), (BROTHER_REF, BROTHER, None))
    )
    assert response.body in ("", "{}"), response.body
    settle(bot)
    with Session(bot.runtime.engine) as session:
        return session.exec(select(Meeting).where(Meeting.meeting_type == "strategy_discussion")).one()


def child_values(section_47: str, enquiry: str, icpc: str, **overrides) -> dict:
    fields = {
        "section_47": StateValue.radio_buttons(section_47),
        "section_47_detail": StateValue.text("Reasonable cause to suspect significant harm."),
        "enquiry_type": StateValue.radio_buttons(enquiry),
        "enquiry_type_detail": StateValue.text(
            "Children's social care with Force CID" if enquiry != "not_applicable" else None
        ),
        "icpc": StateValue.radio_buttons(icpc),
        "icpc_detail": StateValue.text(None),
        "icpc_by": StateValue.datepicker(None),
        **overrides,
    }
    return {block: {"value": element} for block, element in fields.items()}


def _open_record(bot, meeting: Meeting) -> dict:
    before = len(bot.local_slack.calls_to("views.open"))
    response = bot.slack.command("/strategy", f"record {meeting.reference}", user_id=CHAIR)
    assert response.status == 200, response.body
    calls = bot.local_slack.wait_for(
        lambda calls: len([c for c in calls if c.method == "views.open"]) > before
    )
    return [c for c in calls if c.method == "views.open"][-1].response["view"]


def _pushed(response, view_id: str) -> dict:
    body = json.loads(response.body or "{}")
    assert body.get("response_action") == "push", body
    assert len(body["view"]["blocks"]) <= 100
    return {**body["view"], "id": view_id}


def record_siblings(bot, meeting: Meeting, *children: dict) -> list[dict]:
    """Step 1, the shared step 2, then a step per child; the views Slack was told to push."""
    first = _open_record(bot, meeting)
    shared = _pushed(
        bot.slack.view_submission(CHAIR, first, values=when_and_who_values(AGENCIES)), "V-shared"
    )
    assert not any(b.get("block_id") in ("section_47", "icpc", "enquiry_type") for b in shared["blocks"])
    shared_values = {
        k: v for k, v in decision_values().items() if not k.startswith(("section_47", "enquiry_type", "icpc"))
    }
    response = bot.slack.view_submission(CHAIR, shared, values=shared_values)
    views = [shared]
    for number, values in enumerate(children, start=1):
        step = _pushed(response, f"V-child-{number}")
        views.append(step)
        response = bot.slack.view_submission(CHAIR, step, values=values)
    views.append(json.loads(response.body or "{}"))
    settle(bot)
    return views


def test_recording_takes_each_childs_decisions_in_a_step_of_their_own(bot, clock) -> None:
    meeting = convene_siblings(bot)
    clock.set(AFTER_THE_MEETING)
    views = record_siblings(
        bot,
        meeting,
        child_values("start", "joint", "needed"),
        child_values("start", "single", "needed"),
        child_values(
            "no_enquiries",
            "not_applicable",
            "not_needed",
            section_47_detail=StateValue.text("Protective parent; no sign of harm."),
        ),
    )
    assert views[-1] == {"response_action": "clear"}
    steps = [json.dumps(v) for v in views[1:4]]
    assert "CS-1234567" in steps[0] and SISTER_REF in steps[1] and BROTHER_REF in steps[2]
    assert all(len(v["blocks"]) <= 100 for v in views[:4])
    with Session(bot.runtime.engine) as session:
        fresh = session.get(Meeting, meeting.id)
        enquiries = session.exec(select(Section47Enquiry).order_by(Section47Enquiry.case_id)).all()
        cases = {c.id: c.reference for c in session.exec(select(Case))}
        decisions = session.exec(select(Decision).where(Decision.meeting_id == meeting.id)).all()
    assert fresh.state == "held" and "record_draft" not in fresh.details
    # Each child's own enquiry and ICPC clock, for the two whose enquiries started.
    assert sorted(cases[e.case_id] for e in enquiries) == ["CS-1234567", SISTER_REF]
    assert {e.icpc_due_on for e in enquiries} == {enquiries[0].icpc_due_on}
    per_child = {(cases[d.case_id], d.topic): d.outcome for d in decisions if d.case_id}
    assert per_child[("CS-1234567", "section_47")] == "start"
    assert per_child[(SISTER_REF, "enquiry_type")] == "single"
    assert per_child[(BROTHER_REF, "section_47")] == "no_enquiries"
    assert per_child[(BROTHER_REF, "icpc")] == "not_needed"
    shared = {d.topic for d in decisions if d.case_id is None}
    assert {"criminal_investigation", "immediate_safety", "review", "quorum"} <= shared
    assert not shared & {"section_47", "enquiry_type", "icpc"}
    # The live status shows each child's own ICPC clock.
    due = enquiries[0].icpc_due_on.strftime("%a %d %b %Y")
    status = status_text(bot, meeting.id)
    assert f"CS-1234567 by {due}" in status and f"{SISTER_REF} by {due}" in status
    assert f"{BROTHER_REF} not set" in status


def test_a_childs_step_is_checked_inline_and_nothing_is_stored_until_the_last(bot, clock) -> None:
    meeting = convene_siblings(bot)
    clock.set(AFTER_THE_MEETING)
    first = _open_record(bot, meeting)
    shared = _pushed(
        bot.slack.view_submission(CHAIR, first, values=when_and_who_values(AGENCIES)), "V-shared"
    )
    shared_values = {
        k: v for k, v in decision_values().items() if not k.startswith(("section_47", "enquiry_type", "icpc"))
    }
    step = _pushed(bot.slack.view_submission(CHAIR, shared, values=shared_values), "V-child-1")
    wrong = bot.slack.view_submission(
        CHAIR, step, values=child_values("no_enquiries", "not_applicable", "needed")
    )
    errors = json.loads(wrong.body)["errors"]
    assert "follows section 47 enquiries" in errors["icpc"]
    step_two = _pushed(
        bot.slack.view_submission(CHAIR, step, values=child_values("start", "joint", "needed")), "V-child-2"
    )
    assert SISTER_REF in json.dumps(step_two)
    with Session(bot.runtime.engine) as session:
        fresh = session.get(Meeting, meeting.id)
        assert fresh.state != "held" and "record_draft" in fresh.details
        assert session.exec(select(Section47Enquiry)).all() == []
        assert session.exec(select(Decision).where(Decision.meeting_id == meeting.id)).all() == []


# ---------------------------------------------------------------- agency updates say which child

from bot.agency_updates.models import AgencyUpdateVersion  # noqa: E402
from tests.agency_updates_support import open_update, update_values  # noqa: E402
from tests.convening_support import POLICE_PPU, invitation_for  # noqa: E402


def test_each_part_of_an_agency_update_names_the_child_it_is_about(bot) -> None:
    meeting = convene_siblings(bot)
    view = open_update(bot, POLICE_PPU, invitation_for(bot, meeting, "police-ppu").id)
    abouts = [b for b in view["blocks"] if b.get("block_id", "").startswith("about_")]
    assert len(abouts) == 4 and len(view["blocks"]) <= 100
    offered = [o["value"] for o in abouts[0]["element"]["options"]]
    assert offered == ["all", "CS-1234567", SISTER_REF, BROTHER_REF]
    # A value the form never offered (a forged request) is refused, and nothing is stored.
    forged = bot.slack.view_submission(
        POLICE_PPU, view, values=update_values(bot, about_risk=StateValue.static_select("CS-9999999"))
    )
    assert "Choose who each part is about" in json.dumps(json.loads(forged.body))
    with Session(bot.runtime.engine) as session:
        assert session.exec(select(AgencyUpdateVersion)).all() == []
    response = bot.slack.view_submission(
        POLICE_PPU,
        view,
        values=update_values(
            bot,
            about_new_information=StateValue.static_select(SISTER_REF),
            about_risk=StateValue.static_select("all"),
        ),
    )
    assert json.loads(response.body)["response_action"] == "update"
    with Session(bot.runtime.engine) as session:
        [version] = session.exec(select(AgencyUpdateVersion)).all()
    assert version.content["about_new_information"] == SISTER_REF
    assert version.content["about_risk"] == "all"
    # The chair's reader says which child the new information is about.
    bot.slack.block_actions(CHAIR, [{"action_id": "agency_updates_read", "value": f"{meeting.id}:1"}])
    opened = bot.local_slack.wait_for(
        lambda calls: any(
            c.method == "views.open" and c.ok and "Combined risk grid" in json.dumps(c.args) for c in calls
        )
    )
    reader = json.dumps([c for c in opened if c.method == "views.open"][-1].response["view"])
    assert f"*New information since last contact* is about {SISTER_REF}" in reader
    assert SISTER not in reader


# ---------------------------------------------------------------- the documents

import io  # noqa: E402

import docx  # noqa: E402

from bot.minutes.models import Document  # noqa: E402
from tests.minutes_support import action_values  # noqa: E402


def _text_of(content: bytes) -> str:
    document = docx.Document(io.BytesIO(content))
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            parts.extend(cell.text for cell in row.cells)
    return "\n".join(parts)


def _add_action(bot, meeting: Meeting, concerns: str, text: str) -> None:
    before = len(bot.local_slack.calls_to("views.open"))
    bot.slack.command("/actions", f"add {meeting.reference}", user_id=CHAIR)
    calls = bot.local_slack.wait_for(
        lambda calls: len([c for c in calls if c.method == "views.open"]) > before
    )
    view = [c for c in calls if c.method == "views.open"][-1].response["view"]
    values = action_values(POLICE_PPU, text=text)
    values["concerns"] = {"value": StateValue.text(concerns)}
    response = bot.slack.view_submission(CHAIR, view, values=values)
    assert json.loads(response.body)["response_action"] == "update", response.body


def test_one_set_of_minutes_a_section_per_child_and_each_childs_own_record(bot, clock) -> None:
    meeting = convene_siblings(bot)
    view = open_update(bot, POLICE_PPU, invitation_for(bot, meeting, "police-ppu").id)
    bot.slack.view_submission(
        POLICE_PPU,
        view,
        values=update_values(
            bot,
            new_police_intelligence=StateValue.text("Seen carrying a package for an older male."),
            about_new_information=StateValue.static_select(BROTHER_REF),
        ),
    )
    clock.set(AFTER_THE_MEETING)
    # Shared text typed with a sibling's first name: each other child's record reads the reference.
    first = _open_record(bot, meeting)
    shared = _pushed(
        bot.slack.view_submission(CHAIR, first, values=when_and_who_values(AGENCIES)), "V-shared"
    )
    shared_values = {
        k: v for k, v in decision_values().items() if not k.startswith(("section_47", "enquiry_type", "icpc"))
    }
    shared_values["harm"] = {"value": StateValue.text("Tobi was seen at the park with an older male.")}
    response = bot.slack.view_submission(CHAIR, shared, values=shared_values)
    for number, values in enumerate(
        (
            child_values("start", "joint", "needed"),
            child_values("no_enquiries", "not_applicable", "not_needed"),
            child_values("start", "single", "needed"),
        ),
        start=1,
    ):
        response = bot.slack.view_submission(CHAIR, _pushed(response, f"V-child-{number}"), values=values)
    assert json.loads(response.body) == {"response_action": "clear"}
    settle(bot)
    _add_action(bot, meeting, BROTHER_REF, "Return home interview after the park sighting")
    _add_action(bot, meeting, "", "Joint visit to the family home")
    with Session(bot.runtime.engine) as session:
        from bot.actions.models import Action

        actions = {a.text: a for a in session.exec(select(Action))}
        brother = session.exec(select(Case).where(Case.reference == BROTHER_REF)).one()
    assert actions["Return home interview after the park sighting"].case_id == brother.id
    assert actions["Joint visit to the family home"].concerns == f"CS-1234567, {SISTER_REF}, {BROTHER_REF}"
    # A new draft (the chair's button) so the documents hold the actions.
    bot.slack.block_actions(CHAIR, [{"action_id": "minutes_regenerate", "value": str(meeting.id)}])
    settle(bot)
    with Session(bot.runtime.engine) as session:
        documents = session.exec(select(Document).order_by(Document.id)).all()
    minutes = [d for d in documents if d.kind == "minutes"][-1:]
    assert [d.version for d in documents if d.kind == "minutes"] == [1, 2]
    assert len(minutes) == 1  # one set of minutes for the discussion
    text = _text_of(minutes[0].content)
    for name, reference in ((CHILD_NAME, "CS-1234567"), (SISTER, SISTER_REF), (BROTHER, BROTHER_REF)):
        assert name in text and reference in text
        assert f"For {reference} ({name})" in text  # each child's section
    assert "Siblings: " in text
    assert f"Police intelligence (about {BROTHER_REF})" in text
    records = {d.kind: d for d in documents if d.kind.startswith("child_record:")}  # the latest of each
    logs = {d.kind: d for d in documents if d.kind.startswith("child_actions:")}
    assert {d.version for d in records.values()} == {2}
    assert set(records) == {f"child_record:{r}" for r in ("CS-1234567", SISTER_REF, BROTHER_REF)}
    assert set(logs) == {f"child_actions:{r}" for r in ("CS-1234567", SISTER_REF, BROTHER_REF)}
    sister = _text_of(records[f"child_record:{SISTER_REF}"].content)
    assert SISTER in sister and "14 February 2013" in sister
    # Never another child's identifying details: their references only.
    assert "Jayden" not in sister and "Tobi" not in sister and "2011" not in sister
    assert f"{BROTHER_REF} was seen at the park" in sister
    assert f"CS-1234567, {BROTHER_REF}" in sister  # household, by reference
    assert "Seen carrying a package" not in sister  # the police's part about her brother
    assert "No section 47 enquiry, so no ICPC" in sister
    brother_record = _text_of(records[f"child_record:{BROTHER_REF}"].content)
    assert "Seen carrying a package" in brother_record and "To be held by" in brother_record
    assert "Tobi was seen at the park" in brother_record  # his own name stays in his own record
    sister_log = _text_of(logs[f"child_actions:{SISTER_REF}"].content)
    assert "Joint visit to the family home" in sister_log
    assert "Return home interview" not in sister_log
    brother_log = _text_of(logs[f"child_actions:{BROTHER_REF}"].content)
    assert "Return home interview" in brother_log and "Joint visit" in brother_log
    # The records go privately (drafts to the chair to approve), never to a channel; Slack never names a child.
    uploads = [c for c in bot.local_slack.calls_to("files.completeUploadExternal")]
    assert any("child-record" in json.dumps(c.args) for c in uploads)
    slack_text = all_slack_text(bot)
    assert SISTER not in slack_text and BROTHER not in slack_text and CHILD_NAME not in slack_text


# ---------------------------------------------------------------- retention: one child's erasure


def test_erasing_one_childs_case_removes_their_part_and_keeps_the_others(bot, clock) -> None:
    from sqlalchemy import func

    from bot.retention.jobs import run_retention

    meeting = convene_siblings(bot)
    clock.set(AFTER_THE_MEETING)
    record_siblings(
        bot,
        meeting,
        child_values("start", "joint", "needed"),
        child_values("start", "single", "needed"),
        child_values("no_enquiries", "not_applicable", "not_needed"),
    )
    _add_action(bot, meeting, "", "Joint visit to the family home")
    _add_action(bot, meeting, BROTHER_REF, "Return home interview after the park sighting")
    with Session(bot.runtime.engine) as session:
        for reference in ("CS-1234567", BROTHER_REF):  # the first child's case and the third's close
            case = session.exec(select(Case).where(Case.reference == reference)).one()
            case.closed_at = datetime(2027, 1, 4, 12, 0, tzinfo=UTC)
            session.add(case)
        session.commit()
    clock.set(datetime(2052, 1, 10, 12, 0, tzinfo=UTC))
    run_retention(bot.runtime, dry_run=False)
    settle(bot)
    with Session(bot.runtime.engine) as session:
        remaining = session.exec(select(Case.reference)).all()
        kept = session.get(Meeting, meeting.id)
        children = session.exec(select(DiscussionChild)).all()
        enquiries = session.exec(select(Section47Enquiry)).all()
        per_child = session.exec(select(Decision).where(Decision.case_id.is_not(None))).all()
        records = session.exec(select(Document.kind).where(Document.case_id.is_not(None))).all()
        sister = session.exec(select(Case).where(Case.reference == SISTER_REF)).one()
        shared = session.exec(
            select(func.count()).select_from(Decision).where(Decision.case_id.is_(None))
        ).one()
    assert remaining == [SISTER_REF]
    # The discussion stays for the sister: her place, her decisions, her enquiry, her record.
    assert kept is not None and kept.case_id == sister.id
    assert [(c.case_id, c.position) for c in children] == [(sister.id, 1)]
    assert [e.case_id for e in enquiries] == [sister.id]
    assert {d.case_id for d in per_child} == {sister.id}
    assert shared > 0
    assert set(records) == {f"child_record:{SISTER_REF}", f"child_actions:{SISTER_REF}"}
    with Session(bot.runtime.engine) as session:
        kinds = session.exec(select(Document.kind).where(Document.meeting_id == meeting.id)).all()
    assert "minutes" not in kinds  # the minutes named the erased children; the sister's record stays
    from bot.actions.models import Action

    with Session(bot.runtime.engine) as session:
        [shared_action] = session.exec(select(Action)).all()  # the brother's own action went with him
    assert (shared_action.case_id, shared_action.concerns) == (sister.id, SISTER_REF)
    assert not bot.local_slack.calls_to("conversations.archive")  # her discussion's channel stays


# ---------------------------------------------------------------- a follow-up keeps every child


def test_a_follow_up_concerns_every_child_and_keeps_each_childs_icpc_clock(bot, clock) -> None:
    meeting = convene_siblings(bot)
    clock.set(AFTER_THE_MEETING)
    record_siblings(
        bot,
        meeting,
        child_values("start", "joint", "needed"),
        child_values("start", "single", "needed"),
        child_values("no_enquiries", "not_applicable", "not_needed"),
    )
    with Session(bot.runtime.engine) as session:
        before = {
            c.case_id: c.episode_id
            for c in session.exec(select(DiscussionChild).where(DiscussionChild.meeting_id == meeting.id))
        }
        icpc_before = {e.case_id: e.icpc_due_on for e in session.exec(select(Section47Enquiry))}
    before_views = len(bot.local_slack.calls_to("views.open"))
    bot.slack.command("/strategy", f"follow-up {meeting.reference}", user_id=SOCIAL_WORKER)
    calls = bot.local_slack.wait_for(
        lambda calls: len([c for c in calls if c.method == "views.open"]) > before_views
    )
    form = [c for c in calls if c.method == "views.open"][-1].response["view"]
    values = {
        "reason": {"value": StateValue.text("Review of progress for the three of them.")},
        "concerns": {"value": StateValue.checkboxes(["county_lines"])},
        "right_help_right_time_level": {"value": StateValue.static_select("complex_significant")},
        "urgency": {"value": StateValue.static_select("standard")},
        "start": {
            "value": StateValue.datetimepicker(int(datetime(2026, 11, 12, 10, 0, tzinfo=UTC).timestamp()))
        },
        "held_already": {"value": StateValue.checkboxes([])},
        "late_reason": {"value": StateValue.text(None)},
        "out_of_hours_reason": {"value": StateValue.text(None)},
        "format": {"value": StateValue.radio_buttons("call")},
        "chair": {"value": StateValue.static_select(CHAIR)},
        "extra_agencies": {"value": StateValue.multi_static_select([])},
        "extra_people": {"value": StateValue.multi_users_select([])},
    }
    response = bot.slack.view_submission(SOCIAL_WORKER, form, values=values)
    assert response.body in ("", "{}"), response.body
    settle(bot)
    with Session(bot.runtime.engine) as session:
        follow = session.exec(select(Meeting).where(Meeting.follows_meeting_id == meeting.id)).one()
        after = {
            c.case_id: c.episode_id
            for c in session.exec(select(DiscussionChild).where(DiscussionChild.meeting_id == follow.id))
        }
    assert after == before  # every child, each on the same episode of their timeline
    status = status_text(bot, follow.id)
    due = icpc_before[next(iter(icpc_before))].strftime("%a %d %b %Y")
    assert f"CS-1234567 by {due} (from {meeting.reference})" in status
    assert f"{BROTHER_REF} not set" in status


def test_the_childs_record_template_is_checked_like_the_others(tmp_path) -> None:
    """`python -m bot check` renders the child's record against its specimen: the shipped
    template passes, and a tag its context does not provide is named with the file."""
    import shutil
    from pathlib import Path

    from bot.documents.checks import template_problems

    shipped = Path(__file__).resolve().parents[1] / "templates"
    assert template_problems(shipped) == []
    shutil.copytree(shipped, tmp_path / "templates")
    path = tmp_path / "templates" / "child_record.docx"
    document = docx.Document(str(path))
    document.add_paragraph("{{ child.nickname }}")
    document.save(str(path))
    problems = template_problems(tmp_path / "templates")
    assert len(problems) == 1 and problems[0].startswith("templates/child_record.docx: uses 'nickname'")


def test_libreoffice_reads_a_childs_record_as_a_person_would(tmp_path) -> None:
    """The child's record rendered, turned into a PDF by LibreOffice and read back: the
    marking, the child, the others by reference only, their decisions and the shared ones."""
    import os
    import shutil
    import subprocess
    from pathlib import Path

    import pytest

    from bot.children.documents import CHILD_RECORD_TEMPLATE, child_record_specimen
    from bot.minutes.documents import render

    office = shutil.which("soffice") or shutil.which("libreoffice")
    pdftotext = shutil.which("pdftotext")
    if office is None or pdftotext is None:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail("LibreOffice and pdftotext must be installed in CI")
        pytest.skip("LibreOffice or pdftotext is not installed; CI installs them")
    context = child_record_specimen()
    template = Path(__file__).resolve().parents[1] / "templates" / CHILD_RECORD_TEMPLATE
    document = tmp_path / "record.docx"
    document.write_bytes(render(template, context))
    profile = tmp_path / "lo-profile"
    subprocess.run(
        [
            office,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(document),
        ],
        check=True,
        capture_output=True,
        timeout=240,
    )
    text = subprocess.run(
        [pdftotext, str(tmp_path / "record.pdf"), "-"], check=True, capture_output=True, text=True
    ).stdout
    flat = " ".join(text.split()).replace("\u2011", "-")  # references print with non-breaking hyphens
    assert context["marking"] in flat
    reference = str(context["reference"]).replace("\u2011", "-")
    assert f"Child's record of strategy discussion {reference}" in flat
    assert context["child"]["name"] in flat
    # Other children by reference only (a narrow cell may wrap a reference at its hyphen).
    assert "Household (siblings)" in flat and "CS-2345678" in flat
    assert "CS-3456789 (linked through CTX-2026" in flat
    assert "Decisions for this child" in flat and "Decisions for all the children" in flat
    assert "To be held by Tuesday 01 December 2026" in flat


# ---------------------------------------------------------------- a child's actions and discussions

from bot.actions.jobs import send_digests, sweep_actions  # noqa: E402
from bot.actions.models import Action, Chase  # noqa: E402
from tests.convening_support import wait_until  # noqa: E402

OUTSIDER = "U0EHP001"  # early help: in the schedules, in none of these discussions
PPU_LEAD = "U0PPU020"


def _answered_later(bot, command: str, text: str, user_id: str) -> str:
    """What a command answers after its acknowledgement (at the response URL), as JSON."""
    before = len(bot.local_slack.responses())
    response = bot.slack.command(command, text, user_id=user_id)
    assert response.status == 200 and response.body in ("", "{}"), response.body  # acknowledged first
    answers = wait_until(lambda: bot.local_slack.responses()[before:])
    return json.dumps(answers[-1].args)


def _siblings_with_actions(bot) -> tuple[Meeting, dict[str, Action]]:
    meeting = convene_siblings(bot)
    _add_action(bot, meeting, BROTHER_REF, "Return home interview after the park sighting")
    _add_action(bot, meeting, "", "Joint visit to the family home")
    with Session(bot.runtime.engine) as session:
        return meeting, {a.text: a for a in session.exec(select(Action))}


def test_a_childs_actions_and_discussions_by_their_case_reference(bot) -> None:
    meeting, actions = _siblings_with_actions(bot)
    _add_action(bot, meeting, "The park on Lee Street", "Disruption patrols at the park")  # no child named
    with Session(bot.runtime.engine) as session:
        actions = {a.text: a for a in session.exec(select(Action))}
    own = actions["Return home interview after the park sighting"]
    shared = actions["Joint visit to the family home"]
    place = actions["Disruption patrols at the park"]
    brother = _answered_later(bot, "/actions", BROTHER_REF, CHAIR)
    assert f"Open actions for {BROTHER_REF}" in brother and "1-3 of 3" in brother
    assert place.reference in brother and "for The park on Lee Street" in brother  # shared: names none
    assert own.reference in brother and shared.reference in brother
    assert f"for {BROTHER_REF}" in brother  # his own, by reference
    assert f"for CS-1234567, {SISTER_REF}, {BROTHER_REF}" in brother  # the shared one names them all
    sister = _answered_later(bot, "/actions", SISTER_REF.lower(), POLICE_PPU)  # typed in lower case
    assert shared.reference in sister and own.reference not in sister  # never her brother's own
    # The discussions concerning a child: the siblings' one, with the others by reference.
    discussions = _answered_later(bot, "/strategy", SISTER_REF, CHAIR)
    assert f"Discussions concerning {SISTER_REF}" in discussions and meeting.reference in discussions
    assert f"with CS-1234567, {BROTHER_REF}" in discussions
    for answer in (brother, sister, discussions):
        assert SISTER not in answer and BROTHER not in answer and CHILD_NAME not in answer
    # Someone in none of the child's discussions is refused in the same words whether or
    # not the case exists, and nothing is listed.
    for command in ("/actions", "/strategy"):
        known = bot.slack.command(command, SISTER_REF, user_id=OUTSIDER).json()["text"]
        unknown = bot.slack.command(command, "CS-7777777", user_id=OUTSIDER).json()["text"]
        assert known.replace(SISTER_REF, "REF") == unknown.replace("CS-7777777", "REF")
        assert "I cannot show you" in known
    settle(bot)
    with Session(bot.runtime.engine) as session:
        refusals = session.exec(
            select(AuditEntry).where(AuditEntry.act.in_(["actions.view_refused", "discussion.view_refused"]))
        ).all()
    assert len(refusals) == 4


def test_each_childs_actions_are_chased_and_digested_by_their_case_reference(bot, clock) -> None:
    """The ladder runs per action, so per child: his own action is chased and escalated
    naming him by reference, the shared one names them all, and once the shared one is done
    only his is chased on; the agency lead's digest says whom each action is for."""
    _meeting, actions = _siblings_with_actions(bot)
    own = actions["Return home interview after the park sighting"]
    shared = actions["Joint visit to the family home"]
    clock.set(datetime(2026, 11, 16, 9, 0, tzinfo=UTC))  # a working day before both are due
    assert sweep_actions(bot.runtime) == 2
    settle(bot)
    reminders = [
        json.dumps(c.args)
        for c in bot.local_slack.calls_to("chat.postMessage")
        if c.ok and c.args.get("channel") == POLICE_PPU and "Reminder" in json.dumps(c.args)
    ]
    assert any(own.reference in r and f"(for {BROTHER_REF})" in r for r in reminders)
    assert any(
        shared.reference in r and f"(for CS-1234567, {SISTER_REF}, {BROTHER_REF})" in r for r in reminders
    )
    # The shared visit is made (the owner's *Mark done*): its ladder stops, his goes on.
    bot.slack.block_actions(POLICE_PPU, [{"action_id": "action_done", "value": str(shared.id)}])
    calls = bot.local_slack.wait_for(
        lambda calls: any(
            c.method == "views.open" and "Mark action done" in json.dumps(c.args) for c in calls
        )
    )
    modal = [c for c in calls if c.method == "views.open"][-1].response["view"]
    bot.slack.view_submission(POLICE_PPU, modal, values={"note": {"value": StateValue.text("Visit made")}})
    with Session(bot.runtime.engine) as session:
        assert session.get(Action, shared.id).status == "done"
    clock.set(datetime(2026, 11, 19, 9, 0, tzinfo=UTC))  # two working days overdue
    assert sweep_actions(bot.runtime) >= 1
    settle(bot)
    escalations = [
        json.dumps(c.args)
        for c in bot.local_slack.calls_to("chat.postMessage")
        if c.ok and c.args.get("channel") == PPU_LEAD and "Escalation" in json.dumps(c.args)
    ]
    assert len(escalations) == 1 and own.reference in escalations[0] and BROTHER_REF in escalations[0]
    with Session(bot.runtime.engine) as session:
        chased = {c.action_id for c in session.exec(select(Chase).where(Chase.at >= clock.now()))}
    assert chased == {own.id}
    assert send_digests(bot.runtime) >= 1
    settle(bot)
    digest = [
        json.dumps(c.args)
        for c in bot.local_slack.calls_to("chat.postMessage")
        if c.ok and c.args.get("channel") == PPU_LEAD and "overdue actions on" in json.dumps(c.args)
    ]
    assert digest and own.reference in digest[-1] and f"for {BROTHER_REF}" in digest[-1]
    assert shared.reference not in digest[-1]
    text = all_slack_text(bot)
    assert SISTER not in text and BROTHER not in text and CHILD_NAME not in text


# ---------------------------------------------------------------- the audit trail by case

import csv  # noqa: E402
import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402


def _exported(database_url: str, reference: str) -> list[dict[str, str]]:
    """`python -m bot audit export --case REF`, as an administrator runs it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env["DATABASE_URL"] = database_url
    result = subprocess.run(
        [sys.executable, "-m", "bot", "audit", "export", "--case", reference.lower()],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return list(csv.DictReader(io.StringIO(result.stdout)))


def test_the_audit_trail_by_case_holds_the_shared_part_and_only_that_childs_own(
    bot, clock, database_url
) -> None:
    meeting = convene_siblings(bot)
    clock.set(AFTER_THE_MEETING)
    record_siblings(
        bot,
        meeting,
        child_values("start", "joint", "needed"),
        child_values("start", "single", "needed"),
        child_values("no_enquiries", "not_applicable", "not_needed"),
    )
    _add_action(bot, meeting, BROTHER_REF, "Return home interview after the park sighting")
    _add_action(bot, meeting, "", "Joint visit to the family home")
    settle(bot)
    with Session(bot.runtime.engine) as session:
        actions = {a.text: a.reference for a in session.exec(select(Action))}
    own, shared = (
        actions["Return home interview after the park sighting"],
        actions["Joint visit to the family home"],
    )
    sister = _exported(database_url, SISTER_REF)
    acts = {(r["act"], r["record_id"]) for r in sister}
    # The discussion's shared part, filed under the first child, is in her trail...
    assert ("discussion.convened", meeting.reference) in acts
    assert ("discussion.recorded", meeting.reference) in acts
    assert ("action.created", shared) in acts
    assert any(r["act"] == "document.generated" and '"kind": "minutes"' in r["details"] for r in sister)
    # ...with her own entries, and none of her brother's own.
    assert {r["case_reference"] for r in sister if r["act"] == "discussion.child_recorded"} == {SISTER_REF}
    assert {r["case_reference"] for r in sister if r["act"] == "discussion.child_added"} == {SISTER_REF}
    assert ("action.created", own) not in acts
    assert BROTHER_REF not in {r["case_reference"] for r in sister}
    recorded = next(r for r in sister if r["act"] == "discussion.recorded")
    assert BROTHER_REF not in recorded["details"]  # the shared entry carries no child's decision
    # His trail has his own action; the first child's has the shared part but not his action.
    assert ("action.created", own) in {
        (r["act"], r["record_id"]) for r in _exported(database_url, BROTHER_REF)
    }
    first = _exported(database_url, "CS-1234567")
    assert ("action.created", shared) in {(r["act"], r["record_id"]) for r in first}
    assert ("action.created", own) not in {(r["act"], r["record_id"]) for r in first}
    assert not {SISTER_REF, BROTHER_REF} & {r["case_reference"] for r in first}
    for rows in (sister, first):
        text_of_rows = json.dumps(rows)
        assert SISTER not in text_of_rows and BROTHER not in text_of_rows and CHILD_NAME not in text_of_rows


# ---------------------------------------------------------------- two people recording at once

MINUTE_TAKER = "U0BSC002"  # Owen Lewis: a minute-taker (and panel administrator)


def _open_record_as(bot, meeting: Meeting, user_id: str) -> dict:
    before = len(bot.local_slack.calls_to("views.open"))
    response = bot.slack.command("/strategy", f"record {meeting.reference}", user_id=user_id)
    assert response.status == 200 and response.body in ("", "{}"), response.body  # acknowledged first
    calls = bot.local_slack.wait_for(
        lambda calls: len([c for c in calls if c.method == "views.open"]) > before
    )
    return [c for c in calls if c.method == "views.open"][-1].response["view"]


def test_two_people_recording_at_once_share_one_draft_and_a_stale_save_is_refused(bot, clock) -> None:
    meeting = convene_siblings(bot)
    clock.set(AFTER_THE_MEETING)
    chairs, takers = _open_record_as(bot, meeting, CHAIR), _open_record_as(bot, meeting, MINUTE_TAKER)
    # The chair saves step 1 first: education sent a written update only.
    chair_values = when_and_who_values(
        AGENCIES, **{"attendance:education": StateValue.static_select("written_update")}
    )
    shared = _pushed(bot.slack.view_submission(CHAIR, chairs, values=chair_values), "V-chair-2")
    # The minute-taker's form was opened on the version before: saving it would overwrite
    # the chair's, so it is refused on the form, saying whose version and what to do.
    stale = bot.slack.view_submission(MINUTE_TAKER, takers, values=when_and_who_values(AGENCIES))
    message = json.loads(stale.body)["errors"]["actual_start"]
    assert "Ruth Okonkwo saved a newer version of this record at 15:00" in message
    assert f"/strategy record {meeting.reference}" in message
    with Session(bot.runtime.engine) as session:
        draft = session.get(Meeting, meeting.id).details["record_draft"]
    assert draft["who"]["a"]["education"] != draft["who"]["a"]["csc"]  # still the chair's
    # Opened again, the minute-taker's form carries on from the chair's draft.
    again = _open_record_as(bot, meeting, MINUTE_TAKER)
    assert "Carrying on from the draft Ruth Okonkwo saved at 15:00" in json.dumps(again)
    education = next(b for b in again["blocks"] if b.get("block_id") == "attendance:education")
    assert education["element"]["initial_option"]["value"] == "written_update"
    # The minute-taker goes on to the shared decisions; the chair's step 2, opened on the
    # version before that, is refused in turn, and a retry of the same form saves nothing twice.
    taker_shared = _pushed(bot.slack.view_submission(MINUTE_TAKER, again, values=chair_values), "V-taker-2")
    shared_values = {
        k: v for k, v in decision_values().items() if not k.startswith(("section_47", "enquiry_type", "icpc"))
    }
    refused = bot.slack.view_submission(CHAIR, shared, values=shared_values)
    assert "Owen Lewis saved a newer version" in json.loads(refused.body)["errors"]["threshold_level"]
    first_child = _pushed(bot.slack.view_submission(MINUTE_TAKER, taker_shared, values=shared_values), "V-c1")
    retried = _pushed(bot.slack.view_submission(MINUTE_TAKER, taker_shared, values=shared_values), "V-c1")
    assert retried["private_metadata"] == first_child["private_metadata"]  # Slack's retry: same step
    response = bot.slack.view_submission(
        MINUTE_TAKER, first_child, values=child_values("start", "joint", "needed")
    )
    response = bot.slack.view_submission(
        MINUTE_TAKER, _pushed(response, "V-c2"), values=child_values("start", "single", "needed")
    )
    response = bot.slack.view_submission(
        MINUTE_TAKER,
        _pushed(response, "V-c3"),
        values=child_values("no_enquiries", "not_applicable", "not_needed"),
    )
    assert json.loads(response.body) == {"response_action": "clear"}
    settle(bot)
    with Session(bot.runtime.engine) as session:
        fresh = session.get(Meeting, meeting.id)
        from bot.convening.models import Attendance
        from bot.partnership.models import Agency

        education = session.exec(select(Agency).where(Agency.code == "education")).one()
        attended = session.exec(
            select(Attendance).where(
                Attendance.meeting_id == meeting.id, Attendance.agency_id == education.id
            )
        ).one()
    assert fresh.state == "held" and "record_draft" not in fresh.details
    assert attended.status == "written_update"  # the chair's step 1, carried on by the minute-taker
    # The chair's first step-1 form, submitted again now, cannot overwrite the stored record.
    late = bot.slack.view_submission(CHAIR, chairs, values=when_and_who_values(AGENCIES))
    assert "Owen Lewis saved a newer version" in json.loads(late.body)["errors"]["actual_start"]
    with Session(bot.runtime.engine) as session:
        assert "record_draft" not in session.get(Meeting, meeting.id).details


# ---------------------------------------------------------------- each child's record, approved


def _received(bot, user_id: str) -> set[str]:
    """The files uploaded into a person's direct messages with the bot."""
    opened = {
        c.args["users"]: c.response["channel"]["id"] for c in bot.local_slack.calls_to("conversations.open")
    }
    return {u.filename for u in bot.local_slack.uploaded_files() if u.channel == opened.get(user_id)}


def test_each_childs_record_is_approved_by_the_chair_before_it_goes_to_their_file(bot, clock) -> None:
    meeting = convene_siblings(bot)
    clock.set(AFTER_THE_MEETING)
    record_siblings(
        bot,
        meeting,
        child_values("start", "joint", "needed"),
        child_values("start", "single", "needed"),
        child_values("no_enquiries", "not_applicable", "not_needed"),
    )
    settle(bot)
    with Session(bot.runtime.engine) as session:
        records = {
            d.kind.split(":")[1]: d
            for d in session.exec(select(Document))
            if d.kind.startswith("child_record:")
        }
    sister = records[SISTER_REF]
    assert {d.state for d in records.values()} == {"draft"}
    assert "DRAFT: not yet approved by the chair" in _text_of(sister.content)
    # The drafts go to the chair, with a button each; the convenor has the children's
    # action logs, but no record yet.
    assert sister.filename in _received(bot, CHAIR) and sister.filename not in _received(bot, SOCIAL_WORKER)
    assert any(
        f.startswith(f"{meeting.reference}-{SISTER_REF}-action-log") for f in _received(bot, SOCIAL_WORKER)
    )
    asked = [
        c
        for c in bot.local_slack.calls_to("chat.postMessage")
        if c.ok and "child_record_approve" in json.dumps(c.args) and SISTER_REF in json.dumps(c.args)
    ]
    assert len(asked) == 1 and SISTER not in json.dumps(asked[0].args)
    # Only the chair approves: anyone else is refused and nothing moves.
    bot.slack.block_actions(SOCIAL_WORKER, [{"action_id": "child_record_approve", "value": str(sister.id)}])
    settle(bot)
    with Session(bot.runtime.engine) as session:
        assert session.get(Document, sister.id).state == "draft"
        assert session.exec(select(AuditEntry).where(AuditEntry.act == "document.approve_refused")).all()
    # The chair approves (twice: a double click); it is locked, stamped, and sent once.
    for _ in range(2):
        response = bot.slack.block_actions(
            CHAIR, [{"action_id": "child_record_approve", "value": str(sister.id)}]
        )
        assert response.status == 200
        settle(bot)
    with Session(bot.runtime.engine) as session:
        approved = session.get(Document, sister.id)
        brother = session.get(Document, records[BROTHER_REF].id)
        entries = session.exec(
            select(AuditEntry).where(
                AuditEntry.act == "document.approved", AuditEntry.record_id == str(sister.id)
            )
        ).all()
    assert approved.state == "approved" and approved.approved_at is not None and brother.state == "draft"
    text = _text_of(approved.content)
    assert "Approved by Ruth Okonkwo on 10 November 2026 15:00" in text and SISTER in text
    assert [e.case_reference for e in entries] == [SISTER_REF]
    sent = [u for u in bot.local_slack.uploaded_files() if u.filename == sister.filename]
    convenor_dm = {
        c.response["channel"]["id"]
        for c in bot.local_slack.calls_to("conversations.open")
        if c.args["users"] == SOCIAL_WORKER
    }
    assert len([u for u in sent if u.channel in convenor_dm]) == 1
    assert records[BROTHER_REF].filename not in _received(bot, SOCIAL_WORKER)
    assert SISTER not in all_slack_text(bot)
