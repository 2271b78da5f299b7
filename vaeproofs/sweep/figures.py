"""The figures of a sweep: one PNG per metric against the grid's numeric axis.

For each metric of :data:`METRICS`, ``DIR/figures/<metric>.png`` has one panel per
combination of the grid keys other than the axis, the family and the seeds (e.g. one
panel per width), one line per decoder family (``likelihood``): the mean over seeds (geometric
mean for the decoder variance, drawn on a log axis), with the band from the smallest to
the largest seed's value.  The x axis is ``n_train``
(the number of points actually used, so ``"all"`` sits at its true size, log scale) when
the grid varies it, else the first other numeric grid key.  Caps are drawn as black
dashed lines: the floor cap -(D/2) log(2 pi xi) on the ELBO and test-IWAE panels
(Mattei & Frellsen 2018, section 2.1), the floor xi on the decoder-variance panel (a
variance), the step budget on the ``passed_cap_at_step`` panel, where each run is a
marker (families shifted a little along x so that equal values stay visible) and a run
that never passed the cap is an open marker on that line.  Runs that raised are left out.  The
legend sits outside the axes so it never hides a curve.  Builds
:class:`matplotlib.figure.Figure` objects directly (no pyplot, no global state).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from vaeproofs.outputs import write_atomic

__all__ = ["METRICS", "axis_key", "plot_metric", "write_figures"]

#: metric column -> (axis label, y scale).
METRICS: dict[str, tuple[str, str]] = {
    "best_train_elbo_mean": ("best mean training ELBO (nats per point)", "linear"),
    "best_train_elbo_max": ("best largest per-point training ELBO (nats)", "linear"),
    "final_test_iwae": ("final test IWAE log-likelihood (nats per point)", "symlog"),
    "min_decoder_variance": ("smallest decoder variance (log scale)", "log"),
    "passed_cap_at_step": ("first step past the floor cap", "linear"),
}
_NOT_AXES = {"likelihood", "seed", "data_seed", "label"}


def axis_key(grid: dict[str, list[Any]]) -> str | None:
    """The grid key plotted on the x axis, or ``None`` when the grid has no numeric axis."""
    if "n_train" in grid and len(grid["n_train"]) > 1:
        return "n_train"
    for key, values in grid.items():
        if key not in _NOT_AXES and len(values) > 1 and all(
                isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            return key
    return None


def _x(row: dict[str, Any], key: str) -> float | None:
    value = row.get("n_train_used") if key == "n_train" else row.get(key)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _finite(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def plot_metric(rows: Sequence[dict[str, Any]], grid: dict[str, list[Any]], metric: str) -> Figure | None:
    """The figure of ``metric`` for the ``results.csv`` rows of a sweep (``None``: nothing to plot)."""
    key = axis_key(grid)
    rows = [r for r in rows if r.get("outcome") != "error" and key is not None and _x(r, key) is not None]
    if key is None or not rows or (metric != "passed_cap_at_step"
                                   and not any(_finite(r.get(metric)) for r in rows)):
        return None
    panel_keys = [k for k in grid if k not in _NOT_AXES and k != key]
    panels = list(itertools.product(*(grid[k] for k in panel_keys)))
    families = list(grid.get("likelihood", [])) or sorted({str(r["likelihood"]) for r in rows})
    label, scale = METRICS[metric]
    fig = Figure(figsize=(4.2 * len(panels) + 2.2, 3.8), layout="constrained")
    axes = fig.subplots(1, len(panels), squeeze=False, sharey=True)[0]
    colours = [f"C{i}" for i in range(len(families))]
    for ax, panel in zip(axes, panels, strict=True):
        mine = [r for r in rows if all(r.get(k) == v for k, v in zip(panel_keys, panel, strict=True))]
        for f_index, (family, colour) in enumerate(zip(families, colours, strict=True)):
            fam = [r for r in mine if r.get("likelihood") == family]
            xs = sorted({_x(r, key) for r in fam})  # type: ignore[type-var]
            if metric == "passed_cap_at_step":
                # spread the families a little along x so that equal values stay visible
                shift = 1.0 + 0.06 * (f_index - (len(families) - 1) / 2)
                _plot_passes(ax, fam, key, family, colour, shift if key == "n_train" else 1.0)
                continue
            mean, low, high, used = [], [], [], []
            for x in xs:
                vals = [float(r[metric]) for r in fam if _x(r, key) == x and _finite(r.get(metric))]
                if vals and (scale != "log" or min(vals) > 0):
                    used.append(x)
                    # on a log axis the centre is the geometric mean
                    mean.append(math.exp(sum(map(math.log, vals)) / len(vals)) if scale == "log"
                                else sum(vals) / len(vals))
                    low.append(min(vals))
                    high.append(max(vals))
            if used:
                ax.plot(used, mean, "o-", color=colour, label=family, ms=3.5)
                ax.fill_between(used, low, high, color=colour, alpha=0.2, linewidth=0)
        _draw_caps(ax, mine, metric)
        ax.set_xscale("log" if key == "n_train" else "linear")
        ticks = sorted({x for r in mine if (x := _x(r, key)) is not None})
        ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
        # Close values (1024 and all 1438 on a log axis) must not overprint: slant the labels.
        ax.tick_params(axis="x", labelrotation=35)
        ax.minorticks_off()
        ax.set_yscale(scale)
        ax.set_xlabel("training points" if key == "n_train" else key)
        ax.set_title(", ".join(f"{k}={v}" for k, v in zip(panel_keys, panel, strict=True)) or metric,
                     fontsize=9)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(label)
    seen: dict[str, Any] = {}
    for ax in axes:
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            seen.setdefault(lab, h)
    if seen:
        fig.legend(list(seen.values()), list(seen), loc="outside right upper", fontsize=8,
                   title=None if metric == "passed_cap_at_step" else
                   f"{'geometric mean' if scale == 'log' else 'mean'}; band: min-max over seeds",
                   title_fontsize=7)
    return fig


def _plot_passes(ax: Any, fam: list[dict[str, Any]], key: str, family: str, colour: str,
                 shift: float) -> None:
    passed = [(_x(r, key) * shift, float(r["passed_cap_at_step"])) for r in fam  # type: ignore[operator]
              if _finite(r.get("passed_cap_at_step"))]
    never = [(_x(r, key) * shift, float(r["steps"])) for r in fam  # type: ignore[operator]
             if not _finite(r.get("passed_cap_at_step")) and _finite(r.get("steps"))]
    if passed:
        ax.plot(*zip(*passed, strict=True), "o", color=colour, label=f"{family}: passed", ms=5, alpha=0.8)
    if never:
        ax.plot(*zip(*never, strict=True), "o", mfc="none", color=colour, label=f"{family}: not passed",
                ms=7, alpha=0.8)


def _draw_caps(ax: Any, rows: list[dict[str, Any]], metric: str) -> None:
    if metric in ("best_train_elbo_mean", "best_train_elbo_max", "final_test_iwae"):
        caps, name = {r["floor_cap_threshold"] for r in rows if _finite(r.get("floor_cap_threshold"))}, \
            "floor cap -(D/2) log(2 pi xi)"
    elif metric == "min_decoder_variance":
        caps, name = {r["floor"] for r in rows if _finite(r.get("floor"))}, "floor xi"
    elif metric == "passed_cap_at_step":
        caps, name = {r["steps"] for r in rows if _finite(r.get("steps"))}, "step budget"
    else:
        return
    for i, cap in enumerate(sorted(caps)):
        ax.axhline(float(cap), color="black", ls="--", lw=1, label=name if i == 0 else None)


def write_figures(rows: Sequence[dict[str, Any]], grid: dict[str, list[Any]], folder: str | Path
                  ) -> list[Path]:
    """Write ``folder/<metric>.png`` for every metric that has something to plot."""
    import io

    written = []
    for metric in METRICS:
        fig = plot_metric(rows, grid, metric)
        if fig is None:
            continue
        Path(folder).mkdir(parents=True, exist_ok=True)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=120)
        written.append(write_atomic(Path(folder) / f"{metric}.png", buffer.getvalue()))
    return written
