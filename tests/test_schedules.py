"""The shipped schedules load, and each kind of mistake is reported as one clear line.

Broken copies are made in tmp_path from the shipped files with one thing changed, so the
tests follow the sample data and each asserts the exact line an administrator would read.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import date, time
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.schedules import (
    AgencyUpdatePolicy,
    Partnership,
    ScheduleError,
    SchedulesProblem,
    WorkingDuration,
    check_schedules,
    default_schedules_dir,
    load_partnership,
)

SHIPPED = default_schedules_dir()


@pytest.fixture(scope="module")
def partnership() -> Partnership:
    return load_partnership(SHIPPED)


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A fresh copy of the shipped schedules, named `schedules` like the real folder."""
    target = tmp_path / "schedules"
    shutil.copytree(SHIPPED, target)
    return target


def edit_text(directory: Path, filename: str, old: str, new: str) -> None:
    """Change one exact piece of text, failing loudly if the sample has moved on."""
    path = directory / filename
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} not found exactly once in {filename}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def edit_data(directory: Path, filename: str, change: Callable[[Any], None]) -> None:
    """Change the parsed data and write it back (comments are lost, which is fine here)."""
    path = directory / filename
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def lines(directory: Path) -> list[str]:
    return [str(p) for p in check_schedules(directory)]


# ------------------------------------------------------------------------- the sample


def test_shipped_schedules_have_no_problems() -> None:
    assert check_schedules(SHIPPED) == []


def test_agency_lookup(partnership: Partnership) -> None:
    cid = partnership.agency("police-cid")
    assert cid.name == "West Midlands Police - Force CID"
    assert cid.kind == "police"
    assert [p.id for p in cid.invitees()] == ["dc-okafor", "ds-reilly", "dc-sandhu"]
    with pytest.raises(KeyError, match="no agency with code 'police'"):
        partnership.agency("police")


def test_person_by_slack_id(partnership: Partnership) -> None:
    person = partnership.person_by_slack_id("U0CSC001")
    assert person is not None
    assert person.name == "Tola Adeyemi"
    assert partnership.agency_of(person).code == "csc"
    assert partnership.person_by_slack_id("U0NOBODY") is None


def test_people_with_role(partnership: Partnership) -> None:
    chairs = {p.id for p in partnership.people_with_role("chair")}
    assert chairs == {"tm-okonkwo", "tm-walsh"}
    convenors = {p.id for p in partnership.people_with_role("convenor")}
    assert {"sw-adeyemi", "sw-brennan", "sw-chaudhry", "tm-okonkwo"} <= convenors
    assert {p.id for p in partnership.people_with_role("panel_admin")} == {"pa-hussain", "pa-lewis"}
    # Whoever is named as an agency's lead holds agency_lead without listing it.
    leads = {p.id for p in partnership.people_with_role("agency_lead")}
    assert {"di-bennett", "hos-iqbal", "edu-morris"} <= leads
    with pytest.raises(ValueError, match="unknown role 'boss'"):
        partnership.people_with_role("boss")


def test_required_agencies_depend_on_exploitation(partnership: Partnership) -> None:
    plain = partnership.required_agencies("strategy_discussion", exploitation=False)
    assert [a.code for a in plain] == ["csc", "police-ppu", "health"]
    exploitation = partnership.required_agencies("strategy_discussion", exploitation=True)
    assert [a.code for a in exploitation] == [
        "csc",
        "police-ppu",
        "health",
        "police-cid",
        "locate",
        "yos",
        "education",
    ]
    offered = partnership.optional_agencies("strategy_discussion", exploitation=False)
    assert [a.code for a in offered] == ["early-help", "police-cid", "locate", "yos", "education"]


def test_meeting_type_timescales(partnership: Partnership) -> None:
    sd = partnership.meeting_type("strategy_discussion")
    assert sd.icpc_within_working_days == 15
    assert sd.s47_assessment_max_working_days == 45
    urgent = sd.urgencies.get("urgent")
    assert urgent is not None and urgent.within_working_days == 1
    assert urgent.updates_due.working_hours_before == 1
    standard = sd.urgencies.get("standard")
    assert standard is not None and standard.updates_due.end_of_working_days_before == 1
    assert sd.urgencies.offered() == ["immediate", "urgent", "standard"]
    assert partnership.meeting_type("follow_up_strategy_discussion").follow_up_of == ("strategy_discussion")


def test_panel_calendar(partnership: Partnership) -> None:
    mace = partnership.panel("birmingham-mace")
    assert mace.start_time == time(10, 0)
    assert mace.on_bank_holiday == "next_working_day"
    assert mace.scheduled_dates(date(2025, 3, 1), date(2025, 3, 31)) == [
        date(2025, 3, 4),
        date(2025, 3, 18),
    ]
    assert mace.scheduled_dates(date(2024, 12, 1), date(2025, 1, 7)) == [date(2025, 1, 7)]


