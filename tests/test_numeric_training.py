"""Training runs on tiny configurations: determinism, caps, divergence, data, output."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from matplotlib.figure import Figure
from sklearn.datasets import load_digits

from vaeproofs.errors import InvalidArgumentError
from vaeproofs.numeric import (
    TrainConfig,
    confirming_suite,
    digits_dataset,
    from_array,
    manifold_dataset,
    plot_training,
    read_json,
    train,
    write_json,
)
from vaeproofs.numeric.data import constant_pixels
from vaeproofs.numeric.training import Trainer, build_model

# Small enough to train in well under a second.
TINY = TrainConfig(n_train=8, steps=40, hidden=16, latent_dim=2, n_test=20, iwae_samples=8,
                   elbo_samples=2, log_every=10, xi=1e-2)

REQUIRED_KEYS = {"config", "outcome", "diverged_at_step", "cap", "final", "best", "test_elbo",
                 "test_iwae", "test_iwae_se", "min_decoder_variance", "history"}


def _max_logged(result, key: str) -> float:  # type: ignore[no-untyped-def]
    return max(getattr(row, key) for row in result.history)


def test_same_seed_gives_identical_histories_and_another_seed_does_not() -> None:
    a = train(TINY, progress=False).to_dict()
    b = train(TINY, progress=False).to_dict()
    assert a["history"] == b["history"]  # exact, not a tolerance
    assert a["config"] == b["config"]
    c = train(replace(TINY, seed=1), progress=False).to_dict()
    assert c["history"] != a["history"]


def test_minibatches_are_deterministic_too() -> None:
    cfg = replace(TINY, n_train=12, batch_size=5)
    assert train(cfg, progress=False).history == train(cfg, progress=False).history


def test_training_leaves_global_torch_state_alone() -> None:
    threads = torch.get_num_threads()
    det = torch.are_deterministic_algorithms_enabled()
    rng = torch.get_rng_state()
    train(replace(TINY, steps=5), progress=False)
    assert torch.get_num_threads() == threads
    assert torch.are_deterministic_algorithms_enabled() == det
    assert torch.equal(torch.get_rng_state(), rng)


def test_floor_cap_is_never_exceeded_at_any_step() -> None:
    # Log every step: the per-point training ELBO of every point, at every step, stays
    # under -(D/2) log(2 pi xi).  The check has teeth: the floored variance is pressed
    # onto xi, and the same run with an unfloored per-pixel variance passes the cap.
    cfg = replace(TINY, likelihood="floor", xi=0.05, steps=150, log_every=1, lr=1e-2)
    res = train(cfg, progress=False)
    assert res.outcome == "completed"
    assert res.cap == res.floor_cap_threshold == -32 * math.log(2 * math.pi * 0.05)
    assert _max_logged(res, "train_elbo_max") <= res.cap
    assert res.passed_cap_at_step is None
    floor_seen = min(r.min_decoder_variance for r in res.history)
    assert 0.05 <= floor_seen < 0.05 * 1.05
    free = train(replace(cfg, likelihood="per-pixel"), progress=False)
    assert free.cap is None and free.passed_cap_at_step is not None
    assert _max_logged(free, "train_elbo_max") > res.cap


def test_bernoulli_training_elbo_stays_at_or_below_zero() -> None:
    res = train(replace(TINY, likelihood="bernoulli", steps=150, log_every=5, lr=1e-2),
                progress=False)
    assert res.cap == 0.0
    assert _max_logged(res, "train_elbo_max") <= 0.0
    assert res.final.train_elbo_mean > res.history[0].train_elbo_mean + 10.0  # learned


def test_fixed_variance_stays_under_its_cap() -> None:
    res = train(replace(TINY, likelihood="fixed", fixed_std=0.2, steps=100, lr=1e-2),
                progress=False)
    assert res.cap == pytest.approx(-32 * math.log(2 * math.pi * 0.04), abs=1e-12)
    assert _max_logged(res, "train_elbo_max") <= res.cap


@pytest.mark.parametrize("likelihood", ["fixed", "shared", "per-pixel", "floor", "bernoulli",
                                        "student-t"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_every_family_trains_and_writes_the_documented_json(
        likelihood: str, dtype: str, tmp_path: Path) -> None:
    res = train(replace(TINY, likelihood=likelihood, dtype=dtype, steps=20), progress=False)
    assert res.outcome == "completed"
    path = write_json(res, tmp_path / "run.json")
    doc = read_json(path)
    assert REQUIRED_KEYS <= set(doc)
    assert [r["step"] for r in doc["history"]] == [0, 10, 20]
    for key in ("train_elbo_mean", "train_elbo_max"):
        assert doc["final"][key] == doc["history"][-1][key]
        assert doc["best"][key] == max(r[key] for r in doc["history"])
    assert doc["test_iwae"] == doc["final"]["test_iwae"]
    assert doc["config"]["likelihood"] == likelihood
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_divergence_is_a_recorded_outcome(tmp_path: Path) -> None:
    # A huge learning rate sends the per-pixel log-variances to +-1e3 after one update,
    # so the next loss overflows: a real divergence through the real loop.
    res = train(replace(TINY, dtype="float32", lr=1e3), progress=False)
    assert res.outcome == "diverged"
    assert res.diverged_at_step == 2
    assert res.divergence is not None and "loss" in res.divergence
    assert [r.step for r in res.history] == [0]  # history up to the divergence is kept
    doc = read_json(write_json(res, tmp_path / "d.json"))
    assert doc["outcome"] == "diverged" and doc["diverged_at_step"] == 2
    assert doc["final"]["train_elbo_mean"] == res.history[0].train_elbo_mean


def test_non_finite_parameter_is_caught_after_the_update() -> None:
    cfg = replace(TINY, likelihood="per-pixel")
    data = digits_dataset()
    model = build_model(cfg, 64)
    x = torch.as_tensor(data.train[:8], dtype=torch.float64)
    trainer = Trainer(model, x, lr=1e-3, batch_size=None, train_samples=1,
                      generator=torch.Generator().manual_seed(0))
    assert trainer.step() is not None
    bias = model.decoder[-1].bias
    bias.register_hook(lambda g: g * math.nan)  # a NaN gradient reaches Adam's update
    assert trainer.step() is None
    assert trainer.problem == "non-finite parameter(s): decoder.4.bias"


def test_non_finite_metric_at_a_logged_step_ends_the_run(tmp_path: Path) -> None:
    # Data of size 1e200 overflow the squared error of the step-0 metrics in float64.
    huge = np.full((30, 4), 1e200)
    res = train(replace(TINY, likelihood="fixed", data="user.npy"), progress=False,
                dataset=from_array(huge))
    assert res.outcome == "diverged" and res.diverged_at_step == 0
    assert "non-finite metric" in (res.divergence or "")
    assert res.final is None
    doc = read_json(write_json(res, tmp_path / "d.json"))  # strict JSON: non-finite -> null
    assert doc["history"][0]["train_elbo_mean"] is None
    assert {"path": "history[0].train_elbo_mean", "value": "-inf"} in doc["non_finite"]
    assert doc["final"] == {} and doc["best"]["train_elbo_max"] is None


def test_config_validation_names_the_option() -> None:
    cases = {
        "likelihood": {"likelihood": "laplace"},
        "dtype": {"dtype": "float16"},
        "n_train": {"n_train": 0},
        "steps": {"steps": -1},
        "lr": {"lr": 0.0},
        "xi": {"xi": -1e-3},
        "fixed_std": {"fixed_std": 0.0},
        "nu": {"nu": math.inf},
        "test_fraction": {"test_fraction": 1.0},
        "data": {"data": "mnist"},
        "dequantize": {"data": "manifold", "dequantize": True},
        "binarize": {"likelihood": "bernoulli", "binarize": False},
        "activation": {"activation": "gelu"},
        "log_every": {"log_every": 0},
    }
    for name, kwargs in cases.items():
        with pytest.raises(InvalidArgumentError) as info:
            TrainConfig(**kwargs)
        assert info.value.argument == name, kwargs
    with pytest.raises(InvalidArgumentError, match=r"^binarize: cannot be combined"):
        TrainConfig(dequantize=True, binarize=True)
    assert TrainConfig(likelihood="bernoulli").binarized is True
    assert TrainConfig().binarized is False
    assert TrainConfig.from_dict(TINY.to_dict()) == TINY
    with pytest.raises(InvalidArgumentError, match=r"^config: unknown"):
        TrainConfig.from_dict({"nope": 1})


def test_data_errors_at_train_time() -> None:
    with pytest.raises(InvalidArgumentError, match=r"^n_train: must be in \[1, 1438\]"):
        train(replace(TINY, n_train=1439), progress=False)
    bad = np.random.default_rng(0).random((10, 3))
    with pytest.raises(InvalidArgumentError, match=r"^n_train"):
        train(replace(TINY, n_train=9, data="a.npy"), progress=False, dataset=from_array(bad))
    with pytest.raises(InvalidArgumentError, match=r"^data: the bernoulli likelihood needs"):
        train(replace(TINY, likelihood="bernoulli", data="a.npy", binarize=False),
              progress=False, dataset=from_array(bad))
    bad[2, 1] = np.nan
    with pytest.raises(InvalidArgumentError, match=r"^data: must contain only finite"):
        from_array(bad)
    with pytest.raises(InvalidArgumentError, match=r"^data: must have shape \(N, D\)"):
        from_array(np.zeros((4, 3, 2)))


def test_digits_scalings() -> None:
    raw = load_digits().data  # sklearn's own loader is the reference
    plain = digits_dataset(seed=3)
    x = np.vstack([plain.train, plain.test])
    assert x.shape == (1797, 64) and plain.test.shape[0] == round(0.2 * 1797)
    np.testing.assert_array_equal(np.sort(x * 16, axis=0), np.sort(raw, axis=0))
    assert constant_pixels(x).sum() == (raw.std(0) == 0).sum() == 3
    deq = digits_dataset(seed=3, dequantize=True)
    xd = np.vstack([deq.train, deq.test])
    assert np.all((xd > 0) & (xd < 1))
    np.testing.assert_array_equal(np.floor(xd * 17), x * 16)  # (x + u)/17, u in [0, 1)
    assert constant_pixels(xd).sum() == 0
    binar = digits_dataset(seed=3, binarized=True)
    np.testing.assert_array_equal(binar.train, (plain.train > 0.5).astype(float))


def _local_singular_ratios(x: np.ndarray, points: int = 20, neighbours: int = 12
                           ) -> np.ndarray:
    """Singular values / the largest one, of each point's centred neighbourhood (local PCA
    computed with numpy.linalg.svd); the largest ratio over the points, per direction."""
    out = []
    for i in range(points):
        nb = x[np.argsort(np.linalg.norm(x - x[i], axis=1))[:neighbours]]
        sv = np.linalg.svd(nb - nb.mean(0), compute_uv=False)
        out.append(sv / sv[0])
    return np.max(out, axis=0)


def test_manifold_points_lie_on_the_stated_manifold() -> None:
    one = manifold_dataset(n_points=2000, data_dim=6, manifold_dim=1, seed=4)
    x1 = np.vstack([one.train, one.test])
    assert x1.shape == (2000, 6) and np.all((x1 >= 0.1) & (x1 <= 0.9))
    # A curve: every small neighbourhood is one-dimensional up to curvature ...
    assert _local_singular_ratios(x1)[1] < 0.05
    # ... while a 2-D manifold's neighbourhoods have a second direction of similar size.
    two = manifold_dataset(n_points=2000, data_dim=6, manifold_dim=2, seed=4)
    assert _local_singular_ratios(np.vstack([two.train, two.test]))[1] > 0.5
    again = manifold_dataset(n_points=2000, data_dim=6, manifold_dim=1, seed=4)
    np.testing.assert_array_equal(again.train, one.train)


def test_user_array_runs_through_train() -> None:
    arr = np.random.default_rng(1).random((40, 5))
    res = train(replace(TINY, data="mine.npy"), progress=False, dataset=from_array(arr))
    assert res.dim == 5 and res.n_train == 8 and res.n_test == 8
    assert res.floor_cap_threshold == pytest.approx(-2.5 * math.log(2 * math.pi * 1e-2))


def test_plot_training_returns_a_figure_for_one_or_many_runs() -> None:
    a = train(TINY, progress=False)
    b = train(replace(TINY, likelihood="fixed"), progress=False)
    for arg in (a, [a, b]):
        fig = plot_training(arg)
        assert isinstance(fig, Figure) and len(fig.axes) == 4


def test_confirming_suite_lists_every_family_on_one_subset() -> None:
    for quick in (True, False):
        runs = confirming_suite(quick)
        assert [c.likelihood for c in runs] == ["per-pixel", "per-pixel", "floor", "fixed",
                                                "bernoulli", "shared", "student-t"]
        assert [c.dequantize for c in runs[:2]] == [False, True]
        assert len({(c.n_train, c.data, c.steps, c.seed, c.xi) for c in runs}) == 1
    assert confirming_suite(False)[0] == replace(TrainConfig(), label=runs[0].label)


@pytest.mark.slow
def test_quick_confirming_suite_shows_what_the_theory_predicts() -> None:
    results = {c.label: train(c, progress=False) for c in confirming_suite(quick=True)}
    per_pixel = [r for r in results.values() if r.config.likelihood == "per-pixel"]
    for r in per_pixel:
        assert r.outcome == "completed"
        # The training ELBO per point passes a value no xi-floored model can exceed ...
        assert r.passed_cap_at_step is not None
        # ... while the test log-likelihood falls, by more than 3 combined standard errors.
        best, final = r.best, r.final
        se = math.hypot(best.test_iwae_se, final.test_iwae_se)
        assert best.test_iwae - final.test_iwae > 3 * se
    raw, deq = per_pixel
    assert raw.constant_pixels > 0 and deq.constant_pixels == 0
    for r in results.values():
        if r.cap is not None:
            assert _max_logged(r, "train_elbo_max") <= r.cap, r.config.label
