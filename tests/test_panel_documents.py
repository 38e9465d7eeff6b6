"""The panel's Word minutes and agenda, and the peer and location map drawn into the minutes.

Rendered from realistic contexts of exactly the shape the panel service builds, reopened
with python-docx and read as a reader would: headings, tables and the one picture. No
database and no Slack.
"""

from __future__ import annotations

import copy
import io
import random
import struct
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from docx.document import Document as DocumentObject
from docx.shared import Cm
from docx.table import Table
from PIL import Image

from bot.documents.specimens import panel_agenda_specimen, panel_minutes_specimen
from bot.minutes.documents import TemplateContextError, render, template_variables
from bot.panel import network as network_module
from bot.panel.documents import (
    PANEL_AGENDA_TEMPLATE,
    PANEL_AGENDA_VARIABLES,
    PANEL_MINUTES_TEMPLATE,
    PANEL_MINUTES_VARIABLES,
    render_panel_agenda,
    render_panel_minutes,
)
from bot.panel.network import NetworkEdge, NetworkNode, draw_network

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
MINUTES = TEMPLATES / PANEL_MINUTES_TEMPLATE
AGENDA = TEMPLATES / PANEL_AGENDA_TEMPLATE
MARKING = "OFFICIAL-SENSITIVE"
CONFIDENTIALITY = (
    "This record contains personal information shared to safeguard children. "
    "Do not share it beyond the circulation list."
)
NOTE = (
    "Figure: links between children, peers, suspected perpetrators and locations recorded at "
    "referral and in updates."
)
NO_LINKS = "No links between children, peers, suspected perpetrators or locations were recorded."

MINUTES_HEADINGS = [
    "Protective marking and confidentiality",
    "Meeting details",
    "Attendance",
    "Actions from last time",
    "Cases",
    "Suspected perpetrators",
    "Locations",
    "Peer groups",
    "Register of suspected perpetrators",
    "Disruption activities",
    "Police intelligence",
    "Themes and intelligence",
    "Peer and location map",
    "Action log",
    "Next panel",
    "Sign-off and circulation",
]


def minutes_context() -> dict[str, Any]:
    return panel_minutes_specimen()


def agenda_context() -> dict[str, Any]:
    return panel_agenda_specimen()


def network() -> tuple[list[NetworkNode], list[NetworkEdge]]:
    nodes = [
        NetworkNode("CS-778812", "CS-778812", "child"),
        NetworkNode("CS-660021", "CS-660021", "child"),
        NetworkNode("peer:1", "Peer A", "peer"),
        NetworkNode("perp:1", "'T'", "suspected_perpetrator"),
        NetworkNode("loc:1", "Northfield park", "location"),
        NetworkNode("school:1", "Northfield Academy", "school"),
        NetworkNode("group:1", "Bristol Road group", "peer_group"),
    ]
    edges = [
        NetworkEdge("CS-778812", "peer:1", "peer"),
        NetworkEdge("CS-778812", "perp:1", "suspected_perpetrator"),
        NetworkEdge("CS-660021", "perp:1", "suspected_perpetrator"),
        NetworkEdge("CS-778812", "loc:1", "location"),
        NetworkEdge("CS-660021", "school:1", "school"),
        NetworkEdge("CS-778812", "group:1", "peer_group"),
        NetworkEdge("CS-778812", "CS-660021", "linked_case"),
    ]
    return nodes, edges


@pytest.fixture(scope="module")
def network_png() -> bytes:
    png = draw_network(*network(), title="Peer and location map")
    assert png is not None
    return png


def _open(content: bytes) -> DocumentObject:
    """The document as python-docx reads it, references' non-breaking hyphens read as '-'."""
    source = zipfile.ZipFile(io.BytesIO(content))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as copy_:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.endswith(".xml"):
                data = data.replace("\u2011".encode(), b"-")
            copy_.writestr(item, data)
    return Document(io.BytesIO(buffer.getvalue()))


def _tables_with_header(document: DocumentObject, *header: str) -> list[Table]:
    """Every table whose first row starts with these cells (the case tables repeat per case)."""
    return [
        table
        for table in document.tables
        if tuple(cell.text for cell in table.rows[0].cells[: len(header)]) == header
    ]


def _table(document: DocumentObject, *header: str) -> Table:
    tables = _tables_with_header(document, *header)
    assert len(tables) == 1, f"{len(tables)} tables start with {header}"
    return tables[0]


def _rows(table: Table) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in table.rows]


