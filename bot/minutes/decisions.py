"""The decisions a strategy discussion takes (DESIGN.md §3), each answered explicitly, and
the checks between them.

Every decision has an answer from a fixed list: yes, no, or not yet decided (with the date
it will be decided by), or the topic's own choices (start section 47 enquiries or not;
single-agency or joint). Free text says why, who, when. The checks between decisions are
those the law and the guidance impose: no ICPC without section 47 enquiries; section 47
enquiries only at the threshold complex / significant; a joint enquiry only with the
police present; a single-agency or joint enquiry only when there is an enquiry.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

YES, NO, NOT_YET = "yes", "no", "not_yet"
YES_NO_NOT_YET: dict[str, str] = {YES: "Yes", NO: "No", NOT_YET: "Not yet decided"}
DETAIL_LIMIT = 3000
THRESHOLD_FOR_SECTION_47 = "complex_significant"
ENQUIRY_OUTCOMES = ("start", "continue")


@dataclass(frozen=True)
class Topic:
    """One decision: how the form asks it, what the answers are and when detail is needed."""

    code: str
    label: str  # as the form and the minutes name it
    answers: dict[str, str]  # answer code -> words; empty: a text-only decision
    detail_label: str
    detail_needed_for: frozenset[str] = frozenset()  # answers that need the detail; "*": always
    date_label: str = "To be decided by"  # for not yet decided

    def needs_detail(self, answer: str) -> bool:
        return "*" in self.detail_needed_for or answer in self.detail_needed_for


TOPICS: tuple[Topic, ...] = (
    Topic(
        "section_47",
        "Section 47 enquiries",
        {"start": "Start section 47 enquiries", "no_enquiries": "No section 47 enquiries"},
        "Why",
        frozenset({"*"}),
    ),
    Topic(
        "enquiry_type",
        "Single-agency or joint enquiry, and who leads",
        {
            "joint": "Joint enquiry with the police",
            "single": "Single-agency enquiry",
            "not_applicable": "No enquiry",
        },
        "Who leads",
        frozenset({"joint", "single"}),
    ),
    Topic(
        "criminal_investigation",
        "Criminal investigation",
        YES_NO_NOT_YET,
        "Its timing, and who leads it (or why not)",
        frozenset({YES}),
    ),
    Topic(
        "medical_assessment",
        "Medical assessment",
        YES_NO_NOT_YET,
        "When, where and by whom (or why not)",
        frozenset({YES}),
    ),
    Topic("legal_action", "Legal action", YES_NO_NOT_YET, "What, and when (or why not)", frozenset({YES})),
    Topic(
        "immediate_safety",
        "Immediate safety actions (the safety plan)",
        {},
        "The immediate safety actions (write 'none' and why, if so)",
        frozenset({"*"}),
    ),
    Topic(
        "sharing_with_family",
        "Sharing with the child and family",
        {YES: "Shared", NO: "Not shared", NOT_YET: "Not yet decided"},
        "What is shared, with whom and when (or why not)",
        frozenset({"*"}),
    ),
    Topic(
        "parents_told",
        "Parents told of the enquiries",
        {YES: "Told", NO: "Not told", NOT_YET: "Not yet decided", "not_applicable": "No enquiries"},
        "When and by whom (or why not)",
        frozenset({NO}),
    ),
    Topic(
        "icpc",
        "Initial child protection conference",
        {"needed": "Needed", "not_needed": "Not needed", NOT_YET: "Not yet decided"},
        "Notes",
    ),
    Topic(
        "dissent",
        "Dissent and its escalation",
        {NO: "None", YES: "Dissent recorded"},
        "The dissent, and how it is escalated",
        frozenset({YES}),
    ),
)
TOPIC_BY_CODE: dict[str, Topic] = {topic.code: topic for topic in TOPICS}
CONTINUE_WORDS = "Continue the section 47 enquiries under way"


@dataclass(frozen=True)
class Answer:
    """One decision as recorded: the answer, the detail, and for not yet decided, the date."""

    outcome: str = ""
    detail: str = ""
    decide_by: date | None = None


@dataclass(frozen=True)
class Circumstances:
    """What the checks between decisions need to know beyond the answers themselves."""

    today: date
    threshold_level: str
    police_present: bool
    enquiry_under_way_from: str = ""  # an earlier discussion's reference: it can only continue
    police_names: tuple[str, ...] = field(default_factory=tuple)


def section_47_answers(enquiry_under_way_from: str) -> dict[str, str]:
    """A follow-up to a discussion that started enquiries continues them: it cannot start
    them again (the ICPC clock stays where it is)."""
    if enquiry_under_way_from:
        return {"continue": f"{CONTINUE_WORDS} (started at {enquiry_under_way_from})"}
    return TOPIC_BY_CODE["section_47"].answers


def decision_problems(answers: dict[str, Answer], facts: Circumstances) -> dict[str, str]:
    """Every problem with the decisions, keyed by the form input it belongs beside:
    `topic` (the answer), `topic_detail`, `topic_by`."""
    errors: dict[str, str] = {}
    for topic in TOPICS:
        answer = answers.get(topic.code, Answer())
        options = (
            section_47_answers(facts.enquiry_under_way_from) if topic.code == "section_47" else topic.answers
        )
        if options and answer.outcome not in options:
            words = list(options.values())
            listed = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]
            errors[topic.code] = f"Record the decision: {listed}."
            continue
        if len(answer.detail) > DETAIL_LIMIT:
            errors[f"{topic.code}_detail"] = f"Keep it under {DETAIL_LIMIT:,} characters."
        elif topic.needs_detail(answer.outcome) and not answer.detail.strip():
            errors[f"{topic.code}_detail"] = f"{topic.detail_label}: this must be recorded."
        if answer.outcome == NOT_YET:
            if answer.decide_by is None:
                errors[f"{topic.code}_by"] = "Not yet decided: give the date it will be decided by."
            elif answer.decide_by < facts.today:
                errors[f"{topic.code}_by"] = "That date has passed."
    errors.update(cross_check(answers, facts, errors))
    return errors


def cross_check(answers: dict[str, Answer], facts: Circumstances, found: dict[str, str]) -> dict[str, str]:
    """The checks between decisions (only where each answer is itself sound)."""
    errors: dict[str, str] = {}
    section_47 = answers.get("section_47", Answer()).outcome
    enquiry = section_47 in ENQUIRY_OUTCOMES
    if "section_47" not in found and enquiry and facts.threshold_level != THRESHOLD_FOR_SECTION_47:
        errors["section_47"] = (
            "Section 47 enquiries need the threshold complex / significant: change the level the "
            "discussion agreed, or record no section 47 enquiries."
        )
    kind = answers.get("enquiry_type", Answer()).outcome
    if "enquiry_type" not in found and "section_47" not in found:
        if enquiry and kind == "not_applicable":
            errors["enquiry_type"] = "Section 47 enquiries are starting: say whether single-agency or joint."
        elif not enquiry and kind in ("joint", "single"):
            errors["enquiry_type"] = "There are no section 47 enquiries: choose 'No enquiry'."
        elif kind == "joint" and not facts.police_present:
            errors["enquiry_type"] = (
                "A joint enquiry needs the police at the discussion, and the attendance recorded "
                "has no police present. Record a single-agency enquiry, or correct the attendance."
            )
    icpc = answers.get("icpc", Answer()).outcome
    if "icpc" not in found and "section_47" not in found and not enquiry and icpc in ("needed", NOT_YET):
        errors["icpc"] = (
            "An initial child protection conference follows section 47 enquiries: with none, "
            "it is not needed."
        )
    return errors


def answer_words(topic_code: str, answer: Answer) -> str:
    """The answer as the minutes write it: `Yes`, `Not yet decided (by Fri 13 Nov 2026)`."""
    if topic_code == "section_47" and answer.outcome == "continue":
        return CONTINUE_WORDS
    topic = TOPIC_BY_CODE.get(topic_code)
    words = topic.answers.get(answer.outcome, answer.outcome) if topic else answer.outcome
    if answer.outcome == NOT_YET and answer.decide_by:
        words += f" (to be decided by {answer.decide_by:%a %d %b %Y})"
    return words
