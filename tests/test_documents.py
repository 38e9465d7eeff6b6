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

from bot.documents.specimens import POLICE_HANDLING, action_log_specimen, minutes_specimen
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
    return minutes_specimen()


def action_log_context() -> dict[str, Any]:
    """Two actions from one discussion: one chased and escalated, one done."""
    return action_log_specimen()


NO_BREAK_HYPHEN = "\u2011"


def _open(content: bytes) -> DocumentObject:
    """The document as python-docx reads it, references' non-breaking hyphens read as '-'."""
    source = zipfile.ZipFile(io.BytesIO(content))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as copy_:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.endswith(".xml"):
                data = data.replace(NO_BREAK_HYPHEN.encode(), b"-")
            copy_.writestr(item, data)
    return Document(io.BytesIO(buffer.getvalue()))


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
        assert "Version 2 · DRAFT · Full copy · generated 04 March 2025 14:02" in footer
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
    assert details["Date"] == "Tuesday 04 March 2025"
    assert details["Time"] == "10:00 to 11:15"
    assert details["Chair"] == "Priya Shah, Team Manager"
    assert details["Minute-taker"] == "Tom Reed, Business Support Officer"
    assert details["Referral received"] == "Monday 03 March 2025 16:40"
    assert details["Urgency"] == "Urgent"
    assert details["To be held by"] == "Tuesday 04 March 2025 16:40"
    assert details["Held within the timescale"] == "Yes"
    assert details["Right Help Right Time level"] == "Complex / significant"
    assert details["Concerns"] == "Criminal exploitation, County lines, Missing episodes"
    assert details["Format"] == "Video call"
    assert details["Initial or follow-up"] == "Follow-up (follows SD-2025-0117)"


def test_minutes_tables_have_header_rows_and_the_values(minutes_document: DocumentObject) -> None:
    attendance = _rows(_table_with_header(minutes_document, "Agency"))
    assert attendance[0] == ["Agency", "Name", "Role", "Status"]
    assert attendance[1:] == [
        [person["agency"], person["name"], person["role"], person["status"]]
        for person in minutes_context()["attendance"]
    ]
    child = dict(_rows(_table_with_header(minutes_document, "Name")))
    assert child["Case reference"] == "CS-778812"
    assert child["School"] == "Northfield Academy"
    assert child["NHS number"] == "943 476 5919"
    assert child["Legal status"] == "Child in need"
    assert child["Parents and carers with parental responsibility"].startswith("Donna Miller")
    assert child["Interpreter needed"] == "No" and child["Sex"] == "Male"
    decisions = _rows(_table_with_header(minutes_document, "Decision"))
    assert decisions[0] == ["Decision", "Outcome", "Detail"]
    assert ["Legal action", "Not recorded", "None recorded"] in decisions
    assert ["Parents told of the enquiries", "Told", "At the home visit."] in decisions
    assert all(row[1] and row[2] for row in decisions)  # no blank outcome or detail
    actions = _rows(_table_with_header(minutes_document, "Reference"))
    assert actions[0] == ["Reference", "Action", "Owner", "Due", "Priority"]
    assert actions[1] == [
        "SD-2025-0142-A1",
        "Complete the single assessment. (concerns: CS-778812)",
        "Sam Okafor, Children's social care",
        "11 Mar 2025",
        "Immediate (safety)",
    ]
    next_steps = dict(_rows(_table_with_header(minutes_document, "Section 47 enquiry")))
    assert next_steps["ICPC date"] == "Tuesday 25 March 2025"
    assert next_steps["Review or next discussion"] == "Tuesday 18 March 2025"


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
    handling = [text for text in texts if text.startswith("Handling instruction:")]
    assert handling == ["Handling instruction: " + POLICE_HANDLING]
    assert not any("RESTRICTED" in text for text in texts)  # a retired classification word
    police = texts.index("West Midlands Police")
    locate = texts.index("Locate")
    assert police < texts.index(handling[0]) < locate  # the instruction sits under the agency it limits
    assert "Shared by: DC Lee Grant, Force CID" in texts
    assert "Seen with a known county lines associate." in texts
    assert "Three since 14 February." in texts
    assert not any("{%" in text or "{{" in text for text in texts)