def _texts(document: DocumentObject) -> list[str]:
    return [p.text for p in document.paragraphs]


def _all_text(document: DocumentObject) -> str:
    parts = _texts(document)
    for table in document.tables:
        parts.extend(cell.text for row in table.rows for cell in row.cells)
    for section in document.sections:
        parts.extend(p.text for p in section.header.paragraphs)
        parts.extend(p.text for p in section.footer.paragraphs)
    return "\n".join(parts)


def _case_blocks(document: DocumentObject) -> dict[str, list[tuple[str, str]]]:
    """Each case's paragraphs (style, text), from its Heading 2 to the next heading at level 1 or 2."""
    blocks: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    for paragraph in document.paragraphs:
        style = paragraph.style.name
        if style == "Heading 2" and paragraph.text[:1].isdigit():
            current = blocks.setdefault(paragraph.text, [])
        elif style in {"Heading 1", "Heading 2"}:
            current = None
        elif current is not None:
            current.append((style, paragraph.text))
    return blocks


def _under(block: list[tuple[str, str]], heading: str) -> str:
    """The text of the first paragraph after a Heading 3 in one case's block."""
    index = block.index(("Heading 3", heading))
    return block[index + 1][1]


# (a) the templates and the code agree on every top-level name


def test_minutes_template_uses_exactly_the_declared_variables() -> None:
    assert template_variables(MINUTES) == set(PANEL_MINUTES_VARIABLES)
    assert set(minutes_context()) == set(PANEL_MINUTES_VARIABLES)


def test_agenda_template_uses_exactly_the_declared_variables() -> None:
    assert template_variables(AGENDA) == set(PANEL_AGENDA_VARIABLES)
    assert set(agenda_context()) == set(PANEL_AGENDA_VARIABLES)


def test_a_context_missing_a_name_is_refused() -> None:
    context = minutes_context()
    del context["next_panel"]
    with pytest.raises(TemplateContextError, match="next_panel"):
        render_panel_minutes(MINUTES, context, None)


def test_an_image_and_a_value_of_the_same_name_are_refused(network_png: bytes) -> None:
    with pytest.raises(TemplateContextError, match="network_picture"):
        render(MINUTES, minutes_context(), images={"network_picture": network_png})


# (b) the minutes as a reader finds them


@pytest.fixture(scope="module")
def minutes(network_png: bytes) -> DocumentObject:
    return _open(render_panel_minutes(MINUTES, minutes_context(), network_png).content)


def test_minutes_are_marked_on_every_page_and_headed_in_order(minutes: DocumentObject) -> None:
    for section in minutes.sections:
        header = "\n".join(p.text for p in section.header.paragraphs)
        footer = "\n".join(p.text for p in section.footer.paragraphs)
        assert MARKING in header and "CEP-2026-0003" in header
        assert (
            MARKING in footer
            and "Version 2 · DRAFT · Full copy · generated 24 November 2026 at 14:02" in footer
        )
    title = [p.text for p in minutes.paragraphs if p.style.name == "Title"]
    assert title == ["Criminal Exploitation Panel (North): minutes CEP-2026-0003"]
    assert [p.text for p in minutes.paragraphs if p.style.name == "Heading 1"] == MINUTES_HEADINGS
    assert MARKING in _texts(minutes) and CONFIDENTIALITY in _texts(minutes)
    assert "{{" not in _all_text(minutes) and "{%" not in _all_text(minutes)


def test_minutes_meeting_details_and_attendance(minutes: DocumentObject) -> None:
    details = dict(_rows(_table(minutes, "Panel")))
    assert details == {
        "Panel": "Criminal Exploitation Panel (North)",
        "Date": "Tuesday 24 November 2026",
        "Time": "10:00",
        "Chair": "Priya Shah, Head of Service",
        "Minute-taker": "Tom Reed",
    }
    assert _rows(_table(minutes, "Agency", "Name")) == [
        ["Agency", "Name", "Role", "Status"],
        ["Children's social care", "Priya Shah", "Chair", "Present"],
        ["West Midlands Police", "DC Lee Grant", "Force CID", "Present"],
        ["Youth Justice Service", "Ana Costa", "Case manager", "Apologies"],
    ]


def test_minutes_list_actions_from_last_time(minutes: DocumentObject) -> None:
    assert _rows(_table(minutes, "Ref", "Action", "Owner")) == [
        ["Ref", "Action", "Owner", "Agency", "Due", "Status", "Raised at"],
        [
            "CEP-2026-0002-A04",
            "Share the disruption plan for the Northfield park associate.",
            "DC Lee Grant",
            "West Midlands Police",
            "10 Nov 2026",
            "open",
            "CEP-2026-0002",
        ],
    ]


