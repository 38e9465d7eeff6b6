"""The decisions of a strategy discussion answered explicitly and checked against each other;
the quorum read from actual attendance; the concerns that decide who is invited; and the
schedules that configure them, checked with file, entry and problem."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from bot.convening.service import agencies_for_concerns
from bot.minutes.clocks import decision_rows
from bot.minutes.decisions import Answer, Circumstances, answer_words, decision_problems
from bot.minutes.models import Decision
from bot.minutes.quorum import AgencyFacts, assess, quorum_problems, quorum_words
from bot.schedules import check_schedules, default_schedules_dir, load_partnership

TODAY = date(2026, 11, 10)
FACTS = Circumstances(today=TODAY, threshold_level="complex_significant", police_present=True)
PARTNERSHIP = load_partnership(default_schedules_dir())


def answers(**changes: Answer) -> dict[str, Answer]:
    found = {
        "section_47": Answer("start", "Reasonable cause."),
        "enquiry_type": Answer("joint", "CSC with CID"),
        "criminal_investigation": Answer("yes", "This week."),
        "medical_assessment": Answer("no", ""),
        "legal_action": Answer("not_yet", "Advice sought.", date(2026, 11, 20)),
        "immediate_safety": Answer("", "Safety plan."),
        "sharing_with_family": Answer("yes", "Mother told."),
        "parents_told": Answer("yes", ""),
        "icpc": Answer("needed", ""),
        "dissent": Answer("no", ""),
    }
    found.update(changes)
    return found


def test_a_complete_set_of_answers_passes() -> None:
    assert decision_problems(answers(), FACTS) == {}


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        (
            {"criminal_investigation": Answer("", "")},
            "criminal_investigation",
            "Record the decision: Yes, No or Not yet decided.",
        ),
        ({"criminal_investigation": Answer("yes", "")}, "criminal_investigation_detail", "must be recorded"),
        ({"medical_assessment": Answer("not_yet", "GP to advise")}, "medical_assessment_by", "give the date"),
        (
            {"medical_assessment": Answer("not_yet", "GP", date(2026, 11, 9))},
            "medical_assessment_by",
            "That date has passed",
        ),
        ({"immediate_safety": Answer("", " ")}, "immediate_safety_detail", "must be recorded"),
        ({"sharing_with_family": Answer("no", "")}, "sharing_with_family_detail", "must be recorded"),
        ({"dissent": Answer("yes", "")}, "dissent_detail", "escalated"),
        (
            {"section_47": Answer("no_enquiries", "Not met."), "enquiry_type": Answer("not_applicable", "")},
            "icpc",
            "follows section 47 enquiries",
        ),
        (
            {
                "section_47": Answer("no_enquiries", "Not met."),
                "enquiry_type": Answer("not_applicable", ""),
                "icpc": Answer("not_yet", "", date(2026, 11, 20)),
            },
            "icpc",
            "follows section 47 enquiries",
        ),
        ({"enquiry_type": Answer("not_applicable", "")}, "enquiry_type", "single-agency or joint"),
        (
            {"section_47": Answer("no_enquiries", "No."), "icpc": Answer("not_needed", "")},
            "enquiry_type",
            "No enquiry",
        ),
        ({"section_47": Answer("continue", "Go on.")}, "section_47", "Record the decision: Start"),
    ],
)
def test_each_decision_is_answered_and_checked(changes, field, words) -> None:
    problems = decision_problems(answers(**changes), FACTS)
    assert words in problems.get(field, ""), problems


def test_section_47_needs_the_threshold_and_a_joint_enquiry_the_police() -> None:
    below = Circumstances(today=TODAY, threshold_level="additional_needs", police_present=True)
    assert "complex / significant" in decision_problems(answers(), below)["section_47"]
    no_police = Circumstances(today=TODAY, threshold_level="complex_significant", police_present=False)
    assert "needs the police" in decision_problems(answers(), no_police)["enquiry_type"]
    assert decision_problems(answers(enquiry_type=Answer("single", "CSC")), no_police) == {}


def test_a_follow_up_continues_the_enquiry_under_way() -> None:
    follow_up = Circumstances(
        today=TODAY,
        threshold_level="complex_significant",
        police_present=True,
        enquiry_under_way_from="SD-2026-0001",
    )
    assert "Continue the section 47 enquiries" in decision_problems(answers(), follow_up)["section_47"]
    assert decision_problems(answers(section_47=Answer("continue", "Progress.")), follow_up) == {}


def test_the_minutes_show_every_answer_and_what_was_not_recorded() -> None:
    stored = {
        "section_47": Decision(meeting_id=1, topic="section_47", outcome="continue", reason="Progress."),
        "legal_action": Decision(
            meeting_id=1,
            topic="legal_action",
            outcome="not_yet",
            reason="Advice.",
            details={"by": "2026-11-20"},
        ),
        "quorum": Decision(
            meeting_id=1,
            topic="quorum",
            outcome="proceed",
            reason="Nurse in clinic.",
            details={"missing": ["Health"], "health_written_only": True},
        ),
    }
    rows = {row["topic"]: row for row in decision_rows(stored)}
    assert rows["Section 47 enquiries"]["outcome"] == "Continue the section 47 enquiries under way"
    assert rows["Legal action"]["outcome"] == "Not yet decided (to be decided by Fri 20 Nov 2026)"
    assert rows["Medical assessment"]["outcome"] == "Not recorded"
    assert (
        rows["Quorum"]["reason"]
        == "Health did not take part. Health took part by written update only. Nurse in clinic."
    )
    assert answer_words("criminal_investigation", Answer("yes", "")) == "Yes"


AGENCIES = [
    AgencyFacts("csc", "Children's social care", "childrens_social_care"),
    AgencyFacts("police-ppu", "Police PPU", "police"),
    AgencyFacts("police-cid", "Force CID", "police"),
    AgencyFacts("health", "Health", "health"),
    AgencyFacts("locate", "Locate", "missing"),
]
CORE = ("csc", "police-ppu", "health")


def test_quorum_reads_actual_attendance() -> None:
    everyone = dict.fromkeys(("csc", "police-ppu", "police-cid", "health", "locate"), "present")
    assert assess(everyone, AGENCIES, CORE).complete
    # Force CID present does not stand in for the public protection unit; health in writing only.
    partial = {**everyone, "police-ppu": "did_not_respond", "health": "written_update"}
    quorum = assess(partial, AGENCIES, CORE)
    assert quorum.missing == ("Police PPU", "Health")
    assert quorum.health_written_only and quorum.police_present
    problems = quorum_problems(quorum, "", False)
    assert "Police PPU and Health did not take part" in problems["quorum_reason"]
    assert "only if the chair decides" in problems["quorum_proceed"]
    assert quorum_problems(quorum, "PPU called to an incident.", True) == {}
    assert quorum_words(quorum, "PPU called away.").endswith("Health took part by written update only.")
    no_police = {**everyone, "police-ppu": "apologies", "police-cid": "apologies"}
    assert not assess(no_police, AGENCIES, CORE).police_present


def test_concerns_decide_who_is_invited() -> None:
    core = {"csc", "police-ppu", "health"}
    assert (
        set(agencies_for_concerns(PARTNERSHIP, "strategy_discussion", ["neglect", "physical_abuse"])) == core
    )
    assert set(agencies_for_concerns(PARTNERSHIP, "strategy_discussion", ["other"])) == core
    exploitation = agencies_for_concerns(PARTNERSHIP, "strategy_discussion", ["county_lines", "neglect"])
    assert set(exploitation) == core | {"police-cid", "locate", "yos", "education"}
    assert exploitation["locate"] == "exploitation"
    assert set(agencies_for_concerns(PARTNERSHIP, "strategy_discussion", ["trafficking"])) > core


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    target = tmp_path / "schedules"
    shutil.copytree(default_schedules_dir(), target)
    return target


def _edit(directory: Path, name: str, old: str, new: str, *, first: bool = False) -> None:
    path = directory / name
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1 or (first and text.count(old) > 1)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_cases_yaml_mistakes_name_the_file_the_entry_and_the_problem(copy: Path) -> None:
    _edit(
        copy,
        "cases.yaml",
        "  - code: missing\n    name: Going missing\n    kind: exploitation\n",
        "  - code: missing\n    name: Going missing\n    kind: exploitation\n    also_invite: [locate, missing-team]\n",
    )
    _edit(
        copy,
        "cases.yaml",
        "  - code: neglect\n    name: Neglect\n    kind: intra_familial\n",
        "  - code: neglect\n    name: Neglect\n    kind: intra_familal\n",
    )
    _edit(copy, "cases.yaml", "  - code: early_help\n", "  - code: child_in_need_plan\n")
    found = [str(p) for p in check_schedules(copy)]
    assert any(
        line.startswith(
            "schedules/cases.yaml: concerns[neglect].kind: should be 'exploitation', 'intra_familial' or 'other'"
        )
        for line in found
    ), found
    assert (
        "schedules/cases.yaml: closure_outcomes[2]: duplicate code 'child_in_need_plan' (already used by closure_outcomes[1])"
        in found
    )


def test_an_unknown_agency_a_concern_brings_in_is_named(copy: Path) -> None:
    _edit(
        copy,
        "cases.yaml",
        "  - code: missing\n    name: Going missing\n    kind: exploitation\n",
        "  - code: missing\n    name: Going missing\n    kind: exploitation\n    also_invite: [missing-team]\n",
    )
    found = [str(p) for p in check_schedules(copy)]
    assert len(found) == 1 and found[0].startswith(
        "schedules/cases.yaml: concerns[missing].also_invite[0]: unknown agency 'missing-team'"
    ), found


def test_too_many_concerns_of_one_kind_for_the_form(copy: Path) -> None:
    extra = "".join(f"  - code: extra_{n}\n    name: Extra {n}\n    kind: exploitation\n" for n in range(3))
    _edit(copy, "cases.yaml", "  # Harm within the family.\n", extra + "  # Harm within the family.\n")
    found = [str(p) for p in check_schedules(copy)]
    assert found == [
        "schedules/cases.yaml: concerns: lists 11 concerns of kind exploitation; the Slack form has room for at "
        "most 10 of each kind"
    ]


def test_a_core_agency_must_be_required(copy: Path) -> None:
    _edit(
        copy,
        "meeting_types.yaml",
        "    core_agencies: [csc, police-ppu, health]\n    required_when",
        "    core_agencies: [csc, police-cid, health]\n    required_when",
        first=True,  # the strategy discussion's; its follow-up has the same line
    )
    found = [str(p) for p in check_schedules(copy)]
    assert found == [
        "schedules/meeting_types.yaml: meeting_types[strategy_discussion]: core_agencies police-cid must also be "
        "listed in required_agencies, so they are always invited"
    ]


def test_the_emergency_duty_convenor_role_is_described(copy: Path) -> None:
    _edit(copy, "roles.yaml", "  - code: emergency_duty_convenor\n", "  - code: emergency_duty\n")
    found = [str(p) for p in check_schedules(copy)]
    assert (
        "schedules/roles.yaml: roles: role 'emergency_duty_convenor' is not described; every role the bot knows must have an entry"
        in found
    )
