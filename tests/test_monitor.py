"""CollapseMonitor's computations: the data's limits, the trend, each rule, on streams whose
answer is known in closed form (the warning step follows from the derived thresholds)."""

from __future__ import annotations

import math
import warnings
from fractions import Fraction

import numpy as np
import pytest
import torch

from vaeproofs.errors import InvalidArgumentError
from vaeproofs.monitor import (
    CollapseMonitor,
    CollapseWarning,
    Thresholds,
    VarianceNotice,
    data_limits,
    fit_trend,
)
from vaeproofs.monitor.reduce import gather_to_host, host_arrays
from vaeproofs.monitor.thresholds import SlidingFit
from vaeproofs.numeric.data import digits_dataset

NOISE = 1e-4  # the stated noise level of the synthetic streams: log = -9.2103


def test_grid_step_found_in_quantised_digits_gives_delta_squared_over_12() -> None:
    x = digits_dataset(seed=0).train  # x/16 on the grid k/16
    limits = data_limits(x)
    assert limits.source == "grid"
    assert limits.quantization == pytest.approx(1 / 16, rel=1e-12)
    assert limits.noise_variance == pytest.approx((1 / 16) ** 2 / 12, rel=1e-12)
    # digits: pixel 0 is 0 in every image (docs/theory.md section 5)
    assert limits.constant[0] and not limits.constant.all()


def test_stated_quantisation_and_spacing_fallback() -> None:
    x = digits_dataset(dequantize=True, seed=0).train
    assert data_limits(x, quantization=1 / 17).noise_variance == (1 / 17) ** 2 / 12
    # Continuous data, each pixel's values evenly spaced by h with its own irrational offset:
    # no common grid, and the median spacing of each pixel is h, so v_noise = h^2 / 12.
    h = 0.01
    rng = np.random.default_rng(0)
    cols = [np.sqrt(2) * (j + 1) / 7 + h * rng.permutation(50) for j in range(6)]
    limits = data_limits(np.stack(cols, axis=1))
    assert limits.source == "spacing"
    assert limits.noise_variance == pytest.approx(h**2 / 12, rel=1e-9)


def test_fit_trend_and_derived_thresholds() -> None:
    t = np.arange(100, 200)
    fit = fit_trend(t, 3.0 - 0.25 * t)
    with pytest.raises(InvalidArgumentError, match=r"^steps: need two or more distinct steps"):
        fit_trend(np.array([3, 3]), np.array([1.0, 2.0]))
    assert fit.slope == pytest.approx(-0.25, rel=1e-12)
    assert fit.level == pytest.approx(3.0 - 0.25 * 199, rel=1e-12)
    th = Thresholds.derive(3e-3)
    assert (th.window, th.horizon, th.burn_in) == (334, 334, None)  # ceil(1 / lr); burn-in from data
    assert th.min_rate == pytest.approx(1.5e-3)
    assert Thresholds.derive().window == 1000  # Adam's default lr 1e-3


def _exact_line(pairs: list[tuple[int, float]]) -> tuple[Fraction, Fraction, Fraction]:
    """Least-squares slope, level at the largest step and the steps' centred spread
    sum (t - mean t)^2, in exact rational arithmetic."""
    t = [Fraction(p[0]) for p in pairs]
    v = [Fraction(p[1]) for p in pairs]
    n = len(pairs)
    tm, vm = sum(t) / n, sum(v) / n
    spread = sum((a - tm) ** 2 for a in t)
    slope = sum((a - tm) * (b - vm) for a, b in zip(t, v, strict=True)) / spread
    return slope, vm + slope * (max(t) - tm), spread


