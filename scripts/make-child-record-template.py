"""Write templates/child_record.docx: one child's own record of a strategy discussion of
several children, for their file. Run once; afterwards the partnership restyles the .docx
in Word (it is an ordinary document with docxtpl's Jinja tags)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import docx
from docx.shared import Pt


def table(document: Any, headings: list[str], loop: str, cells: list[str]) -> None:
    rows = document.add_table(rows=4, cols=len(headings))
    rows.style = "Table Grid"
    for i, heading in enumerate(headings):
        rows.rows[0].cells[i].text = heading
    rows.rows[1].cells[0].text = "{%tr for " + loop + " %}"
    for i, cell in enumerate(cells):
        rows.rows[2].cells[i].text = cell
    rows.rows[3].cells[0].text = "{%tr endfor %}"


def main(target: Path) -> None:
    document = docx.Document()
    document.styles["Normal"].font.size = Pt(10)
    document.add_heading("Child's record of strategy discussion {{ reference }}", level=1)
    document.add_paragraph("{{ partnership }}")
    document.add_heading("Protective marking and confidentiality", level=2)
    document.add_paragraph("{{ marking }}")
    document.add_paragraph("{{ confidentiality }}")
    document.add_paragraph(
        "This record is for the file of the child named below. It holds what the discussion "
        "decided for this child and the parts it shared for all the children it concerned; "
        "any other child is named by their case reference only."
    )
    document.add_heading("The child", level=2)
    details = document.add_table(rows=6, cols=2)
    details.style = "Table Grid"
    for row, (label, value) in enumerate(
        [
            ("Name", "{{ child.name }}"),
            ("Date of birth", "{{ child.date_of_birth }}"),
            ("Case reference", "{{ child.case_reference }}"),
            ("School", "{{ child.school }}"),
            ("Household (siblings)", "{{ household }}"),
            ("Others at risk", "{{ others_at_risk }}"),
        ]
    ):
        details.rows[row].cells[0].text = label
        details.rows[row].cells[1].text = value
    document.add_heading("Meeting details", level=2)
    document.add_paragraph(
        "{{ date }} at {{ time }} · chaired by {{ chair }} · {{ children_count }} children"
    )
    document.add_heading("Attendance", level=2)
    table(
        document,
        ["Agency", "Name", "Role", "Status"],
        "person in attendance",
        ["{{ person.agency }}", "{{ person.name }}", "{{ person.role }}", "{{ person.status }}"],
    )
    document.add_heading("Reason for the discussion", level=2)
    document.add_paragraph("{{ reason }}")
    document.add_heading("Action already taken", level=2)
    document.add_paragraph("{{ action_taken }}")
    document.add_heading("Information shared by agency", level=2)
    document.add_paragraph("{%p if not information_shared %}")
    document.add_paragraph("No agency information about this child was recorded.")
    document.add_paragraph("{%p endif %}")
    document.add_paragraph("{%p for update in information_shared %}")
    document.add_paragraph("{{ update.agency }}")
    document.add_paragraph(
        "Shared by {{ update.author }}, {{ update.role }} · lawful basis: {{ update.lawful_basis }}"
    )
    document.add_paragraph("{%p if update.handling %}")
    document.add_paragraph("HANDLING: {{ update.handling }}")
    document.add_paragraph("{%p endif %}")
    document.add_paragraph("{%p if update.withheld %}")
    document.add_paragraph("{{ update.withheld_note }}")
    document.add_paragraph("{%p endif %}")
    document.add_paragraph("{%p for part in update.sections %}")
    document.add_paragraph("{{ part.label }}: {{ part.text }}")
    document.add_paragraph("{%p endfor %}")
    document.add_paragraph("{%p endfor %}")
    document.add_heading("The children's voice", level=2)
    document.add_paragraph("{{ child_voice }}")
    document.add_heading("Risk analysis", level=2)
    document.add_paragraph("Harm: {{ risk_analysis.harm }}")
    document.add_paragraph("Likelihood: {{ risk_analysis.likelihood }}")
    document.add_paragraph("Protective factors: {{ risk_analysis.protective_factors }}")
    document.add_paragraph("Extra-familial context: {{ risk_analysis.extra_familial }}")
    document.add_heading("Decisions for this child", level=2)
    table(
        document,
        ["Topic", "Outcome", "Reason"],
        "decision in child_decisions",
        ["{{ decision.topic }}", "{{ decision.outcome }}", "{{ decision.reason }}"],
    )
    document.add_paragraph("ICPC: {{ icpc }}")
    document.add_paragraph("Assessment: {{ assessment }}")
    document.add_heading("Decisions for all the children", level=2)
    table(
        document,
        ["Topic", "Outcome", "Reason"],
        "decision in shared_decisions",
        ["{{ decision.topic }}", "{{ decision.outcome }}", "{{ decision.reason }}"],
    )
    document.add_heading("Actions for this child", level=2)
    table(
        document,
        ["Ref", "Action", "Owner", "Agency", "Due", "Status"],
        "action in actions",
        [
            "{{ action.reference }}",
            "{{ action.text }}",
            "{{ action.owner }}",
            "{{ action.agency }}",
            "{{ action.due }}",
            "{{ action.status }}",
        ],
    )
    document.add_heading("Next steps", level=2)
    document.add_paragraph("Review or next discussion: {{ review_date }}")
    document.add_paragraph("{{ next_steps }}")
    # Approved by the chair like the minutes before it goes to the child's file.
    document.add_paragraph("{%p if state == 'APPROVED' %}")
    document.add_paragraph("Approved by {{ approved_by }} on {{ approved_at }}.")
    document.add_paragraph("{%p else %}")
    document.add_paragraph("DRAFT: not yet approved by the chair ({{ chair }}).")
    document.add_paragraph("{%p endif %}")
    document.add_paragraph("Version {{ version }} · {{ state }} · generated {{ generated_at }}")
    document.save(target)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "templates/child_record.docx"))