def test_each_case_has_its_details_and_volt_headings(minutes: DocumentObject) -> None:
    blocks = _case_blocks(minutes)
    assert list(blocks) == ["1. CS-778812 — Child", "2. CX-000045 — Location", "3. CX-000046 — Peer group"]
    for block in blocks.values():
        headings = [text for style, text in block if style == "Heading 3"]
        assert headings == [
            "Reasons for discussion",
            "Agency updates",
            "Victims",
            "Offenders",
            "Locations",
            "Themes",
            "Missing episodes and return home interviews",
            "Decisions",
            "Actions for this case",
        ]
    child = blocks["1. CS-778812 — Child"]
    assert _under(child, "Victims") == "Jayden is groomed to carry drugs out of area."
    assert _under(child, "Offenders") == "Adult male known as 'T', 19, drives a grey Audi."
    assert _under(child, "Locations") == "Northfield park; a flat on Bristol Road."
    assert _under(child, "Themes") == "Out-of-area drug running on school days."
    location = blocks["2. CX-000045 — Location"]
    assert _under(location, "Offenders") == "Nothing recorded."  # an empty heading says so
    assert _under(location, "Themes") == "Nothing recorded."
    assert _under(location, "Agency updates") == "No agency updates were received for this panel."
    details = [dict(_rows(table)) for table in _tables_with_header(minutes, "Name")]
    assert [d["Name"] for d in details] == ["Jayden Miller", "Northfield park", "The Bristol Road group"]
    assert details[0] == {
        "Name": "Jayden Miller",
        "Date of birth": "12 June 2010",
        "Section": "New referral",
        "Risk level": "High",
        "Screening result": "Significant risk of criminal exploitation",
        "Plan status": "Child protection plan",
        "Strategy discussion and ICPC": "SD-2026-0142 (04 March 2026); ICPC held 25 March 2026",
    }
    assert details[1]["Date of birth"] == "Not recorded"
    assert details[1]["Section"] == "Under review"


def test_agency_updates_show_restrictions_and_lateness(minutes: DocumentObject) -> None:
    child = _case_blocks(minutes)["1. CS-778812 — Child"]
    texts = [text for _, text in child]
    police, school = texts.index("West Midlands Police"), texts.index("Northfield Academy")
    assert ("Heading 4", "West Midlands Police") in child
    flagged = [text for text in texts if text.startswith("Handling instruction")]
    assert flagged == ["Handling instruction: Police information: not to be shared with the family"]
    assert not any("NOT FOR THE FAMILY" in text or "RESTRICTED" in text for text in texts)
    assert police < texts.index(flagged[0]) < school  # under the agency it restricts, not the school
    assert "Current risks: Repeated missing episodes, Weapons" in texts
    assert "Shared by: DC Lee Grant, Force CID" in texts
    assert "Shared by: Jo Patel, Designated safeguarding lead (received after the cut-off)" in texts
    assert texts[texts.index("Police intelligence") + 1] == "Seen with a known county lines associate."
    assert texts[texts.index("School attendance") + 1] == "Attendance 71% this term."
    assert sum(text.startswith("Current risks") for text in texts) == 1  # the school gave none


def test_decisions_record_step_up_or_down_nrm_and_disruption(minutes: DocumentObject) -> None:
    decisions = [
        dict(_rows(table)) for table in _tables_with_header(minutes, "Step up, continue or step down")
    ]
    assert decisions == [
        {
            "Step up, continue or step down": "Step up",
            "Where it leads": "Strategy discussion (section 47); strategy discussion SD-2026-0042 convened",
            "Reason": "Risk has risen since the last review.",
            "National Referral Mechanism": "NRM referral made by children's social care on 20 November 2026",
            "Disruption": "Child abduction warning notice to 'T'.",
            "Next review": "Tuesday 22 December 2026",
        },
        {
            "Step up, continue or step down": "Step down",
            "Where it leads": "Team around the school; taken on by Ms Khan, Education",
            "Reason": "No sightings for six weeks after patrols.",
            "National Referral Mechanism": "No referral",
            "Disruption": "None agreed",
            "Next review": "Tuesday 26 January 2027",
        },
        {
            "Step up, continue or step down": "Continue under review",
            "Where it leads": "It stays with the panel",
            "Reason": "Work with the group has only just started.",
            "National Referral Mechanism": "No referral",
            "Disruption": "Detached youth work on Friday evenings.",
            "Next review": "Tuesday 22 December 2026",
        },
    ]
    bullets = [p.text for p in minutes.paragraphs if p.style.name == "List Bullet"]
    assert bullets[0].startswith("Missing from 12 Dec 2026")  # the first child's episode
    assert bullets[1:3] == [
        "CEP-2026-0003-A01: Visit the address (DC Lee Grant, due 10 Nov, Open)",
        "Location: Northfield park",
    ]
    assert "No actions were agreed for this case." in bullets and "Child: CS-778812" in bullets


