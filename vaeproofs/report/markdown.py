"""Render a :class:`~vaeproofs.report.document.ReportDocument` as Markdown.

Figures are referenced as ``figures/NAME.png`` next to the Markdown file; the
derivations are written with display LaTeX from sympy's printer.
"""

from __future__ import annotations

from vaeproofs.report.document import ReportDocument

__all__ = ["render_markdown"]


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(doc: ReportDocument) -> str:
    """Return the whole report as one Markdown string."""
    out = ["# vaeproofs: is the Gaussian VAE objective well-posed?", ""]
    mode = " (quick settings)" if doc.quick else ""
    out.append(f"{len(doc.results)} claims decided from computed evidence in "
               f"{doc.elapsed_s:.1f} s{mode}.")
    out += ["", "| claim | verdict | conditions | time (s) |", "|---|---|---|---|"]
    for r in doc.results:
        out.append(f"| `{r.id}` | **{r.verdict}** | {_cell(r.conditions)} | {r.elapsed_s:.1f} |")
    out.append("")
    for r in doc.results:
        out += [f"## `{r.id}`: {r.verdict}", "", f"**Claim.** {r.statement}", "",
                f"**Source.** {r.source}", "", f"**Scope.** {r.scope}", "",
                f"**Conditions.** {r.conditions}", "", "| kind | condition | supports | summary |",
                "|---|---|---|---|"]
        for e in r.evidence:
            sup = {True: "yes", False: "no", None: "n/a"}[e.supports]
            out.append(f"| {e.kind} | {_cell(e.condition)} | {sup} | {_cell(e.summary)} |")
        for err in r.errors:
            out.append(f"\n> error while gathering evidence: {err}")
        figs = sorted({f for e in r.evidence for f in e.figures if f in doc.figures})
        out.append("")
        out.extend(f"![{doc.captions.get(f, f)}](figures/{f}.png)\n" for f in figs)
    if doc.derivations:
        out += ["# Derivations", ""]
        for d in doc.derivations:
            out.append(d.to_markdown(level=2))
    if doc.versions:
        out += ["# Versions", ""]
        out.extend(f"- {k} {v}" for k, v in doc.versions.items())
    return "\n".join(out).rstrip() + "\n"