def test_risk_grid_names_the_agencies_under_each_rating(minutes_document: DocumentObject) -> None:
    grid = _rows(_table_with_header(minutes_document, "Risk indicator"))
    assert grid == [
        ["Risk indicator", "Current", "Historic", "Not known", "Not present"],
        ["Repeated missing episodes", "West Midlands Police, Locate", "None", "None", "None"],
        ["Excluded from school", "None", "Locate", "West Midlands Police", "None"],
        ["Weapons", "None", "None", "None", "West Midlands Police, Locate"],
    ]
    # current and historic ratings are shaded, so they stand out among the not present
    table = _table_with_header(minutes_document, "Risk indicator")
    fills = [[cell._tc.xpath("./w:tcPr/w:shd/@w:fill") for cell in row.cells[1:3]] for row in table.rows[1:]]
    assert fills == [[["F4B6B6"], ["FFFFFF"]], [["FFFFFF"], ["FCE4B6"]], [["FFFFFF"], ["FFFFFF"]]]
    texts = [p.text for p in minutes_document.paragraphs]
    assert any(
        "(West Midlands Police, Locate)" in t and "2 current and 1 historic ratings" in t for t in texts
    )


def test_newlines_typed_in_a_field_stay_line_breaks(minutes_document: DocumentObject) -> None:
    reason = minutes_context()["reason"]
    assert "\n" in reason
    assert reason in [p.text for p in minutes_document.paragraphs]
    assert "<w:br/>" in _document_xml(render(MINUTES, minutes_context()))


def test_circulation_list_and_draft_sign_off(minutes_document: DocumentObject) -> None:
    bullets = [p.text for p in minutes_document.paragraphs if p.style.name == "List Bullet"]
    assert bullets[0] == "Priya Shah, Team Manager, Chair (Full copy)"
    assert (
        bullets[-1]
        == "Dr Kim Hart, Named Nurse (agency lead), Health (Copy with restricted information withheld)"
    )
    assert not any("(agency contact)" in bullet for bullet in bullets)
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
        "icpc_date": "No ICPC date set",
        "dissent": "No dissent was recorded.",
        "information_shared": [],
    }
    document = _open(render(MINUTES, context))
    details = dict(_rows(_table_with_header(document, "Date")))
    assert details["Initial or follow-up"] == "Initial"
    assert dict(_rows(_table_with_header(document, "Section 47 enquiry")))["ICPC date"] == "No ICPC date set"
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
    texts = [p.text for p in document.paragraphs]
    assert "Birmingham Safeguarding Children Partnership" in texts  # the partnership's name
    assert any(text.startswith("Version: 3") and "1 done, 1 chased" in text for text in texts)
    header = "\n".join(p.text for p in document.sections[0].header.paragraphs)
    assert "Birmingham Safeguarding Children Partnership" in header
    actions = _rows(_table_with_header(document, "Reference"))
    assert actions[0] == [
        "Reference",
        "Action",
        "Concerns",
        "Owner",
        "Assigned",
        "Due",
        "Completed",
        "Status",
        "Priority",
    ]
    assert actions[1] == [
        "SD-2025-0142-A1",
        "Complete the single assessment.",
        "CS-778812",
        "Sam Okafor, Children's social care",
        "04 Mar 2025",
        "11 Mar 2025",
        "10 Mar 2025 16:00",
        "Done",
        "High",
    ]
    assert actions[2][7] == "Escalated"
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 2"]
    assert headings == ["SD-2025-0142-A1: Done", "SD-2025-0142-A2: Escalated"]
    assert "Escalation: Not escalated" in texts and "Escalation: Escalated to the agency lead" in texts
    assert "Evidence: Assessment uploaded to the case record." in texts and "Evidence: None yet" in texts
    assert not any(text == "Escalation: 0" for text in texts)
    updates = [_rows(t) for t in document.tables if t.rows[0].cells[0].text == "When" and len(t.columns) == 3]
    assert updates == [
        [["When", "By", "Update"], ["10 Mar 2025 16:00", "Sam Okafor", "Assessment uploaded."]]
    ]
    chases = [_rows(t) for t in document.tables if t.rows[0].cells[0].text == "When" and len(t.columns) == 4]
    assert chases == [
        [
            ["When", "To whom", "Step", "How"],
            ["17 Mar 2025 09:00", "DC Lee Grant", "Reminder", "Slack message"],
            ["19 Mar 2025 09:00", "DI Ruth Bell", "Escalated to the agency lead", "E-mail"],
        ]
    ]
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
    context["risk_grid"]["rows"][0]["current"] = "<w:tc>{%tc endfor %}"
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
    assert _rows(_table_with_header(document, "Reference"))[1][1].startswith("{% for x in y %}<w:p>&amp;🚨")
    assert _rows(_table_with_header(document, "Agency"))[1][1] == "{{ marking }}"
    assert _rows(_table_with_header(document, "Risk indicator"))[1][1] == "<w:tc>{%tc endfor %}"
    # The document's structure is untouched: still one table row per action, one grid column per agency.
    assert len(_table_with_header(document, "Reference").rows) == 2
    assert len(_table_with_header(document, "Risk indicator").columns) == 5
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