def test_perpetrators_locations_peer_groups_and_themes(minutes: DocumentObject) -> None:
    assert _rows(_table(minutes, "Suspected perpetrator")) == [
        ["Suspected perpetrator", "Linked cases"],
        ["'T', adult male, 19", "CS-778812, CX-000046"],
    ]
    assert _rows(_table(minutes, "Location", "Linked cases"))[1] == [
        "Northfield park",
        "CS-778812, CX-000045",
    ]
    assert _rows(_table(minutes, "Peer group", "Linked cases"))[1] == [
        "The Bristol Road group",
        "CS-778812, CX-000046",
    ]
    texts = _texts(minutes)
    assert texts[texts.index("Themes and intelligence") + 1] == minutes_context()["themes"]


def test_action_log_marks_carried_forward_actions(minutes: DocumentObject) -> None:
    rows = _rows(_table(minutes, "Ref", "Action", "Concerns"))
    assert rows[0] == ["Ref", "Action", "Concerns", "Owner", "Due", "Status", "Priority"]
    assert [row[0] for row in rows[1:]] == ["CEP-2026-0002-A04", "CEP-2026-0003-A01", "CEP-2026-0003-A02"]
    assert rows[1][1] == (
        "Share the disruption plan for the Northfield park associate. (carried forward from CEP-2026-0002)"
    )
    assert rows[2][1] == "Make the NRM referral for CS-778812."  # raised at this panel: no mark
    assert rows[2][3] == "DC Lee Grant, West Midlands Police"
    assert rows[2][5] == "done"
    texts = _texts(minutes)
    assert (
        "Raised at: CEP-2026-0002 (carried forward); priority High; Escalated to the agency lead; evidence: None yet."
        in texts
    )
    assert "Raised at: CEP-2026-0003; priority High; Not escalated; evidence: None yet." in texts
    updates = [_rows(table) for table in _tables_with_header(minutes, "When", "By", "Update")]
    assert [len(table) - 1 for table in updates] == [1, 3]  # the third action has none
    assert "No updates recorded." in texts
    chases = _tables_with_header(minutes, "Chased", "To whom")
    assert [_rows(table)[1] for table in chases] == [
        ["09 Nov 2026 09:00", "DC Lee Grant", "reminder", "slack_dm"]
    ]
    assert texts.count("No chases sent.") == 2


def test_next_panel_circulation_and_draft_sign_off(minutes: DocumentObject) -> None:
    texts = _texts(minutes)
    assert texts[texts.index("Next panel") + 1] == "Tuesday 22 December 2026"
    bullets = [p.text for p in minutes.paragraphs if p.style.name == "List Bullet"]
    # each person is told which copy they receive: the full one, or the one with text withheld
    assert bullets[-3:] == [
        "Priya Shah, Head of Service, Chair (Full copy)",
        "DC Lee Grant, Force CID, West Midlands Police (Full copy)",
        "Ana Costa, Case manager, Youth Justice Service (Copy with restricted information withheld)",
    ]
    assert "DRAFT: not yet approved by the chair (Priya Shah, Head of Service)." in texts


def test_approved_minutes_name_the_approver() -> None:
    context = minutes_context() | {
        "state": "APPROVED",
        "approved_by": "Priya Shah",
        "approved_at": "25 Nov 2026",
    }
    texts = _texts(_open(render_panel_minutes(MINUTES, context, None).content))
    assert "Approved by Priya Shah on 25 Nov 2026." in texts
    assert not any(text.startswith("DRAFT") for text in texts)


# (c) the peer and location map


def test_minutes_carry_exactly_one_picture_about_16_cm_wide(minutes: DocumentObject) -> None:
    assert len(minutes.inline_shapes) == 1
    picture = minutes.inline_shapes[0]
    assert abs(picture.width - Cm(16)) < Cm(0.1)
    assert abs(picture.height / picture.width - 1200 / 1600) < 0.01
    texts = _texts(minutes)
    assert NOTE in texts
    assert NO_LINKS not in texts


