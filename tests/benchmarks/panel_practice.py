"""The panel's practice records for the generator (issue 19): missing episodes with their
return home interviews, NRM referrals with their decisions, the register of suspected
perpetrators with the disruption actions against them, and the links between children,
peers, places, peer groups and each other.

Shapes, per child the panel reviews (the discussions' children get a lighter share):
most have gone missing (0 to 6 episodes, a third found out of area), each return followed
by an interview (about 70% within the 72 hours, 15% declined, 15% late; the last few days'
still owed, some due a chase; one child in 25 missing now); one in three is referred to
the NRM (reasonable grounds within days, positive four times in five, conclusive grounds
months later; about one in twelve decisions overdue, half of those already chased); one
suspected perpetrator for every six children, each linked to two to five of them, with one
to three disruption actions (an action of the sitting, chased like any other: most done
with their result, some open and overdue, the newest not yet due); and the network: a
location and a peer group that are contexts of their own (linked cases), shared peers,
schools, free-text places, links between children who know each other, and each child's
suspected perpetrators. Called by `generate`; writes through its `Loader` (COPY on
PostgreSQL, executemany on SQLite), ids given, nothing read back.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.actions.models import Action, ActionStatus
from bot.cases.links import Link
from bot.cases.models import Case
from bot.panel.models import (
    Disruption,
    InterviewState,
    MissingEpisode,
    NetworkLink,
    NrmReferral,
    PerpetratorLink,
    SuspectedPerpetrator,
)
from bot.panel.perpetrators import PREFIX as PERPETRATOR_PREFIX
from bot.panel.service import CONTEXT_PREFIX
from bot.schedules import Partnership
from bot.working_days import ServiceCalendar

if TYPE_CHECKING:
    from tests.benchmarks.generate import Loader

# Puts an open action on its chasing timeline (`due_now`: its last step passed left to claim).
Timeline = Callable[[dict[str, Any], bool], None]
PRACTICE_MODELS = (
    MissingEpisode,
    NrmReferral,
    SuspectedPerpetrator,
    PerpetratorLink,
    Disruption,
    NetworkLink,
)

EPISODES_PER_PANEL_CHILD = (0, 1, 1, 2, 2, 3, 4, 6)  # cycled: about 2.4 a child
PLACES = ("a flat in Aston", "a train station in Coventry", "a park in Small Heath", "a house in Walsall")
OUT_OF_AREA = ("a trap house in Shrewsbury", "a hotel in Stoke-on-Trent", "a flat in Hereford")
CHILDREN_PER_PERPETRATOR = 6
LOCATIONS, PEER_GROUPS = 8, 5  # context cases per panel
DESCRIPTIONS = ("adult male known as '{}'", "adult female known as '{}'", "older male known as '{}'")
RESULTS = ("achieved", "achieved", "partly", "not_achieved", "withdrawn")


@dataclass(frozen=True)
class Sitting:
    meeting_id: int
    reference: str
    starts: datetime


@dataclass(frozen=True)
class Child:
    """A child whose records get the panel's practice: a panel child, or a discussion's."""

    case_id: int
    reference: str
    panel_code: str
    since: datetime  # referred to the panel, or first discussed
    referred_by: int | None
    source: str  # where its links were recorded: "referral PR-…"
    sitting: Sitting | None = None  # where the panel first heard it (its disruptions are set there)
    strategy_meeting_id: int | None = None
    on_panel: bool = True
    stepped_down_at: datetime | None = None


@dataclass
class Staff:
    """Who records and owns the panel's practice work, by person id."""

    police: list[tuple[int, int]]  # (person, agency)
    locate: list[int]


def _rows(loader: Loader, model: Any, rows: list[dict[str, Any]]) -> None:
    if rows:
        loader.load(model, rows)


