"""The report's view model: everything both renderers show, computed once.

:func:`build_view` turns a :class:`~vaeproofs.report.document.ReportDocument` into a
:class:`ReportView` of plain strings and small records.  The Markdown and HTML
templates (``vaeproofs/report/templates/``) only lay that view out: every sentence
that depends on a verdict (the headline answer included) is composed here, from the
computed verdicts, so the two formats cannot disagree and no renderer holds logic.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from vaeproofs.claims.claim import ClaimResult
from vaeproofs.report.document import DISCUSSION_URL, ReportDocument

__all__ = ["ClaimView", "EvidenceView", "FigureView", "ReportView", "SectionView", "build_view"]

_SUPPORTS = {True: ("yes", "yes"), False: ("no", "no"), None: ("na", "n/a")}


@dataclass(frozen=True)
class FigureView:
    """A figure: its name (anchor), caption, Markdown path and embedded PNG (base64)."""

    name: str
    caption: str
    path: str
    png_base64: str


@dataclass(frozen=True)
class EvidenceView:
    """One row of a claim's evidence table (``kind`` is how it was obtained)."""

    kind: str
    condition: str
    supports_class: str
    supports_text: str
    summary: str


@dataclass(frozen=True)
class FigureRef:
    """A figure a claim refers to; ``first`` when this claim shows it, else a link."""

    figure: FigureView
    first: bool


@dataclass(frozen=True)
class ClaimView:
    """One claim: its verdict line (with its setting), statement, evidence and figures."""

    id: str
    verdict: str
    statement: str
    source: str
    hypotheses: str
    scope: str
    conditions: str
    elapsed_s: str
    evidence: list[EvidenceView]
    decided_by: str
    this_setting: str
    other_settings: str
    errors: list[str]
    figures: list[FigureRef]


@dataclass(frozen=True)
class SectionView:
    """A group of claims with a heading (the thread's claims, then those beyond it)."""

    title: str
    intro: str
    claims: list[ClaimView]


@dataclass(frozen=True)
class DerivationView:
    """A derivation in both formats (Markdown text and MathML items)."""

    name: str
    title: str
    markdown: str
    items: list[tuple[str, str | None]]
    sources: list[str]


@dataclass(frozen=True)
class ReportView:
    """The whole report, ready for a template."""

    title: str
    lede: str
    headline: str | None
    sections: list[SectionView]
    timings: str | None
    command: str = ""
    discussion_url: str = ""
    leftover_figures: list[FigureView] = field(default_factory=list)
    derivations: list[DerivationView] = field(default_factory=list)
    versions: list[tuple[str, str]] = field(default_factory=list)


def headline(results: list[ClaimResult]) -> str | None:
    """The answer to the question, composed from the computed verdicts and their settings.

    ``None`` when ``question.ill-posed`` was not decided.  When the population claim was
    decided too, the answer says which setting each verdict is about.
    """
    by_id = {r.id: r for r in results}
    question = by_id.get("question.ill-posed")
    if question is None or not question.decided:
        return None
    unbounded = question.verdict == "holds"
    text = (f"{'Yes' if unbounded else 'No'}, in the setting it is about ({question.scope}): "
            + ("with a learned decoder variance the objective has no upper bound, so no maximiser "
               "exists." if unbounded else "the objective stays bounded."))
    population = by_id.get("population.density-bounded")
    if population is not None and population.decided:
        text += (f" In the setting of a {population.scope}, the ELBO is "
                 + ("bounded" if population.verdict == "holds" else "not bounded") + ".")
    floor = by_id.get("answer1.eigenvalue-floor-bounds")
    if floor is not None and floor.decided and floor.verdict == "holds":
        text += " A variance floor xi > 0 bounds it."
    return text


def _figures(doc: ReportDocument) -> dict[str, FigureView]:
    return {name: FigureView(name=name, caption=doc.captions.get(name, name),
                             path=f"figures/{name}.png",
                             png_base64=base64.b64encode(png).decode("ascii"))
            for name, png in doc.figures.items()}


