"""Render the Word minutes and action log from the templates in ``templates/``.

The templates are ordinary ``.docx`` files with docxtpl's Jinja tags, so a partnership can
restyle them in Word without a programmer. What people typed arrives here as *data* and is
escaped, never evaluated:

- Values are rendered once, as values: ``{{ 7*7 }}`` typed into a field is text in the
  output, never template source.
- Autoescape turns ``<``, ``>`` and ``&`` into XML entities, and ``_finalize`` also writes
  ``{`` and ``}`` as character references, so docxtpl's post-render clean-up (which
  rewrites ``{_{`` to ``{{`` in the output XML) cannot alter typed text either.
- Characters XML 1.0 forbids (most C0 controls, lone surrogates) are dropped, because one
  of them would make the whole document unreadable; ``\\r\\n`` and ``\\r`` become ``\\n``.
- Newlines stay as they were typed: docxtpl turns a ``\\n`` inside a rendered run into a
  ``<w:br/>`` line break (and a tab into ``<w:tab/>``), so plain strings are enough and
  no ``Listing`` or ``RichText`` is needed.

The Jinja environment is sandboxed (the template itself is edited by administrators, not
programmers) and strict about undefined names, so a context missing a key fails loudly
instead of silently leaving a blank in a safeguarding record.
"""

from __future__ import annotations

import functools
import hashlib
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docx.shared import Cm
from docxtpl import DocxTemplate, InlineImage
from jinja2 import StrictUndefined, Template
from jinja2.sandbox import SandboxedEnvironment
from lxml import etree
from markupsafe import Markup, escape

MINUTES_TEMPLATE = "strategy_discussion_minutes.docx"
ACTION_LOG_TEMPLATE = "action_log.docx"

MINUTES_VARIABLES: frozenset[str] = frozenset(
    {
        "marking",
        "confidentiality",
        "partnership",
        "reference",
        "kind",
        "follows",
        "date",
        "time",
        "end_time",
        "format",
        "chair",
        "minute_taker",
        "referral",
        "urgency",
        "deadline",
        "held_within",
        "late_reason",
        "out_of_hours",
        "rhrt_level",
        "concerns",
        "children",
        "attendance",
        "reason",
        "action_taken",
        "information_shared",
        "child_voice",
        "risk_grid",
        "risk_analysis",
        "decisions",
        "safety_plan",
        "actions",
        "icpc_date",
        "icpc",
        "section_47",
        "assessment_deadline",
        "review_date",
        "next_steps",
        "dissent",
        "circulation",
        "copy",
        "changes",
        "version",
        "state",
        "generated_at",
        "approved_by",
        "approved_at",
    }
)

ACTION_LOG_VARIABLES: frozenset[str] = frozenset(
    {"marking", "partnership", "reference", "title", "generated_at", "version", "changes", "actions"}
)

# The width of a picture placed with ``images=``: the A4 text width is 17 cm with the
# templates' 2 cm margins, so 16 cm fits with room to spare; the height follows the aspect.
IMAGE_WIDTH_CM = 16.0

# Everything XML 1.0 cannot carry: C0 controls other than tab and newline, surrogates,
# and the two non-characters U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_BRACES = str.maketrans({"{": "&#123;", "}": "&#125;"})


class TemplateContextError(ValueError):
    """The context lacks names the template uses: a bug in the caller, not in the input."""


def _finalize(value: Any) -> Any:
    """Turn each ``{{ value }}`` into inert, well-formed XML text before it is written."""
    if type(value) is str:  # most values: checked first, the rest of the tests skipped
        return _inert(value)
    if value is None:
        return ""
    if hasattr(value, "__html__"):  # Markup, or docxtpl's RichText/Listing/InlineImage built by our code
        return value
    if isinstance(value, bool | int | float):
        return value
    return _inert(str(value))


def _inert(text: str) -> Markup:
    """Text escaped for XML, its braces as character references and what XML cannot carry
    dropped (a report has tens of thousands of values, so the common case does least)."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    escaped = escape(_NOT_XML.sub("", text))
    if "{" in escaped or "}" in escaped:
        return Markup(str(escaped).translate(_BRACES))
    return escaped


def _environment() -> SandboxedEnvironment:
    """A fresh environment: sandboxed, strict, escaping every value."""
    return SandboxedEnvironment(autoescape=True, undefined=StrictUndefined, finalize=_finalize)


class _CompiledOnce(SandboxedEnvironment):
    """`_environment`'s settings, keeping the last templates compiled by their source text.

    docxtpl turns a document's XML into Jinja source and compiles it on every render
    (parsing, generating and compiling Python: about half of rendering a report); the
    source is the same each time the same template file is rendered, so its compiled form
    is kept. Only the template's text is the key: the values rendered are never kept."""

    AT_MOST = 32

    def __init__(self) -> None:
        super().__init__(autoescape=True, undefined=StrictUndefined, finalize=_finalize)
        # Keyed by the source text; thread-safe (two threads may compile the same text once each).
        self._compiled = functools.lru_cache(maxsize=self.AT_MOST)(self._compiled_text)

    def _compiled_text(self, source: str) -> Template:
        return super().from_string(source)

    def from_string(self, source: Any, globals: Any = None, template_class: Any = None) -> Template:
        if globals is not None or template_class is not None or not isinstance(source, str):
            return super().from_string(source, globals, template_class)
        return self._compiled(source)


