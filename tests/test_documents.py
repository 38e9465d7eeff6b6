"""The Word minutes and action log: template variables, content, escaping, and a reader's view."""

from __future__ import annotations

import copy
import hashlib
import io
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from docx.document import Document as DocumentObject
from docx.table import Table

from bot.minutes.documents import (
    ACTION_LOG_TEMPLATE,
    ACTION_LOG_VARIABLES,
    MINUTES_TEMPLATE,
    MINUTES_VARIABLES,
    RenderedDocument,
    TemplateContextError,
    render,
    render_document,
    template_variables,
)

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
MINUTES = TEMPLATES / MINUTES_TEMPLATE
ACTION_LOG = TEMPLATES / ACTION_LOG_TEMPLATE
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
MARKING = "OFFICIAL-SENSITIVE"

MINUTES_HEADINGS = [
    "Protective marking and confidentiality",
    "Meeting details",
    "Children",
    "Attendance",
    "Reason for the discussion",
    "Information shared by agency",
    "The child's voice",
    "Risk indicators",
    "Risk analysis",
    "Decisions",
    "Immediate safety plan",
    "Action plan",
    "Next steps",
    "Dissent and escalation",
    "Sign-off and circulation",
]


def minutes_context() -> dict[str, Any]:
    """A realistic follow-up discussion about a child at risk of criminal exploitation."""
    return {
        "marking": MARKING,
        "confidentiality": "This record contains personal information shared under section 47 of the "
        "Children Act 1989. Do not share it beyond the circulation list.",
        "partnership": "Birmingham Safeguarding Children Partnership",
        "reference": "SD-2025-0142",
        "kind": "Follow-up",
        "follows": "SD-2025-0117",
        "date": "Tuesday 4 March 2025",
        "time": "10:00 to 11:15",
        "format": "Video call",
        "chair": "Priya Shah, Team Manager",
        "minute_taker": "Tom Reed",
        "children": [
            {
                "name": "Jayden Miller",
                "date_of_birth": "12 June 2010",
                "case_reference": "CS-778812",
                "school": "Northfield Academy",
                "siblings": "Ava Miller (8), same address",
            }
        ],
        "attendance": [
            {
                "agency": "Children's social care",
                "name": "Sam Okafor",
                "role": "Social worker",
                "status": "Present",
            },
            {
                "agency": "West Midlands Police",
                "name": "DC Lee Grant",
                "role": "Force CID",
                "status": "Present",
            },
            {"agency": "Locate", "name": "Dana Price", "role": "Missing lead", "status": "Written update"},
            {"agency": "YOS", "name": "Ola Ade", "role": "Case manager", "status": "Apologies"},
            {"agency": "Health", "name": "Kim Hart", "role": "Named nurse", "status": "Did not respond"},
        ],
        "reason": "Three missing episodes in two weeks; found in Stoke with unexplained cash.\n"
        "Mother reports a new older 'friend' collecting him by car.",
        "action_taken": "Return home interview completed by Locate.",
        "information_shared": [
            {
                "agency": "West Midlands Police",
                "author": "DC Lee Grant",
                "role": "Force CID",
                "restricted": True,
                "restriction": "Police intelligence: not to be shared with the family",
                "sections": [
                    {"label": "New information", "text": "Seen with a known county lines associate."},
                ],
            },
            {
                "agency": "Locate",
                "author": "Dana Price",
                "role": "Missing lead",
                "restricted": False,
                "restriction": "",
                "sections": [{"label": "Missing episodes", "text": "Three since 14 February."}],
            },
        ],
        "child_voice": "Jayden says he 'just goes out with mates' and does not want police involved.",
        "risk_grid": {
            "agencies": ["Police", "Locate", "Education"],
            "rows": [
                {"indicator": "Repeated missing episodes", "ratings": ["current", "current", ""]},
                {"indicator": "Excluded from school", "ratings": ["", "historic", "current"]},
                {"indicator": "Weapons", "ratings": ["not present", "", ""]},
            ],
        },
        "risk_analysis": {
            "harm": "Criminal exploitation through county lines.",
            "likelihood": "High: pattern is escalating.",
            "protective_factors": "Mother engaged; close to his grandmother.",
            "extra_familial": "Peer group linked to the Northfield park location.",
        },
        "decisions": [
            {
                "topic": "Section 47 enquiries",
                "outcome": "Yes, joint",
                "reason": "Reasonable cause to suspect harm.",
            },
            {"topic": "ICPC", "outcome": "Needed", "reason": "Risk is significant and ongoing."},
        ],
        "safety_plan": "Mother to report any missing episode at once; school to monitor attendance.",
        "actions": [
            {
                "reference": "A-1",
                "text": "Complete the single assessment.",
                "owner": "Sam Okafor",
                "agency": "Children's social care",
                "due": "11 March 2025",
                "priority": "High",
                "concerns": "Jayden",
                "status": "open",
            },
            {
                "reference": "A-2",
                "text": "Run a disruption plan on the associate.",
                "owner": "DC Lee Grant",
                "agency": "West Midlands Police",
                "due": "18 March 2025",
                "priority": "High",
                "concerns": "Northfield park",
                "status": "open",
            },
        ],
        "icpc_date": "25 March 2025",
        "review_date": "18 March 2025",
        "next_steps": "Reconvene after the single assessment.",
        "dissent": "",
        "circulation": [
            {"name": "Sam Okafor", "agency": "Children's social care"},
            {"name": "DC Lee Grant", "agency": "West Midlands Police"},
        ],
        "version": 2,
        "state": "DRAFT",
        "generated_at": "4 March 2025 at 14:02",
        "approved_by": "",
        "approved_at": "",
    }


