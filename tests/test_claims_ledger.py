"""Issue #18 items 1-13: the corrected statements, settings and evidence, flipped by the facts.

Each test evaluates the gatherers on computed rows and derivations (quick values, shared
per module) and checks that a different computation would give a different verdict.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

import pytest

from vaeproofs import constructions
from vaeproofs.claims import CLAIMS, EvidenceContext, evaluate_claim
from vaeproofs.claims import construction_evidence as hp
from vaeproofs.claims import numeric_evidence as num
from vaeproofs.claims import symbolic_evidence as sym
from vaeproofs.claims.conditions import Condition
from vaeproofs.claims.verdict import decide

ROWS = ("half_space_elbo", "memorising_elbo", "manifold", "degenerate_linear",
        "fresh_dequantisation_elbo", "static_dequantisation_elbo")


@pytest.fixture(scope="module")
def base(quick_row: Callable[[str], Any]) -> EvidenceContext:
    ctx = EvidenceContext(quick=True)
    ctx._cache["constructions"] = {
        n: quick_row(n) for n in ROWS}
    return ctx


def _patched(base: EvidenceContext, row: str | None = None, patch: dict[str, Any] | None = None,
             derivation: str | None = None, facts: dict[str, Any] | None = None) -> EvidenceContext:
    ctx = EvidenceContext(quick=True)
    ctx._cache = dict(base._cache)
    ctx._cache["constructions"] = dict(base._cache["constructions"])
    if row is not None:
        ctx._cache["constructions"][row] = dataclasses.replace(base._cache["constructions"][row],
                                                               **(patch or {}))
    if derivation is not None:
        d = base.derivation(derivation)
        ctx._cache[f"derivation:{derivation}"] = dataclasses.replace(
            d, facts=dataclasses.replace(d.facts, **(facts or {})))
    return ctx


def _claim(cid: str) -> Any:
    return next(c for c in CLAIMS if c.id == cid)


# -- item 1: Theorem 5 is the shared-variance result ------------------------------------
def test_theorem_5_is_cited_with_its_hypotheses_for_the_shared_variance_claim() -> None:
    claim = _claim("remedy.shared-variance-bounded")
    for needed in ("Theorem 5", "lambda_x I", "linear encoder mean", "one scalar encoder variance",
                   "piecewise linear with n segments", "d > 1"):
        assert needed in claim.hypotheses, needed
    assert claim.hypotheses == _claim("answer1.elbo-unbounded").hypotheses
    assert "covariance has no lower bound" not in claim.hypotheses


# -- items 2, 4, 5: each ELBO sequence votes in the setting it is about ---------------
def test_elbo_sequences_are_filed_under_their_own_settings(base: EvidenceContext) -> None:
    by_condition = {e.data["name"]: e.condition for e in hp.elbo_diverges(base)}
    assert by_condition == {"half_space_elbo": Condition.FLEXIBLE_LEARNED_VARIANCE,
                            "memorising_elbo": Condition.SHARED_FLEXIBLE,
                            "manifold": Condition.LOWER_DIMENSIONAL_POPULATION}
    shared = {e.data["name"]: e.condition for e in hp.shared_variance_diverges(base)}
    assert shared["manifold"] == Condition.LOWER_DIMENSIONAL_POPULATION
    assert "z-dependent" in Condition.FLEXIBLE_LEARNED_VARIANCE.value
    assert "interpolate all n points" in Condition.SHARED_FLEXIBLE.value


def test_the_elbo_claim_follows_the_half_space_row(base: EvidenceContext) -> None:
    scope = _claim("answer1.elbo-unbounded").scope
    assert decide(scope, hp.elbo_diverges(base))[0] == "holds"
    flipped = _patched(base, "half_space_elbo", {"bounded": True})
    assert decide(scope, hp.elbo_diverges(flipped))[0] == "fails"
    # the curve row no longer votes for the finite-set claims
    curve = _patched(base, "manifold", {"bounded": True})
    assert decide(scope, hp.elbo_diverges(curve))[0] == "holds"
    assert decide(_claim("remedy.shared-variance-bounded").scope,
                  hp.shared_variance_diverges(curve))[0] == "fails"


def test_fixed_encoder_evidence_reports_the_computed_collapse(base: EvidenceContext) -> None:
    (ev,) = hp.encoders_must_concentrate(base)
    assert ev.supports is None and ev.condition == Condition.FIXED_ENCODERS
    assert ev.data["limit"] == "-oo" and "-3.14858e+27" in ev.summary
    row = base.construction("half_space_elbo")
    other = dict(row.diagnostics, fixed_encoder_values=["1", "2"], fixed_encoder_limit="oo",
                 fixed_encoder_torch_float64=[1.0, 2.0])
    (patched,) = hp.encoders_must_concentrate(_patched(base, "half_space_elbo", {"diagnostics": other}))
    assert patched.data["limit"] == "oo" and "-3.14858e+27" not in patched.summary
    assert "lost" in ev.summary and "does not show" in patched.summary


# -- item 3: bounded iff rank > min(k, D - 1) -------------------------------------------
def test_linear_claim_holds_and_the_wide_case_decides_between_the_statements(
        base: EvidenceContext, monkeypatch: pytest.MonkeyPatch) -> None:
    claim = _claim("remedy.shared-variance-linear")
    real = evaluate_claim(claim, base)
    assert real.verdict == "holds" and not real.errors
    wide = sym.ppca_wide_bounded(base) + num.ppca_wide_plateau(base)
    assert [e.supports for e in wide] == [True, True]
    # the derivation saying the k >= D supremum is infinite would contradict the statement
    flipped = _patched(base, derivation="ppca-degenerate", facts={"wide_sup_finite": False})
    assert evaluate_claim(claim, flipped).verdict == "conflict"
    # the old statement ("bounded iff rank > k") is contradicted by both kinds of evidence
    monkeypatch.setattr(sym, "linear_rank_threshold_predicts_bounded",
                        lambda rank, dim, k: rank > k)
    assert [e.supports for e in sym.ppca_wide_bounded(base) + num.ppca_wide_plateau(base)] == [
        False, False]
    assert "min(k, D - 1)" in claim.statement and "Tipping & Bishop" in claim.hypotheses


# -- items 6, 7: beta-NLL under SGD and under Adam ----------------------------------------
def test_python_paths_are_torch_optims_update_rules() -> None:
    from vaeproofs.numeric.beta_nll_dynamics import _paths, torch_paths

    for beta in (0.0, 0.5, 1.0):
        sgd, adam = _paths(beta, 3e-3, (200,), 1e-8)
        t_sgd, t_adam = torch_paths(beta, steps=200)
        assert abs(sgd[0] - t_sgd) <= 1e-13 and abs(adam[0] - t_adam) <= 1e-13


def test_sgd_slows_to_a_power_law_while_adam_falls_about_linearly() -> None:
    from vaeproofs.numeric.beta_nll_dynamics import memorised_dynamics

    nll = memorised_dynamics(0.0)
    assert nll.sgd == pytest.approx(nll.sgd_flow, rel=1e-9)          # linear: -lr t / 2
    assert nll.adam_rate_per_lr == pytest.approx(1.0, rel=1e-6)       # linear: -lr t
    for beta in (0.5, 1.0):
        r = memorised_dynamics(beta)
        sgd_steps = [b - a for a, b in zip(r.sgd, r.sgd[1:], strict=False)]
        adam_steps = [b - a for a, b in zip(r.adam, r.adam[1:], strict=False)]
        # per doubling of the steps: SGD loses about (1/beta) log 2, Adam more each time
        # until its eps is reached (beta = 1/2: near s = -35.5)
        assert all(abs(d + math.log(2) / beta) < 0.1 for d in sgd_steps[1:])
        assert adam_steps[1] < adam_steps[0] < sgd_steps[0]
        assert r.adam[-1] > r.adam_saturation - 10


def test_theory_doc_carries_the_computed_dynamics() -> None:
    from pathlib import Path

    from vaeproofs.numeric.beta_nll_dynamics import memorised_dynamics

    text = " ".join((Path(__file__).resolve().parents[1] / "docs" / "theory.md").read_text().split())
    for beta, name in ((0.5, "beta = 1/2"), (1.0, "beta = 1")):
        r = memorised_dynamics(beta)
        expected = (f"{name}, SGD " + ", ".join(f"{v:.2f}" for v in r.sgd) + ", Adam "
                    + ", ".join(f"{v:.2f}" for v in r.adam))
        assert expected in text, expected


# -- item 8: fresh dequantisation bounds an average; static noise reads as unbounded ------
def test_dequantisation_conditions_line_reads_as_the_statement_says(base: EvidenceContext) -> None:
    from vaeproofs.claims import remedy_construction_evidence as rhp
    from vaeproofs.claims import remedy_symbolic_evidence as rsym

    claim = _claim("remedy.fresh-dequantisation-bounded")
    claim = dataclasses.replace(claim, gatherers=(rsym.dequantisation_bound, rhp.fresh_against_static))
    result = evaluate_claim(claim, base)
    assert result.verdict == "holds"
    assert "leave the objective unbounded" in result.conditions
    assert "average over the n points" in claim.scope.value and "H(w)" in claim.statement


# -- item 10: answer 3 at realistic size --------------------------------------------------
def test_onset_shrinkage_votes_from_the_noise_ratio(monkeypatch: pytest.MonkeyPatch) -> None:
    from vaeproofs.claims import study_evidence as study
    from vaeproofs.sweep.onset import load_shipped_summary

    summary = load_shipped_summary()
    assert summary is not None and summary.data_dim == 64
    assert summary.noise_variance() == pytest.approx((1 / 17) ** 2 / 12, rel=1e-15)
    assert summary.gibbs_bound(1438) == pytest.approx(64 * math.log(17) - math.log(1438), rel=1e-15)
    (ev,) = study.onset_shrinkage(EvidenceContext(quick=True))
    assert ev.supports is True and ev.condition == Condition.PER_PIXEL_TRAINED
    for w, ratio in ev.data["ratios"].items():
        cell = summary.cell("per-pixel", int(w), 1438)
        assert ratio == pytest.approx(cell.median_min_variance * 12 * 17**2, rel=1e-12)
        assert 0.2 < ratio < 0.35            # 3-4.5 times below Delta^2/12
    # variances above the noise level would vote against the claim
    raised = dataclasses.replace(summary, cells=tuple(
        dataclasses.replace(c, median_min_variance=1e-3) for c in summary.cells))
    monkeypatch.setattr(study, "load_shipped_summary", lambda: raised)
    (ev,) = study.onset_shrinkage(EvidenceContext(quick=True))
    assert ev.supports is False


# -- item 11: the mixture analogy, shared variance ----------------------------------------
def test_shared_variance_mixture_is_bounded_iff_n_exceeds_k(base: EvidenceContext) -> None:
    from vaeproofs.claims import remedy_symbolic_evidence as rsym

    ev = next(e for e in rsym.mixture_analogy(base) if e.condition == Condition.SHARED_VARIANCE_MIXTURE)
    assert ev.supports is True and "28.486124" in ev.summary and "3447.825" in ev.summary
    for facts in ({"shared_k_below_n_bounded": False}, {"shared_k_equals_n_limit": "0"}):
        ctx = _patched(base, derivation="mixture", facts=facts)
        flipped = next(e for e in rsym.mixture_analogy(ctx)
                       if e.condition == Condition.SHARED_VARIANCE_MIXTURE)
        assert flipped.supports is False
    assert "affinely span" in Condition.SINGLE_GAUSSIAN.value


# -- item 12: the floored Student-t's sources ---------------------------------------------
def test_student_t_floor_sources_and_caps_match_the_derivation(base: EvidenceContext) -> None:
    from pathlib import Path

    from vaeproofs.symbolic.student_t_floored import StudentTFlooredFacts

    f = StudentTFlooredFacts.of(base.derivation("student-t-floored"))
    text = (Path(__file__).resolve().parents[1] / "docs" / "theory.md").read_text()
    assert f"< {f.cap_nu3_scale_1e3:.3f} at nu = 3; < {f.cap_any_nu_scale_1e3:.3f} over nu > 3" in text
    assert f"log(c(3)/1e-3) = {f.cap_nu3_scale_1e3:.4f}" in " ".join(text.split())
    source = _claim("remedy.student-t-floored-bounded").source
    assert "MIWAE" in source and "Normal, not of a Student-t" in source


# -- item 13: bounded, but the collapse direction remains; which rates are sharp ----------
def test_bin_integrated_gradient_vanishes_like_exp_minus_delta2_over_8s2(base: EvidenceContext) -> None:
    from vaeproofs.claims import remedy_symbolic_evidence as rsym
    from vaeproofs.symbolic.discretised import DiscretisedFacts

    assert DiscretisedFacts.of(base.derivation("discretised")).gaussian_bin_gradient_exponent == "-1"
    (ev,) = rsym.discretised_cap(base)
    assert "-> -1" in ev.summary and "NPMLE" in ev.summary and ev.supports is True
    ctx = _patched(base, derivation="discretised", facts={"gaussian_bin_gradient_exponent": "0"})
    assert "-> 0)" in rsym.discretised_cap(ctx)[0].summary


def test_rate_notes_say_which_rates_are_lower_bounds() -> None:
    for name in ("continuous_bernoulli_elbo", "student_t_elbo"):
        assert "lower bound on the supremum's growth" in constructions.get(name).rate_note
    assert "sharp" in constructions.get("memorising_elbo").rate_note


def test_the_evidence_text_carries_the_rate_note(base: EvidenceContext) -> None:
    row = base.construction("memorising_elbo")
    assert row.rate_note and f"({row.rate_note})" in hp.describe_row(row)
