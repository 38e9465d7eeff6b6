"""Regenerate the Word templates in ``templates/`` from code.

The generated ``.docx`` files are the source a partnership administrator edits (restyles,
adds a letterhead) in Word; this script exists so the starting point is reproducible and
reviewable. Re-running it overwrites any restyling, so only run it on purpose:

    python scripts/make_word_templates.py [output-folder]

Tags are docxtpl's Jinja dialect: ``{{ x }}`` for a value, ``{%p ... %}`` for a tag that
replaces its whole paragraph, ``{%tr ... %}`` for a whole table row and ``{%tc ... %}`` for
a whole table cell (used for the risk grid, whose columns are the agencies).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from docx.table import Table
from docx.text.paragraph import Paragraph

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
HEADER_FILL = "D9E2F3"


def _new_document(*, landscape: bool) -> DocumentObject:
    """A blank document with readable defaults; styles stay named so Word can restyle them."""
    document = Document()
    normal = document.styles["Normal"]
    normal.font.name = "Arial"
    normal.font.size = Pt(10)
    for name in ("Title", "Heading 1", "Heading 2", "Heading 3"):
        document.styles[name].font.name = "Arial"
    section = document.sections[0]
    if landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = Cm(29.7), Cm(21.0)
    else:
        section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Cm(2.0))
    return document


def _field(paragraph: Paragraph, instruction: str) -> None:
    """Insert a Word field (PAGE, NUMPAGES) that Word and LibreOffice update on display."""
    run = paragraph.add_run()
    begin = OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    run._r.append(begin)
    run = paragraph.add_run()
    text = OxmlElement("w:instrText")
    text.set(qn("xml:space"), "preserve")
    text.text = f" {instruction} "
    run._r.append(text)
    run = paragraph.add_run()
    separate = OxmlElement("w:fldChar")
    separate.set(qn("w:fldCharType"), "separate")
    run._r.append(separate)
    paragraph.add_run("1")
    run = paragraph.add_run()
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    run._r.append(end)


def _header_and_footer(document: DocumentObject, header_detail: str, footer_detail: str) -> None:
    """The protective marking at the top and bottom of every page (one section, no first-page
    exception), so a printed page on its own is still marked."""
    section = document.sections[0]
    section.different_first_page_header_footer = False
    header = section.header.paragraphs[0]
    header.alignment = WD_ALIGN_PARAGRAPH.CENTER
    marking = header.add_run("{{ marking }}")
    marking.bold = True
    marking.font.color.rgb = RGBColor(0xC0, 0x00, 0x00)
    detail = section.header.add_paragraph(header_detail)
    detail.alignment = WD_ALIGN_PARAGRAPH.CENTER
    detail.runs[0].font.size = Pt(8)

    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    marking = footer.add_run("{{ marking }}")
    marking.bold = True
    marking.font.color.rgb = RGBColor(0xC0, 0x00, 0x00)
    line = section.footer.add_paragraph()
    line.alignment = WD_ALIGN_PARAGRAPH.CENTER
    line.add_run(footer_detail + " · Page ")
    _field(line, "PAGE")
    line.add_run(" of ")
    _field(line, "NUMPAGES")
    for run in line.runs:
        run.font.size = Pt(8)


def _shade(cell_xml: OxmlElement, fill: str) -> None:
    properties = cell_xml.get_or_add_tcPr()
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    properties.append(shading)


def _table(
    document: DocumentObject,
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    widths: Sequence[float] | None = None,
) -> Table:
    """A real table whose first row is a header row Word repeats on each page."""
    table = document.add_table(rows=1 + len(rows), cols=len(headers))
    table.style = document.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    header_row = table.rows[0]
    row_properties = header_row._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    row_properties.append(repeat)
    for cell, text in zip(header_row.cells, headers, strict=True):
        cell.paragraphs[0].add_run(text).bold = True
        _shade(cell._tc, HEADER_FILL)
    for row, values in zip(table.rows[1:], rows, strict=True):
        for cell, text in zip(row.cells, values, strict=True):
            cell.paragraphs[0].add_run(text)
    if widths:
        _set_widths(table, widths)
    return _small(table)


def _small(table: Table, size: float = 9.0) -> Table:
    """Table text a point smaller than the body, so columns hold whole words."""
    for row in table.rows:
        for cell in row.cells:
            for paragraph in cell.paragraphs:
                for run in paragraph.runs:
                    run.font.size = Pt(size)
    return table


def _set_widths(table: Table, widths: Sequence[float]) -> None:
    """Fixed column widths: the grid (read by LibreOffice) and each cell (read by Word)."""
    table.autofit = False
    for column, width in zip(table.columns, widths, strict=True):
        column.width = Cm(width)
    for row in table.rows:
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = Cm(width)


def _loop_table(
    document: DocumentObject,
    headers: Sequence[str],
    loop: str,
    cells: Sequence[str],
    widths: Sequence[float] | None = None,
) -> Table:
    """A header row, then one row per item: ``{%tr for ... %}`` / cells / ``{%tr endfor %}``."""
    blank = [""] * (len(headers) - 1)
    return _table(
        document,
        headers,
        [[f"{{%tr {loop} %}}", *blank], list(cells), ["{%tr endfor %}", *blank]],
        widths,
    )


def _key_values(document: DocumentObject, rows: Sequence[tuple[str, str]]) -> Table:
    """A two-column label/value table (no header row: the labels are the headers)."""
    table = document.add_table(rows=len(rows), cols=2)
    table.style = document.styles["Table Grid"]
    for row, (label, value) in zip(table.rows, rows, strict=True):
        row.cells[0].paragraphs[0].add_run(label).bold = True
        _shade(row.cells[0]._tc, HEADER_FILL)
        row.cells[1].paragraphs[0].add_run(value)
    _set_widths(table, [5.0, 12.0])
    document.add_paragraph()
    return table


def _labelled(document: DocumentObject, label: str, value: str) -> Paragraph:
    paragraph = document.add_paragraph()
    paragraph.add_run(label).bold = True
    paragraph.add_run(value)
    return paragraph


def _sign_off(document: DocumentObject) -> None:
    """Who approved the minutes (or that they are a draft), who they went to, which version."""
    document.add_heading("Sign-off and circulation", level=1)
    document.add_paragraph("{%p if state == 'APPROVED' %}")
    _labelled(document, "Approved by ", "{{ approved_by }} on {{ approved_at }}.")
    document.add_paragraph("{%p else %}")
    _labelled(document, "DRAFT: ", "not yet approved by the chair ({{ chair }}).")
    document.add_paragraph("{%p endif %}")
    document.add_paragraph("Circulated to:")
    document.add_paragraph("{%p for person in circulation %}")
    document.add_paragraph(
        "{{ person.name }}, {{ person.agency }}{% if person.receives %} ({{ person.receives }}){% endif %}",
        style="List Bullet",
    )
    document.add_paragraph("{%p endfor %}")
    closing = document.add_paragraph("Version {{ version }} · {{ state }} · generated {{ generated_at }}")
    closing.runs[0].italic = True


def _action_updates(document: DocumentObject, widths: Sequence[float]) -> None:
    """One action's updates as a table, or a line saying there are none."""
    document.add_paragraph("{%p if action.updates %}")
    _loop_table(
        document,
        ["When", "By", "Update"],
        "for update in action.updates",
        ["{{ update.at }}", "{{ update.by }}", "{{ update.text }}"],
        widths,
    )
    document.add_paragraph("{%p else %}")
    document.add_paragraph("No updates recorded.")
    document.add_paragraph("{%p endif %}")


