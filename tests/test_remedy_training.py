"""Remedy heads in training: options, fresh dequantisation, the remedy suite and its evidence."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from vaeproofs.claims.conditions import Condition
from vaeproofs.claims.context import EvidenceContext
from vaeproofs.claims.remedy_training import (
    REMEDY_TRAINING_GATHERERS,
    discretised_under_zero,
    fresh_dequantisation_under_bound,
    gaussian_nll_eps_training,
    softclip_under_cap,
)
from vaeproofs.cli import build_parser, main
from vaeproofs.cli import train as train_cli
from vaeproofs.errors import InvalidArgumentError
from vaeproofs.numeric import TrainConfig, digits_dataset, from_array, remedy_suite, train
from vaeproofs.numeric.data import DIGITS_LEVELS
from vaeproofs.numeric.training import build_model

TINY = TrainConfig(n_train=8, steps=20, hidden=16, latent_dim=2, n_test=20, iwae_samples=8,
                   elbo_samples=2, log_every=10, xi=1e-2)
NEW = ("softclip", "student-t-floored", "discretised-gaussian", "discretised-logistic",
       "continuous-bernoulli", "gaussian-nll-eps", "beta-nll")


@pytest.mark.parametrize("likelihood", NEW)
def test_every_remedy_head_trains(likelihood: str) -> None:
    res = train(replace(TINY, likelihood=likelihood), progress=False)
    assert res.outcome == "completed"
    doc = res.to_dict()
    assert [r["step"] for r in doc["history"]] == [0, 10, 20]
    has_objective = likelihood in ("gaussian-nll-eps", "beta-nll")
    assert ("train_objective_max" in doc["final"]) == has_objective
    assert ("fraction_variance_below_eps" in doc["final"]) == (likelihood == "gaussian-nll-eps")
    if res.cap is not None:
        assert max(r["train_elbo_max"] for r in doc["history"]) <= res.cap


def test_the_training_objective_is_the_elbo_for_ordinary_heads() -> None:
    # Same operations, same draws: bit-for-bit equal, so the confirming runs are unchanged.
    x = torch.as_tensor(digits_dataset().train[:5])
    for name in ("per-pixel", "floor", "discretised-gaussian"):
        model = build_model(replace(TINY, likelihood=name), 64)
        a = model.elbo(x, samples=3, generator=torch.Generator().manual_seed(4))
        b = model.objective(x, samples=3, generator=torch.Generator().manual_seed(4))
        assert torch.equal(a, b)
    model = build_model(replace(TINY, likelihood="beta-nll"), 64)
    a = model.elbo(x, samples=3, generator=torch.Generator().manual_seed(4))
    b = model.objective(x, samples=3, generator=torch.Generator().manual_seed(4))
    assert not torch.equal(a, b)


def test_fresh_dequantisation_data_and_noise() -> None:
    static = digits_dataset(dequantize="static", seed=2)
    fresh = digits_dataset(dequantize="fresh", seed=2)
    k = fresh.train * DIGITS_LEVELS
    np.testing.assert_allclose(k, np.round(k), atol=1e-12)  # bin corners k/17
    # Same split: each static point lies in the bin whose corner the fresh split holds.
    np.testing.assert_array_equal(np.floor(static.train * DIGITS_LEVELS), np.round(k))
    np.testing.assert_array_equal(static.test, fresh.test)
    assert np.array_equal(digits_dataset(dequantize=True, seed=2).train, static.train)
    a = train(replace(TINY, dequantize="fresh"), progress=False)
    b = train(replace(TINY, dequantize="static"), progress=False)
    assert a.constant_pixels == 0 and a.outcome == "completed"
    assert a.history != b.history
    assert a.history == train(replace(TINY, dequantize="fresh"), progress=False).history


def test_new_options_are_validated_and_named() -> None:
    cases = {
        "dequantize": {"dequantize": "sometimes"},
        "s_min": {"s_min": 0.0},
        "nll_eps": {"nll_eps": -1e-6},
        "beta_nll": {"beta_nll": -0.5},
        "softclip_min": {"softclip_min": math.inf},
        "likelihood": {"likelihood": "discretised-gaussian", "dequantize": True},
    }
    for name, kwargs in cases.items():
        with pytest.raises(InvalidArgumentError) as info:
            TrainConfig(**kwargs)  # type: ignore[arg-type]
        assert info.value.argument == name, kwargs
    with pytest.raises(InvalidArgumentError, match=r"^likelihood: discretised-logistic needs"):
        TrainConfig(likelihood="discretised-logistic", data="manifold")
    with pytest.raises(InvalidArgumentError, match=r"^dequantize:"):
        digits_dataset(dequantize="yes")  # type: ignore[arg-type]
    outside = np.random.default_rng(0).uniform(-1.0, 2.0, size=(12, 3))
    with pytest.raises(InvalidArgumentError, match=r"^data: the continuous-bernoulli "
                                                   r"likelihood needs x in \[0, 1\]"):
        train(replace(TINY, likelihood="continuous-bernoulli", data="a.npy"), progress=False,
              dataset=from_array(outside))


def test_cli_reaches_the_new_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                     ) -> None:
    parser = build_parser(["train"])
    args = parser.parse_args(["train", "--json", "x.json", "--likelihood", "student-t-floored",
                              "--s-min", "0.01", "--nu", "4", "--dequantize", "fresh",
                              "--nll-eps", "1e-5", "--beta-nll", "0.75", "--softclip-min", "-4"])
    cfg = TrainConfig(**train_cli._config_values(args))
    assert (cfg.s_min, cfg.nu, cfg.dequantize, cfg.nll_eps, cfg.beta_nll, cfg.softclip_min) == (
        0.01, 4.0, "fresh", 1e-5, 0.75, -4.0)
    args = parser.parse_args(["train", "--json", "x.json", "--dequantize"])
    assert TrainConfig(**train_cli._config_values(args)).dequantization == "static"
    code = main(["train", "--likelihood", "student-t-floored", "--s-min", "0", "--json",
                 str(tmp_path / "r.json")])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1 and "--s-min" in err


def test_remedy_suite_is_side_by_side_on_one_subset() -> None:
    for quick in (True, False):
        runs = remedy_suite(quick)
        assert [c.dequantize for c in runs[:2]] == ["static", "fresh"]
        names = [c.likelihood for c in runs]
        assert {"gaussian-nll-eps", "beta-nll", "softclip", "student-t-floored",
                "discretised-gaussian", "continuous-bernoulli"} <= set(names)
        assert len({(c.n_train, c.data, c.data_seed, c.steps, c.seed, c.lr) for c in runs}) == 1
        assert len({c.label for c in runs}) == len(runs)
    assert len(remedy_suite(False)) > len(remedy_suite(True))
    assert {c.nll_eps for q in (True, False) for c in remedy_suite(q)
            if c.likelihood == "gaussian-nll-eps"} == {1e-4}


# -- evidence: a computed fact flips, and the vote flips with it ------------------------
def _ctx_with(results: dict[str, object]) -> EvidenceContext:
    ctx = EvidenceContext(quick=True)
    ctx._cache["remedy-training"] = results
    return ctx


def _tampered(result, **row):  # type: ignore[no-untyped-def]
    """A copy of a result whose last logged row has the given values."""
    return replace(result, history=[*result.history[:-1], replace(result.history[-1], **row)])


@pytest.fixture(scope="module")
def tiny_runs() -> dict[str, object]:
    runs = {}
    for cfg in (replace(TINY, likelihood="softclip"), replace(TINY, dequantize="fresh"),
                replace(TINY, likelihood="discretised-gaussian"),
                replace(TINY, likelihood="gaussian-nll-eps", nll_eps=1e-2)):
        runs[cfg.likelihood + str(cfg.dequantize)] = train(cfg, progress=False)
    return runs


def test_capped_heads_vote_for_and_a_violation_votes_against(tiny_runs) -> None:  # type: ignore[no-untyped-def]
    soft = tiny_runs["softclipFalse"]
    [ev] = softclip_under_cap(_ctx_with({"a": soft}))
    assert ev.supports is True and ev.condition is Condition.SOFTCLIP
    assert "nats per pixel" in ev.summary and "data's mean per-pixel variance" in ev.summary
    [ev] = softclip_under_cap(_ctx_with({"a": _tampered(soft, train_elbo_max=soft.cap + 1)}))
    assert ev.supports is False
    disc = tiny_runs["discretised-gaussianFalse"]
    assert discretised_under_zero(_ctx_with({"a": disc}))[0].supports is True
    assert discretised_under_zero(_ctx_with({"a": _tampered(disc, train_elbo_max=0.5)})
                                  )[0].supports is False


def test_fresh_dequantisation_vote_follows_the_bound(tiny_runs) -> None:  # type: ignore[no-untyped-def]
    fresh = tiny_runs["per-pixelfresh"]
    [ev] = fresh_dequantisation_under_bound(_ctx_with({"a": fresh}))
    # one noise draw per point cannot test a bound on the expectation: informative only
    assert ev.supports is None and ev.condition is Condition.FRESH_DEQUANTISATION
    assert "respected by this estimate" in ev.summary
    bound = 64 * math.log(17) - math.log(8)  # 8 distinct digits (Theis et al. 2016)
    assert ev.data["bound"] == pytest.approx(bound, rel=1e-15)
    [ev] = fresh_dequantisation_under_bound(
        _ctx_with({"a": _tampered(fresh, train_elbo_mean=bound + 1)}))
    assert ev.supports is None and "exceeded by this estimate" in ev.summary


def test_gaussian_nll_eps_votes_only_when_the_variance_is_below_eps(tiny_runs) -> None:  # type: ignore[no-untyped-def]
    run = tiny_runs["gaussian-nll-epsFalse"]
    low = _tampered(run, min_decoder_variance=1e-3)
    high = replace(run, history=[replace(r, min_decoder_variance=0.5) for r in run.history])
    votes = {e.condition: e.supports for e in gaussian_nll_eps_training(_ctx_with({"a": low}))}
    assert votes[Condition.GAUSSIAN_NLL_EPS_VARIANCE] is False
    assert votes[Condition.GAUSSIAN_NLL_EPS_LOSS] is True
    votes = {e.condition: e.supports for e in gaussian_nll_eps_training(_ctx_with({"a": high}))}
    assert votes[Condition.GAUSSIAN_NLL_EPS_VARIANCE] is None


def test_every_remedy_claim_has_gatherers_of_typed_evidence() -> None:
    assert set(REMEDY_TRAINING_GATHERERS) == {
        "remedy.fresh-dequantisation-bounded", "remedy.discretised-likelihood-bounded",
        "remedy.continuous-bernoulli-bounded", "remedy.gaussian-nll-eps-floors-variance",
        "remedy.softclip-bounded", "remedy.beta-nll-bounds", "remedy.student-t-floored-bounded"}
    # The gatherers that need no training run are computed here in full.
    ctx = _ctx_with({})
    for gatherers in REMEDY_TRAINING_GATHERERS.values():
        for g in gatherers:
            for ev in g(ctx):
                assert isinstance(ev.condition, Condition) and ev.kind == "numeric"
    names = {g.__name__: g for gs in REMEDY_TRAINING_GATHERERS.values() for g in gs}
    assert names["discretised_masses_sum_to_one"](ctx)[0].supports is True
    assert names["continuous_bernoulli_density_at_zero_grows"](ctx)[0].supports is False
    assert names["gaussian_nll_eps_autograd"](ctx)[0].supports is False
    assert names["beta_nll_stationary_point"](ctx)[0].supports is False


def test_training_figure_compares_each_family_with_its_own_cap() -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from vaeproofs.numeric import plot_training
    from vaeproofs.numeric.heads import student_t_log_density_cap

    runs = [train(replace(TINY, likelihood=name), progress=False)
            for name in ("student-t", "bernoulli", "gaussian-nll-eps")]
    fig = plot_training(runs)
    FigureCanvasAgg(fig).draw()
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    t_cap = student_t_log_density_cap(64, TINY.nu, math.sqrt(TINY.xi))
    assert any(lab.startswith("student-t cap") and f"{t_cap:.1f}" in lab for lab in labels)
    assert any("cap of bernoulli: 0.0" in lab for lab in labels)
    assert any(lab.startswith("Gaussian floor cap") for lab in labels)
    assert any(lab.startswith("eps of GaussianNLLLoss") for lab in labels)
    _, ax_te, ax_var, _ = fig.axes
    # Bernoulli's pi(1 - pi) is not drawn on the sigma^2 axis; the panel names it instead.
    assert len(ax_var.get_lines()) == 2 * 2 + 2  # two runs x (min, median), xi and eps lines
    assert any("bernoulli" in t.get_text() for t in ax_var.texts)
    ticks = [t.get_text() for t in ax_te.get_yticklabels() if t.get_text()]
    assert ticks and all("10^" not in t and "times" not in t for t in ticks)