def test_escalation_route_and_duty_reference(partnership: Partnership) -> None:
    cid = partnership.agency("police-cid")
    duty = cid.duty_person()
    assert duty is not None and duty.id == "ds-reilly"
    route = [[p.id for p in step] for step in cid.escalation_route()]
    assert route == [["dc-okafor", "ds-reilly", "dc-sandhu"], ["ds-reilly"], ["di-bennett"]]
    education = partnership.agency("education")
    assert [[p.id for p in s] for s in education.escalation_route()] == [
        ["edu-thompson", "dsl-kaur"],
        ["edu-morris"],
    ]


def test_chasing_and_retention(partnership: Partnership) -> None:
    chasing = partnership.chasing
    assert chasing.working_hours.minutes == 8 * 60
    standard = chasing.invitations.for_urgency("standard")
    assert standard.tell_convenor_after.in_working_minutes(chasing.working_hours.minutes) == 480
    assert chasing.actions.escalate_to_chair_after_working_days_overdue == 5
    assert partnership.retention.audit_log_years == 7


def test_people_without_slack_are_allowed_and_listed(partnership: Partnership) -> None:
    assert "dsl-kaur" in {p.id for p in partnership.people_without_slack()}


def test_models_are_frozen(partnership: Partnership) -> None:
    with pytest.raises(ValueError, match="frozen"):
        partnership.agency("csc").name = "changed"  # type: ignore[misc]


# ------------------------------------------------------------------------ the mistakes


def test_bad_email_names_file_entry_and_value(copy: Path) -> None:
    edit_text(copy, "agencies.yaml", "grace.okafor@police-cid.example", "bob@")
    assert lines(copy) == [
        "schedules/agencies.yaml: agencies[police-cid].contacts[dc-okafor].email: "
        "'bob@' is not a valid e-mail address"
    ]


def test_misspelt_key_is_caught_with_a_suggestion(copy: Path) -> None:
    edit_text(
        copy,
        "agencies.yaml",
        "        email: grace.okafor@police-cid.example",
        "        emial: grace.okafor@police-cid.example",
    )
    assert lines(copy) == [
        "schedules/agencies.yaml: agencies[police-cid].contacts[dc-okafor]: required key 'email' is missing",
        "schedules/agencies.yaml: agencies[police-cid].contacts[dc-okafor]: "
        "unknown key 'emial' (did you mean 'email'?)",
    ]


def test_misspelt_key_in_nested_settings(copy: Path) -> None:
    edit_text(copy, "chasing.yaml", "remind_after: {working_hours: 1}", "remind_after: {working_hour: 1}")
    found = lines(copy)
    assert (
        "schedules/chasing.yaml: invitations.urgent.remind_after: unknown key "
        "'working_hour' (did you mean 'working_hours'?)" in found
    )


def test_duplicate_agency_code(copy: Path) -> None:
    edit_text(copy, "agencies.yaml", "  - code: early-help\n", "  - code: yos\n")
    found = lines(copy)
    assert "schedules/agencies.yaml: agencies[7]: duplicate code 'yos' (already used by agencies[4])" in found


def test_meeting_type_requiring_unknown_agency(copy: Path) -> None:
    edit_text(
        copy,
        "meeting_types.yaml",
        "required_agencies: [csc, police-ppu, health]\n"
        "    core_agencies: [csc, police-ppu, health]\n"
        "    required_when_exploitation: [police-cid, locate, yos, education]\n"
        "    optional_agencies: [early-help]\n    urgencies:\n      immediate:",
        "required_agencies: [csc, police, health]\n"
        "    core_agencies: [csc, police, health]\n"
        "    required_when_exploitation: [police-cid, locate, yos, education]\n"
        "    optional_agencies: [early-help]\n    urgencies:\n      immediate:",
    )
    found = lines(copy)
    assert len(found) == 1
    assert found[0].startswith(
        "schedules/meeting_types.yaml: meeting_types[strategy_discussion]."
        "required_agencies[1]: unknown agency 'police' (agencies.yaml has: csc, "
    )


def test_escalation_to_unknown_contact(copy: Path) -> None:
    edit_text(
        copy,
        "agencies.yaml",
        "U0EDU020\n    escalation: [contacts, lead]",
        "U0EDU020\n    escalation: [contacts, mr-nobody, lead]",
    )
    assert lines(copy) == [
        "schedules/agencies.yaml: agencies[education].escalation[1]: 'mr-nobody' is not a "
        "contact of education; use contacts, duty, lead or a contact id "
        "(edu-thompson, dsl-kaur)"
    ]


def test_escalation_to_duty_when_there_is_none(copy: Path) -> None:
    edit_text(
        copy,
        "agencies.yaml",
        "U0EDU020\n    escalation: [contacts, lead]",
        "U0EDU020\n    escalation: [contacts, duty, lead]",
    )
    assert lines(copy) == [
        "schedules/agencies.yaml: agencies[education].escalation[1]: the route says 'duty' "
        "but this agency has no duty contact"
    ]