def test_the_picture_in_the_document_is_the_png_drawn(network_png: bytes) -> None:
    content = render_panel_minutes(MINUTES, minutes_context(), network_png).content
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        media = [archive.read(name) for name in archive.namelist() if name.startswith("word/media/")]
    assert media == [network_png]


def test_minutes_without_a_picture_say_no_links_were_recorded() -> None:
    document = _open(render_panel_minutes(MINUTES, minutes_context(), None).content)
    assert len(document.inline_shapes) == 0
    texts = _texts(document)
    assert NO_LINKS in texts
    assert NOTE not in texts


def test_a_placeholder_in_the_context_is_replaced_by_the_picture(network_png: bytes) -> None:
    context = minutes_context() | {"network_picture": "placeholder text"}
    document = _open(render_panel_minutes(MINUTES, context, network_png).content)
    assert len(document.inline_shapes) == 1
    assert "placeholder text" not in _all_text(document)


def _png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    return width, height


def test_draw_network_makes_a_png_of_the_designed_size(network_png: bytes) -> None:
    assert network_png.startswith(b"\x89PNG")
    width, height = _png_size(network_png)
    assert abs(width - 1600) <= 2 and abs(height - 1200) <= 2
    # drawn at its print size (16 cm wide), so its labels are at least 8 pt on paper
    assert abs(width / network_module.DPI * 2.54 - 16) < 0.05 and network_module.LABEL_POINTS >= 8


def test_draw_network_is_deterministic_whatever_the_input_order(network_png: bytes) -> None:
    nodes, edges = network()
    network_module.forget_maps()  # drawn afresh, not the kept picture
    assert draw_network(nodes, edges, title="Peer and location map") == network_png
    shuffler = random.Random(3)
    shuffled_nodes, shuffled_edges = nodes[:], [NetworkEdge(e.b, e.a, e.kind) for e in edges]
    shuffler.shuffle(shuffled_nodes)
    shuffler.shuffle(shuffled_edges)
    network_module.forget_maps()
    assert draw_network(shuffled_nodes, shuffled_edges, title="Peer and location map") == network_png
    assert draw_network(nodes, edges[:-1], title="Peer and location map") != network_png


def test_draw_network_draws_the_same_map_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """An approved sitting's copies show one map: it is drawn once, the bytes kept; a map
    with another title or another link is drawn for itself."""
    drawn: list[str] = []
    draw_map = network_module.draw_map

    def counting(*args: Any, **kwargs: Any) -> Any:
        drawn.append(kwargs.get("title", ""))
        return draw_map(*args, **kwargs)

    monkeypatch.setattr(network_module, "draw_map", counting)
    network_module.forget_maps()
    nodes, edges = network()
    first = draw_network(nodes, edges, title="Sitting 1")
    assert draw_network(list(reversed(nodes)), edges, title="Sitting 1") == first
    assert drawn == ["Sitting 1"]
    assert draw_network(nodes, edges, title="Sitting 2") != first
    assert draw_network(nodes, edges[:-1], title="Sitting 1") != first
    assert drawn == ["Sitting 1", "Sitting 2", "Sitting 1"]


def test_draw_network_without_links_draws_nothing() -> None:
    nodes, _ = network()
    assert draw_network(nodes, []) is None
    assert draw_network([], []) is None


def test_draw_network_refuses_a_link_to_an_unknown_node_or_kind() -> None:
    nodes, edges = network()
    with pytest.raises(ValueError, match="not a node"):
        draw_network(nodes, [*edges, NetworkEdge("CS-778812", "nobody", "peer")])
    with pytest.raises(ValueError, match="node kind"):
        draw_network([*nodes, NetworkNode("x", "X", "dog")], edges)
    with pytest.raises(ValueError, match="edge kind"):
        draw_network(nodes, [NetworkEdge("CS-778812", "peer:1", "friend")])


def test_draw_network_copes_with_a_large_panel() -> None:
    png = draw_network(*_large_panel())
    assert png is not None
    assert _png_size(png)[0] == pytest.approx(1600, abs=2)