def test_a_template_is_compiled_once_and_every_render_shows_its_own_values(monkeypatch) -> None:
    """Rendering keeps each template's compiled Jinja (by the template's text), never the
    values: the second render of the same template compiles nothing, gives the same parts
    for the same context, and shows a new context's values, typed text still inert."""
    from jinja2.sandbox import SandboxedEnvironment

    from bot.minutes import documents

    compiled: list[int] = []
    compile_source = SandboxedEnvironment.from_string

    def counting(self: Any, source: Any, *args: Any) -> Any:
        compiled.append(len(source))
        return compile_source(self, source, *args)

    monkeypatch.setattr(documents, "_RENDERING", documents._CompiledOnce())
    monkeypatch.setattr(SandboxedEnvironment, "from_string", counting)
    first = render(MINUTES, minutes_context())
    assert compiled, "the first render compiles the template"
    compiled.clear()
    assert _contents(render(MINUTES, minutes_context())) == _contents(first)
    hostile = render(MINUTES, _hostile_minutes())
    assert compiled == []
    text = _all_text(_open(hostile))
    assert "{{ 7*7 }} label" in text and "49" not in text
    assert " | ".join(HOSTILE) in [p.text for p in _open(hostile).paragraphs]
    assert render(ACTION_LOG, action_log_context()) and compiled, "another template is compiled"


