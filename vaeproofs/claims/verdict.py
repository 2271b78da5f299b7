"""Evidence records and the rule that turns them into a verdict.

Conventions
-----------
Every piece of evidence is judged against the claim's statement *under one
condition*, a member of the closed vocabulary :class:`~vaeproofs.claims.conditions.Condition`
(e.g. ``Condition.ANSWER2_EXAMPLE`` or ``Condition.FLEXIBLE_LEARNED_VARIANCE``).
``supports`` is ``True`` when the computation
agrees with the statement under that condition, ``False`` when it contradicts it,
and ``None`` when it is informative only (e.g. a training run too short to show
the effect either way).

The verdict is computed, never stated:

- evidence under the claim's own *scope* (the setting the claim is about) decides:
  ``holds`` if all of it supports, ``fails`` if all of it contradicts;
- if evidence under the scope disagrees with itself, the claim is ``conflict`` and
  :func:`decide` records the conflicting items (the CLI then exits non-zero);
- evidence under other conditions does not change the verdict but is summarised
  in the ``conditions`` text ("holds for ...; fails for ...").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from vaeproofs.claims.conditions import Condition

__all__ = ["METHOD_OF_KIND", "Evidence", "Verdict", "decide", "decided_by", "describe_conditions",
           "tally"]

Kind = Literal["symbolic", "high-precision", "numeric"]
Verdict = Literal["holds", "fails", "conflict", "undecided"]

#: How a piece of evidence was obtained, by kind, unless it says more (numeric evidence
#: read from a training suite is marked "training run" by
#: :func:`vaeproofs.claims.claim.evaluate_claim`).
METHOD_OF_KIND: dict[str, str] = {"symbolic": "symbolic proof",
                                  "high-precision": "high-precision construction",
                                  "numeric": "numeric check"}


@dataclass(frozen=True)
class Evidence:
    """One computed piece of evidence for or against a claim.

    Attributes:
        kind: ``"symbolic"`` (sympy), ``"high-precision"`` (mpmath constructions) or
            ``"numeric"`` (torch / numpy float computations, training runs).
        summary: one or two sentences with the computed numbers.
        supports: see the module docstring.
        condition: the setting this evidence speaks about.
        figures: names of figures (keys of the report's figure set) it refers to.
        data: the raw numbers behind the summary (JSON-serialisable).
        method: how it was obtained ("symbolic proof", "high-precision construction",
            "numeric check", "training run"); empty means :data:`METHOD_OF_KIND` of ``kind``.
    """

    kind: Kind
    summary: str
    supports: bool | None
    condition: Condition
    figures: tuple[str, ...] = ()
    data: dict[str, Any] = field(default_factory=dict)
    method: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.condition, Condition):
            raise TypeError(f"condition: must be a vaeproofs.claims.conditions.Condition, "
                            f"got {self.condition!r}")

    @property
    def how(self) -> str:
        """How the evidence was obtained (``method``, or the default for its kind)."""
        return self.method or METHOD_OF_KIND[self.kind]

    @property
    def passed(self) -> bool:
        """``True`` when the evidence supports the statement (``None`` counts as not)."""
        return self.supports is True


def decide(scope: Condition, evidence: Sequence[Evidence]) -> tuple[Verdict, list[Evidence]]:
    """Return the verdict for a claim with the given scope, and any conflicting items.

    Only evidence whose ``condition`` equals ``scope`` and whose ``supports`` is not
    ``None`` votes.  No vote gives ``"undecided"``.
    """
    votes = [e for e in evidence if e.condition == scope and e.supports is not None]
    if not votes:
        return "undecided", []
    if all(e.supports for e in votes):
        return "holds", []
    if not any(e.supports for e in votes):
        return "fails", []
    return "conflict", votes


def tally(scope: Condition, evidence: Sequence[Evidence]) -> dict[str, tuple[int, int, int]]:
    """Counts of (for, against, informative) evidence, in the claim's setting and in others.

    Returns ``{"this setting": (...), "other settings": (...)}``: evidence under another
    condition never votes, so "against" there does not contradict a "holds" here.
    """
    out = {}
    for key, mine in (("this setting", True), ("other settings", False)):
        items = [e for e in evidence if (e.condition == scope) == mine]
        out[key] = (sum(e.supports is True for e in items), sum(e.supports is False for e in items),
                    sum(e.supports is None for e in items))
    return out


def decided_by(scope: Condition, evidence: Sequence[Evidence]) -> list[str]:
    """The methods of the evidence that voted in the claim's setting, strongest first.

    Order: symbolic proof, high-precision construction, numeric check, training run
    (then any other method), each named once; empty when nothing voted.
    """
    order = [*METHOD_OF_KIND.values(), "training run"]
    used = {e.how for e in evidence if e.condition == scope and e.supports is not None}
    return sorted(used, key=lambda m: (order.index(m) if m in order else len(order), m))


def describe_conditions(scope: Condition, verdict: Verdict, evidence: Sequence[Evidence]) -> str:
    """Summarise, from the evidence, under which conditions the statement holds or fails.

    The claim's own setting is called "this setting" (the report prints it beside the
    text); every other condition is named, e.g. "Fails in this setting; holds for the
    answer's 1-D example (...)."
    """
    holds: list[Condition] = []
    fails: list[Condition] = []
    informative: list[Condition] = []
    for e in evidence:
        bucket = informative if e.supports is None else holds if e.supports else fails
        if e.condition not in bucket:
            bucket.append(e.condition)
    # A setting with only informative evidence (e.g. a realistic-size training run, which
    # cannot prove or refute boundedness) is still named, so the text cites it.
    informative = [c for c in informative if c not in holds and c not in fails and c != scope]

    def names(conditions: list[Condition]) -> str:
        conditions = sorted(conditions, key=lambda c: c != scope)  # the claim's own setting first
        return ", and for ".join("this setting" if c == scope else c.value for c in conditions)

    parts = []
    for word, bucket in (("holds", holds), ("fails", fails)):
        if not bucket:
            continue
        # "holds in this setting" reads better than "holds for this setting".
        text = f"{word} for {names(bucket)}"
        parts.append(text.replace(f"{word} for this setting", f"{word} in this setting"))
    if informative:
        parts.append(f"informative only (no vote) for {names(informative)}")
    text = "; ".join(parts) if parts else "no decisive evidence"
    if verdict == "conflict":
        text = f"CONFLICT in this setting ({scope.value}): the evidence disagrees. " + text
    return text[:1].upper() + text[1:] + "."