def build_minutes() -> DocumentObject:
    """Strategy discussion minutes: every section of DESIGN.md §4, in its order."""
    document = _new_document(landscape=False)
    document.core_properties.title = "Strategy discussion minutes"
    _header_and_footer(
        document,
        "{{ partnership }} · Strategy discussion {{ reference }}",
        "Version {{ version }} · {{ state }} · {{ copy }} · generated {{ generated_at }}",
    )
    document.add_paragraph("Strategy discussion minutes: {{ reference }}", style="Title")
    document.add_paragraph("{{ partnership }}")
    _labelled(document, "Version: ", "{{ version }} ({{ state }}). {{ changes }}")
    _labelled(document, "This copy: ", "{{ copy }}.")

    document.add_heading("Protective marking and confidentiality", level=1)
    _red(document, "{{ marking }}")
    document.add_paragraph("{{ confidentiality }}")

    document.add_heading("Meeting details", level=1)
    _key_values(
        document,
        [
            ("Date", "{{ date }}"),
            ("Time", "{{ time }} to {{ end_time }}"),
            ("Format", "{{ format }}"),
            ("Chair", "{{ chair }}"),
            ("Minute-taker", "{{ minute_taker }}"),
            ("Initial or follow-up", "{{ kind }}{% if follows %} (follows {{ follows }}){% endif %}"),
            ("Referral received", "{{ referral }}"),
            ("Urgency", "{{ urgency }}"),
            ("To be held by", "{{ deadline }}"),
            (
                "Held within the timescale",
                "{{ held_within }}{% if late_reason %} (why later: {{ late_reason }}){% endif %}",
            ),
            ("Out of hours", "{{ out_of_hours }}"),
            ("Right Help Right Time level", "{{ rhrt_level }}"),
            ("Concerns", "{{ concerns }}"),
        ],
    )

    document.add_heading("Children", level=1)
    document.add_paragraph("{%p for child in children %}")
    document.add_heading("{{ child.name }} ({{ child.case_reference }})", level=2)
    _key_values(
        document,
        [
            ("Name", "{{ child.name }}"),
            ("Date of birth", "{{ child.date_of_birth }}"),
            ("Case reference", "{{ child.case_reference }}"),
            ("Sex", "{{ child.sex }}"),
            ("Ethnicity", "{{ child.ethnicity }}"),
            ("Disability", "{{ child.disability }}"),
            ("First language", "{{ child.first_language }}"),
            ("Interpreter needed", "{{ child.interpreter }}"),
            ("NHS number", "{{ child.nhs_number }}"),
            ("Legal status", "{{ child.legal_status }}"),
            ("School", "{{ child.school }}"),
            ("Siblings and others at risk", "{{ child.siblings }}"),
            ("Parents and carers with parental responsibility", "{{ child.parents }}"),
        ],
    )
    document.add_paragraph("{%p endfor %}")

    document.add_heading("Attendance", level=1)
    _loop_table(
        document,
        ["Agency", "Name", "Role", "Status"],
        "for person in attendance",
        ["{{ person.agency }}", "{{ person.name }}", "{{ person.role }}", "{{ person.status }}"],
        [4.6, 4.0, 5.2, 3.2],
    )

    document.add_heading("Reason for the discussion", level=1)
    document.add_paragraph("{{ reason }}")
    document.add_heading("Action already taken", level=2)
    document.add_paragraph("{{ action_taken }}")

    document.add_heading("Information shared by agency", level=1)
    document.add_paragraph("{%p if not information_shared %}")
    document.add_paragraph("No agency information was recorded.")
    document.add_paragraph("{%p endif %}")
    document.add_paragraph("{%p for update in information_shared %}")
    document.add_heading("{{ update.agency }}", level=2)
    _labelled(document, "Shared by: ", "{{ update.author }}, {{ update.role }}")
    _labelled(document, "Lawful basis: ", "{{ update.lawful_basis }}")
    document.add_paragraph("{%p if update.handling %}")
    _red(document, "Handling instruction: {{ update.handling }}")
    document.add_paragraph("{%p endif %}")
    document.add_paragraph("{%p if update.withheld %}")
    document.add_paragraph("{{ update.withheld_note }}").runs[0].italic = True
    document.add_paragraph("{%p endif %}")
    document.add_paragraph("{%p for part in update.sections %}")
    document.add_heading("{{ part.label }}", level=3)
    document.add_paragraph("{{ part.text }}")
    document.add_paragraph("{%p endfor %}")
    document.add_paragraph("{%p endfor %}")

    document.add_heading("The child's voice", level=1)
    document.add_paragraph("{{ child_voice }}")

    document.add_heading("Risk indicators", level=1)
    document.add_paragraph(
        "Which agencies rated each indicator current, historic, not known or not present "
        "({{ risk_grid.agencies | join(', ') }}). Current is shaded red and historic amber. "
        "{{ risk_grid.summary }}."
    )
    _loop_table(
        document,
        ["Risk indicator", "Current", "Historic", "Not known", "Not present"],
        "for row in risk_grid.rows",
        [
            "{{ row.indicator }}",
            "{% cellbg row.current_shade %}{{ row.current }}",
            "{% cellbg row.historic_shade %}{{ row.historic }}",
            "{{ row.not_known }}",
            "{{ row.not_present }}",
        ],
        [4.2, 3.2, 3.2, 3.2, 3.2],
    )

    document.add_heading("Risk analysis", level=1)
    for label, name in (
        ("Harm", "harm"),
        ("Likelihood", "likelihood"),
        ("Protective factors", "protective_factors"),
        ("Extra-familial context", "extra_familial"),
    ):
        document.add_heading(label, level=2)
        document.add_paragraph(f"{{{{ risk_analysis.{name} }}}}")

    document.add_heading("Decisions", level=1)
    _loop_table(
        document,
        ["Decision", "Outcome", "Detail"],
        "for decision in decisions",
        ["{{ decision.topic }}", "{{ decision.outcome }}", "{{ decision.reason }}"],
        [4.6, 4.4, 8.0],
    )

    document.add_heading("Immediate safety plan", level=1)
    document.add_paragraph("{{ safety_plan }}")

    document.add_heading("Action plan", level=1)
    document.add_paragraph("{%p if not actions %}")
    document.add_paragraph("No actions were agreed.")
    document.add_paragraph("{%p else %}")
    _loop_table(
        document,
        ["Reference", "Action", "Owner", "Due", "Priority"],
        "for action in actions",
        [
            "{{ action.reference }}",
            "{{ action.text }} (concerns: {{ action.concerns }})",
            "{{ action.owner }}, {{ action.agency }}",
            "{{ action.due }}",
            "{{ action.priority }}",
        ],
        [3.4, 6.0, 3.6, 2.0, 2.0],
    )
    document.add_paragraph("{%p endif %}")

    document.add_heading("Next steps", level=1)
    _key_values(
        document,
        [
            ("Section 47 enquiry", "{{ section_47 }}"),
            ("ICPC date", "{{ icpc_date }}"),
            ("Initial child protection conference", "{{ icpc }}"),
            ("Assessment to be completed by", "{{ assessment_deadline }}"),
            ("Review or next discussion", "{{ review_date }}"),
        ],
    )
    document.add_paragraph("{{ next_steps }}")

    document.add_heading("Dissent and escalation", level=1)
    document.add_paragraph("{{ dissent }}")

    _sign_off(document)
    return document


