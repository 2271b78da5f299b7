"""The claims layer: ids, the verdict rule, and verdicts that follow the evidence."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from vaeproofs.claims import CLAIMS, Evidence, EvidenceContext, claim_ids, decide, evaluate_claim
from vaeproofs.claims import construction_evidence as hp
from vaeproofs.claims import symbolic_evidence as sym
from vaeproofs.claims.claim import Claim
from vaeproofs.claims.conditions import Condition
from vaeproofs.claims.verdict import describe_conditions

THEORY = Path(__file__).resolve().parents[1] / "docs" / "theory.md"


def _theory_ids(number: int) -> list[str]:
    text = THEORY.read_text(encoding="utf-8")
    section = text.split(f"## {number}.", 1)[1].split(f"## {number + 1}.", 1)[0]
    return re.findall(r"^- `([a-z0-9.-]+)`", section, flags=re.MULTILINE)


def test_claim_ids_are_exactly_those_of_theory_sections_2_and_6() -> None:
    assert claim_ids() == _theory_ids(2) + _theory_ids(6)


def test_claim_ids_are_unique_and_every_claim_has_evidence() -> None:
    assert len(set(claim_ids())) == len(CLAIMS)   # the count itself: the theory doc's bullets
    assert all(c.gatherers and c.statement and c.source and c.scope for c in CLAIMS)


SCOPE, NARROW, OTHER = Condition.FLOORED, Condition.ANSWER2_EXAMPLE, Condition.BERNOULLI


def _ev(supports: bool | None, condition: Condition = SCOPE) -> Evidence:
    return Evidence("symbolic", "s", supports, condition)


@pytest.mark.parametrize(
    ("supports", "verdict"),
    [((True, True), "holds"), ((False, False), "fails"), ((True, False), "conflict"),
     ((None, None), "undecided"), ((True, None), "holds"), ((False, None), "fails")],
)
def test_decide_on_evidence_under_the_scope(supports: tuple[bool | None, ...], verdict: str) -> None:
    assert decide(SCOPE, [_ev(s) for s in supports])[0] == verdict


def test_evidence_under_other_conditions_does_not_vote_but_is_described() -> None:
    evidence = [_ev(True, NARROW), _ev(False), _ev(False, OTHER)]
    verdict, conflicts = decide(SCOPE, evidence)
    assert (verdict, conflicts) == ("fails", [])
    text = describe_conditions(SCOPE, verdict, evidence)
    assert text == f"Holds for {NARROW.value}; fails in this setting, and for {OTHER.value}."


def test_informative_settings_are_named_without_voting() -> None:
    evidence = [_ev(True), _ev(None, OTHER), _ev(None)]
    assert decide(SCOPE, evidence)[0] == "holds"
    assert describe_conditions(SCOPE, "holds", evidence) == (
        f"Holds in this setting; informative only (no vote) for {OTHER.value}.")


def test_conflict_lists_the_disagreeing_items() -> None:
    a, b = _ev(True), _ev(False)
    verdict, conflicts = decide(SCOPE, [a, b, _ev(True, OTHER)])
    assert verdict == "conflict" and conflicts == [a, b]
    assert describe_conditions(SCOPE, verdict, [a, b]).startswith(f"CONFLICT in this setting ({SCOPE.value})")


def test_a_failing_gatherer_is_recorded_and_leaves_the_claim_undecided() -> None:
    def good(ctx: EvidenceContext) -> list[Evidence]:
        return [_ev(True)]

    def broken(ctx: EvidenceContext) -> list[Evidence]:
        raise RuntimeError("boom")

    result = evaluate_claim(Claim("x.y", "st", "src", SCOPE, (good, broken)), EvidenceContext())
    assert result.verdict == "undecided" and not result.decided
    assert len(result.evidence) == 1 and "broken: RuntimeError: boom" in result.errors[0]


def _context_with_patched_derivation(name: str, **facts: object) -> EvidenceContext:
    ctx = EvidenceContext()
    derivation = ctx.derivation(name)  # frozen: replace() makes patched copies, and
    # raises TypeError on a fact name the typed record does not have
    patched = dataclasses.replace(derivation, facts=dataclasses.replace(derivation.facts, **facts))
    ctx._cache[f"derivation:{name}"] = patched
    return ctx


def _claim(cid: str) -> Claim:
    return next(c for c in CLAIMS if c.id == cid)


def test_symbolic_verdict_follows_the_derivation() -> None:
    """answer2.critical-point: flip the computed agreement fact and the verdict flips."""
    claim = _claim("answer2.critical-point")
    real = evaluate_claim(claim, EvidenceContext())
    patched = evaluate_claim(claim, _context_with_patched_derivation(
        "answer2", critical_point_matches_answer=real.verdict != "holds",
        critical_point_matches_answer_for_some_c=real.verdict != "holds"))
    assert {real.verdict, patched.verdict} == {"holds", "fails"}


def test_comment_verdict_follows_the_limit() -> None:
    claim = _claim("comment.fixed-sigma-large-lambda-unbounded")
    real = evaluate_claim(claim, EvidenceContext())
    flipped = real.verdict != "holds"  # the fact that would make it hold, or fail
    patched = evaluate_claim(claim, _context_with_patched_derivation(
        "answer2", comment_objection_holds_for_derived_elbo=flipped))
    assert {real.verdict, patched.verdict} == {"holds", "fails"}


def test_a_contradicting_construction_makes_a_conflict() -> None:
    """If the floored construction exceeded its cap, the floor claim would be a conflict."""
    ctx = EvidenceContext(quick=True)
    claim = Claim("t.floor", "st", "src", Condition.FLOORED, (sym.floor_cap, hp.floored_bounded))
    assert evaluate_claim(claim, ctx).verdict == "holds"
    rows = ctx.constructions()
    row = rows["floored_elbo"]
    rows["floored_elbo"] = dataclasses.replace(
        row, values=(*row.values[:-1], str(float(row.cap) + 1.0)))
    assert evaluate_claim(claim, ctx).verdict == "conflict"



def test_evidence_refuses_a_free_text_condition() -> None:
    """The vocabulary is closed: a misspelt or free-text condition is refused at once."""
    with pytest.raises(TypeError, match="condition"):
        Evidence("symbolic", "s", True, "fixed finite training set")  # type: ignore[arg-type]