def _contents(document: bytes) -> dict[str, bytes]:
    """Each part of a Word file by name: what it says, without the zip's own time stamps
    (written to two seconds, so two renders a moment apart may differ in them alone)."""
    with zipfile.ZipFile(io.BytesIO(document)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def test_the_render_writes_exactly_what_docxtpl_writes() -> None:
    """The bot's template keeps docxtpl's patched XML and resolves line breaks only in the
    paragraphs holding one: the document is byte for byte the one docxtpl itself makes
    with the same environment (hostile text, breaks and tabs included)."""
    from docxtpl import DocxTemplate

    from bot.minutes import documents

    for template, context in (
        (MINUTES, _hostile_minutes()),
        (MINUTES, minutes_context() | {"child_voice": "one\ntwo\tthree\r\nfour"}),
        (ACTION_LOG, action_log_context()),
    ):
        stock = DocxTemplate(str(template))
        stock.render(context, jinja_env=documents._RENDERING, autoescape=True)
        ours = documents._Template(str(template))
        ours.render(context, jinja_env=documents._RENDERING, autoescape=True)
        for part in ("body", "headers"):
            assert _xml_parts(ours, part) == _xml_parts(stock, part)


def _xml_parts(template: Any, which: str) -> list[str]:
    if which == "body":
        return [template.get_xml()]
    return [
        template.get_part_xml(part)
        for _, part in (
            *template.get_headers_footers(template.HEADER_URI),
            *template.get_headers_footers(template.FOOTER_URI),
        )
    ]


@pytest.mark.parametrize(
    "xml",
    [
        "",
        "no paragraphs at all\n",
        '<w:p><w:r><w:t xml:space="preserve">a\nb\tc</w:t></w:r></w:p>',
        '<w:body><w:p w:rsidR="1"><w:pPr><w:jc w:val="left"/></w:pPr><w:r><w:rPr><w:b/></w:rPr>'
        "<w:t>x\ny</w:t></w:r></w:p><w:p><w:r><w:t>plain</w:t></w:r></w:p>"
        "<w:p><w:r><w:t>tab\there\fpage\abell</w:t></w:r></w:p></w:body>",
        # a paragraph inside another (a text box): docxtpl's pattern ends at the first close
        "<w:p><w:r><w:t>outer\n</w:t></w:r><w:txbxContent><w:p><w:r><w:t>in\n</w:t></w:r></w:p>"
        "</w:txbxContent><w:r><w:t>after\n</w:t></w:r></w:p><w:p><w:r><w:t>next\n</w:t></w:r></w:p>",
        "<w:pPr>not a paragraph\n</w:pPr><w:p><w:r><w:t>a</w:t></w:r></w:p>between\n<w:p><w:r><w:t>b\n</w:t>"
        "</w:r></w:p>",
        "<w:p><w:r><w:t>never closed\n</w:t></w:r>",
        "<w:p><w:r><w:t>one\n</w:t></w:r></w:p><w:p><w:r><w:t>open\n</w:t></w:r>",
        # properties carried into the runs and paragraphs a tab, bell or form feed starts
        '<w:p><w:pPr><w:ind w:left="1"/></w:pPr><w:r w:rsidR="2"><w:rPr><w:i/></w:rPr><w:t>a\tb\ac\fd\ne</w:t>'
        '<w:t xml:space="preserve">f\tg</w:t></w:r><w:r><w:t>h\n</w:t></w:r></w:p>',
    ],
)
def test_line_breaks_are_resolved_as_docxtpl_resolves_them(xml: str) -> None:
    from docxtpl import DocxTemplate

    from bot.minutes import documents

    stock = DocxTemplate(io.BytesIO())
    assert documents._Template(io.BytesIO()).resolve_listing(xml) == stock.resolve_listing(xml)


_W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def _table(grid: int, rows: list[list[int]]) -> str:
    """A table with `grid` columns and rows of cells, each cell spanning the given count."""
    cells = [
        "<w:tr>"
        + "".join(
            "<w:tc>"
            + (f'<w:tcPr><w:gridSpan w:val="{span}"/></w:tcPr>' if span != 1 else "")
            + "<w:p/></w:tc>"
            for span in row
        )
        + "</w:tr>"
        for row in rows
    ]
    columns = '<w:gridCol w:w="1000"/>' * grid
    return f"<w:tbl><w:tblGrid>{columns}</w:tblGrid>{''.join(cells)}</w:tbl>"


@pytest.mark.parametrize(
    "tables",
    [
        [],
        [_table(3, [[1, 1, 1], [1, 1, 1]])],
        [_table(3, [[1, 2], [3]])],
        [_table(2, [[1, 1], [1, 1, 1]])],  # a column loop made a row longer: widened
        [_table(4, [[1, 1], [1, 2]])],  # fewer cells than columns: narrowed
        [_table(4, [[1, 1, 1, 1]]), _table(2, [[1, 1, 1]])],  # one of several needs it
        [_table(2, [])],  # no rows
    ],
)
def test_tables_are_fixed_as_docxtpl_fixes_them(tables: list[str]) -> None:
    from docxtpl import DocxTemplate
    from lxml import etree

    from bot.minutes import documents

    xml = f"<w:body {_W}>{''.join(tables)}<w:p/></w:body>"
    ours = documents._Template(io.BytesIO()).fix_tables(xml)
    stock = DocxTemplate(io.BytesIO()).fix_tables(xml)
    assert etree.tostring(ours) == etree.tostring(stock)


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


def _pdftotext() -> str | None:
    return shutil.which("pdftotext")


def _convert_all(office: str, documents: dict[str, bytes], tmp_path: Path) -> dict[str, list[str]]:
    """Every document through ONE LibreOffice run (each start costs seconds), then each PDF
    read back page by page as text (`pdftotext -layout`, pages split at form feeds)."""
    paths = []
    for name, content in documents.items():
        path = tmp_path / f"{name}.docx"
        path.write_bytes(content)
        paths.append(str(path))
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
            *paths,
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )
    pdftotext = _pdftotext()
    assert pdftotext is not None
    pages: dict[str, list[str]] = {}
    for name in documents:
        pdf = tmp_path / f"{name}.pdf"
        assert pdf.is_file() and pdf.stat().st_size > 0, name
        text = subprocess.run(
            [pdftotext, "-layout", str(pdf), "-"], check=True, capture_output=True, text=True
        ).stdout
        pages[name] = [page for page in text.split("\f") if page.strip()]
        assert len(pages[name]) == _pdf_pages(pdf), name
    return pages


