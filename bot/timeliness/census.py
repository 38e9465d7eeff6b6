"""The Children in Need census's section 47 items, per child, for the local authority's
case-management team to reconcile with its return: a CSV, and XML in the census's own
structure (`Children/Child/CINdetails/Section47`, element names and order as the DfE's
CIN census schema gives them), the date rules the census checks, and the ICPC working days
summary as COLLECT shows it. Case references only (the local child id), never a name.

The XML is an extract, not a whole return: a `CINdetails` here carries only its referral
date and its `Section47` elements, which are what the tests validate against the schema
(`section47type`)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from xml.etree import ElementTree

from sqlmodel import Session

from bot.cases.timeline import Section47Row, section_47_rows
from bot.timeliness.measures import ICPC_BANDS, ICPC_WORKING_DAYS, Spread, spread
from bot.working_days import StatutoryCalendar, require_statutory

CSV_COLUMNS = (
    "LAchildID",
    "CINreferralDate",
    "S47ActualStartDate",
    "InitialCPCtarget",
    "DateOfInitialCPC",
    "ICPCnotRequired",
    "StartedBy",
)


def census_rows(
    session: Session, *, first: date, last: date, statutory: StatutoryCalendar
) -> Iterator[Section47Row]:
    """Every enquiry that started between the dates (inclusive), a batch at a time."""
    return section_47_rows(session, started_from=first, started_to=last, statutory=statutory)


def _yes_no(flag: bool) -> str:
    return "true" if flag else "false"


def as_csv(rows: Iterable[Section47Row]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(
            (
                row.case_reference,
                row.referral_date.isoformat(),
                row.s47_actual_start_date.isoformat(),
                row.initial_cpc_target.isoformat(),
                row.date_of_initial_cpc.isoformat() if row.date_of_initial_cpc else "",
                _yes_no(row.icpc_not_required),
                row.started_by,
            )
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def section_47_element(row: Section47Row) -> ElementTree.Element:
    """One `Section47`, its children in the schema's order; DateOfInitialCPC only if held."""
    element = ElementTree.Element("Section47")
    ElementTree.SubElement(element, "S47ActualStartDate").text = row.s47_actual_start_date.isoformat()
    ElementTree.SubElement(element, "InitialCPCtarget").text = row.initial_cpc_target.isoformat()
    if row.date_of_initial_cpc:
        ElementTree.SubElement(element, "DateOfInitialCPC").text = row.date_of_initial_cpc.isoformat()
    ElementTree.SubElement(element, "ICPCnotRequired").text = _yes_no(row.icpc_not_required)
    return element


def as_xml(rows: Iterable[Section47Row]) -> bytes:
    """`Children/Child/CINdetails/Section47`: one Child per local child id, one CINdetails
    per referral (episode), its enquiries in the order they started."""
    children: dict[str, dict[date, list[Section47Row]]] = {}
    for row in rows:
        children.setdefault(row.case_reference, {}).setdefault(row.referral_date, []).append(row)
    root = ElementTree.Element("Children")
    for reference in sorted(children):
        child = ElementTree.SubElement(root, "Child")
        identifiers = ElementTree.SubElement(child, "ChildIdentifiers")
        ElementTree.SubElement(identifiers, "LAchildID").text = reference
        for referral_date in sorted(children[reference]):
            details = ElementTree.SubElement(child, "CINdetails")
            ElementTree.SubElement(details, "CINreferralDate").text = referral_date.isoformat()
            for row in sorted(children[reference][referral_date], key=lambda r: r.s47_actual_start_date):
                details.append(section_47_element(row))
    ElementTree.indent(root)
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


@dataclass(frozen=True)
class DateProblem:
    """A record the census's validation would reject, and why (case reference only)."""

    case_reference: str
    started_by: str
    problem: str


def date_problems(rows: Iterable[Section47Row], statutory: StatutoryCalendar) -> list[DateProblem]:
    """The census's date rules: the ICPC not before the enquiry began; the target 15
    working days on from the start and on a working day; an ICPC held and not required at
    once is a contradiction."""
    require_statutory(statutory)
    found: list[DateProblem] = []
    for row in rows:
        problems = []
        start, target, held = row.s47_actual_start_date, row.initial_cpc_target, row.date_of_initial_cpc
        if held is not None and held < start:
            problems.append(
                f"DateOfInitialCPC {held.isoformat()} is before S47ActualStartDate {start.isoformat()}"
            )
        expected = statutory.add_working_days(start, ICPC_WORKING_DAYS)
        if target != expected:
            problems.append(
                f"InitialCPCtarget {target.isoformat()} is not {ICPC_WORKING_DAYS} working days after "
                f"S47ActualStartDate ({expected.isoformat()})"
            )
        if not statutory.is_working_day(target):
            problems.append(f"InitialCPCtarget {target.isoformat()} falls at a weekend or on a bank holiday")
        if held is not None and row.icpc_not_required:
            problems.append("DateOfInitialCPC is given and ICPCnotRequired is true")
        found.extend(DateProblem(row.case_reference, row.started_by, p) for p in problems)
    return found


@dataclass(frozen=True)
class IcpcSummary:
    """COLLECT's ICPC working days summary: enquiries, ICPCs held, within 15 working days,
    not required, and the working days from the start to the ICPC, banded."""

    enquiries: int
    held: int
    within: int
    not_required: int
    working_days: Spread


def icpc_summary(rows: Iterable[Section47Row], statutory: StatutoryCalendar) -> IcpcSummary:
    enquiries = held = within = not_required = 0
    days: list[int] = []
    for row in rows:
        enquiries += 1
        not_required += row.icpc_not_required
        if row.date_of_initial_cpc is not None:
            held += 1
            count = statutory.working_days_between(row.s47_actual_start_date, row.date_of_initial_cpc)
            days.append(count)
            within += count <= ICPC_WORKING_DAYS
    return IcpcSummary(enquiries, held, within, not_required, spread(days, ICPC_BANDS))


def summary_lines(summary: IcpcSummary) -> list[str]:
    days = summary.working_days
    lines = [
        "ICPC working days summary (working days from S47ActualStartDate to DateOfInitialCPC)",
        f"Section 47 enquiries: {summary.enquiries}",
        f"ICPCs held: {summary.held}; within {ICPC_WORKING_DAYS} working days: {summary.within}",
        f"ICPC not required: {summary.not_required}",
        f"Median: {'none' if days.median is None else f'{days.median:g}'}; "
        f"mean: {'none' if days.mean is None else f'{days.mean:g}'}",
    ]
    lines.extend(f"  {label} working days: {count}" for label, count in days.bands)
    return lines
