"""Render a report view through its templates: Markdown and one self-contained HTML page.

The templates live in ``vaeproofs/report/templates/`` (shipped as package data).  The
HTML page needs no network: the style sheet is inlined, figures are embedded as base64
PNG data URIs, and the mathematics is presentation MathML from sympy's printer, which
browsers render natively (MathML Core).  Markdown refers to ``figures/NAME.png`` next to
the Markdown file.  Both formats show the same :class:`~vaeproofs.report.view.ReportView`.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import jinja2

from vaeproofs.report.document import ReportDocument
from vaeproofs.report.view import ReportView, build_view

__all__ = ["render_html", "render_markdown", "render_view"]


def _cell(text: object) -> str:
    """A Markdown table cell: pipes escaped, newlines folded."""
    return str(text).replace("|", "\\|").replace("\n", " ")


@cache
def _environment(autoescape: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("vaeproofs.report", "templates"),
        autoescape=autoescape, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    env.filters["cell"] = _cell
    return env


def render_view(view: ReportView, fmt: str) -> str:
    """Render ``view`` as ``"html"`` or ``"markdown"``."""
    if fmt == "html":
        css = (resources.files("vaeproofs.report") / "templates" / "report.css").read_text("utf-8")
        return _environment(True).get_template("report.html.j2").render(view=view, css=css)
    if fmt == "markdown":
        text = _environment(False).get_template("report.md.j2").render(view=view)
        return "\n".join(line.rstrip() for line in text.strip().splitlines()) + "\n"
    raise ValueError(f"fmt: must be 'html' or 'markdown', got {fmt!r}")


def render_html(doc: ReportDocument) -> str:
    """The whole report as one HTML document (a string)."""
    return render_view(build_view(doc), "html")


def render_markdown(doc: ReportDocument) -> str:
    """The whole report as one Markdown string."""
    return render_view(build_view(doc), "markdown")