def test_duty_reference_to_unknown_contact(copy: Path) -> None:
    edit_text(copy, "agencies.yaml", "    duty: ds-reilly\n", "    duty: ds-reily\n")
    assert lines(copy) == [
        "schedules/agencies.yaml: agencies[police-cid].duty: 'ds-reily' is not one of this "
        "agency's contacts (dc-okafor, ds-reilly, dc-sandhu)"
    ]


def test_bad_time(copy: Path) -> None:
    edit_text(copy, "panels.yaml", 'start_time: "10:00"', 'start_time: "25:00"')
    assert lines(copy) == [
        "schedules/panels.yaml: panels[birmingham-mace].start_time: '25:00' is not a time; "
        'write it as "HH:MM", e.g. "09:30"'
    ]


def test_unquoted_time_is_explained(copy: Path) -> None:
    edit_text(copy, "panels.yaml", 'start_time: "14:00"', "start_time: 14:00")
    assert lines(copy) == [
        "schedules/panels.yaml: panels[birmingham-mace-strategic].start_time: put the time "
        'in quotes, e.g. "14:00" (without quotes YAML reads it as the number 840)'
    ]


def test_working_day_end_before_start(copy: Path) -> None:
    edit_text(copy, "chasing.yaml", 'end: "17:00"', 'end: "08:00"')
    assert lines(copy) == ["schedules/chasing.yaml: working_hours: end (08:00) must be after start (09:00)"]


def test_non_positive_duration(copy: Path) -> None:
    edit_text(copy, "panels.yaml", "duration_minutes: 150", "duration_minutes: 0")
    assert lines(copy) == [
        "schedules/panels.yaml: panels[birmingham-mace].duration_minutes: should be greater than 0 (found 0)"
    ]


def test_yaml_syntax_error_names_the_line(copy: Path) -> None:
    edit_text(
        copy,
        "agencies.yaml",
        "    kind: youth_justice\n",
        "    kind: youth_justice\n     name: Youth Offending Service\n",
    )
    bad_line = next(
        i
        for i, line in enumerate((copy / "agencies.yaml").read_text(encoding="utf-8").splitlines(), start=1)
        if "name: Youth Offending Service" in line
    )
    assert lines(copy) == [
        f"schedules/agencies.yaml: line {bad_line}: YAML syntax error at column 10: "
        "mapping values are not allowed here"
    ]


def test_yaml_unclosed_bracket_says_where_it_started(copy: Path) -> None:
    edit_text(copy, "retention.yaml", "audit_log_years: 7", "audit_log_years: [7")
    start = len((copy / "retention.yaml").read_text(encoding="utf-8").splitlines())
    found = check_schedules(copy)
    assert len(found) == 1
    assert found[0].file == "schedules/retention.yaml"
    assert found[0].line is not None and found[0].line >= start
    assert str(found[0]).endswith(f"(while parsing a flow sequence that starts on line {start})")


def test_yaml_syntax_error_line_points_at_the_mistake(copy: Path) -> None:
    edit_text(
        copy,
        "agencies.yaml",
        "        title: Locate Officer\n",
        "        title: Locate Officer\n      bad indent: [\n",
    )
    found = check_schedules(copy)
    bad_line = next(
        i
        for i, line in enumerate((copy / "agencies.yaml").read_text(encoding="utf-8").splitlines(), start=1)
        if "bad indent" in line
    )
    agency_problems = [p for p in found if p.file == "schedules/agencies.yaml"]
    assert len(agency_problems) == 1
    assert agency_problems[0].line is not None
    assert bad_line <= agency_problems[0].line <= bad_line + 2


def test_missing_file(copy: Path) -> None:
    (copy / "panels.yaml").unlink()
    found = check_schedules(copy)
    assert [str(p) for p in found] == [
        f"schedules/panels.yaml: file not found (expected at {copy / 'panels.yaml'})"
    ]


def test_no_chair_configured(copy: Path) -> None:
    def drop_chairs(data: dict[str, Any]) -> None:
        for agency in data["agencies"]:
            for contact in agency["contacts"]:
                contact["roles"] = [r for r in contact.get("roles", []) if r != "chair"]

    edit_data(copy, "agencies.yaml", drop_chairs)
    found = lines(copy)
    assert (
        "schedules/agencies.yaml: agencies: nobody has the role 'chair'; at least "
        "1 person needs it (see roles.yaml)"
    ) in found
    # The panels that name a chair are also told that person is no longer one.
    assert (
        "schedules/panels.yaml: panels[birmingham-mace].chairs[0]: 'tm-walsh' does not "
        "have the role 'chair' in agencies.yaml"
    ) in found


def test_roles_yaml_minimum_is_enforced(copy: Path) -> None:
    edit_text(copy, "roles.yaml", "    minimum_people: 2\n", "    minimum_people: 9\n")
    assert (
        "schedules/agencies.yaml: agencies: only 5 people have the role 'convenor'; at "
        "least 9 people need it (see roles.yaml)"
    ) in lines(copy)