def build_action_log() -> DocumentObject:
    """Action log: every action with status and dates, then each one's detail, updates and chases."""
    document = _new_document(landscape=True)
    document.core_properties.title = "Action log"
    _header_and_footer(
        document,
        "{{ partnership }} · Action log {{ reference }}",
        "Version {{ version }} · generated {{ generated_at }}",
    )
    document.add_paragraph("{{ title }}", style="Title")
    document.add_paragraph("{{ partnership }}")
    _labelled(document, "Covers: ", "{{ reference }}")
    _labelled(document, "Version: ", "{{ version }}, generated {{ generated_at }}. {{ changes }}")

    document.add_heading("Actions", level=1)
    document.add_paragraph("{%p if not actions %}")
    document.add_paragraph("No actions were agreed.")
    document.add_paragraph("{%p else %}")
    _loop_table(
        document,
        ["Reference", "Action", "Concerns", "Owner", "Assigned", "Due", "Completed", "Status", "Priority"],
        "for action in actions",
        [
            "{{ action.reference }}",
            "{{ action.text }}",
            "{{ action.concerns }}",
            "{{ action.owner }}, {{ action.agency }}",
            "{{ action.assigned }}",
            "{{ action.due }}",
            "{{ action.completed }}",
            "{{ action.status }}",
            "{{ action.priority }}",
        ],
        [3.4, 6.0, 2.6, 3.6, 2.1, 2.1, 2.1, 1.8, 2.0],
    )
    document.add_paragraph("{%p endif %}")

    document.add_heading("Each action: escalation, evidence, updates and chases", level=1)
    document.add_paragraph("{%p for action in actions %}")
    document.add_heading("{{ action.reference }}: {{ action.status }}", level=2)
    document.add_paragraph("{{ action.text }}")
    _labelled(document, "Raised at: ", "{{ action.meeting }}")
    _labelled(document, "Escalation: ", "{{ action.escalation_level }}")
    _labelled(document, "Evidence: ", "{{ action.evidence }}")
    document.add_heading("Updates", level=3)
    _action_updates(document, [4.0, 5.0, 16.7])
    document.add_heading("Chase history", level=3)
    document.add_paragraph("{%p if action.chases %}")
    _loop_table(
        document,
        ["When", "To whom", "Step", "How"],
        "for chase in action.chases",
        ["{{ chase.at }}", "{{ chase.to }}", "{{ chase.step }}", "{{ chase.via }}"],
        [4.0, 8.0, 7.0, 6.7],
    )
    document.add_paragraph("{%p else %}")
    document.add_paragraph("No chases sent.")
    document.add_paragraph("{%p endif %}")
    document.add_paragraph("{%p endfor %}")
    return document


