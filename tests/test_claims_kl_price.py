"""The claims about the KL term's price: verdicts computed from the evidence, and flipped by it.

For each claim, flipping the computed facts (the derivation's fact record and the
construction rows) flips the verdict; flipping only one kind makes a conflict, so both
kinds vote.  The construction rows are evaluated once (quick values) and shared.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from vaeproofs.claims import CLAIMS, EvidenceContext, evaluate_claim
from vaeproofs.claims.conditions import Condition

# claim id -> (expected verdict, (derivation, fact patch), [(row, row patch), ...])
FLIPS: dict[str, tuple[str, tuple[str, dict[str, Any]], list[tuple[str, dict[str, Any]]]]] = {
    "elbo.single-point-collapse": (
        "holds", ("single-point-collapse", {"other_point_price_rate": "1"}),
        [("single_point_collapse", {"diagnostics": {"rate_matches_statement": False,
                                                    "q1_of_A": "1/2"}})]),
    "encoder.fixed-variance": (
        "holds", ("fixed-encoder-variance", {"unbounded_at_threshold": False}),
        [("fixed_encoder_d1", {"cap": "-5"}), ("fixed_encoder_d2", {"bounded": True}),
         ("fixed_encoder_d3", {"bounded": True})]),
    "population.beta-below-one-unbounded": (
        "holds", ("population-beta", {"limit_beta_below_one": "-oo"}),
        [("population_beta_half", {"bounded": True})]),
}
ROWS = ("population_beta_half", "population_beta_one", "fixed_encoder_d1", "fixed_encoder_d2",
        "fixed_encoder_d3", "single_point_collapse", "single_point_floor_encoder")


@pytest.fixture(scope="module")
def base(quick_row: Callable[[str], Any]) -> EvidenceContext:
    ctx = EvidenceContext(quick=True)
    ctx._cache["constructions"] = {
        n: quick_row(n) for n in ROWS}
    return ctx


def _patched(base: EvidenceContext, derivation: tuple[str, dict[str, Any]] | None,
             rows: list[tuple[str, dict[str, Any]]]) -> EvidenceContext:
    ctx = EvidenceContext(quick=True)
    ctx._cache = dict(base._cache)
    ctx._cache["constructions"] = dict(base._cache["constructions"])
    if derivation is not None:
        name, facts = derivation
        d = base.derivation(name)   # a shallow copy with its own facts
        ctx._cache[f"derivation:{name}"] = dataclasses.replace(
            d, facts=dataclasses.replace(d.facts, **facts))
    for name, patch in rows:
        ctx._cache["constructions"][name] = dataclasses.replace(
            base._cache["constructions"][name], **patch)
    return ctx


def _claim(cid: str) -> Any:
    return next(c for c in CLAIMS if c.id == cid)


@pytest.mark.parametrize("cid", list(FLIPS))
def test_the_verdict_follows_the_computed_facts(base: EvidenceContext, cid: str) -> None:
    expected, derivation, rows = FLIPS[cid]
    claim = _claim(cid)
    real = evaluate_claim(claim, base)
    assert real.verdict == expected and not real.errors
    assert {e.kind for e in real.evidence if e.condition == claim.scope
            and e.supports is not None} >= {"symbolic", "high-precision"}
    flipped = evaluate_claim(claim, _patched(base, derivation, rows))
    assert {real.verdict, flipped.verdict} == {"holds", "fails"}
    # one kind alone contradicting the other is a conflict: both kinds vote
    assert evaluate_claim(claim, _patched(base, derivation, [])).verdict == "conflict"
    assert evaluate_claim(claim, _patched(base, None, rows)).verdict == "conflict"


def test_beta_one_is_judged_apart_and_capped_by_the_gibbs_bound(base: EvidenceContext) -> None:
    result = evaluate_claim(_claim("population.beta-below-one-unbounded"), base)
    at_one = [e for e in result.evidence if e.condition == Condition.POPULATION_BETA_AT_LEAST_ONE]
    assert {e.kind for e in at_one} == {"symbolic", "high-precision", "numeric"}
    assert all(e.supports is True for e in at_one)
    assert Condition.POPULATION_BETA_AT_LEAST_ONE.value in result.conditions
    ctx = _patched(base, ("population-beta", {"limit_beta_two": "oo"}),
                   [("population_beta_one", {"values": ("0", "1", "2")})])
    result = evaluate_claim(_claim("population.beta-below-one-unbounded"), ctx)
    assert all(e.supports is False for e in result.evidence
               if e.condition == Condition.POPULATION_BETA_AT_LEAST_ONE and e.kind != "numeric")


def test_the_likelihood_side_is_judged_apart(base: EvidenceContext) -> None:
    """The same decoder's exact likelihood is unbounded (and passes every ELBO's cap)."""
    result = evaluate_claim(_claim("encoder.fixed-variance"), base)
    likelihood = [e for e in result.evidence if e.condition == Condition.FIXED_ENCODER_LIKELIHOOD]
    assert {e.kind for e in likelihood} == {"symbolic", "high-precision"}
    assert all(e.supports is True for e in likelihood)
    low = dict(base.construction("fixed_encoder_d1").diagnostics)
    low["exact_log_likelihood"] = ["-3", "-4"]
    ctx = _patched(base, ("fixed-encoder-variance", {"likelihood_limit": "-oo"}),
                   [("fixed_encoder_d1", {"diagnostics": low})])
    result = evaluate_claim(_claim("encoder.fixed-variance"), ctx)
    assert all(e.supports is False for e in result.evidence
               if e.condition == Condition.FIXED_ENCODER_LIKELIHOOD)


def test_a_floor_on_the_encoder_variance_is_judged_apart(base: EvidenceContext) -> None:
    """"With encoder variances bounded below it is not": refuted (D = 2 > 4/3) by the
    construction; with the encoders held fixed it holds (-oo)."""
    result = evaluate_claim(_claim("elbo.single-point-collapse"), base)
    floor = [e for e in result.evidence if e.condition == Condition.SINGLE_POINT_ENCODER_FLOOR]
    assert [e.supports for e in floor if e.kind == "high-precision"] == [False]
    fixed = [e for e in result.evidence if e.condition == Condition.SINGLE_POINT_FIXED_ENCODERS]
    assert [e.supports for e in fixed] == [True]
    assert f"fails for {Condition.SINGLE_POINT_ENCODER_FLOOR.value}" in result.conditions
    ctx = _patched(base, None, [("single_point_floor_encoder", {"bounded": True})])
    result = evaluate_claim(_claim("elbo.single-point-collapse"), ctx)
    assert [e.supports for e in result.evidence if e.condition == Condition.SINGLE_POINT_ENCODER_FLOOR
            and e.kind == "high-precision"] == [True]


def test_the_beta_one_training_run_is_a_real_check_of_the_cap(base: EvidenceContext,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from vaeproofs.claims import kl_price_evidence as kl
    from vaeproofs.numeric import population_beta as pb

    real = kl.population_beta_training(base)
    one = next(e for e in real if e.condition == Condition.POPULATION_BETA_AT_LEAST_ONE)
    half = next(e for e in real if e.condition == Condition.POPULATION_BETA_BELOW_ONE)
    assert one.supports is True and half.supports is None and half.data["above_cap"] is True

    def above_cap(beta: float, **_: Any) -> pb.BetaRun:   # a run that beat the Gibbs cap
        return pb.BetaRun(beta=beta, steps=1, estimate=0.0, standard_error=1e-3,
                          encoder_log_variance=0.0, decoder_log_variance=0.0)

    monkeypatch.setattr(pb, "train_population_beta", above_cap)
    ctx = EvidenceContext(quick=True)
    ctx._cache = {k: v for k, v in base._cache.items() if k != "source:population-beta-runs"}
    one = next(e for e in kl.population_beta_training(ctx)
               if e.condition == Condition.POPULATION_BETA_AT_LEAST_ONE)
    assert one.supports is False


def test_population_beta_run_does_not_depend_on_the_callers_torch_threads() -> None:
    """verify computes this run in whichever process asks; its numbers must not change with
    that process's torch thread count (a multi-threaded 1e5-sample mean rounds differently)."""
    import torch

    from vaeproofs.numeric.population_beta import train_population_beta

    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        one = train_population_beta(0.5, steps=5)
        torch.set_num_threads(2)
        two = train_population_beta(0.5, steps=5)
    finally:
        torch.set_num_threads(before)
    assert one == two
    assert torch.get_num_threads() == before
