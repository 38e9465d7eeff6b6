"""Typed shapes of the files in `schedules/`.

Every model forbids unknown keys, so a misspelt setting in a hand-edited YAML file is
reported instead of silently ignored, and is frozen, because configuration read at
start-up must not change underneath a running bot.
"""

from __future__ import annotations

import itertools
import re
from datetime import date, time, timedelta
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    StringConstraints,
    Tag,
    ValidationInfo,
    field_validator,
    model_validator,
)

from bot.schedules.practice import PanelPractice

# --------------------------------------------------------------------------- vocabulary

ROLES: tuple[str, ...] = (
    "convenor",
    "chair",
    "minute_taker",
    "agency_rep",
    "agency_lead",
    "panel_admin",
    "auditor",
    "emergency_duty_convenor",
)
"""Roles the bot's permission checks know; `roles.yaml` describes each of them."""

ROLE_FLOOR: dict[str, int] = {"convenor": 1, "chair": 1, "panel_admin": 1}
"""Nobody can convene, chair or run a panel without these, whatever roles.yaml says."""

ESCALATION_KEYWORDS: tuple[str, ...] = ("contacts", "duty", "lead")
"""Words an escalation route may use instead of a contact id."""

AgencyKind = Literal[
    "childrens_social_care",
    "police",
    "health",
    "education",
    "youth_justice",
    "missing",
    "early_help",
    "partnership",
    "other",
]
Urgency = Literal["immediate", "urgent", "standard"]
URGENCIES: tuple[Urgency, ...] = ("immediate", "urgent", "standard")
Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday"]
WEEKDAYS: tuple[Weekday, ...] = ("monday", "tuesday", "wednesday", "thursday", "friday")
HolidayRule = Literal["next_working_day", "previous_working_day", "skip"]

# ----------------------------------------------------------------------- field checks

_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_SLACK_USER = re.compile(r"^[UW][A-Z0-9]{2,}$")
_HHMM = re.compile(r"^([01][0-9]|2[0-3]):([0-5][0-9])$")
_REFERENCE_PREFIX = re.compile(r"^[A-Z]{1,6}$")
_CHANNEL_PREFIX = re.compile(r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$")
CHANNEL_PREFIX_MAX_LENGTH = 20
"""Slack allows 80 characters; the prefix is kept short so the discussion number fits."""
CASE_REFERENCE_MAX_LENGTH = 40
"""The longest case reference the database stores (`Case.reference`)."""


def _check_slug(value: str) -> str:
    """Codes appear in commands and file references, so keep them plain."""
    if not _SLUG.match(value):
        raise ValueError(f"{value!r} is not a valid code: use lower-case letters, digits, '-' or '_'")
    return value


def _check_email(value: str) -> str:
    """A simple shape check; deliverability is the mail server's business."""
    if not _EMAIL.match(value) or ".." in value or value.split("@")[0].startswith("."):
        raise ValueError(f"{value!r} is not a valid e-mail address")
    return value


def _check_slack_user(value: str) -> str:
    """Slack user ids start with U (or W on Enterprise Grid); names or e-mails do not work."""
    if not _SLACK_USER.match(value):
        raise ValueError(
            f"{value!r} does not look like a Slack user id (U or W then capitals/digits, e.g. U0CSC001)"
        )
    return value


def _parse_hhmm(value: Any) -> Any:
    """Accept only "HH:MM"; explain YAML's habit of reading 10:00 as the number 600."""
    if isinstance(value, time):
        return value
    if isinstance(value, bool):
        raise ValueError(f'{value!r} is not a time; write it as "HH:MM", e.g. "09:30"')
    if isinstance(value, int):
        hours, minutes = divmod(value, 60)
        raise ValueError(
            f'put the time in quotes, e.g. "{hours:02d}:{minutes:02d}" '
            f"(without quotes YAML reads it as the number {value})"
        )
    if not isinstance(value, str) or not _HHMM.match(value.strip()):
        raise ValueError(f'{value!r} is not a time; write it as "HH:MM", e.g. "09:30"')
    hour, minute = value.strip().split(":")
    return time(int(hour), int(minute))


def _check_reference_prefix(value: str) -> str:
    """Prefixes begin references such as SD-2026-0001, so keep them short capitals."""
    if not _REFERENCE_PREFIX.match(value):
        raise ValueError(f"{value!r} is not a valid prefix: use 1 to 6 capital letters, e.g. SD")
    return value


def _check_channel_prefix(value: str) -> str:
    """Slack channel names are lower case, without spaces or full stops."""
    if len(value) > CHANNEL_PREFIX_MAX_LENGTH or not _CHANNEL_PREFIX.match(value):
        raise ValueError(
            f"{value!r} is not a valid channel prefix: use up to {CHANNEL_PREFIX_MAX_LENGTH} "
            "lower-case letters, digits or hyphens, starting and ending with a letter or "
            "digit, e.g. sd"
        )
    return value


def _check_one_line(value: str) -> str:
    """Headings and labels are shown on one line."""
    if "\n" in value or "\r" in value:
        raise ValueError("should be on one line")
    return value


def _compile_regex(value: str) -> re.Pattern[str]:
    """Compile an administrator's regular expression, explaining any mistake in one line.

    ASCII mode keeps \\d to the digits 0-9 and \\w to plain letters, as references are.
    """
    try:
        return re.compile(value, re.ASCII)
    except re.error as exc:
        where = f" at position {exc.pos + 1}" if exc.pos is not None else ""
        raise ValueError(f"'{value}' is not a valid regular expression ({exc.msg}{where})") from None
    except (OverflowError, RecursionError) as exc:
        raise ValueError(f"'{value}' is not a valid regular expression ({exc})") from None


def _check_regex(value: str) -> str:
    """The pattern must compile, and must not accept an empty reference."""
    if _compile_regex(value).fullmatch("") is not None:
        raise ValueError(
            f"'{value}' would accept an empty case reference; the pattern must require at least one character"
        )
    return value


def _lower(value: Any) -> Any:
    """Let an administrator write "Tuesday" as well as "tuesday"."""
    return value.strip().lower() if isinstance(value, str) else value


Slug = Annotated[str, AfterValidator(_check_slug)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Line = Annotated[Text, AfterValidator(_check_one_line)]
ReferencePrefix = Annotated[
    str, StringConstraints(strip_whitespace=True), AfterValidator(_check_reference_prefix)
]
ChannelPrefix = Annotated[
    str, StringConstraints(strip_whitespace=True), AfterValidator(_check_channel_prefix)
]
RegexPattern = Annotated[Line, AfterValidator(_check_regex)]
"""Shown in messages as written, in plain quotes, since repr would double each backslash."""
Email = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_check_email)]
SlackUserId = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_check_slack_user)]
ClockTime = Annotated[time, BeforeValidator(_parse_hhmm)]
PositiveInt = Annotated[int, Field(gt=0)]
NonNegativeInt = Annotated[int, Field(ge=0)]