def _red(document: DocumentObject, text: str) -> Paragraph:
    """A bold red line, for the marking and for what must not reach the family."""
    paragraph = document.add_paragraph()
    run = paragraph.add_run(text)
    run.bold = True
    run.font.color.rgb = RGBColor(0xC0, 0x00, 0x00)
    return paragraph


def _marking_block(document: DocumentObject) -> None:
    document.add_heading("Protective marking and confidentiality", level=1)
    _red(document, "{{ marking }}")
    document.add_paragraph("{{ confidentiality }}")


def _or_else(value: str, fallback: str) -> str:
    """Print a value, or say plainly that there is none: a blank reads as a gap in the record."""
    return f"{{% if {value} %}}{{{{ {value} }}}}{{% else %}}{fallback}{{% endif %}}"


def _carried_actions(document: DocumentObject) -> None:
    """Open actions from earlier sittings, which the panel reviews first (agenda and minutes)."""
    document.add_heading("Actions from last time", level=1)
    document.add_paragraph("{%p if not actions_from_last_time %}")
    document.add_paragraph("No open actions were carried forward from earlier panels.")
    document.add_paragraph("{%p else %}")
    _loop_table(
        document,
        ["Ref", "Action", "Owner", "Agency", "Due", "Status", "Raised at"],
        "for action in actions_from_last_time",
        [
            "{{ action.reference }}",
            "{{ action.text }}",
            "{{ action.owner }}",
            "{{ action.agency }}",
            "{{ action.due }}",
            "{{ action.status }}",
            "{{ action.meeting }}",
        ],
        [3.4, 3.9, 1.9, 1.9, 1.7, 1.5, 2.7],
    )
    document.add_paragraph("{%p endif %}")


def _contexts(document: DocumentObject) -> None:
    """Suspected perpetrators, locations and peer groups: each with the cases it links."""
    for heading, name, column, empty in (
        ("Suspected perpetrators", "perpetrators", "Suspected perpetrator", "No suspected perpetrators"),
        ("Locations", "locations", "Location", "No locations"),
        ("Peer groups", "peer_groups", "Peer group", "No peer groups"),
    ):
        document.add_heading(heading, level=1)
        document.add_paragraph(f"{{%p if not {name} %}}")
        document.add_paragraph(f"{empty} were recorded for this panel.")
        document.add_paragraph("{%p else %}")
        _loop_table(
            document,
            [column, "Linked cases"],
            f"for item in {name}",
            ["{{ item.label }}", "{{ item.linked }}"],
            [7.0, 10.0],
        )
        document.add_paragraph("{%p endif %}")