def _edge_band_is_background(png: bytes, band: int = 3) -> bool:
    """True when the picture's outer `band` pixels all round are plain white: nothing drawn
    (a label, the key, the title) runs into the edge, where it would be cut off."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    width, height = image.size
    strips = [
        (0, 0, width, band),
        (0, height - band, width, height),
        (0, 0, band, height),
        (width - band, 0, width, height),
    ]
    white = (255, 255, 255)
    return all(
        image.crop(strip).getcolors() == [((right - left) * (bottom - top), white)]
        for strip in strips
        for left, top, right, bottom in [strip]
    )


def _crowded_edges() -> tuple[list[NetworkNode], list[NetworkEdge], str]:
    """Long names on every node (so the outermost ones are long), a stepped-down child, a
    panel title too long for three lines and every kind of node and link, so the key is full."""
    nodes, edges = network()
    place = "Wellington Road flat above the old chip shop by the bus station"
    nodes = [NetworkNode(n.key, f"{n.label} {place}", n.kind) for n in nodes]
    nodes.append(NetworkNode("CS-700001", "Stepped Down Child With A Long Name\nCS-700001", "child", True))
    edges.append(NetworkEdge("CS-700001", "loc:1", "location"))
    title = "Criminal Exploitation Panel (Northfield, Longbridge and Selly Oak) " * 5
    return nodes, edges, title


def _large_panel() -> tuple[list[NetworkNode], list[NetworkEdge]]:
    nodes = [NetworkNode(f"child:{n}", f"CS-{700000 + n}", "child") for n in range(60)]
    kinds = ["peer", "suspected_perpetrator", "location", "school", "peer_group"]
    nodes += [NetworkNode(f"ctx:{n}", f"Context {n}", kinds[n % 5]) for n in range(140)]
    edges = [NetworkEdge(f"child:{n % 60}", f"ctx:{n}", kinds[n % 5]) for n in range(140)]
    edges += [NetworkEdge(f"child:{n}", f"ctx:{(n * 7) % 140}", kinds[(n * 7) % 5]) for n in range(60)]
    return nodes, edges


def test_no_label_title_or_key_runs_off_the_picture(network_png: bytes) -> None:
    crowded_nodes, crowded_links, long_title = _crowded_edges()
    cases = [
        (*network(), "Peer and location map"),
        (crowded_nodes, crowded_links, long_title),
        (*_large_panel(), ""),
    ]
    for nodes, edges, title in cases:
        drawn = network_module.draw_map(nodes, edges, title=title)
        assert drawn is not None
        width, height = drawn.image.size
        # every node's label, the title and the key, as placed
        assert len(drawn.text_boxes) == len({n.key for n in nodes}) + 1 + (1 if title else 0)
        for left, top, right, bottom in drawn.text_boxes:
            assert 0 <= left < right <= width and 0 <= top < bottom <= height, (left, top, right, bottom)
        png = draw_network(nodes, edges, title=title)
        assert png is not None and _edge_band_is_background(png)
    assert _edge_band_is_background(network_png)


def test_drawing_the_map_does_not_import_matplotlib() -> None:
    """Its fonts come from matplotlib's folder, but importing matplotlib (about 0.3 s, it
    reads its settings) would be paid by the first map drawn in a process."""
    script = (
        "import sys\n"
        "from bot.panel.network import NetworkEdge, NetworkNode, draw_network\n"
        "nodes = [NetworkNode('a', 'A', 'child'), NetworkNode('b', 'B', 'location')]\n"
        "assert draw_network(nodes, [NetworkEdge('a', 'b', 'location')], title='T')\n"
        "print('matplotlib' in sys.modules)\n"
    )
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=root, timeout=120
    )
    assert result.stdout.strip() == "False"


def _colours(png: bytes) -> set[str]:
    image = Image.open(io.BytesIO(png)).convert("RGB")
    counted = image.getcolors(image.width * image.height)
    assert counted is not None
    return {"#{:02X}{:02X}{:02X}".format(*rgb) for _, rgb in counted}


OKABE_ITO = {
    "child": "#0072B2",
    "peer": "#56B4E9",
    "suspected_perpetrator": "#D55E00",
    "location": "#009E73",
    "school": "#E69F00",
    "peer_group": "#CC79A7",
}


def test_the_map_is_drawn_in_each_kinds_colour(network_png: bytes) -> None:
    colours = _colours(network_png)
    assert set(OKABE_ITO.values()) <= colours
    assert "#555555" in colours  # the dashed 'linked case' line
    # a kind not on the map is not drawn, nor in the key: no school, no orange anywhere
    nodes, edges = network()
    without_school = draw_network(
        [n for n in nodes if n.kind != "school"], [e for e in edges if e.kind != "school"]
    )
    assert without_school is not None
    colours = _colours(without_school)
    assert OKABE_ITO["school"] not in colours
    assert set(OKABE_ITO.values()) - {OKABE_ITO["school"]} <= colours


def test_draw_network_lays_out_a_map_of_500_nodes_or_more() -> None:
    """networkx lays out 500 nodes or more with scipy's sparse arrays (a large
    partnership's panel reached that, and drafting its minutes failed without scipy)."""
    kinds = ["peer", "suspected_perpetrator", "location", "school", "peer_group"]
    nodes = [NetworkNode(f"child:{n}", f"CS-{700000 + n}", "child") for n in range(120)]
    nodes += [NetworkNode(f"ctx:{n}", f"Context {n}", kinds[n % 5]) for n in range(400)]
    edges = [NetworkEdge(f"child:{n % 120}", f"ctx:{n}", kinds[n % 5]) for n in range(400)]
    png = draw_network(nodes, edges)
    assert png is not None
    assert _png_size(png) == (network_module.WIDTH_PX, network_module.HEIGHT_PX)