@pytest.mark.parametrize("offset", [0, 10**6])
def test_the_sliding_fit_is_the_least_squares_line_of_its_window(offset: int) -> None:
    # A random walk with a drift fed in chunks of 50 steps (one chunk with its steps
    # shuffled), the window W = 334 sliding over 6000 steps from step 1 or 10^6 + 1.
    # Error bound, first order in eps for recursive sums (Higham 2002, section 4.2: each
    # sum is off by at most eps times the sum of its partial sums' sizes): the sums are
    # about a reference at most 2W steps back (re-based), so |u| <= 2W and |w| <= M, the
    # values' range; at most 4W additions since a re-basing, n <= W kept pairs:
    # err(S_uw - S_u S_w / n) <= 24 n W^2 M eps, err(S_uu - S_u^2 / n) <= 16 n W^3 eps, so
    # |slope error| <= (24 n W^2 M + 16 n W^3 |slope|) eps / spread, spread the exact
    # centred sum of squares of the kept steps.
    window, eps = 334, 2.0**-52
    rng = np.random.default_rng(3)
    fit = SlidingFit(window)
    kept: list[tuple[int, float]] = []
    values = np.cumsum(rng.normal(scale=0.1, size=6000)) - 0.002 * np.arange(6000)
    big_m = float(values.max() - values.min())
    for start in range(0, 6000, 50):
        steps = list(range(offset + start + 1, offset + start + 51))
        if start == 1500:
            rng.shuffle(steps)
        chunk = [(t, float(values[t - offset - 1])) for t in steps]
        fit.add([t for t, _ in chunk], [v for _, v in chunk])
        last = steps[-1]
        fit.expire(last)
        kept = [p for p in kept + chunk if p[0] > last - window]
        assert len(fit) == len(kept)
        assert fit._t0 > last - 2 * window  # the sums' reference follows the window
        line = fit.fit()
        assert line is not None
        slope, level, spread = _exact_line(kept)
        n = len(kept)
        slope_tol = (24 * n * window**2 * big_m + 16 * n * window**3 * abs(float(slope))) * eps
        slope_tol /= float(spread)
        assert abs(line.slope - float(slope)) <= slope_tol, start
        level_tol = 4 * window * big_m * eps + 2 * window * slope_tol + 4 * eps * (abs(float(level)) + big_m)
        assert abs(line.level - float(level)) <= level_tol, start
    assert SlidingFit(10).fit() is None
    same = SlidingFit(10)
    same.add([5, 5, 5], [1.0, 2.0, 3.0])
    assert same.fit() is None  # one step repeated: no line (fit_trend raises)


def _stream(monitor: CollapseMonitor, logvar_of_step, steps: int, batch: int = 2,
            dim: int = 4) -> int | None:
    """Feed ``steps`` updates; return the step at which the monitor asked to stop."""
    for t in range(1, steps + 1):
        s = torch.as_tensor(logvar_of_step(t), dtype=torch.float64).reshape(batch, dim)
        monitor.update(s, objective=torch.zeros(batch, dtype=torch.float64))
        if monitor.should_stop:
            return t
    monitor.flush()
    return None


def _data() -> np.ndarray:
    """Rows of +1 and -1: every pixel's variance is exactly 1, so the burn-in ends at the first
    step whose smallest mean log-variance is below log 1 = 0."""
    return np.array([[1.0] * 4, [-1.0] * 4] * 4)


def test_runaway_warns_at_the_step_the_derived_rule_predicts() -> None:
    # Point 0's log-variance falls at Adam's full rate a = lr; point 1 stays at 0.  The fitted
    # line is exact; it is extrapolated H = W = 100 steps ahead; it goes below log v_noise
    # when -a t - a H < log v_noise, i.e. t > -log(v_noise)/a - H = 821.03; the first check
    # (every check_every = 50 steps) after that is step 850.
    lr = 0.01
    monitor = CollapseMonitor(_data(), noise_variance=NOISE, lr=lr, stop=True, emit=False)
    stopped = _stream(monitor, lambda t: [[-lr * t] * 4, [0.0] * 4], 2000)
    assert monitor.summary()["thresholds"]["burn_in_ended"] == 1  # -0.01 < log 1 at step 1
    every = monitor.check_every
    predicted = math.ceil((-math.log(NOISE) / lr - 100) / every) * every
    assert stopped == predicted == 850
    assert [e.code for e in monitor.events] == ["collapse"]
    assert monitor.events[0].step == 850 and "step 850" in monitor.events[0].message
    assert monitor.rows[-1]["trend_slope"] == pytest.approx(-lr, rel=1e-9)