def build_panel_minutes() -> DocumentObject:
    """Criminal Exploitation Panel minutes: DESIGN.md §4's panel record, each case under VOLT."""
    document = _new_document(landscape=False)
    document.core_properties.title = "Criminal Exploitation Panel minutes"
    _header_and_footer(
        document,
        "{{ partnership }} · {{ panel }} {{ reference }}",
        "Version {{ version }} · {{ state }} · {{ copy }} · generated {{ generated_at }}",
    )
    document.add_paragraph("{{ panel }}: minutes {{ reference }}", style="Title")
    document.add_paragraph("{{ partnership }}")
    _labelled(document, "Version: ", "{{ version }} ({{ state }}). {{ changes }}")
    _labelled(document, "This copy: ", "{{ copy }}.")
    _marking_block(document)

    document.add_heading("Meeting details", level=1)
    _key_values(
        document,
        [
            ("Panel", "{{ panel }}"),
            ("Date", "{{ date }}"),
            ("Time", "{{ time }}"),
            ("Chair", "{{ chair }}"),
            ("Minute-taker", "{{ minute_taker }}"),
        ],
    )

    document.add_heading("Attendance", level=1)
    _loop_table(
        document,
        ["Agency", "Name", "Role", "Status"],
        "for person in attendance",
        ["{{ person.agency }}", "{{ person.name }}", "{{ person.role }}", "{{ person.status }}"],
        [4.5, 4.5, 4.5, 3.5],
    )

    _carried_actions(document)

    document.add_heading("Cases", level=1)
    document.add_paragraph("{%p if not cases %}")
    document.add_paragraph("No cases were discussed.")
    document.add_paragraph("{%p endif %}")
    document.add_paragraph("{%p for case in cases %}")
    document.add_heading("{{ case.number }}. {{ case.reference }} — {{ case.subject }}", level=2)
    _key_values(
        document,
        [
            ("Name", "{{ case.name }}"),
            ("Date of birth", _or_else("case.date_of_birth", "Not recorded")),
            ("Section", "{{ case.section }}"),
            ("Risk level", "{{ case.risk_level }}"),
            ("Screening result", "{{ case.screening_result }}"),
            ("Plan status", "{{ case.plan_status }}"),
            ("Strategy discussion and ICPC", "{{ case.discussion }}"),
        ],
    )
    document.add_heading("Reasons for discussion", level=3)
    document.add_paragraph("{{ case.reasons }}")

    document.add_heading("Agency updates", level=3)
    document.add_paragraph("{%p if not case.updates %}")
    document.add_paragraph("No agency updates were received for this panel.")
    document.add_paragraph("{%p endif %}")
    document.add_paragraph("{%p for update in case.updates %}")
    document.add_heading("{{ update.agency }}", level=4)
    _labelled(
        document,
        "Shared by: ",
        "{{ update.author }}, {{ update.role }}{% if update.late %} (received after the cut-off){% endif %}",
    )
    document.add_paragraph("{%p if update.restricted %}")
    _red(document, "Handling instruction: {{ update.restriction }}")
    document.add_paragraph("{%p endif %}")
    document.add_paragraph("{%p if update.withheld %}")
    document.add_paragraph("{{ update.withheld_note }}").runs[0].italic = True
    document.add_paragraph("{%p endif %}")
    document.add_paragraph("{%p if update.current_risks %}")
    _labelled(document, "Current risks: ", "{{ update.current_risks }}")
    document.add_paragraph("{%p endif %}")
    document.add_paragraph("{%p for part in update.sections %}")
    document.add_paragraph().add_run("{{ part.label }}").bold = True
    document.add_paragraph("{{ part.text }}")
    document.add_paragraph("{%p endfor %}")
    document.add_paragraph("{%p endfor %}")

    for heading, name in (
        ("Victims", "victims"),
        ("Offenders", "offenders"),
        ("Locations", "locations"),
        ("Themes", "themes"),
    ):
        document.add_heading(heading, level=3)
        document.add_paragraph(_or_else(f"case.{name}", "Nothing recorded."))

    document.add_heading("Missing episodes and return home interviews", level=3)
    document.add_paragraph("{%p if not case.missing %}")
    document.add_paragraph("No missing episodes are recorded.")
    document.add_paragraph("{%p endif %}")
    document.add_paragraph("{%p for line in case.missing %}")
    document.add_paragraph("{{ line }}", style="List Bullet")
    document.add_paragraph("{%p endfor %}")

    document.add_heading("Decisions", level=3)
    _key_values(
        document,
        [
            ("Step up, continue or step down", "{{ case.decision }}"),
            ("Where it leads", _or_else("case.leads_to", "It stays with the panel")),
            ("Reason", "{{ case.decision_reason }}"),
            ("National Referral Mechanism", _or_else("case.nrm", "No referral")),
            ("Disruption", _or_else("case.disruption", "None agreed")),
            ("Next review", "{{ case.next_review }}"),
        ],
    )
    document.add_heading("Actions for this case", level=3)
    document.add_paragraph("{%p for line in case.actions %}")
    document.add_paragraph("{{ line }}", style="List Bullet")
    document.add_paragraph("{%p endfor %}")
    document.add_paragraph("{%p if case.links %}")
    document.add_paragraph().add_run("Linked to").bold = True
    document.add_paragraph("{%p for link in case.links %}")
    document.add_paragraph("{{ link.kind }}: {{ link.label }}", style="List Bullet")
    document.add_paragraph("{%p endfor %}")
    document.add_paragraph("{%p endif %}")
    document.add_paragraph("{%p endfor %}")

    _contexts(document)

    document.add_heading("Register of suspected perpetrators", level=1)
    document.add_paragraph("{%p if not register %}")
    document.add_paragraph("No suspected perpetrators on the register are linked to these cases.")
    document.add_paragraph("{%p else %}")
    _loop_table(
        document,
        ["Register ref", "Summary released by the police", "Linked cases"],
        "for item in register",
        ["{{ item.reference }}", "{{ item.summary }}", "{{ item.linked }}"],
        [3.0, 9.5, 4.5],
    )
    document.add_paragraph("{%p endif %}")

    document.add_heading("Disruption activities", level=1)
    document.add_paragraph("{%p if not disruptions %}")
    document.add_paragraph("No disruption activities were agreed at this panel.")
    document.add_paragraph("{%p else %}")
    _loop_table(
        document,
        ["Action", "Case", "Tactic", "What", "Due", "Status"],
        "for item in disruptions",
        [
            "{{ item.reference }}",
            "{{ item.case }}",
            "{{ item.tactic }}",
            "{{ item.text }}",
            "{{ item.due }}",
            "{{ item.status }}",
        ],
        [3.0, 2.4, 3.0, 4.6, 2.0, 2.0],
    )
    document.add_paragraph("{%p endif %}")

    document.add_heading("Police intelligence", level=1)
    document.add_paragraph("{%p if not intelligence %}")
    document.add_paragraph("No police intelligence was recorded at this panel.")
    document.add_paragraph("{%p else %}")
    _loop_table(
        document,
        ["Handling code", "Intelligence"],
        "for item in intelligence",
        ["{{ item.handling_code }}", "{{ item.text }}"],
        [5.0, 12.0],
    )
    document.add_paragraph("{%p endif %}")

    document.add_heading("Themes and intelligence", level=1)
    document.add_paragraph(_or_else("themes", "No themes or intelligence were recorded."))

    document.add_heading("Peer and location map", level=1)
    document.add_paragraph("{%p if network_picture %}")
    picture = document.add_paragraph("{{ network_picture }}")
    picture.alignment = WD_ALIGN_PARAGRAPH.CENTER
    document.add_paragraph("{{ network_note }}").runs[0].italic = True
    document.add_paragraph("{%p else %}")
    document.add_paragraph(
        "No links between children, peers, suspected perpetrators or locations were recorded."
    )
    document.add_paragraph("{%p endif %}")

    document.add_heading("Action log", level=1)
    document.add_paragraph("{%p if not actions %}")
    document.add_paragraph("The panel has no actions.")
    document.add_paragraph("{%p else %}")
    _loop_table(
        document,
        ["Ref", "Action", "Concerns", "Owner", "Due", "Status", "Priority"],
        "for action in actions",
        [
            "{{ action.reference }}",
            "{{ action.text }}{% if action.carried_forward %} (carried forward from {{ action.meeting }})"
            "{% endif %}",
            "{{ action.concerns }}",
            "{{ action.owner }}, {{ action.agency }}",
            "{{ action.due }}",
            "{{ action.status }}",
            "{{ action.priority }}",
        ],
        [3.4, 3.3, 2.7, 2.6, 1.7, 1.7, 1.6],
    )
    document.add_heading("Updates and chases", level=2)
    document.add_paragraph("{%p for action in actions %}")
    document.add_heading("{{ action.reference }}: {{ action.status }}", level=3)
    document.add_paragraph("{{ action.text }}")
    _labelled(
        document,
        "Dates: ",
        "assigned {{ action.assigned }}, due {{ action.due }}, "
        "completed {% if action.completed %}{{ action.completed }}{% else %}not yet{% endif %}.",
    )
    _labelled(
        document,
        "Raised at: ",
        "{{ action.meeting }}{% if action.carried_forward %} (carried forward){% endif %}; "
        "priority {{ action.priority }}; {{ action.escalation_level }}; evidence: {{ action.evidence }}.",
    )
    _action_updates(document, [3.2, 3.8, 10.0])
    document.add_paragraph("{%p if action.chases %}")
    _loop_table(
        document,
        ["Chased", "To whom", "Step", "How"],
        "for chase in action.chases",
        ["{{ chase.at }}", "{{ chase.to }}", "{{ chase.step }}", "{{ chase.via }}"],
        [3.2, 5.8, 4.5, 3.5],
    )
    document.add_paragraph("{%p else %}")
    document.add_paragraph("No chases sent.")
    document.add_paragraph("{%p endif %}")
    document.add_paragraph("{%p endfor %}")
    document.add_paragraph("{%p endif %}")

    document.add_heading("Next panel", level=1)
    document.add_paragraph("{{ next_panel }}")

    _sign_off(document)
    return document


