"""Render a :class:`~vaeproofs.report.document.ReportDocument` as one self-contained HTML page.

The page needs no network: styles are inline, figures are embedded as base64 PNG
data URIs, and the mathematics is presentation MathML from sympy's printer, which
browsers render natively (MathML Core).
"""

from __future__ import annotations

import base64
import html

from vaeproofs.report.document import ReportDocument

__all__ = ["render_html"]

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 72rem;
       margin: 2rem auto; padding: 0 1.5rem; color: #1d232a; line-height: 1.45; }
h1 { font-size: 1.7rem; margin-bottom: .2rem; } h2 { margin-top: 2.2rem; font-size: 1.3rem; }
h3 { font-size: 1.05rem; margin-top: 1.6rem; }
.lede { color: #4a5561; margin-top: 0; }
table { border-collapse: collapse; width: 100%; margin: .8rem 0; font-size: .92rem; }
th, td { border-bottom: 1px solid #dde3e9; padding: .4rem .55rem; text-align: left;
         vertical-align: top; }
th { background: #f3f6f9; font-weight: 600; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; font-size: .88em;
       background: #f3f6f9; padding: .05rem .3rem; border-radius: 3px; }
.badge { display: inline-block; padding: .08rem .55rem; border-radius: 999px; font-weight: 600;
         font-size: .85rem; color: #fff; }
.holds { background: #1f7a3f; } .fails { background: #b3261e; }
.conflict, .undecided { background: #8a6d00; }
.yes { color: #1f7a3f; font-weight: 600; } .no { color: #b3261e; font-weight: 600; }
.na { color: #6b7580; }
.claim { border: 1px solid #dde3e9; border-radius: 8px; padding: .2rem 1.1rem 1rem;
         margin: 1.2rem 0; }
figure { margin: 1rem 0; } figure img { max-width: 100%; border: 1px solid #eef1f4; }
figcaption { color: #4a5561; font-size: .9rem; }
.derivation ol { padding-left: 1.4rem; } .derivation li { margin: .5rem 0; }
math[display="block"] { margin: .4rem 0 .4rem 1rem; padding: .15rem 0; overflow-x: auto;
                        overflow-y: hidden; }
td:first-child code { white-space: nowrap; }
.error { color: #b3261e; }
.sources { color: #4a5561; font-size: .9rem; }
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _badge(verdict: str) -> str:
    return f'<span class="badge {_e(verdict)}">{_e(verdict)}</span>'


def _figure(doc: ReportDocument, name: str) -> str:
    data = base64.b64encode(doc.figures[name]).decode("ascii")
    caption = doc.captions.get(name, name)
    return (f'<figure id="fig-{_e(name)}"><img alt="{_e(caption)}" '
            f'src="data:image/png;base64,{data}"><figcaption>{_e(caption)}</figcaption></figure>')


def render_html(doc: ReportDocument) -> str:
    """Return the whole report as one HTML document (a string)."""
    parts = ['<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             "<title>vaeproofs report</title>", f"<style>{_CSS}</style></head><body>",
             "<h1>Is the Gaussian VAE objective well-posed?</h1>"]
    counts = {v: sum(r.verdict == v for r in doc.results) for v in ("holds", "fails")}
    undecided = len(doc.results) - counts["holds"] - counts["fails"]
    mode = " with the quick settings" if doc.quick else ""
    parts.append(
        f'<p class="lede">vaeproofs decided {len(doc.results)} claims from computed evidence'
        f"{mode} in {doc.elapsed_s:.1f} s: {counts['holds']} hold, {counts['fails']} fail"
        + (f", {undecided} undecided or in conflict" if undecided else "") + ".</p>")
    question = next((r for r in doc.results if r.id == "question.ill-posed"), None)
    if question is not None and question.decided:
        answer = {"holds": "yes: with a learned decoder variance the objective is unbounded",
                  "fails": "no: the objective stays bounded"}[question.verdict]
        parts.append(f"<p><strong>The question &mdash; is it ill-posed?</strong> {_e(answer)} "
                     f"(<code>question.ill-posed</code> {question.verdict}). The table says "
                     "which remedies hold and where each answer in the discussion is right "
                     "or wrong.</p>")
    parts.append("<table><thead><tr><th>claim</th><th>verdict</th><th>conditions</th>"
                 "<th>time&nbsp;(s)</th></tr></thead><tbody>")
    for r in doc.results:
        parts.append(f'<tr><td><a href="#{_e(r.id)}"><code>{_e(r.id)}</code></a></td>'
                     f"<td>{_badge(r.verdict)}</td><td>{_e(r.conditions)}</td>"
                     f"<td>{r.elapsed_s:.1f}</td></tr>")
    parts.append("</tbody></table>")
    if doc.timings:
        parts.append('<p class="sources">Shared computations, counted in the time of the first '
                     "claim that needed them: " + ", ".join(
                         f"{_e(k)} {v:.1f}&nbsp;s" for k, v in
                         sorted(doc.timings.items(), key=lambda kv: -kv[1]) if v >= 0.05) + ".</p>")

    parts.append("<h2>Claims and evidence</h2>")
    shown: set[str] = set()
    for r in doc.results:
        parts.append(f'<section class="claim" id="{_e(r.id)}"><h3><code>{_e(r.id)}</code> '
                     f"{_badge(r.verdict)}</h3>")
        parts.append(f"<p><strong>Claim.</strong> {_e(r.statement)}</p>")
        parts.append(f'<p class="sources"><strong>Source.</strong> {_e(r.source)}</p>')
        parts.append(f"<p><strong>Judged in the setting:</strong> {_e(r.scope)}.<br>"
                     f"<strong>Conditions.</strong> {_e(r.conditions)}</p>")
        parts.append("<table><thead><tr><th>kind</th><th>condition</th><th>supports</th>"
                     "<th>evidence</th></tr></thead><tbody>")
        for ev in r.evidence:
            sup = {True: ('yes', 'yes'), False: ('no', 'no'), None: ('na', 'n/a')}[ev.supports]
            parts.append(f"<tr><td>{_e(ev.kind)}</td><td>{_e(ev.condition)}</td>"
                         f'<td class="{sup[0]}">{sup[1]}</td><td>{_e(ev.summary)}</td></tr>')
        parts.append("</tbody></table>")
        for err in r.errors:
            parts.append(f'<p class="error">Error while gathering evidence: {_e(err)}</p>')
        for name in dict.fromkeys(f for ev in r.evidence for f in ev.figures):
            if name in doc.figures and name not in shown:
                parts.append(_figure(doc, name))
                shown.add(name)
            elif name in shown:
                parts.append(f'<p class="sources">See figure <a href="#fig-{_e(name)}">'
                             f"{_e(doc.captions.get(name, name))}</a> above.</p>")
        parts.append("</section>")

    leftover = [n for n in doc.figures if n not in shown]
    if leftover:
        parts.append("<h2>Further figures</h2>")
        parts.extend(_figure(doc, n) for n in leftover)

    if doc.derivations:
        parts.append("<h2>Derivations</h2>")
        for d in doc.derivations:
            parts.append(f'<section class="derivation" id="derivation-{_e(d.name)}">'
                         f"<h3>{_e(d.title)}</h3><ol>")
            for text, mathml in d.to_mathml_items():
                item = f"<li>{_e(text)}"
                if mathml is not None:
                    item += f'<math display="block">{mathml}</math>'
                parts.append(item + "</li>")
            parts.append("</ol>")
            if d.sources:
                parts.append('<p class="sources">Sources: '
                             + "; ".join(_e(s) for s in d.sources) + "</p>")
            parts.append("</section>")
    if doc.versions:
        parts.append('<h2>Versions</h2><p class="sources">'
                     + ", ".join(f"{_e(k)} {_e(v)}" for k, v in doc.versions.items()) + "</p>")
    parts.append("</body></html>")
    return "\n".join(parts)
