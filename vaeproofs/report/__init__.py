"""Reports of a verification: Markdown and one self-contained HTML page."""

from vaeproofs.report.document import ReportDocument
from vaeproofs.report.html import render_html
from vaeproofs.report.markdown import render_markdown

__all__ = ["ReportDocument", "render_html", "render_markdown"]