def test_converging_variance_never_warns_even_below_the_noise_level() -> None:
    # s(t) = s_inf (1 - exp(-t/25)) with s_inf = log(1e-5) < log v_noise: the variance goes
    # below the noise level (a notice) but converges: over the first fitted window (100, 200]
    # its mean slope is s_inf (e^-4 - e^-8) / 100 = -2.1e-3 > -lr/2 = -5e-3: no collapse warning.
    lr = 0.01
    s_inf = math.log(1e-5)
    monitor = CollapseMonitor(_data(), noise_variance=NOISE, lr=lr, stop=True, emit=False, burn_in=100)
    stopped = _stream(monitor, lambda t: [[s_inf * (1 - math.exp(-t / 25))] * 4, [0.0] * 4], 3000)
    assert stopped is None
    assert [e.code for e in monitor.events] == ["below-noise"]
    # below the noise level and falling faster than half of Adam's full rate: a collapse
    # at the first fit (burn-in + W = 200); at 0.4 lr, none
    monitor = CollapseMonitor(_data(), noise_variance=NOISE, lr=lr, stop=True, emit=False, burn_in=100)
    assert _stream(monitor, lambda t: [[s_inf - 0.6 * lr * t] * 4, [0.0] * 4], 3000) == 200
    monitor = CollapseMonitor(_data(), noise_variance=NOISE, lr=lr, stop=True, emit=False, burn_in=100)
    assert _stream(monitor, lambda t: [[s_inf - 0.4 * lr * t] * 4, [0.0] * 4], 1000) is None


def test_burn_in_ends_when_the_variance_reaches_the_data_spread() -> None:
    # g(t) = 2 - 0.01 t crosses log 1 = 0 after step 200: the trend's points start at 201 and
    # the first fit is one window (100 steps) later, at the check of step 350 (every 50).
    monitor = CollapseMonitor(_data(), noise_variance=NOISE, lr=0.01, emit=False)
    _stream(monitor, lambda t: [[2.0 - 0.01 * t] * 4, [3.0] * 4], 400)
    assert monitor.summary()["thresholds"]["burn_in_ended"] == 201
    slopes = {r["step"]: r.get("trend_slope") for r in monitor.rows if "trend_slope" in r}
    assert slopes[300] is None and slopes[350] == pytest.approx(-0.01, rel=1e-9)


def test_without_data_the_rule_is_the_rate_alone() -> None:
    lr = 0.01
    fast = CollapseMonitor(lr=lr, stop=True, emit=False)
    assert _stream(fast, lambda t: [[-0.51 * lr * t] * 4, [0.0] * 4], 1000) == 200  # burn-in + W
    slow = CollapseMonitor(lr=lr, stop=True, emit=False)
    assert _stream(slow, lambda t: [[-0.49 * lr * t] * 4, [0.0] * 4], 1000) is None


def test_floor_contradictions_and_the_reference_cap() -> None:
    x = _data()
    floored = CollapseMonitor(x, floor=1e-3, noise_variance=NOISE, stop=True, emit=False, check_every=1)
    cap = -0.5 * 4 * math.log(2 * math.pi * 1e-3)
    assert floored.cap_per_point == pytest.approx(cap)
    floored.update(torch.full((2, 4), math.log(1e-3)), objective=torch.tensor([cap - 1e-3, 0.0]))
    assert not floored.events  # at the floor and under the cap: nothing to say
    floored.update(torch.full((2, 4), math.log(0.9e-3)), objective=torch.tensor([cap + 1.0, 0.0]))
    assert [e.code for e in floored.events] == ["below-floor", "above-cap"]
    # the smallest variance below the floor sits on pixel 0, constant in the data: the
    # message names that pixel, not the smallest on a varying one
    data = np.array([[0.5, 1.0, -1.0], [0.5, -1.0, 1.0]] * 3)
    on_constant = CollapseMonitor(data, floor=1e-3, noise_variance=NOISE, emit=False, check_every=1)
    s = torch.full((2, 3), math.log(2e-3))
    s[1, 0], s[0, 2] = math.log(2e-4), math.log(5e-4)  # both above the noise level 1e-4
    on_constant.update(s)
    assert [e.code for e in on_constant.events] == ["below-floor"]
    assert "at pixel 0 of batch row 1" in on_constant.events[0].message
    assert floored.should_stop and floored.stop_reason.code == "below-floor"
    ref = CollapseMonitor(x, floor=0.0, reference_floor=1e-3, noise_variance=NOISE, emit=False,
                          check_every=1)
    ref.update(torch.zeros(2, 4), objective=torch.tensor([cap + 0.5, 0.0]))
    assert [e.code for e in ref.events] == ["passed-reference-cap"]