def test_unknown_role_on_a_person(copy: Path) -> None:
    edit_text(copy, "agencies.yaml", "roles: [minute_taker]", "roles: [minutes_taker]")
    found = lines(copy)
    assert found == [
        "schedules/agencies.yaml: agencies[csc].contacts[mt-patel].roles[0]: unknown role "
        "'minutes_taker' (roles are: convenor, chair, minute_taker, agency_rep, agency_lead, "
        "panel_admin, auditor, emergency_duty_convenor)"
    ]


def test_role_limited_to_an_agency_kind(copy: Path) -> None:
    edit_text(
        copy,
        "agencies.yaml",
        "title: Detective Constable, Force CID (exploitation)\n"
        "        email: grace.okafor@police-cid.example\n"
        "        slack_user_id: U0CID001\n        roles: [agency_rep]",
        "title: Detective Constable, Force CID (exploitation)\n"
        "        email: grace.okafor@police-cid.example\n"
        "        slack_user_id: U0CID001\n        roles: [agency_rep, convenor]",
    )
    assert lines(copy) == [
        "schedules/agencies.yaml: agencies[police-cid].contacts[dc-okafor].roles[1]: role "
        "'convenor' may only be held in agencies of kind childrens_social_care "
        "(see roles.yaml), but police-cid is police"
    ]


def test_unknown_role_in_roles_yaml(copy: Path) -> None:
    edit_text(copy, "roles.yaml", "  - code: auditor\n", "  - code: auditer\n")
    assert lines(copy) == [
        "schedules/roles.yaml: roles[auditer].code: 'auditer' is not a role the bot knows; "
        "roles are: convenor, chair, minute_taker, agency_rep, agency_lead, panel_admin, "
        "auditor, emergency_duty_convenor",
        "schedules/roles.yaml: roles: role 'auditor' is not described; every role the bot "
        "knows must have an entry",
    ]


def test_bad_slack_id(copy: Path) -> None:
    edit_text(copy, "agencies.yaml", "slack_user_id: U0YOS001", "slack_user_id: leon.grant")
    assert lines(copy) == [
        "schedules/agencies.yaml: agencies[yos].contacts[yos-grant].slack_user_id: "
        "'leon.grant' does not look like a Slack user id (U or W then capitals/digits, "
        "e.g. U0CSC001)"
    ]


def test_same_slack_user_twice(copy: Path) -> None:
    edit_text(copy, "agencies.yaml", "slack_user_id: U0YOS002", "slack_user_id: U0YOS001")
    assert lines(copy) == [
        "schedules/agencies.yaml: agencies[yos].contacts[yos-novak].slack_user_id: Slack user "
        "U0YOS001 is already given to yos/yos-grant; refer to that contact by id instead"
    ]


def test_unknown_holiday_rule(copy: Path) -> None:
    edit_text(copy, "panels.yaml", "on_bank_holiday: skip", "on_bank_holiday: cancel")
    assert lines(copy) == [
        "schedules/panels.yaml: panels[birmingham-mace-strategic].on_bank_holiday: should be "
        "'next_working_day', 'previous_working_day' or 'skip' (found 'cancel')"
    ]


def test_panel_first_date_must_match_weekday(copy: Path) -> None:
    edit_text(copy, "panels.yaml", "first_date: 2025-01-07", "first_date: 2025-01-08")
    assert lines(copy) == [
        "schedules/panels.yaml: panels[birmingham-mace]: first_date 2025-01-08 is a "
        "Wednesday, but weekday is tuesday"
    ]


def test_panel_standing_agency_and_admin_must_exist(copy: Path) -> None:
    edit_text(
        copy,
        "panels.yaml",
        "administrators: [pa-hussain, pa-lewis]",
        "administrators: [pa-hussain, pa-lewes, qa-nwosu]",
    )
    edit_text(
        copy,
        "panels.yaml",
        "[csc, police-cid, police-ppu, locate, yos, health, education, early-help]",
        "[csc, police-cid, police-ppu, locate, yos, health, education, housing]",
    )
    assert lines(copy) == [
        "schedules/panels.yaml: panels[birmingham-mace].standing_agencies[7]: unknown agency "
        "'housing' (agencies.yaml has: csc, early-help, education, health, locate, "
        "partnership, police-cid, police-ppu, yos)",
        "schedules/panels.yaml: panels[birmingham-mace].administrators[1]: 'pa-lewes' is not "
        "a person in agencies.yaml",
        "schedules/panels.yaml: panels[birmingham-mace].administrators[2]: 'qa-nwosu' does "
        "not have the role 'panel_admin' in agencies.yaml",
    ]


def test_panel_outside_working_hours(copy: Path) -> None:
    edit_text(copy, "panels.yaml", 'start_time: "14:00"', 'start_time: "16:00"')
    assert lines(copy) == [
        "schedules/panels.yaml: panels[birmingham-mace-strategic].start_time: 16:00 for 120 "
        "minutes (until 18:00) is outside working hours 09:00-17:00 (chasing.yaml)"
    ]


