"""MkDocs hooks for the documentation site (``hooks:`` in mkdocs.yml).

- every ``arXiv ID`` mentioned in a page's text (Markdown pages and the docstrings
  mkdocstrings renders alike) becomes a link to ``https://arxiv.org/abs/ID``;
- the Sphinx roles of the docstrings (``:func:`name```, ``:class:`~pkg.Name```) become
  code, linked by mkdocs-autorefs to the API reference where ``name`` is a full path
  that the reference documents, plain code otherwise.

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


#: a Sphinx role as the docstring renderer leaves it: ``:func:<code>~a.b</code>``
SPHINX_ROLE = re.compile(r":(?:func|class|data|mod|meth|attr|exc|obj):<code>(~?)([\w.]+)(\(\))?</code>")


def sphinx_roles_to_refs(html: str) -> str:
    """``html`` with each Sphinx role turned into (optionally linked) code.

    ``~a.b.C`` shows ``C``; a dotted name is handed to mkdocs-autorefs as an optional
    reference (a link where the API reference documents it, plain code otherwise).
    """
    def repl(m: re.Match[str]) -> str:
        tilde, name, call = m.group(1), m.group(2), m.group(3) or ""
        shown = (name.rsplit(".", 1)[-1] if tilde else name) + call
        code = f"<code>{shown}</code>"
        if "." in name:
            return f'<autoref identifier="{name}" optional>{code}</autoref>'
        return code

    return SPHINX_ROLE.sub(repl, html)


def on_page_content(html: str, **kwargs: Any) -> str:
    """MkDocs event: link the arXiv ids and resolve the Sphinx roles of a rendered page."""
    return link_arxiv_ids(sphinx_roles_to_refs(html))