def write(
    loader: Loader,
    children: list[Child],
    *,
    staff: Staff,
    partnership: Partnership,
    calendar: ServiceCalendar,
    now: datetime,
    serials: dict[tuple[str, int], int],
    place_on_timeline: Timeline | None = None,
) -> None:
    """Everything above for these children; `serials` (the reference counters) move on."""
    ids = {m: loader.next_id(m) for m in (*PRACTICE_MODELS, Case, Action)}
    _rows(loader, MissingEpisode, list(_episodes(children, ids[MissingEpisode], staff, partnership, now)))
    _rows(loader, NrmReferral, list(_nrm(children, ids[NrmReferral], staff, partnership, calendar, now)))
    panel = [c for c in children if c.on_panel]
    contexts, links = _network(panel, children, ids, calendar, now, serials)
    _rows(loader, Case, contexts)
    perpetrators, perpetrator_links, descriptions = _register(panel, ids, staff, calendar, serials)
    _rows(loader, SuspectedPerpetrator, perpetrators)
    _rows(loader, PerpetratorLink, perpetrator_links)
    links += _perpetrator_network(panel, perpetrator_links, descriptions, ids[NetworkLink] + len(links))
    _rows(loader, NetworkLink, links)
    actions, disruptions = _disruptions(
        panel, perpetrators, perpetrator_links, ids, staff, partnership, now, place_on_timeline
    )
    _rows(loader, Action, actions)
    _rows(loader, Disruption, disruptions)


def _episodes(
    children: list[Child], first: int, staff: Staff, partnership: Partnership, now: datetime
) -> Iterator[dict[str, Any]]:
    practice = partnership.panel_practice.missing
    hours = timedelta(hours=practice.return_interview_hours)
    every = timedelta(hours=practice.chase_every_hours)
    number = 0
    for index, child in enumerate(children):
        if child.on_panel:
            count = EPISODES_PER_PANEL_CHILD[index % len(EPISODES_PER_PANEL_CHILD)]
        else:
            count = (0, 0, 0, 0, 1, 0, 0, 0, 0, 2)[index % 10]  # one discussion child in five
        start = child.since - timedelta(days=60)
        end = min(now, (child.stepped_down_at or now) + timedelta(days=30))
        for episode in range(count):
            last = episode == count - 1
            went = start + (end - start) * (episode + 1) / (count + 1) + timedelta(hours=index % 13)
            returned: datetime | None = went + timedelta(hours=6 + (index * 7 + episode * 11) % 66)
            if last and child.on_panel and index % 25 == 0:
                went, returned = now - timedelta(hours=6 + index % 30), None  # missing now
            elif last and child.on_panel and index % 9 == 1:
                returned = now - timedelta(hours=4 + (index * 5) % 90)  # back in the last days
                went = min(went, returned - timedelta(hours=20))
            if went >= now or (returned is not None and returned > now):
                continue
            out_of_area = (index + episode) % 3 == 0
            row: dict[str, Any] = {
                "id": first + number,
                "case_id": child.case_id,
                "went_missing_at": went,
                "returned_at": returned,
                "where_found": ""
                if returned is None
                else (OUT_OF_AREA if out_of_area else PLACES)[number % 3],
                "out_of_area": out_of_area and returned is not None,
                "reported_by_id": staff.locate[number % len(staff.locate)] if staff.locate else None,
                "interview_state": InterviewState.NOT_YET,
                "interview_due_at": None,
                "interview_offered_at": None,
                "interview_by": "",
                "interview_recorded_at": None,
                "next_chase_at": None,
                "chases": 0,
                "submission_key": f"generated-missing-{first + number}",
                "created_at": went + timedelta(hours=2),
            }
            if returned is not None:
                due = returned + hours
                row["interview_due_at"] = due
                if now - returned < timedelta(days=5) and number % 4:
                    # Still owed: chased every so often, a third due a chase now.
                    passed = int((now - returned) / every)
                    row |= {
                        "interview_state": InterviewState.OWED,
                        "chases": passed,
                        "next_chase_at": returned + every * (passed if number % 3 == 0 else passed + 1),
                    }
                else:
                    kind = number % 20
                    offered = returned + (
                        timedelta(hours=80 + number % 40) if kind >= 17 else timedelta(hours=4 + number % 56)
                    )
                    offered = min(offered, now - timedelta(minutes=5))
                    row |= {
                        "interview_state": InterviewState.DECLINED
                        if 14 <= kind < 17
                        else InterviewState.DONE,
                        "interview_offered_at": offered,
                        "interview_by": f"Generated Return Worker {number % 17 + 1} (Locate)",
                        "interview_recorded_at": offered + timedelta(hours=3),
                    }
            yield row
            number += 1