def test_chair_escalation_must_come_after_lead(copy: Path) -> None:
    edit_text(
        copy,
        "chasing.yaml",
        "escalate_to_chair_after_working_days_overdue: 5",
        "escalate_to_chair_after_working_days_overdue: 2",
    )
    assert lines(copy) == [
        "schedules/chasing.yaml: actions: escalate_to_chair_after_working_days_overdue (2) "
        "must be more than escalate_to_agency_lead_after_working_days_overdue (2)"
    ]


def test_duration_in_two_units_is_refused(copy: Path) -> None:
    edit_text(
        copy,
        "chasing.yaml",
        "tell_convenor_after: {working_days: 1}",
        "tell_convenor_after: {working_days: 1, working_hours: 2}",
    )
    assert lines(copy) == [
        "schedules/chasing.yaml: invitations.standard.tell_convenor_after: give exactly one "
        "of working_minutes, working_hours or working_days"
    ]


def test_default_urgency_must_be_offered(copy: Path) -> None:
    edit_text(
        copy,
        "meeting_types.yaml",
        "    default_urgency: standard\n    default_duration_minutes: 150",
        "    default_urgency: immediate\n    default_duration_minutes: 150",
    )
    assert lines(copy) == [
        "schedules/meeting_types.yaml: meeting_types[criminal_exploitation_panel]: "
        "default_urgency 'immediate' is not one of the urgencies listed (standard)"
    ]


def test_broken_agency_does_not_cascade(copy: Path) -> None:
    """One bad field in police-cid must not make every reference to it 'unknown'."""
    edit_text(copy, "agencies.yaml", "kind: missing", "kind: missing-children")
    found = lines(copy)
    assert len(found) == 1
    assert found[0].startswith(
        "schedules/agencies.yaml: agencies[locate].kind: should be 'childrens_social_care', 'police'"
    )
    assert found[0].endswith("(found 'missing-children')")


def test_several_problems_across_files_are_all_reported(copy: Path) -> None:
    edit_text(copy, "agencies.yaml", "grace.okafor@police-cid.example", "grace.okafor@")
    edit_text(
        copy,
        "meeting_types.yaml",
        "optional_agencies: [early-help]\n    urgencies:\n      standard:",
        "optional_agencies: [housing]\n    urgencies:\n      standard:",
    )
    edit_text(copy, "panels.yaml", 'start_time: "10:00"', 'start_time: "10.00"')
    (copy / "retention.yaml").unlink()
    found = check_schedules(copy)
    assert [(p.file, p.entry) for p in found] == [
        ("schedules/agencies.yaml", "agencies[police-cid].contacts[dc-okafor].email"),
        (
            "schedules/meeting_types.yaml",
            "meeting_types[criminal_exploitation_panel].optional_agencies[0]",
        ),
        ("schedules/panels.yaml", "panels[birmingham-mace].start_time"),
        ("schedules/retention.yaml", ""),
    ]
    with pytest.raises(ScheduleError) as caught:
        load_partnership(copy)
    assert caught.value.problems == found
    message = str(caught.value)
    assert message.splitlines()[0] == "4 problems in the schedules:"
    assert "'grace.okafor@' is not a valid e-mail address" in message
    assert "unknown agency 'housing'" in message
    assert "file not found" in message


def test_problem_renders_as_one_line() -> None:
    problem = SchedulesProblem("schedules/agencies.yaml", "agencies[csc].lead", "oops")
    assert str(problem) == "schedules/agencies.yaml: agencies[csc].lead: oops"
    with_line = SchedulesProblem("schedules/panels.yaml", "", "YAML syntax error", line=4)
    assert str(with_line) == "schedules/panels.yaml: line 4: YAML syntax error"


def test_missing_directory(tmp_path: Path) -> None:
    found = check_schedules(tmp_path / "nowhere")
    assert len(found) == 1
    assert found[0].message == "schedules directory not found"


def test_empty_and_wrongly_shaped_files(copy: Path) -> None:
    (copy / "retention.yaml").write_text("# nothing yet\n", encoding="utf-8")
    (copy / "roles.yaml").write_text("- convenor\n- chair\n", encoding="utf-8")
    assert lines(copy) == [
        "schedules/roles.yaml: the file should hold named settings (key: value), not a list",
        "schedules/retention.yaml: the file is empty",
    ]


def test_impossible_date_names_the_line(copy: Path) -> None:
    edit_text(copy, "panels.yaml", "first_date: 2025-01-16", "first_date: 2025-02-30")
    bad_line = next(
        i
        for i, line in enumerate((copy / "panels.yaml").read_text(encoding="utf-8").splitlines(), start=1)
        if "2025-02-30" in line
    )
    assert lines(copy) == [
        f"schedules/panels.yaml: line {bad_line}: a value could not be read (day is out of "
        "range for month); check that dates are real and written as YYYY-MM-DD"
    ]