class _Model(BaseModel):
    """Base for every schedule model: unknown keys are errors and values never change."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------------------- agencies


class Person(_Model):
    """Someone the bot may message: a contact, a duty desk or an agency lead."""

    id: Slug
    name: Text
    title: Text
    email: Email
    slack_user_id: SlackUserId | None = None
    phone: Text | None = None
    roles: tuple[Slug, ...] = ()


class ContactRef(_Model):
    """Points at one of the agency's own contacts instead of repeating their details."""

    contact: Slug


def _person_or_ref_tag(value: Any) -> str:
    """Tell an inline person from a reference, so errors speak about the right shape."""
    if isinstance(value, dict) and set(value) == {"contact"}:
        return "contact-ref"
    if isinstance(value, ContactRef):
        return "contact-ref"
    return "inline-person"


def _bare_ref(value: Any) -> Any:
    """`duty: ds-reilly` is shorthand for `duty: {contact: ds-reilly}`."""
    return {"contact": value} if isinstance(value, str) else value


PersonOrRef = Annotated[
    Annotated[Person, Tag("inline-person")] | Annotated[ContactRef, Tag("contact-ref")],
    Discriminator(_person_or_ref_tag),
    BeforeValidator(_bare_ref),
]
UNION_TAGS: frozenset[str] = frozenset({"inline-person", "contact-ref"})
"""Tags pydantic puts in error locations; left out of the paths shown to people."""


class Agency(_Model):
    """A partner agency: who is invited, who covers duty, and who is escalated to."""

    code: Slug
    name: Text
    kind: AgencyKind
    contacts: tuple[Person, ...] = Field(min_length=1)
    duty: PersonOrRef | None = None
    lead: PersonOrRef
    escalation: tuple[Slug, ...] = ("contacts", "duty", "lead")

    def contact(self, person_id: str) -> Person | None:
        """The contact with this id, or None."""
        return next((p for p in self.contacts if p.id == person_id), None)

    def _resolve(self, value: Person | ContactRef | None) -> Person | None:
        if isinstance(value, ContactRef):
            return self.contact(value.contact)
        return value

    def duty_person(self) -> Person | None:
        """The duty contact, following a reference to a contact if one is given."""
        return self._resolve(self.duty)

    def lead_person(self) -> Person:
        """The agency lead; loading guarantees a reference resolves."""
        person = self._resolve(self.lead)
        if person is None:
            raise LookupError(f"agency {self.code}: lead refers to an unknown contact")
        return person

    def people(self) -> list[Person]:
        """Everyone named in this agency once: contacts, then inline duty and lead."""
        seen: dict[str, Person] = {p.id: p for p in self.contacts}
        for extra in (self.duty_person(), self._resolve(self.lead)):
            if extra is not None and extra.id not in seen:
                seen[extra.id] = extra
        return list(seen.values())

    def invitees(self) -> list[Person]:
        """Contacts who receive this agency's invitations (those with the agency_rep role)."""
        return [p for p in self.contacts if "agency_rep" in p.roles]

    def escalation_route(self) -> list[list[Person]]:
        """Who is chased at each step, in order; `contacts` means all invitees."""
        route: list[list[Person]] = []
        for step in self.escalation:
            if step == "contacts":
                route.append(self.invitees())
            elif step == "duty":
                duty = self.duty_person()
                route.append([duty] if duty else [])
            elif step == "lead":
                route.append([self.lead_person()])
            else:
                person = self.contact(step)
                route.append([person] if person else [])
        return route


