"""MkDocs hooks for the documentation site (``hooks:`` in mkdocs.yml).

- every ``arXiv ID`` mentioned in a page's text (Markdown pages and the docstrings
  mkdocstrings renders alike) becomes a link to ``https://arxiv.org/abs/ID``.

This file is read by ``mkdocs`` only; ``import vaeproofs`` never imports it.
"""

from __future__ import annotations

import re
from typing import Any

#: "arXiv 1802.04826", "arXiv:2010.09042v2", across a line break too
ARXIV = re.compile(r"\barXiv(?::|\s|&nbsp;)\s*(\d{4}\.\d{4,5}(?:v\d+)?)")
#: an HTML tag, or an element whose text must stay as it is (a link, code)
_SKIP = re.compile(r"<a\b.*?</a>|<code\b.*?</code>|<pre\b.*?</pre>|<[^>]+>", re.DOTALL)


def link_arxiv_ids(html: str) -> str:
    """``html`` with every ``arXiv ID`` in its text (outside tags, links and code) linked."""
    out: list[str] = []
    pos = 0
    for m in _SKIP.finditer(html):
        out.append(ARXIV.sub(_arxiv_link, html[pos:m.start()]))
        out.append(m.group(0))
        pos = m.end()
    out.append(ARXIV.sub(_arxiv_link, html[pos:]))
    return "".join(out)


def _arxiv_link(m: re.Match[str]) -> str:
    return f'<a href="https://arxiv.org/abs/{m.group(1)}">arXiv {m.group(1)}</a>'


def on_page_content(html: str, **kwargs: Any) -> str:
    """MkDocs event: link the arXiv ids of a rendered page."""
    return link_arxiv_ids(html)