# Shared by every render (a Jinja environment and its templates are safe across threads).
_RENDERING = _CompiledOnce()


@functools.lru_cache(maxsize=32)
def _patched(source: str) -> str:
    """docxtpl's clean-up of a part's XML into Jinja source (a few dozen regular
    expressions over the whole part), kept by the part's text: a template file gives the
    same text, and so the same result, on every render."""
    return DocxTemplate.patch_xml(_UNUSED_TEMPLATE, source)


_CLOSE = "</w:p>"
_LISTING = re.compile("[\t\a\n\f]")


class _Template(DocxTemplate):
    """docxtpl's template, producing the very same XML with less repeated work: the
    patched XML kept (`_patched`), and the line breaks and tabs typed into values
    (docxtpl's `resolve_listing`) looked for only in the paragraphs that hold one, where
    docxtpl takes every run and text of every paragraph apart to find none."""

    def patch_xml(self, src_xml: str) -> str:
        return _patched(src_xml)

    def resolve_listing(self, xml: str) -> str:
        return resolved_listing(xml, _resolved_paragraph)

    def fix_tables(self, xml: str) -> Any:
        """docxtpl's `fix_tables`, which widens or narrows a table's grid to its cells (a
        column loop): every table is checked first, and the XML is read again and fixed by
        docxtpl only when one needs it, rather than walking every cell of every table."""
        tree = etree.fromstring(xml, parser=etree.XMLParser(recover=True))
        return tree if _tables_fit(tree) else super().fix_tables(xml)


def _tables_fit(tree: Any) -> bool:
    """Whether docxtpl's `fix_tables` would leave every table as it is: no row has more
    cells than the grid has columns, and some row's cells (with their spans) fill them."""
    if "w" not in tree.nsmap:
        return False  # docxtpl's own fails as it fails
    ns = "{" + tree.nsmap["w"] + "}"
    row, cell, properties, span, value = (ns + "tr", ns + "tc", ns + "tcPr", ns + "gridSpan", ns + "val")
    for table in tree.iter(ns + "tbl"):
        grid = table.find(ns + "tblGrid")
        if grid is None:
            return False
        columns = len(grid.findall(ns + "gridCol"))
        filled = False
        for cells in (found.findall(cell) for found in table.iter(row)):
            if len(cells) > columns:
                return False
            if not filled:
                width = 0
                for one in cells:
                    spanned = one.find(properties)
                    spanned = None if spanned is None else spanned.find(span)
                    width += 1 if spanned is None else int(spanned.get(value))
                filled = width >= columns
        if not filled:
            return False
    return True


# docxtpl's `resolve_listing` of one paragraph, its patterns compiled once (docxtpl looks
# each one up again for every run and text); the test holds the two to the same output.
_PARAGRAPH_PROPERTIES = re.compile(r"<w:pPr>.*?</w:pPr>")
_RUN = re.compile(r"<w:r(?: [^>]*)?>.*?</w:r>", re.DOTALL)
_RUN_PROPERTIES = re.compile(r"<w:rPr>.*?</w:rPr>")
_TEXT = re.compile(r"<w:t(?: [^>]*)?>.*?</w:t>", re.DOTALL)


def _resolved_paragraph(paragraph: str) -> str:
    found = _PARAGRAPH_PROPERTIES.search(paragraph)
    paragraph_properties = found.group(0) if found else ""

    def run(match: re.Match[str]) -> str:
        found = _RUN_PROPERTIES.search(match.group(0))
        run_properties = found.group(0) if found else ""
        tab = (
            f'</w:t></w:r><w:r>{run_properties}<w:tab/></w:r><w:r>{run_properties}<w:t xml:space="preserve">'
        )
        bell = f'</w:t></w:r></w:p><w:p>{paragraph_properties}<w:r>{run_properties}<w:t xml:space="preserve">'
        page = (
            '</w:t></w:r></w:p><w:p><w:r><w:br w:type="page"/></w:r></w:p>'
            f'<w:p>{paragraph_properties}<w:r>{run_properties}<w:t xml:space="preserve">'
        )

        def text(match: re.Match[str]) -> str:
            return (
                match.group(0)
                .replace("\t", tab)
                .replace("\a", bell)
                .replace("\n", '</w:t><w:br/><w:t xml:space="preserve">')
                .replace("\f", page)
            )

        return _TEXT.sub(text, match.group(0))

    return _RUN.sub(run, paragraph)


