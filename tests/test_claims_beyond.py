"""The first eight claims beyond the thread: verdicts computed from the evidence, and flipped by it.

For each claim, flipping the computed facts (the derivation's fact record and the
construction row) flips the verdict; flipping only one kind makes a conflict, so both
kinds vote.  The construction rows are evaluated once (quick values) and shared.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from vaeproofs.claims import CLAIMS, EvidenceContext, evaluate_claim
from vaeproofs.claims import remedy_construction_evidence as rhp
from vaeproofs.claims import remedy_symbolic_evidence as rsym
from vaeproofs.claims.catalog import BEYOND_THREAD_CLAIMS
from vaeproofs.claims.conditions import Condition
from vaeproofs.claims.verdict import decide

ROWS = ("fresh_dequantisation_elbo", "static_dequantisation_elbo", "manifold", "bernoulli_elbo",
        "memorising_elbo", "continuous_bernoulli_elbo", "gaussian_nll_eps", "softclip_likelihood",
        "floored_student_t_likelihood", "gmm_likelihood")

# claim id -> (expected verdict, (derivation, fact patch), (row, row patch))
FLIPS: dict[str, tuple[str, tuple[str, dict[str, Any]], tuple[str, dict[str, Any]]]] = {
    "population.density-bounded": (
        "holds", ("population", {"density_collapse_limit": "oo"}),
        ("fresh_dequantisation_elbo", {"bounded": False})),
    "remedy.fresh-dequantisation-bounded": (
        "holds", ("dequantisation", {"entropy_matches": False}),
        ("fresh_dequantisation_elbo", {"bounded": False})),
    "remedy.discretised-likelihood-bounded": (
        "holds", ("discretised", {"pmf_log_nonpositive": False}),
        ("bernoulli_elbo", {"bounded": False})),
    "remedy.continuous-bernoulli-bounded": (
        "fails", ("continuous-bernoulli", {"density_at_zero_limit": "log(2)"}),
        ("continuous_bernoulli_elbo", {"bounded": True})),
    "remedy.gaussian-nll-eps-floors-variance": (
        "fails", ("gaussian-nll-eps", {"variance_floored": True}),
        ("gaussian_nll_eps", {"diagnostics": {"derived_gradient_in_variance": ["0", "0", "0"],
                                              "torch_gradient_in_variance": [0.0, 0.0, None],
                                              "model_log_likelihood_at_variance": ["0", "0", "0"],
                                              "eps": "1e-6", "torch_agrees_with_derived": True,
                                              "gradient_pushes_variance_down": False,
                                              "frozen_below_eps": True}})),
    "remedy.softclip-bounded": (
        "holds", ("softclip", {"clipped_above_min": False}),
        ("softclip_likelihood", {"bounded": False})),
    "remedy.beta-nll-bounds": (
        "fails", ("beta-nll", {"prevents_collapse": True}),
        ("memorising_elbo", {"bounded": True})),
    "remedy.student-t-floored-bounded": (
        "holds", ("student-t-floored", {"argmax_is_centre": False}),
        ("floored_student_t_likelihood", {"bounded": False})),
}


@pytest.fixture(scope="module")
def base(quick_row: Callable[[str], Any]) -> EvidenceContext:
    ctx = EvidenceContext(quick=True)
    ctx._cache["constructions"] = {
        n: quick_row(n) for n in ROWS}
    return ctx


def _patched(base: EvidenceContext, derivation: tuple[str, dict[str, Any]] | None,
             row: tuple[str, dict[str, Any]] | None) -> EvidenceContext:
    ctx = EvidenceContext(quick=True)
    ctx._cache = dict(base._cache)
    ctx._cache["constructions"] = dict(base._cache["constructions"])
    if derivation is not None:
        name, facts = derivation
        # a shallow copy with its own facts (deep-copying sympy steps re-evaluates them)
        d = base.derivation(name)
        d = dataclasses.replace(d, facts=dataclasses.replace(d.facts, **facts))
        ctx._cache[f"derivation:{name}"] = d
    if row is not None:
        name, patch = row
        patch = {k: tuple(v) if isinstance(v, list) else v for k, v in patch.items()}
        ctx._cache["constructions"][name] = dataclasses.replace(base._cache["constructions"][name],
                                                                **patch)
    return ctx


def _claim(cid: str) -> Any:
    return next(c for c in CLAIMS if c.id == cid)


def _symbolic_and_constructions(cid: str) -> Any:
    """The claim with only its symbolic and high-precision gatherers (the training runs'
    votes have their own flip tests in tests/test_remedy_training.py)."""
    claim = _claim(cid)
    return dataclasses.replace(claim, gatherers=tuple(
        g for g in claim.gatherers if g.__module__ != "vaeproofs.claims.remedy_training"))


#: Claims beyond the thread whose flip tests live in another module.
FLIPPED_ELSEWHERE = {"remedy.floor-causes-posterior-collapse": "test_claims_round2_b.py",
                     "regression.heteroscedastic-unbounded": "test_claims_round2_b.py",
                     "elbo.single-point-collapse": "test_claims_kl_price.py",
                     "encoder.fixed-variance": "test_claims_kl_price.py",
                     "population.beta-below-one-unbounded": "test_claims_kl_price.py"}


def test_every_new_claim_has_a_flip_test() -> None:
    assert set(FLIPS) | set(FLIPPED_ELSEWHERE) == {c.id for c in BEYOND_THREAD_CLAIMS}
    for cid, module in FLIPPED_ELSEWHERE.items():
        assert f'"{cid}"' in (Path(__file__).parent / module).read_text(encoding="utf-8")


@pytest.mark.parametrize("cid", list(FLIPS))
def test_the_verdict_follows_the_computed_facts(base: EvidenceContext, cid: str) -> None:
    expected, derivation, row = FLIPS[cid]
    claim = _symbolic_and_constructions(cid)
    real = evaluate_claim(claim, base)
    assert real.verdict == expected and not real.errors
    assert {e.kind for e in real.evidence if e.condition == claim.scope
            and e.supports is not None} == {"symbolic", "high-precision"}
    flipped = evaluate_claim(claim, _patched(base, derivation, row))
    assert {real.verdict, flipped.verdict} == {"holds", "fails"}
    # one kind alone contradicting the other is a conflict: both kinds vote
    assert evaluate_claim(claim, _patched(base, derivation, None)).verdict == "conflict"
    assert evaluate_claim(claim, _patched(base, None, row)).verdict == "conflict"


def test_static_noise_evidence_needs_the_fresh_bound_passed(base: EvidenceContext) -> None:
    ev = rhp.fresh_against_static(base)
    static = next(e for e in ev if e.condition == Condition.STATIC_DEQUANTISATION)
    assert static.supports is True and static.data["exceeds_fresh_bound"] is not None
    ctx = _patched(base, None, ("static_dequantisation_elbo", {"values": ["-1", "-2", "-3"]}))
    static = next(e for e in rhp.fresh_against_static(ctx)
                  if e.condition == Condition.STATIC_DEQUANTISATION)
    assert static.supports is False


def test_the_mixture_analogy_supports_but_does_not_vote_on_the_question(base: EvidenceContext
                                                                        ) -> None:
    ev = rsym.mixture_analogy(base) + rhp.gmm_diverges(base)
    mixture = [e for e in ev if e.condition == Condition.GAUSSIAN_MIXTURE]
    assert len(mixture) == 2 and all(e.supports is True for e in mixture)
    question = _claim("question.ill-posed")
    assert rsym.mixture_analogy in question.gatherers and rhp.gmm_diverges in question.gatherers
    assert decide(question.scope, ev) == ("undecided", [])
    ctx = _patched(base, ("mixture", {"mixture_limit": "-oo"}), ("gmm_likelihood", {"bounded": True}))
    assert all(e.supports is False for e in rsym.mixture_analogy(ctx) + rhp.gmm_diverges(ctx)
               if e.condition == Condition.GAUSSIAN_MIXTURE)