def _words(page: str) -> set[str]:
    """Whole words and references as a reader sees them (pdftotext gives a non-breaking
    hyphen as '-', so a copied reference is searchable)."""
    return set(re.findall(r"[\w'/-]+", page.replace("\u2011", "-")))


def test_documents_read_as_a_person_would(tmp_path: Path) -> None:
    """The minutes (full and withheld copies, and one full of hostile text), the action log
    and the panel agenda and minutes, rendered by LibreOffice and read back from the PDF."""
    from bot.documents.specimens import panel_agenda_specimen, panel_minutes_specimen
    from bot.panel.documents import PANEL_AGENDA_TEMPLATE, PANEL_MINUTES_TEMPLATE

    office = _office()
    if office is None or _pdftotext() is None:
        if IN_CI:
            pytest.fail("LibreOffice (soffice) and pdftotext must be installed in CI: .ci/run installs them")
        pytest.skip(
            "LibreOffice (soffice) or pdftotext is not installed; CI installs them and runs this check"
        )
    pages = _convert_all(
        office,
        {
            "full": render(MINUTES, minutes_specimen()),
            "withheld": render(MINUTES, minutes_specimen(withheld=True)),
            "hostile": render(MINUTES, _hostile_minutes()),
            "action_log": render(ACTION_LOG, action_log_specimen()),
            "agenda": render(TEMPLATES / PANEL_AGENDA_TEMPLATE, panel_agenda_specimen()),
            "panel_minutes": render(
                TEMPLATES / PANEL_MINUTES_TEMPLATE, panel_minutes_specimen() | {"network_picture": ""}
            ),
            "panel_withheld": render(
                TEMPLATES / PANEL_MINUTES_TEMPLATE,
                panel_minutes_specimen(withheld=True) | {"network_picture": ""},
            ),
        },
        tmp_path,
    )
    # OFFICIAL-SENSITIVE at the top and bottom of every page of every document
    for name, document_pages in pages.items():
        for number, page in enumerate(document_pages, 1):
            assert page.count(MARKING) >= 2, f"{name} page {number}"
            assert f"Page {number} of {len(document_pages)}" in " ".join(page.split()), (
                f"{name} page {number}"
            )
    full, withheld = "\n".join(pages["full"]), "\n".join(pages["withheld"])
    flat = " ".join(full.split())
    for heading in MINUTES_HEADINGS:
        assert heading in flat, heading
    # every label a chair looks for is there, filled
    for label in (
        "Minute-taker Tom Reed",
        "Referral received Monday 03 March 2025",
        "Urgency Urgent",
        "Held within the timescale Yes",
        "NHS number 943 476 5919",
        "Legal status Child in need",
    ):
        assert label in flat, label
    # no word or reference is split over two lines, in the tables above all
    words = set().union(*(_words(page) for page in pages["full"] + pages["action_log"]))
    for whole in (
        "Priority",
        "Concerns",
        "Assigned",
        "Immediate",
        "Completed",
        "Reference",
        "Risk",
        "Midlands",
        "Historic",
        "SD-2025-0142",
        "SD-2025-0142-A1",
        "CS-778812",
    ):
        assert whole in words, whole
    assert not re.search(r"\b(Priorit|Concer|Assigne|Immed)\s*$", full + "\n".join(pages["action_log"]), re.M)
    # a handling instruction, not a classification word; the withheld copy says so and holds no text
    assert "RESTRICTED" not in full and "RESTRICTED" not in withheld
    instruction = " ".join(("Handling instruction: " + POLICE_HANDLING).split())
    assert instruction in flat and instruction in " ".join(withheld.split())
    assert "Seen with a known county lines associate." in flat
    assert "county lines associate" not in withheld
    assert "The full text is withheld from this copy" in " ".join(withheld.split())
    assert "Copy with restricted information withheld" in withheld
    # typed text stays text, even at 20,000 characters
    hostile = " ".join("\n".join(pages["hostile"]).split())
    assert "{{ 7*7 }}" in hostile and "{% for x in y %}" in hostile and "<w:p>" in hostile
    assert len(pages["hostile"]) >= 3
    # the panel's documents: whole references, headers and values in their tables too (the
    # agenda's eight columns split "Screeni/ng" and "Significa/nt" before it went landscape)
    panel_words = set().union(*(_words(page) for page in pages["agenda"] + pages["panel_minutes"]))
    for whole in (
        "CEP-2026-0002-A04",
        "CX-000045",
        "Priority",
        "Status",
        "Representatives",
        "Screening",
        "Item",
        "Significant",
        "Moderate",
        "confidentiality",
        "applicable",
        "CS-660021",
    ):
        assert whole in panel_words, whole
    # no reference is cut at a hyphen at the end of a line, in any document
    for name, document_pages in pages.items():
        cut = re.search(r"\b[A-Z]{2,4}-(\d{4}-)?$", "\n".join(document_pages), re.M)
        assert cut is None, f"{name}: {cut.group(0) if cut else ''}"
    agenda = " ".join("\n".join(pages["agenda"]).split())
    assert "Any other business" in agenda and "Next panel Tuesday 08 December 2026" in agenda
    # each panel document says which version it is and what changed since the last
    assert "Version: 2, generated 22 December 2026 at 09:00. Since version 1 (" in agenda
    assert "Agenda · version 2" in agenda
    panel = " ".join("\n".join(pages["panel_minutes"]).split())
    assert "Version: 2 (DRAFT). Since version 1 (24 November 2026 12:45): changed Attendance;" in panel
    # the panel's withheld copy: instruction kept, text and police-only intelligence gone
    withheld_panel = " ".join("\n".join(pages["panel_withheld"]).split())
    assert "Seen with a known county lines associate." in panel
    assert "T uses a grey Audi" in panel and "This copy: Full copy." in panel
    assert "Seen with a known county lines associate." not in withheld_panel
    assert "T uses a grey Audi" not in withheld_panel
    assert "Handling instruction: Police information: not to be shared with the family" in withheld_panel
    assert "The full text is withheld from this copy under its handling instruction." in withheld_panel
    assert "Withheld from this copy by its handling code. It is in the copies sent to" in withheld_panel
    assert "This copy: Copy with restricted information withheld." in withheld_panel
    assert "(Copy with restricted information withheld)" in withheld_panel  # the circulation list
    # the strategy minutes say which parts changed, not merely that something did
    assert "Since version 1 (04 March 2025 12:10): changed Meeting details (end time); Decisions;" in flat
    # the action log names the partnership and says what changed
    log = " ".join("\n".join(pages["action_log"]).split())
    assert "Birmingham Safeguarding Children Partnership" in log and "1 done, 1 chased" in log
    assert "Escalation: Not escalated" in log and "Evidence:" in log