def test_duty_written_wrongly(copy: Path) -> None:
    edit_text(copy, "agencies.yaml", "    duty: ds-reilly\n", "    duty: 5\n")
    edit_text(
        copy,
        "agencies.yaml",
        "      email: ppu.duty@police-ppu.example",
        "      e-mail: ppu.duty@police-ppu.example",
    )
    assert lines(copy) == [
        "schedules/agencies.yaml: agencies[police-ppu].duty: required key 'email' is missing",
        "schedules/agencies.yaml: agencies[police-ppu].duty: unknown key 'e-mail' (did you mean 'email'?)",
        "schedules/agencies.yaml: agencies[police-cid].duty: should be a contact id or a "
        "person written out in full (found 5)",
    ]


def test_roles_must_be_a_list(copy: Path) -> None:
    edit_text(copy, "agencies.yaml", "roles: [minute_taker]", "roles: minute_taker")
    assert lines(copy) == [
        "schedules/agencies.yaml: agencies[csc].contacts[mt-patel].roles: should be a list, "
        "written like [first, second] (found 'minute_taker')"
    ]


def test_working_hours_and_closures(partnership: Partnership) -> None:
    hours = partnership.working_hours
    assert (hours.start, hours.end) == (time(9, 0), time(17, 0))
    assert date(2025, 12, 29) in hours.closures
    assert [p.id for p in partnership.people_of("police-cid")] == [
        "dc-okafor",
        "ds-reilly",
        "dc-sandhu",
        "di-bennett",
    ]


# ----------------------------------------------------------------- partnership.yaml


def test_partnership_settings(partnership: Partnership) -> None:
    settings = partnership.settings
    assert settings.name == "Birmingham Children's Safeguarding Partnership"
    assert settings.case_reference.example == "CS-1234567"
    assert settings.case_reference.description.startswith("two to four capital letters")
    assert settings.discussion_reference_prefix == "SD"
    assert settings.panel_reference_prefix == "CEP"
    assert settings.protective_marking == "OFFICIAL-SENSITIVE"
    # Folded over several lines in the file, read as one paragraph.
    assert settings.confidentiality_statement.startswith("This record contains")
    assert "\n" not in settings.confidentiality_statement
    assert settings.channel_prefix == "sd"
    assert settings.minimum_notice_minutes == 15


def test_case_reference_matching(partnership: Partnership) -> None:
    settings = partnership.settings
    assert settings.matches_case_reference("CS-1234567")
    assert settings.matches_case_reference("  ABCD12345678 \n")
    assert settings.matches_case_reference(settings.case_reference.example)
    # Case-sensitive as the pattern is written: normalise what people type first.
    assert not settings.matches_case_reference("cs-1234567")
    assert settings.normalise_case_reference(" cs-1234567 ") == "CS-1234567"
    assert settings.matches_case_reference(settings.normalise_case_reference(" cs-1234567 "))
    # The whole reference must match, not just part of it.
    for wrong in ("", "   ", "CS-1234", "CS-123456789", "C-1234567", "XCS-1234567 extra"):
        assert not settings.matches_case_reference(wrong), wrong
    # Digits are the plain 0-9 only.
    assert not settings.matches_case_reference("CS-\u0661\u0662\u0663\u0664\u0665")


def test_case_reference_pattern_must_compile(copy: Path) -> None:
    edit_text(
        copy,
        "partnership.yaml",
        r"pattern: '^[A-Z]{2,4}-?\d{5,8}$'",
        r"pattern: '^[A-Z]{2,4}-?(\d{5,8}$'",
    )
    assert lines(copy) == [
        "schedules/partnership.yaml: case_reference.pattern: '^[A-Z]{2,4}-?(\\d{5,8}$' is "
        "not a valid regular expression (missing ), unterminated subpattern at position 14)"
    ]


def test_case_reference_example_must_match_pattern(copy: Path) -> None:
    edit_text(copy, "partnership.yaml", "example: CS-1234567", "example: CS-1234")
    assert lines(copy) == [
        "schedules/partnership.yaml: case_reference.example: 'CS-1234' does not match the "
        "pattern '^[A-Z]{2,4}-?\\d{5,8}$'"
    ]


def test_case_reference_pattern_for_lower_case_is_explained(copy: Path) -> None:
    edit_text(copy, "partnership.yaml", "pattern: '^[A-Z]", "pattern: '^[a-z]")
    edit_text(copy, "partnership.yaml", "example: CS-1234567", "example: cs-1234567")
    assert lines(copy) == [
        "schedules/partnership.yaml: case_reference.example: the pattern "
        "'^[a-z]{2,4}-?\\d{5,8}$' does not match 'CS-1234567'; the bot upper-cases what "
        "people type, so write the pattern for capital letters"
    ]