def action_log_context() -> dict[str, Any]:
    """Two actions from one discussion: one chased and escalated, one done."""
    return {
        "marking": MARKING,
        "reference": "SD-2025-0142",
        "title": "Action log: strategy discussion SD-2025-0142",
        "generated_at": "20 March 2025 at 09:00",
        "version": 3,
        "actions": [
            {
                "reference": "A-1",
                "text": "Complete the single assessment.",
                "concerns": "Jayden",
                "owner": "Sam Okafor",
                "agency": "Children's social care",
                "assigned": "4 March 2025",
                "due": "11 March 2025",
                "completed": "10 March 2025",
                "status": "done",
                "priority": "High",
                "escalation_level": "0",
                "meeting": "SD-2025-0142",
                "updates": [{"at": "10 March 2025", "by": "Sam Okafor", "text": "Assessment uploaded."}],
                "chases": [],
            },
            {
                "reference": "A-2",
                "text": "Run a disruption plan on the associate.",
                "concerns": "Northfield park",
                "owner": "DC Lee Grant",
                "agency": "West Midlands Police",
                "assigned": "4 March 2025",
                "due": "18 March 2025",
                "completed": "",
                "status": "escalated",
                "priority": "High",
                "escalation_level": "1",
                "meeting": "SD-2025-0142",
                "updates": [],
                "chases": [
                    {"at": "17 March 2025", "to": "DC Lee Grant", "step": "reminder", "via": "Slack DM"},
                    {"at": "19 March 2025", "to": "DI Ruth Bell", "step": "escalation 1", "via": "e-mail"},
                ],
            },
        ],
    }


def _open(content: bytes) -> DocumentObject:
    return Document(io.BytesIO(content))


def _table_with_header(document: DocumentObject, first: str) -> Table:
    for table in document.tables:
        if table.rows and table.rows[0].cells[0].text == first:
            return table
    raise AssertionError(f"no table whose header starts with {first!r}")


def _rows(table: Table) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in table.rows]


def _all_text(document: DocumentObject) -> str:
    """Every paragraph of the body, tables included, headers and footers too."""
    parts = [paragraph.text for paragraph in document.paragraphs]
    for table in document.tables:
        parts.extend(cell.text for row in table.rows for cell in row.cells)
    for section in document.sections:
        parts.extend(p.text for p in section.header.paragraphs)
        parts.extend(p.text for p in section.footer.paragraphs)
    return "\n".join(parts)