def _counts(counts: tuple[int, int, int]) -> str:
    pro, con, info = counts
    return f"{pro} for, {con} against" + (f", {info} informative" if info else "")


def _settings(r: ClaimResult) -> tuple[str, str]:
    """The claim's own setting (which decides) and every other setting (which never votes)."""
    from vaeproofs.claims.verdict import describe_conditions

    here = f"{r.verdict.capitalize()}: {_counts(r.tally['this setting'])}"
    others = [e for e in r.evidence if e.condition != r.scope]
    there = (describe_conditions(r.scope, "undecided", others).rstrip(".")
             + f" ({_counts(r.tally['other settings'])})") if others else "none"
    return here, there


def _claim_view(r: ClaimResult, figures: dict[str, FigureView], shown: set[str]) -> ClaimView:
    refs = []
    for name in dict.fromkeys(f for e in r.evidence for f in e.figures):
        if name in figures:
            refs.append(FigureRef(figures[name], first=name not in shown))
            shown.add(name)
    return ClaimView(
        id=r.id, verdict=r.verdict, statement=r.statement, source=r.source,
        hypotheses=r.hypotheses, scope=str(r.scope),
        conditions=r.conditions, elapsed_s=f"{r.elapsed_s:.1f}",
        evidence=[EvidenceView(e.how, str(e.condition), *_SUPPORTS[e.supports], e.summary)
                  for e in r.evidence],
        decided_by=", ".join(r.decided_by) or "nothing voted",
        this_setting=_settings(r)[0], other_settings=_settings(r)[1],
        errors=list(r.errors), figures=refs)


def build_view(doc: ReportDocument, *, groups: dict[str, str] | None = None) -> ReportView:
    """The view of ``doc``.

    Args:
        doc: the computed report content.
        groups: claim id -> section title; claims are shown in ``doc.results`` order
            within the sections, sections in order of first appearance.  Default: the
            catalog's grouping (:func:`vaeproofs.claims.catalog.section_of`).
    """
    if groups is None:
        from vaeproofs.claims.catalog import section_of

        groups = {r.id: section_of(r.id) for r in doc.results}
    figures = _figures(doc)
    shown: set[str] = set()
    sections: dict[str, list[ClaimView]] = {}
    for r in doc.results:
        sections.setdefault(groups.get(r.id, "Claims"), []).append(_claim_view(r, figures, shown))
    holds = sum(r.verdict == "holds" for r in doc.results)
    fails = sum(r.verdict == "fails" for r in doc.results)
    other = len(doc.results) - holds - fails
    mode = " with the quick settings" if doc.quick else ""
    lede = (f"vaeproofs decided {len(doc.results)} claims from computed evidence{mode} in "
            f"{doc.elapsed_s:.1f} s: {holds} hold, {fails} fail"
            + (f", {other} undecided or in conflict" if other else "") + ".")
    timed = [f"{k} {v:.1f} s" for k, v in sorted(doc.timings.items(), key=lambda kv: -kv[1])
             if v >= 0.05]
    own, shared = sum(r.elapsed_s for r in doc.results), sum(doc.timings.values())
    from vaeproofs.claims.catalog import SECTION_INTROS

    return ReportView(
        title="Is the Gaussian VAE objective well-posed?",
        lede=lede,
        headline=headline(doc.results),
        sections=[SectionView(title, SECTION_INTROS.get(title, ""), claims)
                  for title, claims in sections.items()],
        timings=("Times: each claim's own time is in the table; the shared computations are "
                 "timed once each (" + ", ".join(timed) + f"). Claims {own:.1f} s + shared "
                 f"{shared:.1f} s = {own + shared:.1f} s of compute in {doc.elapsed_s:.1f} s of "
                 "wall time (shared computations may run on several processes at once).")
        if timed else None,
        command=doc.command, discussion_url=DISCUSSION_URL,
        leftover_figures=[f for n, f in figures.items() if n not in shown],
        derivations=[DerivationView(d.name, d.title, d.to_markdown(level=3), d.to_mathml_items(),
                                    list(d.sources)) for d in doc.derivations],
        versions=list(doc.versions.items()),
    )
