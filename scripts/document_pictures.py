"""Turn the first page of each document, rendered from its specimen record, into a PNG for
the README, so a partnership can see what it gets before installing anything:

    python scripts/document_pictures.py [output-folder]   # default docs/pictures

One LibreOffice run converts every document (`soffice --headless --convert-to pdf`), then
`pdftoppm` draws each first page at 60 dpi. The specimens are fictional
(bot/documents/specimens.py); the panel minutes carry a drawn network picture.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from bot.documents.specimens import (
    action_log_specimen,
    minutes_specimen,
    panel_agenda_specimen,
    panel_minutes_specimen,
)
from bot.minutes.documents import ACTION_LOG_TEMPLATE, MINUTES_TEMPLATE, render
from bot.panel.documents import PANEL_AGENDA_TEMPLATE, PANEL_MINUTES_TEMPLATE, render_panel_minutes
from bot.panel.network import NetworkEdge, NetworkNode, draw_network

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "templates"


def _network() -> bytes | None:
    nodes = [
        NetworkNode("case:CS-778812", "Jayden Miller\nCS-778812", "child"),
        NetworkNode("case:CS-660021", "Amir Khan\nCS-660021", "child", stepped_down=True),
        NetworkNode("case:CX-000045", "Northfield park\nCX-000045", "location"),
        NetworkNode("p:t", "Adult male known as T", "suspected_perpetrator"),
        NetworkNode("g:b", "Bristol Road group", "peer_group"),
    ]
    edges = [
        NetworkEdge("case:CS-778812", "p:t", "suspected_perpetrator"),
        NetworkEdge("case:CS-660021", "p:t", "suspected_perpetrator"),
        NetworkEdge("case:CS-778812", "case:CX-000045", "location"),
        NetworkEdge("case:CS-660021", "g:b", "peer_group"),
    ]
    return draw_network(nodes, edges, title="Criminal Exploitation Panel (North) CEP-2026-0003")


def main(argv: list[str]) -> int:
    out = Path(argv[0]) if argv else ROOT / "docs" / "pictures"
    out.mkdir(parents=True, exist_ok=True)
    office, pdftoppm = shutil.which("soffice"), shutil.which("pdftoppm")
    if office is None or pdftoppm is None:
        print("needs LibreOffice (soffice) and poppler-utils (pdftoppm)")
        return 1
    documents = {
        "minutes": render(TEMPLATES / MINUTES_TEMPLATE, minutes_specimen()),
        "minutes-withheld": render(TEMPLATES / MINUTES_TEMPLATE, minutes_specimen(withheld=True)),
        "action-log": render(TEMPLATES / ACTION_LOG_TEMPLATE, action_log_specimen()),
        "panel-agenda": render(TEMPLATES / PANEL_AGENDA_TEMPLATE, panel_agenda_specimen()),
        "panel-minutes": render_panel_minutes(
            TEMPLATES / PANEL_MINUTES_TEMPLATE, panel_minutes_specimen(), _network()
        ).content,
    }
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        paths = []
        for name, content in documents.items():
            (work / f"{name}.docx").write_bytes(content)
            paths.append(str(work / f"{name}.docx"))
        subprocess.run(
            [
                office,
                f"-env:UserInstallation={(work / 'profile').as_uri()}",
                "--headless",
                "--convert-to",
                "pdf",
                "--outdir",
                str(work),
                *paths,
            ],
            check=True,
            capture_output=True,
            timeout=600,
        )
        for name in documents:
            pages = {"minutes": 3, "minutes-withheld": 0, "panel-minutes": 0}.get(name, 1)
            first, last = (1, pages) if pages else (1, 1)
            if name == "minutes-withheld":
                first = last = 3  # the page with the withheld police update
            subprocess.run(
                [
                    pdftoppm,
                    "-png",
                    "-r",
                    "60",
                    "-f",
                    str(first),
                    "-l",
                    str(last),
                    str(work / f"{name}.pdf"),
                    str(out / name),
                ],
                check=True,
            )
    for picture in sorted(out.glob("*.png")):
        print(picture.relative_to(ROOT) if picture.is_relative_to(ROOT) else picture)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
