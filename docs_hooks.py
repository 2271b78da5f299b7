"""MkDocs hooks for the documentation site (``hooks:`` in mkdocs.yml).

- every ``arXiv ID`` mentioned in a page's text (Markdown pages and the docstrings
  mkdocstrings renders alike) becomes a link to ``https://arxiv.org/abs/ID``;
- the Sphinx roles of the docstrings (``:func:`name```, ``:class:`~pkg.Name```) become
  code, linked by mkdocs-autorefs to the API reference where ``name`` is a full path
  that the reference documents, plain code otherwise; a reST ``::`` before a literal
  block reads as one colon;
- one page per derivation of :mod:`vaeproofs.symbolic.catalog`, generated while the
  site builds (``derivations/NAME.md``, hyphens as underscores, as the scripts in
  ``derivations/``), and an index: its steps with MathML from sympy (which browsers
  render natively, no script, no network), its computed facts and results, its sources
  and the code that computes it.  A derivation added to the catalog gets its page and
  its nav entry without any change here.

This file is read by ``mkdocs`` only; ``import vaeproofs`` never imports it.
"""

from __future__ import annotations

import html
import importlib
import inspect
import multiprocessing
import os
import re
import sys
from concurrent.futures import Future, ProcessPoolExecutor
from typing import Any

from vaeproofs.symbolic import catalog
from vaeproofs.symbolic.derivation import Derivation, json_value

#: the nav section whose children are the generated derivation pages
DERIVATIONS_SECTION = "Derivations"

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


#: a reST literal-block marker ("... as follows::") left before the code block it opens
LITERAL_MARKER = re.compile(r"(\S)::</p>(\s*<(?:div class=\"[^\"]*highlight|pre))")


def on_page_content(html: str, **kwargs: Any) -> str:
    """MkDocs event: link the arXiv ids, resolve the Sphinx roles, drop reST ``::`` markers."""
    return LITERAL_MARKER.sub(r"\1:</p>\2", link_arxiv_ids(sphinx_roles_to_refs(html)))


def page_path(name: str) -> str:
    """The generated page of derivation ``name``, relative to the docs folder."""
    return f"derivations/{name.replace('-', '_')}.md"


def derivation_nav() -> list[Any]:
    """The children of the Derivations nav section: the index, then one page per name."""
    return ["derivations/index.md", *({name: page_path(name)} for name in catalog.names())]


def _code_of(name: str) -> tuple[str, str, str]:
    """``(module path, function name, source)`` of the function that computes ``name``."""
    module_name, func_name = catalog.CATALOG[name][0].split(":")
    func = getattr(importlib.import_module(module_name), func_name)
    return module_name.replace(".", "/") + ".py", func_name, inspect.getsource(func)


def md_text(text: str) -> str:
    """``text`` as literal Markdown: no emphasis, link, table cell or HTML read into it."""
    return re.sub(r"([\\`*_\[\]|#])", r"\\\1", html.escape(text, quote=False))


def _code_block(source: str) -> str:
    fence = "`" * max(3, 1 + max((len(m) for m in re.findall(r"`+", source)), default=0))
    return f"{fence}python\n{source.rstrip()}\n{fence}"


def derivation_page(d: Derivation[Any, Any]) -> str:
    """The Markdown page of one derivation: steps (MathML), facts, results, sources, code.

    Steps, facts and results are raw HTML (escaped text, sympy's presentation MathML), so
    that Markdown never reads a ``*`` or ``_`` of a formula as emphasis.
    """
    stem = d.name.replace("-", "_")
    path, func_name, source = _code_of(d.name)
    steps = []
    for text, mathml in d.to_mathml_items():
        math = ('<div class="derivation-math"><math display="block">'
                f"{mathml}</math></div>" if mathml is not None else "")
        steps.append(f"<li><p>{html.escape(text)}</p>{math}</li>")
    facts = "".join(f"<tr><td><code>{html.escape(k)}</code></td><td><code>"
                    f"{html.escape(str(json_value(v)))}</code></td></tr>" for k, v in d.facts.items())
    results = "".join(f"<tr><td><code>{html.escape(k)}</code></td><td><code>"
                      f"{html.escape(str(json_value(v)))}</code></td></tr>"
                      for k, v in d.results.items())
    out = [
        f"# {md_text(d.title)}",
        "",
        f"`{d.name}`: {md_text(catalog.CATALOG[d.name][1])}. Computed by `{func_name}` in `{path}` while "
        "this page was built; print it in a terminal with `vaeproofs derive "
        f"{d.name}` or `python derivations/{stem}.py --out DIR` (which also writes "
        f"`DIR/{d.name}.md` with LaTeX).",
        "",
        "## Steps",
        "",
        f'<ol class="derivation-steps">{"".join(steps)}</ol>',
        "",
        "## Computed facts",
        "",
        "What the claims layer reads (`d.facts`), computed from the results below.",
        "",
        f"<table><thead><tr><th>fact</th><th>value</th></tr></thead><tbody>{facts}</tbody></table>",
    ]
    if results:
        out += ["", "## Results", "", "The sympy expressions established (`d.results`).", "",
                f"<table><thead><tr><th>result</th><th>value</th></tr></thead>"
                f"<tbody>{results}</tbody></table>"]
    if d.sources:
        out += ["", "## Sources", "", *(f"- {md_text(s)}" for s in d.sources)]
    out += ["", "## The code", "", f'??? note "`{func_name}` in `{path}`"', "",
            *("    " + line if line else "" for line in _code_block(source).splitlines())]
    return "\n".join(out) + "\n"