def test_non_finite_values_stop_at_once_and_warnings_are_issued_once() -> None:
    monitor = CollapseMonitor(_data(), noise_variance=NOISE, stop=True, check_every=5)
    with pytest.warns(CollapseWarning, match=r"step 3: warning non-finite") as record:
        for t in range(1, 11):
            s = torch.zeros(2, 4)
            if t >= 3:
                s[1, 2] = math.nan
            monitor.update(s)
    assert sum(issubclass(w.category, CollapseWarning) for w in record) == 1
    assert monitor.should_stop and monitor.stop_reason.step == 3


def test_where_the_smallest_variance_sits_and_the_pixel_map() -> None:
    x = np.random.default_rng(2).normal(size=(10, 3, 3))
    monitor = CollapseMonitor(x, noise_variance=NOISE, check_every=2)
    s = torch.zeros(2, 3, 3)
    s[1, 2, 1] = math.log(1e-6)  # batch row 1 is training point 7; pixel (2, 1) = 7
    with pytest.warns(VarianceNotice, match=r"pixel 7 \(row 2, col 1\) of training point 7"):
        monitor.update(s, index=torch.tensor([4, 7]))
        monitor.update(torch.zeros(2, 3, 3), index=torch.tensor([4, 7]))
    pixels = monitor.pixel_min_variance
    assert pixels.shape == (3, 3) and pixels[2, 1] == pytest.approx(1e-6) and pixels[0, 0] == 1.0
    assert monitor.point_min_log_variance[7] == pytest.approx(math.log(1e-6) / 9)


def _point_mean(row: np.ndarray, constant: np.ndarray) -> float:
    """A point's mean log-variance over the varying pixels; nan when a constant pixel is not
    finite (the documented way a non-finite value anywhere shows in the means)."""
    return math.nan if not np.isfinite(row[constant]).all() else float(row[~constant].mean())


def _reference_rows(windows: list[tuple[np.ndarray, np.ndarray]], constant: np.ndarray) -> list[dict]:
    """Each step's row computed on its own, in float64 with numpy (docs/monitor.md)."""
    rows = []
    for s, objective in windows:
        means = np.array([_point_mean(row, constant) for row in s])
        rows.append({"min_log_variance": s.min(), "min_point_log_variance": means.min(),
                     "max_objective": objective.max()})
    return rows