def _document_xml(content: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return archive.read("word/document.xml").decode("utf-8")


# (a) the templates and the code agree on every top-level name


def test_minutes_template_uses_exactly_the_variables_the_code_provides() -> None:
    assert template_variables(MINUTES) == set(MINUTES_VARIABLES)
    assert set(minutes_context()) == set(MINUTES_VARIABLES)


def test_action_log_template_uses_exactly_the_variables_the_code_provides() -> None:
    assert template_variables(ACTION_LOG) == set(ACTION_LOG_VARIABLES)
    assert set(action_log_context()) == set(ACTION_LOG_VARIABLES)


def test_a_template_with_an_unknown_variable_is_seen(tmp_path: Path) -> None:
    """The check above can fail: a tag an administrator adds shows up as a new name."""
    document = Document(str(MINUTES))
    document.add_paragraph("{{ favourite_colour }}")
    edited = tmp_path / "edited.docx"
    document.save(str(edited))
    assert template_variables(edited) - set(MINUTES_VARIABLES) == {"favourite_colour"}


def test_a_context_missing_a_name_is_refused() -> None:
    context = minutes_context()
    del context["icpc_date"]
    with pytest.raises(TemplateContextError, match="icpc_date"):
        render(MINUTES, context)


# (b) what a reader finds in the minutes and the action log


@pytest.fixture(scope="module")
def minutes_document() -> DocumentObject:
    return _open(render(MINUTES, minutes_context()))


def test_minutes_are_marked_in_the_header_and_footer_of_every_section(
    minutes_document: DocumentObject,
) -> None:
    assert minutes_document.sections
    for section in minutes_document.sections:
        assert not section.different_first_page_header_footer
        header = "\n".join(p.text for p in section.header.paragraphs)
        footer = "\n".join(p.text for p in section.footer.paragraphs)
        assert MARKING in header
        assert "SD-2025-0142" in header
        assert MARKING in footer
        assert "Version 2 · DRAFT · generated 4 March 2025 at 14:02" in footer
        assert "{{" not in header + footer


def test_minutes_footer_numbers_the_pages() -> None:
    with zipfile.ZipFile(io.BytesIO(render(MINUTES, minutes_context()))) as archive:
        footers = [
            archive.read(name).decode() for name in archive.namelist() if name.startswith("word/footer")
        ]
    assert any(" PAGE " in xml and " NUMPAGES " in xml for xml in footers)


def test_minutes_headings_come_in_the_designed_order(minutes_document: DocumentObject) -> None:
    title = [p.text for p in minutes_document.paragraphs if p.style.name == "Title"]
    assert title == ["Strategy discussion minutes: SD-2025-0142"]
    headings = [p.text for p in minutes_document.paragraphs if p.style.name == "Heading 1"]
    assert headings == MINUTES_HEADINGS


def test_minutes_carry_marking_confidentiality_and_meeting_details(minutes_document: DocumentObject) -> None:
    texts = [p.text for p in minutes_document.paragraphs]
    assert MARKING in texts
    assert any(text.startswith("This record contains personal information") for text in texts)
    details = dict(_rows(_table_with_header(minutes_document, "Date")))
    assert details["Date"] == "Tuesday 4 March 2025"
    assert details["Chair"] == "Priya Shah, Team Manager"
    assert details["Minute-taker"] == "Tom Reed"
    assert details["Format"] == "Video call"
    assert details["Initial or follow-up"] == "Follow-up (follows SD-2025-0117)"


def test_minutes_tables_have_header_rows_and_the_values(minutes_document: DocumentObject) -> None:
    attendance = _rows(_table_with_header(minutes_document, "Agency"))
    assert attendance[0] == ["Agency", "Name", "Role", "Status"]
    assert attendance[1:] == [
        [person["agency"], person["name"], person["role"], person["status"]]
        for person in minutes_context()["attendance"]
    ]
    children = _rows(_table_with_header(minutes_document, "Name"))
    assert children == [
        ["Name", "Date of birth", "Case reference", "School", "Siblings and others at risk"],
        ["Jayden Miller", "12 June 2010", "CS-778812", "Northfield Academy", "Ava Miller (8), same address"],
    ]
    decisions = _rows(_table_with_header(minutes_document, "Topic"))
    assert decisions == [
        ["Topic", "Outcome", "Reason"],
        ["Section 47 enquiries", "Yes, joint", "Reasonable cause to suspect harm."],
        ["ICPC", "Needed", "Risk is significant and ongoing."],
    ]
    actions = _rows(_table_with_header(minutes_document, "Ref"))
    assert actions[0] == ["Ref", "Action", "Owner", "Agency", "Due", "Priority", "Concerns"]
    assert actions[2] == [
        "A-2",
        "Run a disruption plan on the associate.",
        "DC Lee Grant",
        "West Midlands Police",
        "18 March 2025",
        "High",
        "Northfield park",
    ]
    assert len(actions) == 3
    next_steps = dict(_rows(_table_with_header(minutes_document, "ICPC date")))
    assert next_steps == {"ICPC date": "25 March 2025", "Review or next discussion": "18 March 2025"}


def test_header_rows_repeat_on_each_page(minutes_document: DocumentObject) -> None:
    attendance = _table_with_header(minutes_document, "Agency")
    assert attendance.rows[0]._tr.trPr is not None
    assert attendance.rows[0]._tr.trPr.xpath("./w:tblHeader")


def test_minutes_show_information_by_agency_with_restrictions(minutes_document: DocumentObject) -> None:
    paragraphs = minutes_document.paragraphs
    texts = [p.text for p in paragraphs]
    agencies = [
        p.text
        for p in paragraphs
        if p.style.name == "Heading 2" and p.text in {"West Midlands Police", "Locate"}
    ]
    assert agencies == ["West Midlands Police", "Locate"]
    restricted = [text for text in texts if text.startswith("RESTRICTED:")]
    assert restricted == ["RESTRICTED: Police intelligence: not to be shared with the family"]
    police = texts.index("West Midlands Police")
    locate = texts.index("Locate")
    assert police < texts.index(restricted[0]) < locate  # the flag sits under the agency it restricts
    assert "Shared by: DC Lee Grant, Force CID" in texts
    assert "Seen with a known county lines associate." in texts
    assert "Three since 14 February." in texts
    assert not any("{%" in text or "{{" in text for text in texts)


def test_risk_grid_has_a_column_per_agency(minutes_document: DocumentObject) -> None:
    grid = _rows(_table_with_header(minutes_document, "Indicator"))
    assert grid == [
        ["Indicator", "Police", "Locate", "Education"],
        ["Repeated missing episodes", "current", "current", ""],
        ["Excluded from school", "", "historic", "current"],
        ["Weapons", "not present", "", ""],
    ]


def test_newlines_typed_in_a_field_stay_line_breaks(minutes_document: DocumentObject) -> None:
    reason = minutes_context()["reason"]
    assert "\n" in reason
    assert reason in [p.text for p in minutes_document.paragraphs]
    assert "<w:br/>" in _document_xml(render(MINUTES, minutes_context()))


def test_circulation_list_and_draft_sign_off(minutes_document: DocumentObject) -> None:
    bullets = [p.text for p in minutes_document.paragraphs if p.style.name == "List Bullet"]
    assert bullets == ["Sam Okafor, Children's social care", "DC Lee Grant, West Midlands Police"]
    texts = [p.text for p in minutes_document.paragraphs]
    assert "DRAFT: not yet approved by the chair (Priya Shah, Team Manager)." in texts
    assert not any(text.startswith("Approved by") for text in texts)


def test_approved_minutes_name_the_approver() -> None:
    context = minutes_context() | {
        "state": "APPROVED",
        "approved_by": "Priya Shah",
        "approved_at": "4 March 2025 at 16:30",
    }
    document = _open(render(MINUTES, context))
    texts = [p.text for p in document.paragraphs]
    assert "Approved by Priya Shah on 4 March 2025 at 16:30." in texts
    assert not any(text.startswith("DRAFT:") for text in texts)
    assert "APPROVED" in "\n".join(p.text for p in document.sections[0].footer.paragraphs)


def test_initial_discussion_without_icpc_or_dissent_says_so() -> None:
    context = minutes_context() | {
        "kind": "Initial",
        "follows": "",
        "icpc_date": "",
        "dissent": "",
        "information_shared": [],
    }
    document = _open(render(MINUTES, context))
    details = dict(_rows(_table_with_header(document, "Date")))
    assert details["Initial or follow-up"] == "Initial"
    assert dict(_rows(_table_with_header(document, "ICPC date")))["ICPC date"] == "No ICPC date set"
    texts = [p.text for p in document.paragraphs]
    assert "No dissent was recorded." in texts
    assert "No agency information was recorded." in texts


def test_action_log_lists_every_action_with_updates_and_chases() -> None:
    document = _open(render(ACTION_LOG, action_log_context()))
    for section in document.sections:
        assert MARKING in "\n".join(p.text for p in section.header.paragraphs)
        assert MARKING in "\n".join(p.text for p in section.footer.paragraphs)
    title = [p.text for p in document.paragraphs if p.style.name == "Title"]
    assert title == ["Action log: strategy discussion SD-2025-0142"]
    actions = _rows(_table_with_header(document, "Ref"))
    assert actions[0] == [
        "Ref",
        "Action",
        "Concerns",
        "Owner",
        "Agency",
        "Assigned",
        "Due",
        "Completed",
        "Status",
        "Priority",
        "Escalation",
        "Meeting",
    ]
    assert actions[1] == [
        "A-1",
        "Complete the single assessment.",
        "Jayden",
        "Sam Okafor",
        "Children's social care",
        "4 March 2025",
        "11 March 2025",
        "10 March 2025",
        "done",
        "High",
        "0",
        "SD-2025-0142",
    ]
    assert actions[2][8] == "escalated" and actions[2][10] == "1"
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 2"]
    assert headings == ["A-1: done", "A-2: escalated"]
    updates = [_rows(t) for t in document.tables if t.rows[0].cells[0].text == "When" and len(t.columns) == 3]
    assert updates == [[["When", "By", "Update"], ["10 March 2025", "Sam Okafor", "Assessment uploaded."]]]
    chases = [_rows(t) for t in document.tables if t.rows[0].cells[0].text == "When" and len(t.columns) == 4]
    assert chases == [
        [
            ["When", "To whom", "Step", "How"],
            ["17 March 2025", "DC Lee Grant", "reminder", "Slack DM"],
            ["19 March 2025", "DI Ruth Bell", "escalation 1", "e-mail"],
        ]
    ]
    texts = [p.text for p in document.paragraphs]
    assert texts.count("No updates recorded.") == 1
    assert texts.count("No chases sent.") == 1


# (c) what people typed is escaped, never evaluated

HOSTILE = [
    "{{ 7*7 }}",
    "{% for x in y %}",
    "<w:p>",
    "&amp;",
    "{_{ docxtpl's own clean-up marker }_}",
    "{%p endfor %}",
    "Safe at home 🏠 — 👍🏽 ✓",
]
LONG = ("Jayden was seen near the park again. " * 600)[:20_000]


def _hostile_minutes() -> dict[str, Any]:
    context = copy.deepcopy(minutes_context())
    context["reason"] = " | ".join(HOSTILE)
    context["information_shared"][0]["sections"].append({"label": "{{ 7*7 }} label", "text": LONG})
    context["information_shared"][1]["sections"][0]["text"] = "\n".join(HOSTILE)
    context["actions"][0]["text"] = "{% for x in y %}<w:p>&amp;🚨"
    context["attendance"][0]["name"] = "{{ marking }}"
    context["risk_grid"]["agencies"][0] = "<w:tc>{%tc endfor %}"
    return context


def test_typed_text_appears_literally_and_is_not_evaluated() -> None:
    content = render(MINUTES, _hostile_minutes())
    document = _open(content)
    text = _all_text(document)
    paragraphs = [p.text for p in document.paragraphs]
    assert " | ".join(HOSTILE) in paragraphs
    assert "\n".join(HOSTILE) in paragraphs
    assert LONG in paragraphs
    assert len(LONG) == 20_000
    assert "{{ 7*7 }} label" in paragraphs
    assert "49" not in text
    assert _rows(_table_with_header(document, "Ref"))[1][1] == "{% for x in y %}<w:p>&amp;🚨"
    assert _rows(_table_with_header(document, "Agency"))[1][1] == "{{ marking }}"
    assert _rows(_table_with_header(document, "Indicator"))[0][1] == "<w:tc>{%tc endfor %}"
    # The document's structure is untouched: still one table row per action, one grid column per agency.
    assert len(_table_with_header(document, "Ref").rows) == 3
    assert len(_table_with_header(document, "Indicator").columns) == 4
    xml = _document_xml(content)
    assert "&lt;w:p&gt; | &amp;amp;" in xml  # stored as escaped text, not as markup


def test_characters_xml_cannot_carry_are_dropped_not_fatal() -> None:
    context = minutes_context() | {"child_voice": "before\x00\x07\x1b after\r\nnext line\ttab"}
    document = _open(render(MINUTES, context))
    assert "before after\nnext line\ttab" in [p.text for p in document.paragraphs]


def test_action_log_escapes_typed_text() -> None:
    context = copy.deepcopy(action_log_context())
    context["actions"][1]["updates"] = [{"at": "now", "by": "<b>me</b>", "text": "{{ 7*7 }} & {% if x %}"}]
    document = _open(render(ACTION_LOG, context))
    updates = [_rows(t) for t in document.tables if t.rows[0].cells[0].text == "When" and len(t.columns) == 3]
    assert ["now", "<b>me</b>", "{{ 7*7 }} & {% if x %}"] in updates[1]
    assert "49" not in _all_text(document)


# (d) the fingerprint is of exactly the bytes


def test_rendered_document_sha256_matches_its_bytes() -> None:
    rendered = render_document(MINUTES, minutes_context())
    assert isinstance(rendered, RenderedDocument)
    assert rendered.sha256 == hashlib.sha256(rendered.content).hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", rendered.sha256)
    assert _open(rendered.content).paragraphs
    other = render_document(MINUTES, minutes_context() | {"version": 3})
    assert other.sha256 != rendered.sha256


# (e) as a reader sees it: LibreOffice turns the minutes into a PDF


def _office() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


def _pdf_pages(pdf: Path) -> int:
    info = shutil.which("pdfinfo")
    if info:
        output = subprocess.run([info, str(pdf)], check=True, capture_output=True, text=True).stdout
        match = re.search(r"^Pages:\s+(\d+)", output, flags=re.MULTILINE)
        assert match, output
        return int(match.group(1))
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf.read_bytes()))