def index_page(names: list[str]) -> str:
    """The Derivations index: one row per catalog entry, linking its page."""
    rows = "\n".join(f"| [`{n}`]({page_path(n).split('/', 1)[1]}) | {md_text(catalog.CATALOG[n][1])} |"
                      for n in names)
    return f"""# Derivations

Every symbolic derivation of vaeproofs, rendered from the code while this site was built:
the steps with the expressions sympy computed (as MathML), the facts the claims are
decided from, the results, the sources and the code. The same derivation prints in a
terminal with `vaeproofs derive NAME` or `python derivations/NAME.py` (hyphens as
underscores), and `vaeproofs derive --list` lists them.

| derivation | what it shows |
|---|---|
{rows}
"""


def render_named(name: str) -> str:
    """The page of derivation ``name`` (derived here: runs in a worker process)."""
    return derivation_page(catalog.derive(name))


# MkDocs registers this file as sys.modules["docs_hooks.py"], a name that pickle cannot
# import; the worker pool pickles render_named by reference, so it is registered under a
# plain name too (forked workers inherit the registration).
_PICKLE_NAME = "vaeproofs_docs_hooks"
sys.modules.setdefault(_PICKLE_NAME, sys.modules[__name__])
render_named.__module__ = _PICKLE_NAME


class PageRenderer:
    """Renders every derivation's page on forked worker processes, started early.

    :meth:`start` (at ``on_config``) submits every derivation at once, so they run while
    MkDocs reads the other pages and runs the tutorials; :meth:`page` waits for one.  The
    derivations are independent; each worker returns its page as text (sending the sympy
    objects back instead would rebuild, and re-evaluate, every expression on unpickling).
    Without ``fork`` (not Linux), or on one core, each page is rendered when asked for.
    """

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self._pending: dict[str, Future[str]] = {}

    def start(self, names: list[str]) -> None:
        """Submit every derivation in ``names`` (shutting down a previous build's pool)."""
        self.close()
        workers = max(1, min(len(names), os.cpu_count() or 1, 8))
        if workers == 1 or "fork" not in multiprocessing.get_all_start_methods():
            return
        self._pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))
        self._pending = {name: self._pool.submit(render_named, name) for name in names}

    def page(self, name: str) -> str:
        """The page of derivation ``name``; a derivation that raised raises here."""
        future = self._pending.get(name)
        return future.result() if future is not None else render_named(name)

    def close(self) -> None:
        """Stop the workers (cancelling what has not started)."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self._pool, self._pending = None, {}


RENDERER = PageRenderer()
#: docs-relative path of each generated derivation page -> its derivation's name
_PAGES: dict[str, str] = {}


def on_config(config: Any, **kwargs: Any) -> Any:
    """MkDocs event: list every catalog derivation in the nav and start rendering them."""
    for item in config.nav or []:
        if isinstance(item, dict) and DERIVATIONS_SECTION in item:
            item[DERIVATIONS_SECTION] = derivation_nav()
    RENDERER.start(catalog.names())
    return config


def on_files(files: Any, config: Any, **kwargs: Any) -> Any:
    """MkDocs event: add the derivation index and one page per derivation.

    A page's text is filled in by :func:`on_page_markdown` when MkDocs reads it.
    """
    from mkdocs.structure.files import File

    names = catalog.names()
    files.append(File.generated(config, "derivations/index.md", content=index_page(names)))
    _PAGES.clear()
    for name in names:
        _PAGES[page_path(name)] = name
        files.append(File.generated(config, page_path(name), content=f"# {name}\n"))
    return files


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    """MkDocs event: a derivation page's text, from its worker."""
    name = _PAGES.get(page.file.src_uri)
    return RENDERER.page(name) if name is not None else markdown


def on_post_build(**kwargs: Any) -> None:
    """MkDocs event: stop the workers."""
    RENDERER.close()


def on_build_error(**kwargs: Any) -> None:
    """MkDocs event: stop the workers."""
    RENDERER.close()
