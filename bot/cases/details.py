"""The child's details a local authority's record holds, for the minutes: sex, ethnicity,
disability, first language and interpreter, NHS number, legal status, school, siblings and
others at risk, and the parents and carers with parental responsibility.

They are written through a form whose fields are never pre-filled, and they are never
shown in Slack (the form says only which are recorded): documents carry them, Slack does not.
A field left blank keeps what is recorded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from bot.audit.service import Actor, record
from bot.cases.models import Case
from bot.documents.vocabulary import INTERPRETER, LEGAL_STATUS, SEX


@dataclass(frozen=True)
class DetailField:
    """One detail: its column on `case`, the form's label, its longest length, its choices."""

    column: str
    label: str
    limit: int
    choices: dict[str, str] | None = None
    multiline: bool = False


DETAIL_FIELDS: tuple[DetailField, ...] = (
    DetailField("sex", "Sex", 20, SEX),
    DetailField("ethnicity", "Ethnicity", 100),
    DetailField("disability", "Disability", 500, multiline=True),
    DetailField("first_language", "First language", 100),
    DetailField("interpreter_needed", "Interpreter needed", 10, INTERPRETER),
    DetailField("nhs_number", "NHS number (10 digits)", 12),
    DetailField("legal_status", "Legal status", 30, LEGAL_STATUS),
    DetailField("school", "School", 200),
    DetailField("siblings_and_others_at_risk", "Siblings and other children at risk", 2000, multiline=True),
    DetailField(
        "parents_and_carers", "Parents and carers with parental responsibility", 2000, multiline=True
    ),
)
FIELD_BY_COLUMN = {f.column: f for f in DETAIL_FIELDS}


def nhs_number_problem(value: str) -> str:
    """An NHS number is 10 digits whose last is a modulus 11 check digit; '' when valid."""
    digits = value.replace(" ", "")
    if not (len(digits) == 10 and digits.isdigit()):
        return "An NHS number is 10 digits, e.g. 943 476 5919."
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    if check == 10 or check != int(digits[9]):
        return "That is not a valid NHS number: check the digits."
    return ""


def detail_problems(values: dict[str, str]) -> dict[str, str]:
    """Problems by field (the form's block ids are the columns); nothing typed is fine."""
    errors: dict[str, str] = {}
    for column, value in values.items():
        field = FIELD_BY_COLUMN.get(column)
        if field is None or not value:
            continue
        if field.choices is not None and value not in field.choices:
            errors[column] = "Choose from the list."
        elif len(value) > field.limit:
            errors[column] = f"Keep it under {field.limit:,} characters."
    if values.get("nhs_number"):
        problem = nhs_number_problem(values["nhs_number"])
        if problem:
            errors["nhs_number"] = problem
    return errors


def recorded_fields(case: Case) -> list[str]:
    """The labels of the details the record holds (never their values)."""
    return [f.label for f in DETAIL_FIELDS if getattr(case, f.column)]


def save_details(
    session: Session, case: Case, values: dict[str, str], *, actor: Actor, now: datetime
) -> list[str]:
    """Write what was typed (blank keeps what is recorded); audited by field name only.
    Returns the columns changed."""
    changed = []
    for field in DETAIL_FIELDS:
        value = (values.get(field.column) or "").strip()
        if field.column == "nhs_number":
            value = value.replace(" ", "")
        if value and value != getattr(case, field.column):
            setattr(case, field.column, value)
            changed.append(field.column)
    if changed:
        session.add(case)
        record(
            session,
            at=now,
            actor=actor,
            act="case.details_updated",
            record_type="case",
            record_id=case.id or 0,
            case_reference=case.reference,
            details={"fields": changed},
        )
    return changed