def test_check_names_a_tag_the_context_does_not_provide(tmp_path: Path) -> None:
    """`python -m bot check` renders each template against its specimen: a tag a partnership
    mistyped while restyling is named by file and tag; the shipped templates pass."""
    from bot.documents.checks import template_problems

    assert template_problems(TEMPLATES) == []
    for name in TEMPLATES.glob("*.docx"):
        shutil.copy(name, tmp_path / name.name)
    target = tmp_path / MINUTES.name
    source = zipfile.ZipFile(io.BytesIO(target.read_bytes()))
    rewritten = io.BytesIO()
    with zipfile.ZipFile(rewritten, "w") as out:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "word/document.xml":
                data = data.replace(b"{{ child.nhs_number }}", b"{{ child.nhs }}", 1)
                assert b"{{ child.nhs }}" in data
            out.writestr(item, data)
    target.write_bytes(rewritten.getvalue())
    assert template_problems(tmp_path) == [
        "templates/strategy_discussion_minutes.docx: uses 'nhs', which the document's context does not provide"
    ]


# (f) what changed since the version before, part by part


def test_a_version_names_the_parts_and_fields_that_changed() -> None:
    from datetime import UTC, datetime

    from bot.documents.changes import Part, PreviousVersion, changes_since, fingerprints
    from bot.working_days import WorkingCalendar

    calendar = WorkingCalendar()
    parts = (
        Part("Meeting details", ("end_time", "chair"), words={"end_time": "end time"}),
        Part("Cases", ("cases",), itemised="reference", item_label="case", ignore=("number",)),
        Part("Decisions", ("decisions",)),
        Part("Information", ("information",)),
    )
    before = {
        "end_time": "15:00",
        "chair": "Ruth",
        "cases": [
            {"number": 1, "reference": "CS-1", "decision": "Continue", "next_review": "8 Dec"},
            {"number": 2, "reference": "CS-2", "decision": "Step up", "next_review": ""},
        ],
        "decisions": [{"topic": "Section 47", "outcome": "Yes"}],
        "information": [{"fingerprint": "police-v1", "sections": ["Seen with T."]}],
    }
    previous = PreviousVersion(1, datetime(2026, 11, 10, 15, 0, tzinfo=UTC), fingerprints(before, parts))
    assert changes_since(before, None, parts, calendar) == "First version."
    assert changes_since(before, previous, parts, calendar) == (
        "Since version 1 (10 November 2026 15:00): no change to the record."
    )
    after = {
        **before,
        "end_time": "15:20",
        "cases": [
            {"number": 1, "reference": "CS-2", "decision": "Step up", "next_review": ""},
            {"number": 2, "reference": "CS-3", "decision": "Continue", "next_review": "8 Dec"},
        ],
        # the withheld copy: its text is gone, but its fingerprint is of the full text
        "information": [{"fingerprint": "police-v1", "sections": []}],
    }
    assert changes_since(after, previous, parts, calendar) == (
        "Since version 1 (10 November 2026 15:00): changed Meeting details (end time); "
        "case CS-3 (added); case CS-1 (removed)."
    )
    after["cases"][0]["next_review"] = "22 Dec"
    after["decisions"] = [{"topic": "Section 47", "outcome": "No"}]
    said = changes_since(after, previous, parts, calendar)
    assert "case CS-2 (next review)" in said and said.endswith("; Decisions.")
    # a version written before fingerprints were kept says so, rather than guessing
    assert changes_since(after, PreviousVersion(1, previous.at, {}), parts, calendar) == (
        "Since version 1 (10 November 2026 15:00): which parts changed was not kept for that version."
    )


