"""Reports of a verification: one view model, rendered as Markdown and self-contained HTML."""

from vaeproofs.report.document import ReportDocument
from vaeproofs.report.render import render_html, render_markdown, render_view
from vaeproofs.report.view import ReportView, build_view

__all__ = ["ReportDocument", "ReportView", "build_view", "render_html", "render_markdown",
           "render_view"]