def build_panel_agenda() -> DocumentObject:
    """Criminal Exploitation Panel agenda: the timed items, then what the panel will review."""
    # Landscape: the agenda's eight columns need the width, so no word or name is split.
    document = _new_document(landscape=True)
    document.core_properties.title = "Criminal Exploitation Panel agenda"
    _header_and_footer(
        document,
        "{{ partnership }} · {{ panel }} {{ reference }}",
        "Agenda · version {{ version }} · generated {{ generated_at }}",
    )
    document.add_paragraph("{{ panel }}: agenda {{ reference }}", style="Title")
    document.add_paragraph("{{ partnership }}")
    _labelled(document, "Version: ", "{{ version }}, generated {{ generated_at }}. {{ changes }}")
    _marking_block(document)

    document.add_heading("Meeting details", level=1)
    _key_values(
        document,
        [
            ("Panel", "{{ panel }}"),
            ("Date", "{{ date }}"),
            ("Time", "{{ time }}"),
            ("Chair", "{{ chair }}"),
            ("Venue", "{{ venue }}"),
            ("Joining remotely", "{{ joining_link }}"),
            ("Referral cut-off", "{{ referral_cutoff }}"),
            ("Agency updates cut-off", "{{ updates_cutoff }}"),
            ("Next panel", "{{ next_date }}"),
        ],
    )
    document.add_paragraph("{%p if moved_note %}")
    _labelled(document, "Date moved: ", "{{ moved_note }}")
    document.add_paragraph("{%p endif %}")

    document.add_heading("Invited", level=1)
    _loop_table(
        document,
        ["Agency", "Representatives"],
        "for invitee in invitees",
        ["{{ invitee.agency }}", "{{ invitee.people }}"],
        [6.0, 11.0],
    )

    document.add_heading("Agenda", level=1)
    _loop_table(
        document,
        [
            "Item",
            "Starts",
            "Section",
            "Child or context",
            "Why it is here",
            "Risk level",
            "Screening",
            "Plan status",
        ],
        "for item in items",
        [
            "{{ item.number }}",
            "{{ item.starts }} ({{ item.minutes }} min)",
            "{{ item.section }}",
            "{{ item.title }}",
            "{{ item.why }}",
            "{{ item.risk_level }}",
            "{{ item.screening_result }}",
            "{{ item.plan_status }}",
        ],
        [1.4, 2.6, 3.2, 5.6, 4.6, 2.2, 3.4, 2.7],
    )
    document.add_paragraph(
        "Children are named here so agencies can look them up before the panel. This agenda "
        "is OFFICIAL-SENSITIVE: keep it to the people invited."
    ).runs[0].italic = True
    document.add_heading("Any other business", level=2)
    document.add_paragraph("To be raised with the chair at the start of the panel.")
    document.add_heading("Not for discussion", level=2)
    document.add_paragraph(_or_else("not_for_discussion", "Every case under review is due at this sitting."))
    document.add_paragraph(
        "Cases under review whose review is not due and where nothing new has arrived, by reference only."
    ).runs[0].italic = True

    document.add_heading("Missing episodes and return home interviews", level=1)
    document.add_paragraph("{%p if not missing_episodes %}")
    document.add_paragraph("No missing episodes are recorded for the children on this agenda.")
    document.add_paragraph("{%p else %}")
    _loop_table(
        document,
        ["Child", "Episode and return home interview"],
        "for item in missing_episodes",
        ["{{ item.reference }}", "{{ item.episode }}"],
        [3.0, 14.0],
    )
    document.add_paragraph("{%p endif %}")

    _carried_actions(document)
    _contexts(document)
    closing = document.add_paragraph("Agenda generated {{ generated_at }}")
    closing.runs[0].italic = True
    return document