# (d) typed text is text


HOSTILE = "{{ 7*7 }} <w:p> & {% if x %}"


def test_typed_text_appears_literally_in_the_minutes(network_png: bytes) -> None:
    context = copy.deepcopy(minutes_context())
    context["cases"][0]["reasons"] = HOSTILE
    context["cases"][0]["victims"] = "<w:p>&amp;</w:p>"
    context["cases"][0]["updates"][0]["sections"][0]["text"] = HOSTILE + "\nsecond line"
    context["actions"][1]["text"] = HOSTILE
    context["attendance"][0]["name"] = "{{ marking }}"
    context["themes"] = "{%p endif %}"
    document = _open(render_panel_minutes(MINUTES, context, network_png).content)
    texts = _texts(document)
    assert HOSTILE in texts
    assert HOSTILE + "\nsecond line" in texts
    assert "{%p endif %}" in texts
    child = _case_blocks(document)["1. CS-778812 — Child"]
    assert _under(child, "Victims") == "<w:p>&amp;</w:p>"
    assert _rows(_table(document, "Ref", "Action", "Concerns"))[2][1] == HOSTILE
    assert _rows(_table(document, "Agency", "Name"))[1][1] == "{{ marking }}"
    assert "49" not in _all_text(document)
    # The structure is untouched: the same rows, the same one picture.
    assert len(_table(document, "Ref", "Action", "Concerns").rows) == 4
    assert len(document.inline_shapes) == 1


def test_typed_text_appears_literally_in_the_agenda() -> None:
    context = copy.deepcopy(agenda_context())
    context["items"][1]["title"] = HOSTILE
    context["moved_note"] = "<b>moved</b> & {{ date }}"
    document = _open(render_panel_agenda(AGENDA, context).content)
    assert _rows(_table(document, "Item"))[2][3] == HOSTILE
    assert "Date moved: <b>moved</b> & {{ date }}" in _texts(document)
    assert "49" not in _all_text(document)


# (e) the agenda


@pytest.fixture(scope="module")
def agenda() -> DocumentObject:
    return _open(render_panel_agenda(AGENDA, agenda_context()).content)


def test_agenda_is_marked_and_has_its_details(agenda: DocumentObject) -> None:
    for section in agenda.sections:
        assert MARKING in "\n".join(p.text for p in section.header.paragraphs)
        assert MARKING in "\n".join(p.text for p in section.footer.paragraphs)
    assert [p.text for p in agenda.paragraphs if p.style.name == "Title"] == [
        "Criminal Exploitation Panel (North): agenda CEP-2026-0003"
    ]
    assert [p.text for p in agenda.paragraphs if p.style.name == "Heading 1"] == [
        "Protective marking and confidentiality",
        "Meeting details",
        "Invited",
        "Agenda",
        "Missing episodes and return home interviews",
        "Actions from last time",
        "Suspected perpetrators",
        "Locations",
        "Peer groups",
    ]
    details = dict(_rows(_table(agenda, "Panel")))
    assert details["Date"] == "Tuesday 29 December 2026"
    assert details["Referral cut-off"] == "Monday 21 December 2026 at 17:00"
    assert details["Agency updates cut-off"] == "Wednesday 23 December 2026 at 17:00"
    assert details["Chair"] == "Priya Shah, Head of Service"
    assert details["Venue"].startswith("Room 2.14") and details["Next panel"] == "Tuesday 08 December 2026"
    assert _rows(_table(agenda, "Agency", "Representatives"))[2] == [
        "West Midlands Police",
        "DC Lee Grant, Force CID",
    ]
    assert "Any other business" in [p.text for p in agenda.paragraphs if p.style.name == "Heading 2"]
    assert "Date moved: Moved from Monday 28 December 2026 (bank holiday) to the next working day." in _texts(
        agenda
    )