def test_case_reference_pattern_must_not_accept_nothing(copy: Path) -> None:
    edit_text(copy, "partnership.yaml", r"-?\d{5,8}$'", r"-?\d{5,8}$|'")
    assert lines(copy) == [
        "schedules/partnership.yaml: case_reference.pattern: '^[A-Z]{2,4}-?\\d{5,8}$|' "
        "would accept an empty case reference; the pattern must require at least one "
        "character"
    ]


def test_bad_reference_prefix(copy: Path) -> None:
    edit_text(
        copy,
        "partnership.yaml",
        "discussion_reference_prefix: SD",
        "discussion_reference_prefix: sd",
    )
    edit_text(copy, "partnership.yaml", "panel_reference_prefix: CEP", "panel_reference_prefix: MACE-P")
    assert lines(copy) == [
        "schedules/partnership.yaml: discussion_reference_prefix: 'sd' is not a valid "
        "prefix: use 1 to 6 capital letters, e.g. SD",
        "schedules/partnership.yaml: panel_reference_prefix: 'MACE-P' is not a valid "
        "prefix: use 1 to 6 capital letters, e.g. SD",
    ]


def test_reference_prefixes_must_differ(copy: Path) -> None:
    edit_text(copy, "partnership.yaml", "panel_reference_prefix: CEP", "panel_reference_prefix: SD")
    assert lines(copy) == [
        "schedules/partnership.yaml: panel_reference_prefix: 'SD' is also the "
        "discussion_reference_prefix; use a different prefix so panel and discussion "
        "references cannot be confused"
    ]


def test_bad_channel_prefix(copy: Path) -> None:
    edit_text(copy, "partnership.yaml", "channel_prefix: sd", "channel_prefix: Strategy.SD")
    assert lines(copy) == [
        "schedules/partnership.yaml: channel_prefix: 'Strategy.SD' is not a valid channel "
        "prefix: use up to 20 lower-case letters, digits or hyphens, starting and ending "
        "with a letter or digit, e.g. sd"
    ]


@pytest.mark.parametrize("blank", ['""', "", "'   '"])
def test_empty_protective_marking(copy: Path, blank: str) -> None:
    edit_text(
        copy,
        "partnership.yaml",
        "protective_marking: OFFICIAL-SENSITIVE",
        f"protective_marking: {blank}",
    )
    assert lines(copy) == [
        "schedules/partnership.yaml: protective_marking: should not be empty",
    ]


def test_protective_marking_defaults_to_official_sensitive(copy: Path) -> None:
    edit_text(copy, "partnership.yaml", "protective_marking: OFFICIAL-SENSITIVE\n", "")
    assert load_partnership(copy).settings.protective_marking == "OFFICIAL-SENSITIVE"


def test_misspelt_partnership_setting(copy: Path) -> None:
    edit_text(copy, "partnership.yaml", "minimum_notice_minutes: 15", "minimum_notice_minute: 15")
    assert lines(copy) == [
        "schedules/partnership.yaml: required key 'minimum_notice_minutes' is missing",
        "schedules/partnership.yaml: unknown key 'minimum_notice_minute' "
        "(did you mean 'minimum_notice_minutes'?)",
    ]


def test_missing_partnership_file(copy: Path) -> None:
    (copy / "partnership.yaml").unlink()
    assert lines(copy) == [
        f"schedules/partnership.yaml: file not found (expected at {copy / 'partnership.yaml'})"
    ]
    with pytest.raises(ScheduleError, match=r"partnership\.yaml: file not found"):
        load_partnership(copy)


# -------------------------------------------------------------- agency_updates.yaml


def test_agency_update_policy(partnership: Partnership) -> None:
    policy = partnership.agency_updates
    assert isinstance(policy, AgencyUpdatePolicy)
    codes = [i.code for i in policy.risk_indicators]
    assert len(codes) == 18
    assert codes[0] == "trauma" and codes[-1] == "online_grooming"
    assert policy.indicator("weapons").name == "Weapons"
    assert policy.indicator("trauma").name == "Trauma (neglect, violence, loss)"
    assert all(len(i.name) <= 75 for i in policy.risk_indicators)
    basis = policy.lawful_basis("safeguarding")
    assert basis.name == "Safeguarding children at risk (DPA 2018 Sch 1 para 18)"
    assert "\n" not in basis.description
    assert "not needed where a child is at risk" in policy.lawful_basis("consent").description
    assert {b.code for b in policy.lawful_bases} >= {
        "safeguarding",
        "public_task",
        "legal_obligation",
        "vital_interests",
        "consent",
    }
    assert policy.restriction("police_intelligence").not_for_family
    assert not policy.restriction("ask_before_sharing").not_for_family
    assert policy.restrictions_not_for_family() == frozenset({"not_for_family", "police_intelligence"})
    for lookup, what in (
        (policy.indicator, "risk indicator"),
        (policy.lawful_basis, "lawful basis"),
        (policy.restriction, "sharing restriction"),
    ):
        with pytest.raises(KeyError, match=f"no {what} with code 'nothing'"):
            lookup("nothing")