def _to_pdf(office: str, docx: Path, tmp_path: Path) -> Path:
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
            str(docx),
        ],
        check=True,
        capture_output=True,
        timeout=240,
    )
    pdf = tmp_path / (docx.stem + ".pdf")
    assert pdf.is_file() and pdf.stat().st_size > 0
    return pdf


def test_libreoffice_reads_the_minutes_as_a_person_would(tmp_path: Path) -> None:
    office = _office()
    if office is None:
        if IN_CI:
            pytest.fail("LibreOffice (soffice) must be installed in CI: .ci/run installs it")
        pytest.skip("LibreOffice (soffice) is not installed; CI installs it and runs this check")
    docx = tmp_path / "minutes.docx"
    docx.write_bytes(render(MINUTES, _hostile_minutes()))
    pdf = _to_pdf(office, docx, tmp_path)
    pages = _pdf_pages(pdf)
    assert pages >= 3  # 20,000 characters of one agency's update cannot fit on two pages
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        if IN_CI:
            pytest.fail("pdftotext (poppler-utils) must be installed in CI")
        return
    text = subprocess.run(
        [pdftotext, "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
    ).stdout
    flat = " ".join(text.split())
    assert flat.count(MARKING) >= 2 * pages  # header and footer of every page
    assert f"of {pages}" in flat  # the page numbers were computed
    for heading in MINUTES_HEADINGS:
        assert heading in flat, heading
    assert "{{ 7*7 }}" in flat and "{% for x in y %}" in flat and "<w:p>" in flat and "&amp;" in flat
    assert "49" not in flat
    assert "RESTRICTED: Police intelligence" in flat
    assert "Excluded from school" in flat and "not present" in flat