def test_agenda_items_come_with_their_times(agenda: DocumentObject) -> None:
    rows = _rows(_table(agenda, "Item"))
    assert rows[0] == [
        "Item",
        "Starts",
        "Section",
        "Child or context",
        "Why it is here",
        "Risk level",
        "Screening",
        "Plan status",
    ]
    assert rows[1][:3] == ["1", "10:00 (5 min)", "Attendance and confidentiality"]
    assert rows[3][:4] + rows[3][5:] == [
        "3",
        "10:10 (20 min)",
        "New referrals",
        "CS-778812: Jayden Miller, born 12 June 2010",
        "High",
        "Significant risk (screening tool)",
        "Not recorded",
    ]
    assert rows[6][:3] == ["6", "10:55 (10 min)", "Themes and intelligence"]
    why = [row[4] for row in rows[1:]]
    assert why == ["", "", "review due 29 Dec 2026", "review due 29 Dec 2026", "review due 29 Dec 2026", ""]
    texts = _texts(agenda)
    assert "CS-551234, CS-551235" in texts  # not for discussion, by reference only
    episodes = _rows(_table(agenda, "Child", "Episode and return home interview"))
    assert episodes[1][0] == "CS-778812" and "(within the timescale) by Locate: done." in episodes[1][1]


def test_agenda_lists_carried_actions_and_contexts(agenda: DocumentObject) -> None:
    carried = _rows(_table(agenda, "Ref", "Action", "Owner"))
    assert [row[0] for row in carried[1:]] == ["CEP-2026-0002-A04"]
    assert _rows(_table(agenda, "Suspected perpetrator"))[1:] == [["'T', adult male, 19", "CS-778812"]]
    assert _rows(_table(agenda, "Location", "Linked cases"))[1:] == [
        ["Northfield park", "CS-778812, CX-000045"]
    ]
    assert not _tables_with_header(agenda, "Peer group")
    assert "No peer groups were recorded for this panel." in _texts(agenda)


def test_agenda_without_a_move_or_carried_actions_says_so() -> None:
    context = agenda_context() | {"moved_note": "", "actions_from_last_time": [], "perpetrators": []}
    document = _open(render_panel_agenda(AGENDA, context).content)
    texts = _texts(document)
    assert not any(text.startswith("Date moved") for text in texts)
    assert "No open actions were carried forward from earlier panels." in texts
    assert "No suspected perpetrators were recorded for this panel." in texts
    assert not _tables_with_header(document, "Ref")


def test_minutes_show_the_register_disruption_and_intelligence_by_handling_code(
    minutes: DocumentObject,
) -> None:
    register = _rows(_table(minutes, "Register ref"))
    assert register[1] == [
        "SP-2026-0003",
        "Adult male, 19, known as 'T'; a child abduction warning notice was served.",
        "CS-778812",
    ]
    disruption = _rows(_table(minutes, "Action", "Case", "Tactic"))
    assert disruption[1][2] == "Child abduction warning notice"
    # the full copy holds the police-only intelligence; the withheld copy says who holds it
    intelligence = _rows(_table(minutes, "Handling code"))
    assert intelligence[1:] == [
        ["P: may be shared with partner agencies", "Dealing moved to the canal path."],
        ["4: police only", "T uses a grey Audi from the Lodge Road garage."],
    ]
    withheld = _open(render_panel_minutes(MINUTES, panel_minutes_specimen(withheld=True), None).content)
    assert _rows(_table(withheld, "Handling code"))[1:] == [
        ["P: may be shared with partner agencies", "Dealing moved to the canal path."],
        [
            "4: police only",
            "Withheld from this copy by its handling code. It is in the copies sent to West Midlands "
            "Police - Force CID, West Midlands Police - Public Protection Unit.",
        ],
    ]
    texts = _texts(withheld)
    assert "Seen with a known county lines associate." not in texts
    assert "Handling instruction: Police information: not to be shared with the family" in texts
    assert any(t.startswith("The full text is withheld from this copy under its handling") for t in texts)
    assert "This copy: Copy with restricted information withheld." in texts
    assert "This copy: Full copy." in _texts(minutes)