def _nrm(
    children: list[Child],
    first: int,
    staff: Staff,
    partnership: Partnership,
    calendar: ServiceCalendar,
    now: datetime,
) -> Iterator[dict[str, Any]]:
    practice = partnership.panel_practice.nrm
    responders = list(practice.first_responder_agencies)
    today = now.date()
    number = 0
    for index, child in enumerate(children):
        if index % (3 if child.on_panel else 12) != 1:
            continue
        referred_on = (child.since + timedelta(days=7 + index % 33)).date()
        if referred_on >= today:
            continue
        rg, rg_on, cg, cg_on = "awaited", None, "awaited", None
        rg_by = calendar.add_working_days(referred_on, practice.reasonable_grounds_working_days)
        overdue = number % 12 == 5
        if rg_by < today and not overdue:
            rg = "negative" if number % 10 == 3 else "positive"
            rg_on = calendar.add_working_days(
                referred_on, 1 + number % practice.reasonable_grounds_working_days
            )
        chased: list[str] = []
        if rg_on is None and rg_by < today and (number // 12) % 2:
            chased = ["reasonable_grounds"]
        if rg == "positive" and rg_on is not None:
            cg_by = calendar.add_working_days(rg_on, practice.conclusive_grounds_working_days)
            late = number % 12 == 7
            if cg_by < today and not late:
                cg = "negative" if number % 7 == 2 else "positive"
                cg_on = calendar.add_working_days(
                    rg_on, 20 + number % practice.conclusive_grounds_working_days
                )
                cg_on = min(cg_on, today)
            elif cg_by < today and (number // 12) % 2:
                chased = ["conclusive_grounds"]
        agency = responders[number % len(responders)]
        yield {
            "id": first + number,
            "case_id": child.case_id,
            "panel_code": child.panel_code,
            "referred_on": referred_on,
            "nrm_reference": f"NRM{referred_on.year}{first + number:06d}" if number % 10 < 7 else "",
            "first_responder_agency": agency,
            "first_responder_name": f"Generated First Responder {number % 23 + 1}",
            "reasonable_grounds": rg,
            "reasonable_grounds_on": rg_on,
            "conclusive_grounds": cg,
            "conclusive_grounds_on": cg_on,
            "strategy_meeting_id": child.strategy_meeting_id,
            "chased": chased,
            "recorded_by_id": child.referred_by,
            "submission_key": f"generated-nrm-{first + number}",
            "created_at": datetime.combine(referred_on, child.since.timetz()),
        }
        number += 1


def _next(serials: dict[tuple[str, int], int], prefix: str, year: int) -> str:
    serials[(prefix, year)] = serials.get((prefix, year), 0) + 1
    return f"{prefix}-{year}-{serials[(prefix, year)]:04d}"


def _link(
    first: int,
    rows: list[dict[str, Any]],
    seen: set[tuple[int, str, str]],
    child: Child,
    kind: str,
    label: str,
    at: datetime,
    linked: int | None = None,
    source: str = "",
) -> None:
    key = Link(kind, label).key
    if (child.case_id, kind, key) in seen:
        return
    seen.add((child.case_id, kind, key))
    rows.append(
        {
            "id": first + len(rows),
            "case_id": child.case_id,
            "kind": kind,
            "label": label,
            "label_key": key,
            "linked_case_id": linked,
            "source": source or child.source,
            "recorded_by_id": child.referred_by,
            "created_at": at,
        }
    )


def _network(
    panel: list[Child],
    children: list[Child],
    ids: dict[Any, int],
    calendar: ServiceCalendar,
    now: datetime,
    serials: dict[tuple[str, int], int],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Each panel's locations and peer groups as contexts (cases of their own) the children
    link to, and the children's other links; a discussion child in four has one or two."""
    contexts: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []
    seen: set[tuple[int, str, str]] = set()
    by_panel: dict[str, list[Child]] = {}
    for child in panel:
        by_panel.setdefault(child.panel_code, []).append(child)
    for code, members in by_panel.items():
        made: dict[str, list[tuple[int, str]]] = {"location": [], "peer_group": []}
        for kind, count, name in (
            ("location", LOCATIONS, "Generated Park {}"),
            ("peer_group", PEER_GROUPS, "Generated Crew {}"),
        ):
            for number in range(count):
                label = name.format(f"{code[:3].upper()}{number + 1}")
                created = members[min(number, len(members) - 1)].since
                case_id = ids[Case] + len(contexts)
                contexts.append(
                    {
                        "id": case_id,
                        "reference": _next(serials, CONTEXT_PREFIX, calendar.local(created).year),
                        "subject_kind": kind,
                        "subject_label": label,
                        "child_name": "",
                        "child_date_of_birth": None,
                        "child_address": "",
                        "school": "",
                        "siblings_and_others_at_risk": "",
                        "right_help_right_time_level": "",
                        "created_at": created,
                        "closed_at": None,
                    }
                )
                made[kind].append((case_id, label))
        for index, child in enumerate(members):
            at = child.since
            case_id, label = made["location"][index % LOCATIONS]
            _link(ids[NetworkLink], links, seen, child, "location", label, at, case_id)
            if index % 3 != 2:
                case_id, label = made["peer_group"][index % PEER_GROUPS]
                _link(ids[NetworkLink], links, seen, child, "peer_group", label, at, case_id)
            _link(ids[NetworkLink], links, seen, child, "peer", f"Peer known as P{code[:3]}{index // 3}", at)
            if index % 2:
                _link(
                    ids[NetworkLink], links, seen, child, "peer", f"Peer known as Q{code[:3]}{index // 5}", at
                )
                _link(
                    ids[NetworkLink], links, seen, child, "school", f"Generated Academy {index % 10 + 1}", at
                )
            if index % 3 == 0:
                _link(ids[NetworkLink], links, seen, child, "location", PLACES[index % len(PLACES)], at)
            if index % 4 == 3:  # children who know each other
                other = members[index - 1]
                _link(ids[NetworkLink], links, seen, child, "case", other.reference, at, other.case_id)
            if index % 10 == 7 and child.sitting is not None:
                # Recorded at the panel since it last heard the child: a new link on its next agenda.
                later = max(child.sitting.starts + timedelta(days=1), now - timedelta(days=2))
                place = OUT_OF_AREA[index % len(OUT_OF_AREA)]
                _link(
                    ids[NetworkLink],
                    links,
                    seen,
                    child,
                    "location",
                    place,
                    later,
                    None,
                    f"panel {child.sitting.reference}",
                )
    for index, child in enumerate(c for c in children if not c.on_panel):
        if index % 4 == 0:
            _link(ids[NetworkLink], links, seen, child, "location", PLACES[index % len(PLACES)], child.since)
        if index % 8 == 0:
            _link(ids[NetworkLink], links, seen, child, "peer", f"Peer known as D{index // 40}", child.since)
    return contexts, links


def _register(
    panel: list[Child],
    ids: dict[Any, int],
    staff: Staff,
    calendar: ServiceCalendar,
    serials: dict[tuple[str, int], int],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[int, str]]:
    """One suspected perpetrator per six panel children, linked to two to five of them
    (neighbours in referral order, so the groups overlap); a third with a summary released."""
    perpetrators: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []
    descriptions: dict[int, str] = {}
    by_panel: dict[str, list[Child]] = {}
    for child in panel:
        by_panel.setdefault(child.panel_code, []).append(child)
    for code, members in by_panel.items():
        for start in range(0, len(members), CHILDREN_PER_PERPETRATOR):
            number = len(perpetrators)
            linked = members[start : start + 2 + number % 4]
            perpetrator_id = ids[SuspectedPerpetrator] + number
            created = linked[0].since + timedelta(days=2)
            police, _agency = staff.police[number % len(staff.police)]
            released = number % 3 == 0
            description = DESCRIPTIONS[number % len(DESCRIPTIONS)].format(f"{chr(65 + number % 26)}{number}")
            descriptions[perpetrator_id] = description
            perpetrators.append(
                {
                    "id": perpetrator_id,
                    "reference": _next(serials, PERPETRATOR_PREFIX, calendar.local(created).year),
                    "panel_code": code,
                    "description": description,
                    "police_reference": f"WMP/CE/{number + 1:05d}" if number % 5 else "",
                    "released_summary": "Known to supply and recruit; avoid contact." if released else "",
                    "released_by_id": police if released else None,
                    "released_at": created + timedelta(days=7) if released else None,
                    "recorded_by_id": police,
                    "submission_key": f"generated-perpetrator-{perpetrator_id}",
                    "created_at": created,
                }
            )
            for child in linked:
                links.append(
                    {
                        "id": ids[PerpetratorLink] + len(links),
                        "perpetrator_id": perpetrator_id,
                        "case_id": child.case_id,
                        "created_at": max(created, child.since),
                    }
                )
    return perpetrators, links, descriptions


def _perpetrator_network(
    panel: list[Child], perpetrator_links: list[dict[str, Any]], descriptions: dict[int, str], first: int
) -> list[dict[str, Any]]:
    """The children's links to their suspected perpetrators, by the register's description."""
    children = {c.case_id: c for c in panel}
    rows: list[dict[str, Any]] = []
    seen: set[tuple[int, str, str]] = set()
    for link in perpetrator_links:
        child = children[link["case_id"]]
        label = descriptions[link["perpetrator_id"]]
        _link(first, rows, seen, child, "suspected_perpetrator", label, link["created_at"])
    return rows


def _disruptions(
    panel: list[Child],
    perpetrators: list[dict[str, Any]],
    perpetrator_links: list[dict[str, Any]],
    ids: dict[Any, int],
    staff: Staff,
    partnership: Partnership,
    now: datetime,
    place_on_timeline: Timeline | None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """One to three disruption actions per suspected perpetrator, set at the sitting that
    first heard a linked child, owned by police; a closure order on a place now and then."""
    tactics = [t.code for t in partnership.panel_practice.disruption_tactics]
    children = {c.case_id: c for c in panel}
    first_child: dict[int, list[Child]] = {}
    for link in perpetrator_links:
        first_child.setdefault(link["perpetrator_id"], []).append(children[link["case_id"]])
    numbered: dict[int, int] = {}  # actions per sitting's meeting, for their references
    actions: list[dict[str, Any]] = []
    disruptions: list[dict[str, Any]] = []
    by_id = {p["id"]: p for p in perpetrators}
    for perpetrator_id, linked in first_child.items():
        for number in range(1 + perpetrator_id % 3):
            child = linked[number % len(linked)]
            sitting = child.sitting
            if sitting is None:
                continue
            count = len(actions)
            tactic = tactics[count % len(tactics)]
            on_place = tactic in ("closure_order", "licensing")
            target = "a flat in Aston" if on_place else by_id[perpetrator_id]["reference"]
            numbered[sitting.meeting_id] = numbered.get(sitting.meeting_id, 0) + 1
            police, agency = staff.police[count % len(staff.police)]
            due = (sitting.starts + timedelta(days=14 + count % 29)).date()
            overdue = due < now.date()
            open_ = not overdue or count % 10 == 4
            action_id = ids[Action] + count
            done_at = None if open_ else datetime.combine(due, sitting.starts.timetz()) - timedelta(days=2)
            action = {
                "id": action_id,
                "reference": f"{sitting.reference}-A{numbered[sitting.meeting_id]:02d}",
                "meeting_id": sitting.meeting_id,
                "case_id": child.case_id,
                "concerns": child.reference,
                "text": f"Disruption: {partnership.panel_practice.tactic_name(tactic)} ({target})",
                "owner_id": police,
                "agency_id": agency,
                "priority": "high",
                "assigned_on": sitting.starts.date(),
                "due_on": due,
                "completed_at": done_at,
                "status": ActionStatus.OPEN if open_ else ActionStatus.DONE,
                "escalation_level": 0,
                "chase_step": 0,
                "snoozed_until": None,
                "snoozes": 0,
                "last_chased_at": None,
                "next_chase_at": None,
                "submission_key": f"generated-disruption-{action_id}",
                "created_at": sitting.starts + timedelta(hours=2),
            }
            if open_ and place_on_timeline is not None:
                place_on_timeline(action, overdue and count % 3 == 0)
            actions.append(action)
            result = "" if open_ else RESULTS[count % len(RESULTS)]
            disruptions.append(
                {
                    "id": ids[Disruption] + len(disruptions),
                    "action_id": action_id,
                    "case_id": child.case_id,
                    "perpetrator_id": None if on_place else perpetrator_id,
                    "tactic": tactic,
                    "result": result,
                    "outcome": f"Generated outcome: {result.replace('_', ' ')}." if result else "",
                    "outcome_recorded_at": done_at,
                    "outcome_recorded_by_id": police if result else None,
                    "created_at": sitting.starts + timedelta(hours=2),
                }
            )
    return actions, disruptions