def build_timeliness_report() -> DocumentObject:
    """The monthly timeliness report for the partnership's board: headline figures, the
    charts, then a table for each measure. Figures only; the rows behind them go in the
    data file sent with it."""
    document = _new_document(landscape=False)
    document.core_properties.title = "Timeliness report"
    _header_and_footer(
        document, "{{ partnership }}: timeliness, {{ period }}", "Generated {{ generated_at }}"
    )
    document.add_paragraph("Timeliness report: {{ period }}", style="Title")
    _labelled(document, "Partnership: ", "{{ partnership }}")
    _labelled(document, "Covers: ", "{{ scope }}")
    _labelled(document, "As at: ", "{{ as_at }}")
    _labelled(document, "Rows behind every figure: ", "{{ data_file }}")
    document.add_paragraph(
        "Working days are counted on the statutory calendar: Monday to Friday, less England and "
        "Wales bank holidays. A discussion counts in the period it was held; an ICPC in the period "
        "it was held (not required: when its enquiry started; not yet held: when its target fell); "
        "an assessment when it was completed; an action when it was due."
    )

    document.add_heading("Headline", level=1)
    document.add_paragraph("{%p for line in headline %}")
    document.add_paragraph("{{ line }}", style="List Bullet")
    document.add_paragraph("{%p endfor %}")
    document.add_paragraph("{{ chart }}")

    document.add_heading("Strategy discussions within their urgency's timescale", level=1)
    _loop_table(
        document,
        ["Urgency", "Held", "Within timescale", "Late", "Share within", "Out of hours"],
        "for row in discussions",
        [
            "{{ row.urgency }}",
            "{{ row.held }}",
            "{{ row.within }}",
            "{{ row.late }}",
            "{{ row.share }}",
            "{{ row.out_of_hours }}",
        ],
        [3.5, 2.2, 3.0, 2.2, 3.0, 3.0],
    )
    document.add_heading("Working days from the referral to the discussion", level=2)
    _labelled(
        document,
        "Discussions: ",
        "{{ referral.count }}; median {{ referral.median }}, mean {{ referral.mean }}",
    )
    _loop_table(
        document,
        ["Working days", "Discussions"],
        "for band in referral_bands",
        ["{{ band.label }}", "{{ band.count }}"],
        [6.0, 4.0],
    )

    document.add_heading("Initial child protection conferences", level=1)
    _key_values(
        document,
        [
            ("ICPCs held", "{{ icpc.held }}"),
            ("Within 15 working days", "{{ icpc.within }} ({{ icpc.share }})"),
            ("Late", "{{ icpc.late }}"),
            ("Not required", "{{ icpc.not_required }}"),
            ("Past the target, not yet held", "{{ icpc.outstanding }}"),
            ("Section 47 enquiries started", "{{ icpc.started }}"),
        ],
    )
    document.add_heading("ICPC working days summary", level=2)
    _labelled(
        document,
        "Working days from S47ActualStartDate to DateOfInitialCPC: ",
        "median {{ icpc.median }}, mean {{ icpc.mean }}",
    )
    _loop_table(
        document,
        ["Working days", "ICPCs"],
        "for band in icpc_bands",
        ["{{ band.label }}", "{{ band.count }}"],
        [6.0, 4.0],
    )

    document.add_heading("Section 47 assessments (45 working days)", level=1)
    _key_values(
        document,
        [
            ("Completed", "{{ assessments.completed }}"),
            ("Within 45 working days", "{{ assessments.within }} ({{ assessments.share }})"),
            ("Late", "{{ assessments.late }}"),
            ("Open past the deadline", "{{ assessments.open_past_deadline }}"),
        ],
    )

    document.add_heading("Attendance by agency", level=1)
    _loop_table(
        document,
        ["Agency", "Invited", "Attended", "Delegate", "Written update", "Apologies", "Did not respond"],
        "for a in agencies",
        [
            "{{ a.name }}",
            "{{ a.invited }}",
            "{{ a.attended }}",
            "{{ a.delegate }}",
            "{{ a.written_update }}",
            "{{ a.apologies }}",
            "{{ a.did_not_respond }}",
        ],
        [4.2, 1.8, 2.2, 2.1, 2.3, 2.2, 2.2],
    )
    document.add_heading("Agency updates", level=1)
    _loop_table(
        document,
        ["Agency", "Expected", "On time", "Late", "Missing", "Share on time"],
        "for a in agencies",
        [
            "{{ a.name }}",
            "{{ a.updates_expected }}",
            "{{ a.updates_on_time }}",
            "{{ a.updates_late }}",
            "{{ a.updates_missing }}",
            "{{ a.updates_share }}",
        ],
        [5.0, 2.4, 2.4, 2.4, 2.4, 2.4],
    )
    document.add_heading("Actions", level=1)
    _loop_table(
        document,
        ["Agency", "Due", "Done by the due date", "Done late", "Open past due", "Escalated", "Overdue now"],
        "for a in agencies",
        [
            "{{ a.name }}",
            "{{ a.actions_due }}",
            "{{ a.actions_done_on_time }} ({{ a.actions_share }})",
            "{{ a.actions_done_late }}",
            "{{ a.actions_open_past_due }}",
            "{{ a.actions_escalated }}",
            "{{ a.overdue_now }}",
        ],
        [4.2, 1.5, 2.8, 1.9, 2.1, 2.3, 2.2],
    )
    document.add_heading("Actions by agency and priority", level=2)
    _loop_table(
        document,
        [
            "Agency",
            "Priority",
            "Due",
            "Done by the due date",
            "Done late",
            "Open past due",
            "Escalated",
            "Overdue now",
        ],
        "for p in priorities",
        [
            "{{ p.agency }}",
            "{{ p.priority }}",
            "{{ p.due }}",
            "{{ p.done_on_time }}",
            "{{ p.done_late }}",
            "{{ p.open_past_due }}",
            "{{ p.escalated }}",
            "{{ p.overdue_now }}",
        ],
        [4.0, 2.0, 1.4, 2.4, 1.8, 2.0, 1.8, 1.6],
    )

    document.add_heading("The panel", level=1)
    _key_values(
        document,
        [
            ("Reviews recorded", "{{ panel.items_reviewed }}"),
            ("Children and contexts reviewed", "{{ panel.cases_reviewed }}"),
            ("Stepped up", "{{ panel.stepped_up }}"),
            ("Stepped down", "{{ panel.stepped_down }}"),
            ("National Referral Mechanism referrals", "{{ panel.nrm_referrals }}"),
        ],
    )
    closing = document.add_paragraph("Generated {{ generated_at }} from the record; {{ marking }}.")
    closing.runs[0].italic = True
    return document


def main(argv: Sequence[str]) -> int:
    """Write every template (to ``templates/`` unless a folder is given)."""
    folder = Path(argv[0]) if argv else TEMPLATES
    folder.mkdir(parents=True, exist_ok=True)
    for name, build in (
        ("strategy_discussion_minutes.docx", build_minutes),
        ("action_log.docx", build_action_log),
        ("panel_minutes.docx", build_panel_minutes),
        ("panel_agenda.docx", build_panel_agenda),
        ("timeliness_report.docx", build_timeliness_report),
    ):
        build().save(str(folder / name))
        print(folder / name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