def test_agency_update_reminders(partnership: Partnership) -> None:
    reminders = partnership.agency_updates.reminders
    assert reminders.before_deadline == (
        WorkingDuration(working_days=1),
        WorkingDuration(working_hours=2),
    )
    assert reminders.when_late is True


def test_agency_update_reminders_are_sorted_longest_first(copy: Path) -> None:
    edit_text(
        copy,
        "agency_updates.yaml",
        "before_deadline: [{working_days: 1}, {working_hours: 2}]",
        "before_deadline: [{working_minutes: 30}, {working_hours: 10}, {working_days: 1}]",
    )
    # A working day is 8 hours (chasing.yaml), so 10 working hours comes first.
    assert [d.describe() for d in load_partnership(copy).agency_updates.reminders.before_deadline] == [
        "10 working hours",
        "1 working day",
        "30 working minutes",
    ]


def test_duplicate_risk_indicator_code(copy: Path) -> None:
    edit_text(copy, "agency_updates.yaml", "  - code: online_grooming\n", "  - code: weapons\n")
    assert lines(copy) == [
        "schedules/agency_updates.yaml: risk_indicators[17]: duplicate code 'weapons' "
        "(already used by risk_indicators[16])"
    ]


def test_risk_indicator_name_too_long_for_slack(copy: Path) -> None:
    long_name = "Weapons, including knives, firearms, imitation firearms and any other items carried"
    edit_text(copy, "agency_updates.yaml", "    name: Weapons\n", f"    name: {long_name}\n")
    assert lines(copy) == [
        "schedules/agency_updates.yaml: risk_indicators[weapons].name: is "
        f"{len(long_name)} characters long; Slack shows at most 75, so shorten it"
    ]


def test_too_many_risk_indicators(copy: Path) -> None:
    def add(data: dict[str, Any]) -> None:
        data["risk_indicators"] += [{"code": f"extra_{n}", "name": f"Extra {n}"} for n in range(23)]

    edit_data(copy, "agency_updates.yaml", add)
    assert lines(copy) == [
        "schedules/agency_updates.yaml: risk_indicators: lists 41 risk indicators; the Slack "
        "form has room for at most 40"
    ]


def test_no_lawful_bases(copy: Path) -> None:
    edit_data(copy, "agency_updates.yaml", lambda data: data.update(lawful_bases=[]))
    assert lines(copy) == [
        "schedules/agency_updates.yaml: lawful_bases: should list at least 1 entry (found none)"
    ]


def test_zero_reminder(copy: Path) -> None:
    edit_text(copy, "agency_updates.yaml", "{working_hours: 2}]", "{working_hours: 0}]")
    assert lines(copy) == [
        "schedules/agency_updates.yaml: reminders.before_deadline[1].working_hours: should "
        "be greater than 0 (found 0)"
    ]


def test_repeated_reminder(copy: Path) -> None:
    edit_text(copy, "agency_updates.yaml", "{working_hours: 2}]", "{working_hours: 2}, {working_hours: 2}]")
    assert lines(copy) == [
        "schedules/agency_updates.yaml: reminders.before_deadline: 2 working hours is listed twice"
    ]


def test_reminders_the_same_length_in_different_units(copy: Path) -> None:
    edit_text(copy, "agency_updates.yaml", "{working_hours: 2}]", "{working_hours: 8}]")
    assert lines(copy) == [
        "schedules/agency_updates.yaml: reminders.before_deadline: 1 working day and 8 "
        "working hours are the same time, as a working day is 8 hours (chasing.yaml); list "
        "it once"
    ]


def test_unknown_key_in_agency_updates(copy: Path) -> None:
    edit_text(
        copy,
        "agency_updates.yaml",
        "    name: Ask this agency before sharing further\n    not_for_family: false\n",
        "    name: Ask this agency before sharing further\n    not_for_famly: false\n",
    )
    edit_text(copy, "agency_updates.yaml", "  when_late: true", "  when_overdue: true")
    assert lines(copy) == [
        "schedules/agency_updates.yaml: sharing_restrictions[ask_before_sharing]: required "
        "key 'not_for_family' is missing",
        "schedules/agency_updates.yaml: sharing_restrictions[ask_before_sharing]: unknown "
        "key 'not_for_famly' (did you mean 'not_for_family'?)",
        "schedules/agency_updates.yaml: reminders: required key 'when_late' is missing",
        "schedules/agency_updates.yaml: reminders: unknown key 'when_overdue' (allowed: "
        "before_deadline, when_late)",
    ]


def test_missing_agency_updates_file(copy: Path) -> None:
    (copy / "agency_updates.yaml").unlink()
    assert lines(copy) == [
        f"schedules/agency_updates.yaml: file not found (expected at {copy / 'agency_updates.yaml'})"
    ]
    with pytest.raises(ScheduleError, match=r"agency_updates\.yaml: file not found"):
        load_partnership(copy)