def test_a_decision_recorded_only_in_words_is_not_called_not_recorded() -> None:
    from bot.documents.minutes import _decisions
    from bot.minutes.models import Decision

    rows = {
        row["topic"]: row
        for row in _decisions(
            {
                "immediate_safety": Decision(
                    meeting_id=1, topic="immediate_safety", reason="Safety plan agreed."
                )
            }
        )
    }
    safety = next(row for topic, row in rows.items() if topic.startswith("Immediate safety"))
    assert safety["outcome"] == "As recorded in the detail" and safety["reason"] == "Safety plan agreed."
    legal = next(row for topic, row in rows.items() if topic.startswith("Legal action"))
    assert legal["outcome"] == "Not recorded" and legal["reason"] == "None recorded"


def test_references_in_typed_text_never_split_and_the_words_around_them_stay() -> None:
    from bot.documents.vocabulary import references_unbroken

    typed = "Make the NRM referral for CS-778812 and CEP-2026-0002-A04; a well-known park."
    assert references_unbroken(typed) == (
        "Make the NRM referral for CS\u2011778812 and CEP\u20112026\u20110002\u2011A04; a well-known park."
    )


def test_the_risk_grid_says_all_agencies_rather_than_repeating_every_name() -> None:
    from bot.agency_updates.service import AgencyUpdateSummary
    from bot.documents.minutes import SharedUpdate, _risk_grid
    from bot.schedules import default_schedules_dir, load_partnership

    partnership = load_partnership(default_schedules_dir())
    indicators = [i.code for i in partnership.agency_updates.risk_indicators]

    def update(name: str, ratings: dict[str, str]) -> SharedUpdate:
        summary = AgencyUpdateSummary(
            name, name, "submitted", False, False, None, 1, {}, ratings, "", (), False, {}
        )
        return SharedUpdate(summary, "other", None)

    absent = dict.fromkeys(indicators, "not_present")
    three = [
        update("Police", absent | {indicators[0]: "current"}),
        update("Health", absent),
        update("Locate", absent | {indicators[0]: "current"}),
    ]
    rows = _risk_grid(three, partnership)["rows"]
    assert rows[0]["current"] == "Police, Locate" and rows[0]["not_present"] == "Health"
    assert rows[1]["not_present"] == "All 3 agencies" and rows[1]["current"] == "None"
    # two agencies are always named
    assert _risk_grid(three[:2], partnership)["rows"][1]["not_present"] == "Police, Health"