@pytest.mark.parametrize("check_every", [1, 3, 7])
def test_each_window_gives_the_rows_each_step_gives_on_its_own(check_every: int) -> None:
    # 7 steps of (B, D = 6) log-variances, B = 5 but 3 at step 6 (a batch of another
    # shape is checked apart), pixels 0 and 4 constant in the data, one
    # infinity on a constant pixel at step 3 and a nan on a varying pixel at step 5:
    # however the steps are grouped into windows, every row, the pixel map, the per-point
    # minima and the first non-finite step are what the steps give one by one.
    rng = np.random.default_rng(7)
    data = rng.normal(size=(12, 6))
    data[:, [0, 4]] = 0.25
    sizes = [5, 5, 5, 5, 5, 3, 5]
    steps = [(rng.normal(size=(b, 6)), rng.normal(size=b)) for b in sizes]
    steps[2][0][1, 4] = math.inf
    steps[4][0][3, 2] = math.nan
    index = [rng.permutation(12)[:b] for b in sizes]
    monitor = CollapseMonitor(data, noise_variance=1e-12, check_every=check_every, emit=False)
    for (s, objective), idx in zip(steps, index, strict=True):
        monitor.update(torch.tensor(s, dtype=torch.float32), objective=torch.tensor(objective),
                       index=torch.tensor(idx))
    monitor.flush()
    s32 = [(s.astype(np.float32).astype(np.float64), o) for s, o in steps]
    constant = np.zeros(6, dtype=bool)
    constant[[0, 4]] = True
    assert monitor.limits is not None and (monitor.limits.constant == constant).all()
    # Minima and maxima are exact; a mean of m = 4 float32 values with exact weights 1/4,
    # summed in float32, is within gamma_m max|x| ~ m u max|x| of the exact one (u = 2^-24;
    # Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed. 2002, section 3.1).
    finite = np.concatenate([s[np.isfinite(s)] for s, _ in s32])
    mean_tol = 4 * 2.0**-24 * float(np.abs(finite).max())
    for row, ref in zip(monitor.rows, _reference_rows(s32, constant), strict=True):
        for key, value in ref.items():
            if math.isnan(value):
                assert math.isnan(row[key]), (row["step"], key)
            elif key == "min_point_log_variance":
                assert row[key] == pytest.approx(value, rel=0, abs=mean_tol), (row["step"], key)
            else:
                assert row[key] == value, (row["step"], key)
    assert [e.code for e in monitor.events] == ["non-finite"] and monitor.events[0].step == 3
    with np.errstate(invalid="ignore"):
        per_step = np.stack([s.min(axis=0) for s, _ in s32])  # each step's batch minimum per pixel
        pixel_ref = np.where(np.isnan(per_step), np.inf, per_step).min(axis=0)
    assert np.array_equal(monitor.pixel_min_variance, np.exp(pixel_ref))
    point_ref: dict[int, float] = {}
    for (s, _), idx in zip(s32, index, strict=True):
        for row_s, i in zip(s, idx, strict=True):
            g = _point_mean(row_s, constant)
            if math.isfinite(g):
                point_ref[int(i)] = min(g, point_ref.get(int(i), math.inf))
    got = monitor.point_min_log_variance
    assert got.keys() == point_ref.keys()
    assert all(got[i] == pytest.approx(point_ref[i], rel=0, abs=mean_tol) for i in got)


def test_one_transfer_from_a_device_gives_the_arrays_the_cpu_views_give() -> None:
    # The check's small arrays reach the host as views on the CPU and through one
    # concatenated transfer from another device; the transfer is run here on CPU tensors
    # of mixed dtypes and shapes and must give the same values.
    parts = [torch.randn(3, 4), torch.randn(3, 5, dtype=torch.float64), torch.randn(3).half()]
    views = host_arrays(parts)
    gathered = gather_to_host([p if p.dtype != torch.float16 else p.float() for p in parts])
    assert [v.shape for v in views] == [g.shape for g in gathered] == [(3, 4), (3, 5), (3,)]
    assert all(np.array_equal(v.astype(np.float64), g) for v, g in zip(views, gathered, strict=True))


def test_variance_kinds_agree() -> None:
    v = torch.tensor([[1e-3, 2e-3], [0.5, 1.0]], dtype=torch.float64)
    minima = []
    for kind, t in (("var", v), ("logvar", v.log()), ("std", v.sqrt()), ("logstd", 0.5 * v.log())):
        monitor = CollapseMonitor(variance=kind, check_every=1, emit=False)
        minima.append(monitor.update(t)[0]["min_variance"])
    assert minima == pytest.approx([1e-3] * 4, rel=1e-12)


def test_bad_input_names_the_argument() -> None:
    with pytest.raises(InvalidArgumentError, match=r"^variance: must be one of"):
        CollapseMonitor(variance="sigma")
    with pytest.raises(InvalidArgumentError, match=r"^variance: was not passed"):
        CollapseMonitor().update()
    with pytest.raises(InvalidArgumentError, match=r"^stop: names unknown events"):
        CollapseMonitor(stop=["colapse"])
    with pytest.raises(InvalidArgumentError, match=r"^variance: has 5 values per point"):
        CollapseMonitor(_data(), check_every=1).update(torch.zeros(2, 5))
    with pytest.raises(InvalidArgumentError, match=r"^objective: must be a tensor with one value"):
        CollapseMonitor().update(torch.zeros(2, 3), objective=torch.zeros(3))
    with pytest.raises(InvalidArgumentError, match=r"^index: must be a tensor"):
        CollapseMonitor().update(torch.zeros(2, 3), index=[0, 1])
    with pytest.raises(InvalidArgumentError, match=r"^data: must have shape"):
        data_limits(np.zeros(3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        CollapseMonitor(variance="var", check_every=1).update(torch.ones(1, 3))  # nothing to say
