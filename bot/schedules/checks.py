"""Checks that span entries and files: unique codes, references, roles and timings.

Reference checks compare against every code written in the files, even in entries that
failed validation, so one broken agency produces one problem rather than a cascade of
"unknown agency" complaints elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bot.schedules.models import (
    ESCALATION_KEYWORDS,
    ROLE_FLOOR,
    ROLES,
    URGENCIES,
    Agency,
    AgencyUpdatePolicy,
    CasePolicy,
    ChasingPolicy,
    ContactRef,
    MeetingType,
    Panel,
    PartnershipSettings,
    Person,
    RetentionPolicy,
    RoleDefinition,
)
from bot.schedules.practice import PanelPractice
from bot.schedules.problems import (
    AGENCIES,
    AGENCY_UPDATES,
    CASES,
    CHASING,
    MEETING_TYPES,
    PANEL_PRACTICE,
    PANELS,
    ROLES_FILE,
    Collector,
    Loc,
)


@dataclass
class Loaded:
    """What could be read from each file, with list entries kept beside their positions."""

    settings: PartnershipSettings | None
    agencies: list[tuple[int, Agency]] | None
    roles: list[tuple[int, RoleDefinition]] | None
    meeting_types: list[tuple[int, MeetingType]] | None
    panels: list[tuple[int, Panel]] | None
    chasing: ChasingPolicy | None
    retention: RetentionPolicy | None
    agency_updates: AgencyUpdatePolicy | None = None
    cases: CasePolicy | None = None
    panel_practice: PanelPractice | None = None


def _raw_entries(col: Collector, filename: str, key: str) -> list[Any] | None:
    """The raw list in a list-file, or None when the file could not be read."""
    data = col.raw.get(filename)
    entries = data.get(key) if isinstance(data, dict) else None
    return entries if isinstance(entries, list) else None


def _raw_codes(entries: list[Any] | None, key: str = "code") -> set[str] | None:
    """Codes written in raw entries (valid or not); None means 'unknown, do not check'."""
    if entries is None:
        return None
    return {e[key] for e in entries if isinstance(e, dict) and isinstance(e.get(key), str)}


def _raw_people(entries: list[Any] | None) -> Iterator[tuple[dict[str, Any], bool]]:
    """Every person mapping written in agencies.yaml, with whether they are the lead."""
    for agency in entries or []:
        if not isinstance(agency, dict):
            continue
        contacts = agency.get("contacts")
        lead = agency.get("lead")
        for contact in contacts if isinstance(contacts, list) else []:
            if isinstance(contact, dict):
                is_lead = (isinstance(lead, str) and contact.get("id") == lead) or (
                    isinstance(lead, dict) and lead.get("contact") == contact.get("id")
                )
                yield contact, bool(is_lead)
        if isinstance(agency.get("duty"), dict) and "contact" not in agency["duty"]:
            yield agency["duty"], False
        if isinstance(lead, dict) and "contact" not in lead:
            yield lead, True


def _listing(codes: set[str] | None) -> str:
    """A short sorted list of the codes that do exist, for 'unknown X' messages."""
    return ", ".join(sorted(codes or ())) or "none"


def _duplicates(col: Collector, filename: str, key: str, entries: list[Any] | None) -> None:
    """Each code may be used once; entries are named by position because codes clash."""
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries or []):
        code = entry.get("code") if isinstance(entry, dict) else None
        if not isinstance(code, str):
            continue
        if code in seen:
            col.add(
                filename,
                (key, index),
                f"duplicate code '{code}' (already used by {key}[{seen[code]}])",
                by_index=True,
            )
        else:
            seen[code] = index


def _people_with_locs(index: int, agency: Agency) -> Iterator[tuple[Loc, Person]]:
    """Each person written in one agency, with where they are written."""
    for j, person in enumerate(agency.contacts):
        yield ("agencies", index, "contacts", j), person
    if isinstance(agency.duty, Person):
        yield ("agencies", index, "duty"), agency.duty
    if isinstance(agency.lead, Person):
        yield ("agencies", index, "lead"), agency.lead


# -------------------------------------------------------------------------- agencies


def _check_agencies(col: Collector, loaded: Loaded) -> None:
    """Unique ids and Slack users, references inside each agency, and role names."""
    entries = _raw_entries(col, AGENCIES, "agencies")
    _duplicates(col, AGENCIES, "agencies", entries)
    definitions = {r.code: r for _, r in loaded.roles or []}
    ids: dict[str, str] = {}
    slack: dict[str, str] = {}
    for index, agency in loaded.agencies or []:
        contact_ids = [p.id for p in agency.contacts]
        for loc, person in _people_with_locs(index, agency):
            where = f"{agency.code}/{person.id}"
            if person.id in ESCALATION_KEYWORDS:
                col.add(
                    AGENCIES,
                    (*loc, "id"),
                    f"'{person.id}' is a reserved word in escalation routes; choose another id",
                )
            if person.id in ids:
                col.add(
                    AGENCIES,
                    (*loc, "id"),
                    f"duplicate person id '{person.id}' "
                    f"(already used in agency {ids[person.id].split('/')[0]})",
                )
            else:
                ids[person.id] = where
            uid = person.slack_user_id
            if uid and uid in slack:
                col.add(
                    AGENCIES,
                    (*loc, "slack_user_id"),
                    f"Slack user {uid} is already given to {slack[uid]}; refer to that contact by id instead",
                )
            elif uid:
                slack[uid] = where
            for k, role in enumerate(person.roles):
                if role not in ROLES:
                    col.add(
                        AGENCIES,
                        (*loc, "roles", k),
                        f"unknown role '{role}' (roles are: {', '.join(ROLES)})",
                    )
                    continue
                allowed = definitions[role].agency_kinds if role in definitions else ()
                if allowed and agency.kind not in allowed:
                    col.add(
                        AGENCIES,
                        (*loc, "roles", k),
                        f"role '{role}' may only be held "
                        f"in agencies of kind {' or '.join(allowed)} (see roles.yaml), "
                        f"but {agency.code} is {agency.kind}",
                    )
        for name in ("duty", "lead"):
            value = getattr(agency, name)
            if isinstance(value, ContactRef) and value.contact not in contact_ids:
                col.add(
                    AGENCIES,
                    ("agencies", index, name),
                    f"'{value.contact}' is not one of this agency's contacts ({', '.join(contact_ids)})",
                )
        _check_escalation(col, index, agency, contact_ids)


def _check_escalation(col: Collector, index: int, agency: Agency, contact_ids: list[str]) -> None:
    """Every step of the route must name someone who exists."""
    seen: set[str] = set()
    for k, step in enumerate(agency.escalation):
        loc: Loc = ("agencies", index, "escalation", k)
        if step in seen:
            col.add(AGENCIES, loc, f"'{step}' appears twice in the route")
        seen.add(step)
        if step == "duty" and agency.duty is None:
            col.add(AGENCIES, loc, "the route says 'duty' but this agency has no duty contact")
        elif step not in ESCALATION_KEYWORDS and step not in contact_ids:
            col.add(
                AGENCIES,
                loc,
                f"'{step}' is not a contact of {agency.code}; use "
                f"contacts, duty, lead or a contact id ({', '.join(contact_ids)})",
            )
    if not agency.escalation:
        col.add(
            AGENCIES,
            ("agencies", index, "escalation"),
            "the route is empty; list at least one of contacts, duty, lead",
        )


def _check_role_holders(col: Collector, loaded: Loaded) -> None:
    """Enough people must hold each role; counted from the raw file so typos elsewhere
    do not look like an empty role."""
    entries = _raw_entries(col, AGENCIES, "agencies")
    if entries is None:
        return
    holders: dict[str, set[str]] = {role: set() for role in ROLES}
    for number, (person, is_lead) in enumerate(_raw_people(entries)):
        given = person.get("id")
        who = given if isinstance(given, str) else f"#{number}"
        roles = person.get("roles")
        for role in roles if isinstance(roles, list) else []:
            if isinstance(role, str) and role in holders:
                holders[role].add(who)
        if is_lead:
            holders["agency_lead"].add(who)
    minimum = dict(ROLE_FLOOR)
    for _, definition in loaded.roles or []:
        if definition.code in holders:
            minimum[definition.code] = max(minimum.get(definition.code, 0), definition.minimum_people)
    for role in ROLES:
        need, have = minimum.get(role, 0), len(holders[role])
        if have >= need:
            continue
        found = "nobody has" if have == 0 else f"only {_people(have)} {_has(have)}"
        col.add(
            AGENCIES,
            ("agencies",),
            f"{found} the role '{role}'; at least "
            f"{_people(need)} {'needs' if need == 1 else 'need'} it (see roles.yaml)",
        )


def _people(count: int) -> str:
    """'1 person', '2 people'."""
    return f"{count} {'person' if count == 1 else 'people'}"


def _has(count: int) -> str:
    """Verb agreement for _people."""
    return "has" if count == 1 else "have"


def _check_invitable(col: Collector, loaded: Loaded) -> None:
    """An agency that meetings or panels invite needs someone to receive the invitation."""
    used: dict[str, str] = {}
    for _, mt in loaded.meeting_types or []:
        for code in (*mt.required_agencies, *mt.required_when_exploitation):
            used.setdefault(code, f"{mt.code} meetings")
    for _, panel in loaded.panels or []:
        for code in panel.standing_agencies:
            used.setdefault(code, f"the {panel.code} panel")
    for index, agency in loaded.agencies or []:
        if agency.code in used and not agency.invitees():
            col.add(
                AGENCIES,
                ("agencies", index, "contacts"),
                f"no contact has the role 'agency_rep', so nobody would be invited to {used[agency.code]}",
            )


# ----------------------------------------------------------------------------- roles


def _check_roles(col: Collector, loaded: Loaded) -> None:
    """roles.yaml describes exactly the roles the bot knows."""
    entries = _raw_entries(col, ROLES_FILE, "roles")
    _duplicates(col, ROLES_FILE, "roles", entries)
    for index, definition in loaded.roles or []:
        if definition.code not in ROLES:
            col.add(
                ROLES_FILE,
                ("roles", index, "code"),
                f"'{definition.code}' is not a role the bot knows; roles are: {', '.join(ROLES)}",
            )
    written = _raw_codes(entries)
    if written is not None:
        for role in ROLES:
            if role not in written:
                col.add(
                    ROLES_FILE,
                    ("roles",),
                    f"role '{role}' is not described; every role the bot knows must have an entry",
                )


# --------------------------------------------------------------------- meeting types


def _check_meeting_types(col: Collector, loaded: Loaded) -> None:
    """Meeting types name real agencies, each once, and real earlier meeting types."""
    entries = _raw_entries(col, MEETING_TYPES, "meeting_types")
    _duplicates(col, MEETING_TYPES, "meeting_types", entries)
    agency_codes = _raw_codes(_raw_entries(col, AGENCIES, "agencies"))
    type_codes = _raw_codes(entries) or set()
    for index, mt in loaded.meeting_types or []:
        first_list: dict[str, str] = {}
        for list_name in ("required_agencies", "required_when_exploitation", "optional_agencies"):
            for k, code in enumerate(getattr(mt, list_name)):
                loc: Loc = ("meeting_types", index, list_name, k)
                if agency_codes is not None and code not in agency_codes:
                    col.add(
                        MEETING_TYPES,
                        loc,
                        f"unknown agency '{code}' (agencies.yaml has: {_listing(agency_codes)})",
                    )
                if code in first_list:
                    col.add(MEETING_TYPES, loc, f"'{code}' is already listed in {first_list[code]}")
                else:
                    first_list[code] = list_name
        if mt.follow_up_of is not None:
            loc = ("meeting_types", index, "follow_up_of")
            if mt.follow_up_of == mt.code:
                col.add(MEETING_TYPES, loc, "a meeting type cannot follow up itself")
            elif mt.follow_up_of not in type_codes:
                col.add(
                    MEETING_TYPES,
                    loc,
                    f"unknown meeting type '{mt.follow_up_of}' (known: {_listing(type_codes)})",
                )


# --------------------------------------------------------------------------- chasing


def _check_chasing(col: Collector, loaded: Loaded) -> None:
    """The convenor is told no sooner than the first reminder goes out."""
    chasing = loaded.chasing
    if chasing is None:
        return
    day = chasing.working_hours.minutes
    for urgency in URGENCIES:
        policy = chasing.invitations.for_urgency(urgency)
        remind = policy.remind_after.in_working_minutes(day)
        tell = policy.tell_convenor_after.in_working_minutes(day)
        if tell < remind:
            col.add(
                CHASING,
                ("invitations", urgency, "tell_convenor_after"),
                f"{policy.tell_convenor_after.describe()} is sooner than remind_after "
                f"({policy.remind_after.describe()})",
            )


# ---------------------------------------------------------------------------- panels


def _check_panels(col: Collector, loaded: Loaded) -> None:
    """Panels name real meeting types, agencies and people with the right roles."""
    entries = _raw_entries(col, PANELS, "panels")
    _duplicates(col, PANELS, "panels", entries)
    agency_entries = _raw_entries(col, AGENCIES, "agencies")
    agency_codes = _raw_codes(agency_entries)
    person_ids = (
        None
        if agency_entries is None
        else {p["id"] for p, _ in _raw_people(agency_entries) if isinstance(p.get("id"), str)}
    )
    people = {p.id: p for _, a in loaded.agencies or [] for p in a.people()}
    type_codes = _raw_codes(_raw_entries(col, MEETING_TYPES, "meeting_types"))
    meeting_types = {mt.code: mt for _, mt in loaded.meeting_types or []}
    for index, panel in loaded.panels or []:
        base: Loc = ("panels", index)
        if type_codes is not None and panel.meeting_type not in type_codes:
            col.add(
                PANELS,
                (*base, "meeting_type"),
                f"unknown meeting type "
                f"'{panel.meeting_type}' (meeting_types.yaml has: {_listing(type_codes)})",
            )
        seen: set[str] = set()
        for k, code in enumerate(panel.standing_agencies):
            if agency_codes is not None and code not in agency_codes:
                col.add(
                    PANELS,
                    (*base, "standing_agencies", k),
                    f"unknown agency '{code}' (agencies.yaml has: {_listing(agency_codes)})",
                )
            if code in seen:
                col.add(PANELS, (*base, "standing_agencies", k), f"'{code}' is listed twice")
            seen.add(code)
        mt = meeting_types.get(panel.meeting_type)
        if mt is not None:
            for code in mt.required_agencies:
                if code not in seen:
                    col.add(
                        PANELS,
                        (*base, "standing_agencies"),
                        f"leaves out '{code}', which {mt.code} requires (meeting_types.yaml)",
                    )
        if not panel.chairs:
            col.add(
                PANELS,
                (*base, "chairs"),
                "lists no chairs: nobody could approve this panel's minutes (name at least one "
                "person with the role 'chair')",
            )
        elif all(c in people for c in panel.chairs) and not any(
            "chair" in people[c].roles and people[c].slack_user_id for c in panel.chairs
        ):
            col.add(
                PANELS,
                (*base, "chairs"),
                "has no chair who can approve the minutes: each listed chair needs the role 'chair' "
                "and a slack_user_id in agencies.yaml",
            )
        for list_name, role in (("administrators", "panel_admin"), ("chairs", "chair")):
            for k, person_id in enumerate(getattr(panel, list_name)):
                loc: Loc = (*base, list_name, k)
                if person_ids is not None and person_id not in person_ids:
                    col.add(PANELS, loc, f"'{person_id}' is not a person in agencies.yaml")
                elif person_id in people and role not in people[person_id].roles:
                    col.add(
                        PANELS,
                        loc,
                        f"'{person_id}' does not have the role '{role}' in agencies.yaml",
                    )
        _check_panel_hours(col, loaded, index, panel)


def _check_panel_hours(col: Collector, loaded: Loaded, index: int, panel: Panel) -> None:
    """A panel sits inside the working day set in chasing.yaml."""
    if loaded.chasing is None:
        return
    hours = loaded.chasing.working_hours
    start = panel.start_time.hour * 60 + panel.start_time.minute
    end = start + panel.duration_minutes
    day_start = hours.start.hour * 60 + hours.start.minute
    day_end = hours.end.hour * 60 + hours.end.minute
    if start < day_start or end > day_end:
        col.add(
            PANELS,
            ("panels", index, "start_time"),
            f"{panel.start_time:%H:%M} for "
            f"{panel.duration_minutes} minutes (until {end // 60:02d}:{end % 60:02d}) is "
            f"outside working hours {hours.start:%H:%M}-{hours.end:%H:%M} (chasing.yaml)",
        )


# -------------------------------------------------------------------- agency updates


def _check_agency_updates(col: Collector) -> None:
    """Each indicator, lawful basis and restriction code is used once, as records keep it."""
    for key in ("risk_indicators", "lawful_bases", "sharing_restrictions"):
        _duplicates(col, AGENCY_UPDATES, key, _raw_entries(col, AGENCY_UPDATES, key))


# ------------------------------------------------------------------------------ cases


def _check_cases(col: Collector, loaded: Loaded) -> None:
    """Concern and outcome codes are used once, and concerns bring in real agencies."""
    data = col.raw.get(CASES)
    for key in ("concerns", "closure_outcomes"):
        entries = data.get(key) if isinstance(data, dict) else None
        _duplicates(col, CASES, key, entries if isinstance(entries, list) else None)
    agency_codes = _raw_codes(_raw_entries(col, AGENCIES, "agencies"))
    if loaded.cases is None or agency_codes is None:
        return
    for index, concern in enumerate(loaded.cases.concerns):
        for k, code in enumerate(concern.also_invite):
            if code not in agency_codes:
                col.add(
                    CASES,
                    ("concerns", index, "also_invite", k),
                    f"unknown agency '{code}' (agencies.yaml has: {_listing(agency_codes)})",
                )


def run_checks(col: Collector, loaded: Loaded) -> None:
    """Run every cross-entry and cross-file check, adding problems to `col`."""
    _check_agencies(col, loaded)
    _check_role_holders(col, loaded)
    _check_invitable(col, loaded)
    _check_roles(col, loaded)
    _check_meeting_types(col, loaded)
    _check_chasing(col, loaded)
    _check_panels(col, loaded)
    _check_agency_updates(col)
    _check_cases(col, loaded)
    _check_panel_practice(col, loaded)


def _check_panel_practice(col: Collector, loaded: Loaded) -> None:
    """Agencies named in panel_practice.yaml exist in agencies.yaml."""
    practice = loaded.panel_practice
    agency_codes = _raw_codes(_raw_entries(col, AGENCIES, "agencies"))
    if practice is None or agency_codes is None:
        return
    named: list[tuple[Loc, str]] = [
        (("step_down", i, "taken_by"), s.taken_by) for i, s in enumerate(practice.step_down) if s.taken_by
    ]
    named += [(("step_up", i, "led_by"), s.led_by) for i, s in enumerate(practice.step_up) if s.led_by]
    named += [
        (("nrm", "first_responder_agencies", i), c)
        for i, c in enumerate(practice.nrm.first_responder_agencies)
    ]
    for i, handling in enumerate(practice.handling_codes):
        named += [
            (("handling_codes", i, "released_to", k), c)
            for k, c in enumerate(handling.released_to)
            if c != "all"
        ]
    for loc, code in named:
        if code not in agency_codes:
            col.add(
                PANEL_PRACTICE, loc, f"unknown agency '{code}' (agencies.yaml has: {_listing(agency_codes)})"
            )