def resolved_listing(xml: str, resolve: Callable[[str], str]) -> str:
    """docxtpl's `resolve_listing` of the whole XML, calling it (`resolve`) only on the
    paragraphs that hold a line break, tab, bell or form feed.

    docxtpl's pattern cuts the XML into paragraphs from the left: each runs from a
    paragraph's opening tag to the first closing tag after it. So whatever precedes a
    closing tag, the paragraph holding a character (if any) opens at the first opening tag
    after the last closing tag before it and ends at the first closing tag after that: it
    is found from the character, without cutting up the paragraphs in between."""
    out: list[str] = []
    done = 0
    for found in _LISTING.finditer(xml):
        at = found.start()
        if at < done:
            continue  # in the paragraph just resolved
        closed = xml.rfind(_CLOSE, 0, at)
        after = 0 if closed < 0 else closed + len(_CLOSE)
        # an opening tag starting at or before the character (looked for no further)
        opens = [i for i in (xml.find("<w:p ", after, at + 5), xml.find("<w:p>", after, at + 5)) if i >= 0]
        if not opens or min(opens) > at:
            continue  # outside every paragraph: docxtpl leaves it too
        opened = min(opens)
        tag_ends = xml.find(">", opened)
        ends = xml.find(_CLOSE, tag_ends + 1) if tag_ends >= 0 else -1
        if ends < 0:
            break  # no closing tag: docxtpl's pattern finds no paragraph from here on
        ends += len(_CLOSE)
        out += (xml[done:opened], resolve(xml[opened:ends]))
        done = ends
    if not out:
        return xml
    out.append(xml[done:])
    return "".join(out)


# patch_xml uses nothing of its template object; `_patched` has to name one.
_UNUSED_TEMPLATE = DocxTemplate(io.BytesIO())


def template_variables(path: Path) -> set[str]:
    """The top-level names a template uses, so a test can hold code and template together."""
    return set(_names_used(path.read_bytes()))


# The names each template uses, by its bytes: finding them parses the whole document and
# its Jinja (about as long as rendering it), and every render checks them.
_NAMES_USED: dict[bytes, frozenset[str]] = {}
_NAMES_AT_MOST = 64


def _names_used(content: bytes) -> frozenset[str]:
    digest = hashlib.sha256(content).digest()
    names = _NAMES_USED.get(digest)
    if names is None:
        template = DocxTemplate(io.BytesIO(content))
        names = frozenset(template.get_undeclared_template_variables(jinja_env=_environment()))
        if len(_NAMES_USED) >= _NAMES_AT_MOST:
            _NAMES_USED.clear()
        _NAMES_USED[digest] = names
    return names


def render(template_path: Path, context: dict[str, Any], *, images: dict[str, bytes] | None = None) -> bytes:
    """Render the template with ``context`` (values escaped) and return the ``.docx`` bytes.

    Each entry of ``images`` (name to PNG or JPEG bytes) becomes a picture, ``IMAGE_WIDTH_CM``
    wide, under that name. A docxtpl picture belongs to one template object, so it has to be
    built here, where that object is; callers pass bytes and share this one render path.
    """
    template = _Template(str(template_path))
    images = images or {}
    clashing = set(images) & set(context)
    if clashing:
        raise TemplateContextError(f"{', '.join(sorted(clashing))} given both as a value and as an image")
    provided = set(context) | set(images)
    missing = _names_used(template_path.read_bytes()) - provided
    if missing:
        raise TemplateContextError(
            f"{template_path.name} uses {', '.join(sorted(missing))}, which the context does not provide"
        )
    if images:
        # A new dict, so the caller's context is not changed; the pictures pass `_finalize`
        # untouched because InlineImage has ``__html__`` (it writes its own drawing XML).
        context = dict(context) | {
            name: InlineImage(template, io.BytesIO(content), width=Cm(IMAGE_WIDTH_CM))
            for name, content in images.items()
        }
    template.render(context, jinja_env=_RENDERING, autoescape=True)
    buffer = io.BytesIO()
    template.save(buffer)
    return buffer.getvalue()


@dataclass(frozen=True)
class RenderedDocument:
    """A rendered document and its SHA-256, stored with an approved version to show it is unchanged."""

    content: bytes
    sha256: str
    # Each part's fingerprint (bot.documents.changes), kept with the version so the next
    # one can say what changed; empty for a document that does not say.
    sections: dict[str, str] = field(default_factory=dict)


def render_document(
    template_path: Path,
    context: dict[str, Any],
    *,
    images: dict[str, bytes] | None = None,
    sections: dict[str, str] | None = None,
) -> RenderedDocument:
    """Render and fingerprint in one step, so the hash is always of exactly these bytes."""
    content = render(template_path, context, images=images)
    return RenderedDocument(
        content=content, sha256=hashlib.sha256(content).hexdigest(), sections=dict(sections or {})
    )