# ------------------------------------------------------------------------------- roles


class RoleDefinition(_Model):
    """What a role means and the rules on who may hold it."""

    code: Slug
    name: Text
    description: Text
    minimum_people: NonNegativeInt = 0
    agency_kinds: tuple[AgencyKind, ...] = ()


# ----------------------------------------------------------------------- meeting types


class UpdatesDue(_Model):
    """When written agency updates are due, relative to the meeting."""

    working_hours_before: NonNegativeInt | None = None
    end_of_working_days_before: PositiveInt | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> UpdatesDue:
        given = [x for x in (self.working_hours_before, self.end_of_working_days_before) if x is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of working_hours_before or end_of_working_days_before")
        return self


class UrgencyLevel(_Model):
    """How soon a meeting of this urgency must happen after the referral."""

    within_working_days: NonNegativeInt
    description: Text
    updates_due: UpdatesDue


class Urgencies(_Model):
    """The urgency levels a meeting type offers; leave out any it does not use."""

    immediate: UrgencyLevel | None = None
    urgent: UrgencyLevel | None = None
    standard: UrgencyLevel | None = None

    def get(self, urgency: str) -> UrgencyLevel | None:
        """The level called `urgency`, or None if this meeting type does not offer it."""
        return getattr(self, urgency, None) if urgency in URGENCIES else None

    def offered(self) -> list[Urgency]:
        """Codes of the levels this meeting type offers, most urgent first."""
        return [u for u in URGENCIES if getattr(self, u) is not None]


class ActionDue(_Model):
    """Default working days from the meeting to an action's due date, by priority."""

    immediate: NonNegativeInt
    high: NonNegativeInt
    normal: NonNegativeInt
    low: NonNegativeInt


class MeetingType(_Model):
    """A kind of meeting: who must be there and the timescales that apply."""

    code: Slug
    name: Text
    description: Text | None = None
    follow_up_of: Slug | None = None
    required_agencies: tuple[Slug, ...] = Field(min_length=1)
    core_agencies: tuple[Slug, ...] = ()
    """Without these present it is not a strategy discussion unless the chair decides to
    go ahead (with the reason recorded). Each must be one of required_agencies."""
    required_when_exploitation: tuple[Slug, ...] = ()
    optional_agencies: tuple[Slug, ...] = ()
    urgencies: Urgencies
    default_urgency: Urgency
    default_duration_minutes: Annotated[int, Field(gt=0, le=8 * 60)]
    icpc_within_working_days: PositiveInt | None = None
    s47_assessment_max_working_days: PositiveInt | None = None
    action_due_working_days: ActionDue

    @model_validator(mode="after")
    def _consistent(self) -> MeetingType:
        if not self.urgencies.offered():
            raise ValueError("urgencies: give at least one of immediate, urgent, standard")
        if self.urgencies.get(self.default_urgency) is None:
            raise ValueError(
                f"default_urgency {self.default_urgency!r} is not one of the urgencies "
                f"listed ({', '.join(self.urgencies.offered())})"
            )
        strays = [code for code in self.core_agencies if code not in self.required_agencies]
        if strays:
            raise ValueError(
                f"core_agencies {', '.join(strays)} must also be listed in required_agencies, "
                "so they are always invited"
            )
        icpc, s47 = self.icpc_within_working_days, self.s47_assessment_max_working_days
        if icpc is not None and s47 is not None and icpc > s47:
            raise ValueError(
                f"icpc_within_working_days ({icpc}) cannot be later than "
                f"s47_assessment_max_working_days ({s47})"
            )
        return self


# ------------------------------------------------------------------------------ chasing


class WorkingDuration(_Model):
    """A span of working time, written in exactly one unit so nobody has to convert."""

    working_minutes: PositiveInt | None = None
    working_hours: PositiveInt | None = None
    working_days: PositiveInt | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> WorkingDuration:
        given = [x for x in (self.working_minutes, self.working_hours, self.working_days) if x is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of working_minutes, working_hours or working_days")
        return self

    def in_working_minutes(self, working_day_minutes: int) -> int:
        """The span in working minutes, given how long a working day is."""
        if self.working_minutes is not None:
            return self.working_minutes
        if self.working_hours is not None:
            return self.working_hours * 60
        return (self.working_days or 0) * working_day_minutes

    def describe(self) -> str:
        """Human wording, e.g. '2 working hours'."""
        for amount, unit in (
            (self.working_minutes, "minute"),
            (self.working_hours, "hour"),
            (self.working_days, "day"),
        ):
            if amount is not None:
                return f"{amount} working {unit}{'' if amount == 1 else 's'}"
        return "no time"


class WorkingHours(_Model):
    """The working day in Europe/London local time."""

    start: ClockTime
    end: ClockTime
    closures: tuple[date, ...] = ()

    @model_validator(mode="after")
    def _ordered(self) -> WorkingHours:
        if self.end <= self.start:
            raise ValueError(f"end ({self.end:%H:%M}) must be after start ({self.start:%H:%M})")
        return self

    @property
    def minutes(self) -> int:
        """Length of the working day in minutes."""
        return (self.end.hour * 60 + self.end.minute) - (self.start.hour * 60 + self.start.minute)


class InvitationChase(_Model):
    """When an unanswered invitation is chased, for one urgency."""

    remind_after: WorkingDuration
    escalate_every: WorkingDuration
    tell_convenor_after: WorkingDuration


class InvitationChasing(_Model):
    """Invitation chasing for each urgency level (all three must be given)."""

    immediate: InvitationChase
    urgent: InvitationChase
    standard: InvitationChase

    def for_urgency(self, urgency: str) -> InvitationChase:
        """The policy for `urgency`."""
        if urgency not in URGENCIES:
            raise KeyError(f"unknown urgency {urgency!r}")
        chase: InvitationChase = getattr(self, urgency)
        return chase


class ActionChasing(_Model):
    """Reminders and escalation for actions agreed in meetings."""

    remind_working_days_before_due: NonNegativeInt
    remind_on_due_day: bool
    overdue_reminder_every_working_days: PositiveInt
    escalate_to_agency_lead_after_working_days_overdue: PositiveInt
    escalate_to_chair_after_working_days_overdue: PositiveInt
    immediate_priority_chase_every_working_hours: PositiveInt

    @model_validator(mode="after")
    def _lead_before_chair(self) -> ActionChasing:
        lead = self.escalate_to_agency_lead_after_working_days_overdue
        chair = self.escalate_to_chair_after_working_days_overdue
        if chair <= lead:
            raise ValueError(
                f"escalate_to_chair_after_working_days_overdue ({chair}) must be more than "
                f"escalate_to_agency_lead_after_working_days_overdue ({lead})"
            )
        return self


class Snooze(_Model):
    """How far people may put off a reminder."""

    max_working_days: PositiveInt
    max_times: PositiveInt


class MinutesTimescales(_Model):
    """Working days after the meeting by which each part of the record goes out."""

    decisions_and_actions_within_working_days: NonNegativeInt
    draft_to_chair_within_working_days: NonNegativeInt
    chair_approval_within_working_days: NonNegativeInt
    full_minutes_circulated_within_working_days: NonNegativeInt

    @model_validator(mode="after")
    def _ordered(self) -> MinutesTimescales:
        steps = [
            (
                "decisions_and_actions_within_working_days",
                self.decisions_and_actions_within_working_days,
            ),
            ("draft_to_chair_within_working_days", self.draft_to_chair_within_working_days),
            ("chair_approval_within_working_days", self.chair_approval_within_working_days),
            (
                "full_minutes_circulated_within_working_days",
                self.full_minutes_circulated_within_working_days,
            ),
        ]
        for (earlier, a), (later, b) in itertools.pairwise(steps):
            if b < a:
                raise ValueError(f"{later} ({b}) cannot be sooner than {earlier} ({a})")
        return self


class ChasingPolicy(_Model):
    """Everything about reminders, escalation and the working day."""

    working_hours: WorkingHours
    sweep_interval_minutes: Annotated[int, Field(gt=0, le=60)]
    snooze: Snooze
    invitations: InvitationChasing
    actions: ActionChasing
    minutes: MinutesTimescales


# ------------------------------------------------------------------------------- panels


class AgendaTimings(_Model):
    """Minutes the agenda gives each part of a sitting, so each item gets a time."""

    opening: Annotated[int, Field(ge=0, le=60)] = 5
    actions_from_last_time: Annotated[int, Field(ge=0, le=60)] = 10
    new_referral: Annotated[int, Field(gt=0, le=60)] = 10
    under_review: Annotated[int, Field(gt=0, le=60)] = 5
    context: Annotated[int, Field(gt=0, le=60)] = 10
    suspected_perpetrators: Annotated[int, Field(ge=0, le=60)] = 10
    themes: Annotated[int, Field(ge=0, le=60)] = 10


class Panel(_Model):
    """A recurring panel (e.g. the Criminal Exploitation Panel) and its calendar."""

    code: Slug
    name: Text
    meeting_type: Slug
    weekday: Annotated[Weekday, BeforeValidator(_lower)]
    every_weeks: Annotated[int, Field(gt=0, le=12)]
    first_date: date
    start_time: ClockTime
    duration_minutes: Annotated[int, Field(gt=0, le=8 * 60)]
    referral_cutoff_working_days: NonNegativeInt
    updates_cutoff_working_days: NonNegativeInt
    standing_agencies: tuple[Slug, ...] = Field(min_length=1)
    on_bank_holiday: HolidayRule
    administrators: tuple[Slug, ...] = Field(min_length=1)
    chairs: tuple[Slug, ...] = ()
    agenda_minutes: AgendaTimings = AgendaTimings()
    venue: str = ""
    """Where it meets, as the agenda prints it (a room and address); optional."""
    joining_link: str = ""
    """How to join remotely (a video-call address or dial-in), as the agenda prints it; optional."""

    @model_validator(mode="after")
    def _first_date_on_weekday(self) -> Panel:
        actual = self.first_date.strftime("%A").lower()
        if actual != self.weekday:
            raise ValueError(
                f"first_date {self.first_date.isoformat()} is a {actual.title()}, "
                f"but weekday is {self.weekday}"
            )
        return self

    def scheduled_dates(self, start: date, end: date) -> list[date]:
        """Calendar dates from start to end inclusive, before any bank-holiday rule."""
        step = timedelta(weeks=self.every_weeks)
        if end < self.first_date:
            return []
        current = self.first_date
        if start > current:
            skips = (start - current).days // step.days
            current += step * skips
            if current < start:
                current += step
        out: list[date] = []
        while current <= end:
            out.append(current)
            current += step
        return out


# ---------------------------------------------------------------------------- retention


class RetentionPolicy(_Model):
    """How long records are kept; set with the partnership's records manager."""

    case_records_years_after_closure: Annotated[int, Field(gt=0, le=100)]
    drafts_deleted_days_after_approval: Annotated[int, Field(ge=0, le=3650)]
    audit_log_years: Annotated[int, Field(gt=0, le=100)]


# -------------------------------------------------------------------------------- cases

ConcernKind = Literal["exploitation", "intra_familial", "other"]
CONCERN_KINDS: tuple[ConcernKind, ...] = ("exploitation", "intra_familial", "other")
MAX_CHECKBOXES = 10
"""Slack tick boxes offer at most 10 options; the form shows one group of them per kind."""


class Concern(_Model):
    """A concern a strategy discussion is convened about, and whom it brings in."""

    code: Slug
    name: Annotated[Line, StringConstraints(max_length=75)]
    kind: ConcernKind
    """exploitation brings in the meeting type's required_when_exploitation agencies;
    intra_familial brings in nobody more; other asks the convenor which agencies to add."""
    also_invite: tuple[Slug, ...] = ()
    """Agencies this concern brings in on top of those (e.g. Locate for going missing)."""


class ClosureOutcome(_Model):
    """How a case can end, and (if anyone) who takes its open actions on."""

    code: Slug
    name: Annotated[Line, StringConstraints(max_length=75)]
    hand_on_to: Line | None = None
    """Who open actions are handed on to when the case closes this way, in the
    partnership's words (e.g. "the core group of the child protection plan"). Leave it out
    when nobody does: then every action must be done before the case can close."""


class CasePolicy(_Model):
    """`cases.yaml`: the concerns a discussion can be about and how a case closes."""

    concerns: tuple[Concern, ...] = Field(min_length=1)
    closure_outcomes: tuple[ClosureOutcome, ...] = Field(min_length=1)

    _concerns: dict[str, Concern] = PrivateAttr(default_factory=dict)
    _outcomes: dict[str, ClosureOutcome] = PrivateAttr(default_factory=dict)

    @field_validator("concerns")
    @classmethod
    def _each_kind_fits(cls, value: tuple[Concern, ...]) -> tuple[Concern, ...]:
        for kind in CONCERN_KINDS:
            count = sum(1 for c in value if c.kind == kind)
            if count > MAX_CHECKBOXES:
                raise ValueError(
                    f"lists {count} concerns of kind {kind}; the Slack form has room for at most "
                    f"{MAX_CHECKBOXES} of each kind"
                )
        if not any(c.kind == "exploitation" for c in value):
            raise ValueError("list at least one concern of kind exploitation")
        return value

    @field_validator("closure_outcomes")
    @classmethod
    def _outcomes_fit(cls, value: tuple[ClosureOutcome, ...]) -> tuple[ClosureOutcome, ...]:
        return _at_most(value, MAX_FORM_CHOICES, "closure outcomes")

    def model_post_init(self, context: Any, /) -> None:
        """Look-up tables once; codes are checked to be unique when loading."""
        self._concerns = {c.code: c for c in reversed(self.concerns)}
        self._outcomes = {o.code: o for o in reversed(self.closure_outcomes)}

    def concern(self, code: str) -> Concern | None:
        """The concern with this code, or None (an old record's code no longer listed)."""
        return self._concerns.get(code)

    def concerns_of_kind(self, kind: str) -> list[Concern]:
        """The concerns of one kind, in the order the file lists them."""
        return [c for c in self.concerns if c.kind == kind]

    def concern_name(self, code: str) -> str:
        """How a concern is shown; a code no longer listed is shown as it was stored."""
        found = self._concerns.get(code)
        return found.name if found else code.replace("_", " ")

    def closure_outcome(self, code: str) -> ClosureOutcome:
        """The closure outcome with this code; KeyError if there is none."""
        try:
            return self._outcomes[code]
        except KeyError:
            raise KeyError(f"no closure outcome with code {code!r}") from None


# ------------------------------------------------------------------------ agency updates

SLACK_LABEL_MAX_LENGTH = 75
"""Slack cuts off form labels and option texts longer than this."""
MAX_RISK_INDICATORS = 40
"""Each indicator takes a block of the agency update form, which holds at most 100."""
MAX_FORM_CHOICES = 10
"""Slack radio buttons and tick boxes offer at most 10 options."""


def _check_label(value: str) -> str:
    """Names become Slack form labels and options, which Slack cuts short."""
    if len(value) > SLACK_LABEL_MAX_LENGTH:
        raise ValueError(
            f"is {len(value)} characters long; Slack shows at most {SLACK_LABEL_MAX_LENGTH}, so shorten it"
        )
    return value


Label = Annotated[Line, AfterValidator(_check_label)]


def _at_most(values: tuple[Any, ...], limit: int, what: str) -> tuple[Any, ...]:
    """Refuse a list longer than a Slack form can show, saying why."""
    if len(values) > limit:
        raise ValueError(f"lists {len(values)} {what}; the Slack form has room for at most {limit}")
    return values


class RiskIndicator(_Model):
    """A risk an agency rates in its update (not present / historic / current)."""

    code: Slug
    name: Label


class LawfulBasis(_Model):
    """A lawful basis on which an agency shares information, chosen with each update."""

    code: Slug
    name: Label
    description: Text


class SharingRestriction(_Model):
    """A limit an agency can put on onward sharing of what it contributes."""

    code: Slug
    name: Label
    not_for_family: bool
    """True when the restriction means the child and family must not see the information."""
    handling: Label | None = None
    """The handling instruction documents print, after "<agency> information: ", e.g.
    "not to be shared with the family". Left out: the name, as a sentence."""
    full_text_to: tuple[Slug, ...] = ("took_part",)
    """Who receives the full text in their copy of the minutes: agency kinds or codes, or
    took_part (every agency that attended or sent a written update). The agency that shared
    it always does; everyone else's copy says it is withheld."""

    def instruction(self) -> str:
        """The handling instruction as a phrase: "not to be shared with the family"."""
        text = (self.handling or self.name).strip()
        return text[:1].lower() + text[1:]


def _by_length(duration: WorkingDuration, working_day_minutes: int | None) -> tuple[int, int]:
    """Sort key: working minutes when the day's length is known, else days before hours."""
    if working_day_minutes is not None:
        return (duration.in_working_minutes(working_day_minutes), 0)
    return (duration.working_days or 0, duration.in_working_minutes(0))


def _hours(minutes: int) -> str:
    """'8 hours', '7 hours 30 minutes'."""
    hours, rest = divmod(minutes, 60)
    text = f"{hours} hour{'' if hours == 1 else 's'}"
    return f"{text} {rest} minutes" if rest else text


class AgencyUpdateReminders(_Model):
    """When an agency that owes a written update is reminded."""

    before_deadline: tuple[WorkingDuration, ...] = ()
    """How long before the deadline to remind, longest first."""
    when_late: bool
    """Remind once more when the deadline passes without an update."""

    @field_validator("before_deadline")
    @classmethod
    def _distinct_longest_first(
        cls, value: tuple[WorkingDuration, ...], info: ValidationInfo
    ) -> tuple[WorkingDuration, ...]:
        # The loader passes the working day from chasing.yaml, so that 8 working hours
        # and 1 working day are known to be the same reminder and ordered correctly.
        context = info.context if isinstance(info.context, dict) else {}
        day = context.get("working_day_minutes")
        day = day if isinstance(day, int) and day > 0 else None
        seen: dict[tuple[int, int], WorkingDuration] = {}
        for duration in value:
            key = _by_length(duration, day)
            if key in seen:
                earlier = seen[key]
                if earlier == duration:
                    raise ValueError(f"{duration.describe()} is listed twice")
                raise ValueError(
                    f"{earlier.describe()} and {duration.describe()} are the same time, as a "
                    f"working day is {_hours(day or 0)} (chasing.yaml); list it once"
                )
            seen[key] = duration
        return tuple(sorted(value, key=lambda d: _by_length(d, day), reverse=True))


class AgencyUpdatePolicy(_Model):
    """What an agency update asks for: risk indicators, lawful bases, sharing
    restrictions, and when agencies are reminded that an update is due."""

    risk_indicators: tuple[RiskIndicator, ...] = Field(min_length=1)
    lawful_bases: tuple[LawfulBasis, ...] = Field(min_length=1)
    sharing_restrictions: tuple[SharingRestriction, ...] = ()
    reminders: AgencyUpdateReminders

    _indicators: dict[str, RiskIndicator] = PrivateAttr(default_factory=dict)
    _bases: dict[str, LawfulBasis] = PrivateAttr(default_factory=dict)
    _restrictions: dict[str, SharingRestriction] = PrivateAttr(default_factory=dict)

    @field_validator("risk_indicators")
    @classmethod
    def _indicators_fit(cls, value: tuple[RiskIndicator, ...]) -> tuple[RiskIndicator, ...]:
        return _at_most(value, MAX_RISK_INDICATORS, "risk indicators")

    @field_validator("lawful_bases")
    @classmethod
    def _bases_fit(cls, value: tuple[LawfulBasis, ...]) -> tuple[LawfulBasis, ...]:
        return _at_most(value, MAX_FORM_CHOICES, "lawful bases")

    @field_validator("sharing_restrictions")
    @classmethod
    def _restrictions_fit(cls, value: tuple[SharingRestriction, ...]) -> tuple[SharingRestriction, ...]:
        return _at_most(value, MAX_FORM_CHOICES, "sharing restrictions")

    def model_post_init(self, context: Any, /) -> None:
        """Build look-up tables once; codes are checked to be unique when loading."""
        self._indicators = {i.code: i for i in reversed(self.risk_indicators)}
        self._bases = {b.code: b for b in reversed(self.lawful_bases)}
        self._restrictions = {r.code: r for r in reversed(self.sharing_restrictions)}

    def indicator(self, code: str) -> RiskIndicator:
        """The risk indicator with this code; KeyError if there is none."""
        try:
            return self._indicators[code]
        except KeyError:
            raise KeyError(f"no risk indicator with code {code!r}") from None

    def lawful_basis(self, code: str) -> LawfulBasis:
        """The lawful basis with this code; KeyError if there is none."""
        try:
            return self._bases[code]
        except KeyError:
            raise KeyError(f"no lawful basis with code {code!r}") from None

    def restriction(self, code: str) -> SharingRestriction:
        """The sharing restriction with this code; KeyError if there is none."""
        try:
            return self._restrictions[code]
        except KeyError:
            raise KeyError(f"no sharing restriction with code {code!r}") from None

    def restrictions_not_for_family(self) -> frozenset[str]:
        """Codes of the restrictions that keep information from the child and family."""
        return frozenset(r.code for r in self.sharing_restrictions if r.not_for_family)


# ------------------------------------------------------------------ partnership settings


class CaseReferenceFormat(_Model):
    """What a case reference looks like, so a mistyped one is caught when it is entered.

    The pattern is matched against the whole reference after `normalise`, which strips
    spaces and upper-cases it, so patterns should be written for capital letters.
    """

    pattern: RegexPattern
    example: Line
    description: Line

    _compiled: re.Pattern[str] = PrivateAttr()

    @field_validator("example")
    @classmethod
    def _example_matches(cls, value: str, info: ValidationInfo) -> str:
        if len(value) > CASE_REFERENCE_MAX_LENGTH:
            raise ValueError(
                f"{value!r} is longer than {CASE_REFERENCE_MAX_LENGTH} characters, the most "
                "a case reference can be"
            )
        pattern = info.data.get("pattern")
        if pattern is None:  # the pattern is wrong and is reported on its own
            return value
        compiled = _compile_regex(pattern)
        if compiled.fullmatch(value) is None:
            raise ValueError(f"{value!r} does not match the pattern '{pattern}'")
        upper = cls.normalise(value)
        if compiled.fullmatch(upper) is None:
            raise ValueError(
                f"the pattern '{pattern}' does not match {upper!r}; the bot upper-cases what "
                "people type, so write the pattern for capital letters"
            )
        return value

    def model_post_init(self, context: Any, /) -> None:
        """Compile the pattern once; validation has already shown that it compiles."""
        self._compiled = _compile_regex(self.pattern)

    @staticmethod
    def normalise(text: str) -> str:
        """The reference as stored: surrounding spaces removed and letters upper-cased."""
        return text.strip().upper()

    def matches(self, text: str) -> bool:
        """Whether `text` (surrounding spaces ignored) is a whole reference of this format.

        Case-sensitive as the pattern is written, so normalise what people type first.
        """
        candidate = text.strip()
        if not candidate or len(candidate) > CASE_REFERENCE_MAX_LENGTH:
            return False
        return self._compiled.fullmatch(candidate) is not None


class PartnershipSettings(_Model):
    """Who the partnership is and how its references, channels and records are labelled."""

    name: Line
    case_reference: CaseReferenceFormat
    discussion_reference_prefix: ReferencePrefix
    panel_reference_prefix: ReferencePrefix
    protective_marking: Line = "OFFICIAL-SENSITIVE"
    confidentiality_statement: Text
    channel_prefix: ChannelPrefix
    minimum_notice_minutes: Annotated[int, Field(ge=0, le=24 * 60)]
    # Who gets e-mailed links to the partner pages: contacts without Slack only, or
    # everyone with an e-mail address as well as their Slack message.
    partner_email: Literal["without_slack", "everyone"] = "without_slack"
    # How long an e-mailed link stays usable, and a session once it is used.
    partner_link_days: Annotated[int, Field(ge=1, le=28)] = 7
    partner_session_minutes: Annotated[int, Field(ge=5, le=240)] = 30

    @field_validator("panel_reference_prefix")
    @classmethod
    def _prefixes_differ(cls, value: str, info: ValidationInfo) -> str:
        if value == info.data.get("discussion_reference_prefix"):
            raise ValueError(
                f"{value!r} is also the discussion_reference_prefix; use a different prefix "
                "so panel and discussion references cannot be confused"
            )
        return value

    def matches_case_reference(self, text: str) -> bool:
        """Whether `text`, with surrounding spaces ignored, is a whole valid case reference.

        Matching is case-sensitive as the pattern is written; call
        `normalise_case_reference` on what people type first.
        """
        return self.case_reference.matches(text)

    @staticmethod
    def normalise_case_reference(text: str) -> str:
        """Strip surrounding spaces and upper-case; patterns are written for capital letters."""
        return CaseReferenceFormat.normalise(text)


# --------------------------------------------------------------------------- partnership


class Partnership(_Model):
    """All of `schedules/`, checked and cross-referenced, with the lookups services need."""

    settings: PartnershipSettings
    agencies: tuple[Agency, ...]
    roles: tuple[RoleDefinition, ...]
    meeting_types: tuple[MeetingType, ...]
    panels: tuple[Panel, ...]
    chasing: ChasingPolicy
    retention: RetentionPolicy
    agency_updates: AgencyUpdatePolicy
    cases: CasePolicy
    panel_practice: PanelPractice

    _agencies: dict[str, Agency] = PrivateAttr(default_factory=dict)
    _people: dict[str, Person] = PrivateAttr(default_factory=dict)
    _agency_of: dict[str, Agency] = PrivateAttr(default_factory=dict)
    _by_slack: dict[str, Person] = PrivateAttr(default_factory=dict)
    _meeting_types: dict[str, MeetingType] = PrivateAttr(default_factory=dict)
    _panels: dict[str, Panel] = PrivateAttr(default_factory=dict)

    def model_post_init(self, context: Any, /) -> None:
        """Build look-up tables once; the data is frozen so they never go stale."""
        self._agencies = {a.code: a for a in self.agencies}
        for agency in self.agencies:
            for person in agency.people():
                self._people.setdefault(person.id, person)
                self._agency_of.setdefault(person.id, agency)
                if person.slack_user_id:
                    self._by_slack.setdefault(person.slack_user_id, person)
        self._meeting_types = {m.code: m for m in self.meeting_types}
        self._panels = {p.code: p for p in self.panels}

    def agency(self, code: str) -> Agency:
        """The agency with this code; KeyError if there is none."""
        try:
            return self._agencies[code]
        except KeyError:
            raise KeyError(f"no agency with code {code!r}") from None

    @property
    def working_hours(self) -> WorkingHours:
        """The working day and closure days (from chasing.yaml), for the working calendar."""
        return self.chasing.working_hours

    def people(self) -> list[Person]:
        """Everyone in every agency, once each."""
        return list(self._people.values())

    def people_of(self, agency_code: str) -> list[Person]:
        """Everyone in one agency: contacts, then an inline duty contact and lead."""
        return self.agency(agency_code).people()

    def person(self, person_id: str) -> Person:
        """The person with this id; KeyError if there is none."""
        try:
            return self._people[person_id]
        except KeyError:
            raise KeyError(f"no person with id {person_id!r}") from None

    def person_or_none(self, person_id: str) -> Person | None:
        """The person with this id, or None: a look-up, not a scan of everyone."""
        return self._people.get(person_id)

    def agency_of(self, person: Person | str) -> Agency:
        """The agency a person belongs to."""
        person_id = person if isinstance(person, str) else person.id
        try:
            return self._agency_of[person_id]
        except KeyError:
            raise KeyError(f"no person with id {person_id!r}") from None

    def person_by_slack_id(self, slack_user_id: str) -> Person | None:
        """The configured person behind a Slack user id, or None for anyone else."""
        return self._by_slack.get(slack_user_id)

    def roles_of(self, person: Person | str) -> frozenset[str]:
        """A person's roles, counting agency_lead for whoever is named as an agency's lead."""
        found = self.person(person) if isinstance(person, str) else person
        roles = set(found.roles)
        if any(a.lead_person().id == found.id for a in self.agencies):
            roles.add("agency_lead")
        return frozenset(roles)

    def people_with_role(self, role: str) -> list[Person]:
        """Everyone holding `role`; ValueError for a role the bot does not know."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; known roles: {', '.join(ROLES)}")
        return [p for p in self._people.values() if role in self.roles_of(p)]

    def people_without_slack(self) -> list[Person]:
        """People the bot can only e-mail; worth flagging to the panel administrator."""
        return [p for p in self._people.values() if not p.slack_user_id]

    def role(self, code: str) -> RoleDefinition:
        """The description of a role."""
        for definition in self.roles:
            if definition.code == code:
                return definition
        raise KeyError(f"no role with code {code!r}")

    def meeting_type(self, code: str) -> MeetingType:
        """The meeting type with this code; KeyError if there is none."""
        try:
            return self._meeting_types[code]
        except KeyError:
            raise KeyError(f"no meeting type with code {code!r}") from None

    def required_agencies(self, meeting_type: MeetingType | str, exploitation: bool) -> list[Agency]:
        """Agencies that must take part; exploitation concerns add their own list."""
        mt = self.meeting_type(meeting_type) if isinstance(meeting_type, str) else meeting_type
        codes = list(mt.required_agencies)
        if exploitation:
            codes += [c for c in mt.required_when_exploitation if c not in codes]
        return [self.agency(c) for c in codes]

    def optional_agencies(self, meeting_type: MeetingType | str, exploitation: bool) -> list[Agency]:
        """Agencies to invite when relevant, excluding any already required."""
        mt = self.meeting_type(meeting_type) if isinstance(meeting_type, str) else meeting_type
        required = {a.code for a in self.required_agencies(mt, exploitation)}
        extra = list(mt.optional_agencies)
        if not exploitation:
            extra += list(mt.required_when_exploitation)
        out: list[Agency] = []
        for code in extra:
            if code not in required and all(a.code != code for a in out):
                out.append(self.agency(code))
        return out

    def panel(self, code: str) -> Panel:
        """The panel with this code; KeyError if there is none."""
        try:
            return self._panels[code]
        except KeyError:
            raise KeyError(f"no panel with code {code!r}") from None
