"""The training-curve figure of one run or of a suite of runs.

Builds a :class:`matplotlib.figure.Figure` directly (no pyplot, no global state, no
file written); the caller saves it.  Panels: the per-point training ELBO (mean, solid;
maximum, dotted) with the floor cap -(D/2) log(2 pi xi) as a black dashed line and a
family's own cap (fixed, Bernoulli), if different, dash-dotted in the run's colour; the
test ELBO and the importance-weighted test log-likelihood with +- 2 standard errors
(symmetric-log scale, since memorising runs fall by orders of magnitude); the minimum
and median decoder variance (log scale; the floor xi dashed); the mean KL per point.
"""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.figure import Figure

from vaeproofs.numeric.training import TrainResult

__all__ = ["plot_training"]


def _series(result: TrainResult, key: str) -> tuple[list[float], list[float]]:
    xs, ys = [], []
    for row in result.history:
        v = getattr(row, key)
        if isinstance(v, float):
            xs.append(float(row.step))
            ys.append(v)
    return xs, ys


def _plain_text(text: str) -> str:
    """``text`` shown as written: each ``$`` escaped, so matplotlib never reads mathtext."""
    return text.replace("$", r"\$")


def plot_training(results: TrainResult | Sequence[TrainResult]) -> Figure:
    """Plot the training curves of one result or several (one colour per run)."""
    runs = [results] if isinstance(results, TrainResult) else list(results)
    fig = Figure(figsize=(11, 8.5), layout="constrained")
    ax_tr, ax_te, ax_var, ax_kl = fig.subplots(2, 2).ravel()
    thresholds: set[float] = set()
    floors: set[float] = set()
    for i, res in enumerate(runs):
        colour = f"C{i % 10}"
        label = _plain_text(res.config.label or res.config.likelihood)
        if res.outcome == "diverged":
            label += f" (diverged at {res.diverged_at_step})"
        ax_tr.plot(*_series(res, "train_elbo_mean"), color=colour, label=label)
        ax_tr.plot(*_series(res, "train_elbo_max"), color=colour, ls=":")
        xs, ys = _series(res, "test_iwae")
        _, se = _series(res, "test_iwae_se")
        ax_te.plot(xs, ys, color=colour, label=label)
        if len(se) == len(ys):
            ax_te.fill_between(xs, [y - 2 * s for y, s in zip(ys, se, strict=True)],
                               [y + 2 * s for y, s in zip(ys, se, strict=True)],
                               color=colour, alpha=0.2)
        ax_te.plot(*_series(res, "test_elbo"), color=colour, ls="--")
        ax_var.plot(*_series(res, "min_decoder_variance"), color=colour, label=label)
        ax_var.plot(*_series(res, "median_decoder_variance"), color=colour, ls="--")
        if res.cap is not None and res.cap != res.floor_cap_threshold:
            ax_tr.axhline(res.cap, color=colour, ls="-.", lw=1)
        ax_kl.plot(*_series(res, "kl"), color=colour, label=label)
        thresholds.add(res.floor_cap_threshold)
        floors.add(res.config.xi)
    # The first steps of a run can sit hundreds of nats lower; frame the later ones.
    later = [v for res in runs for v in _series(res, "train_elbo_mean")[1][1:]]
    tops = [v for res in runs for v in _series(res, "train_elbo_max")[1]] + sorted(thresholds)
    if later and tops:
        lo = sorted(later)[len(later) // 10]
        hi = max(tops)
        pad = 0.1 * max(hi - lo, 1.0)
        ax_tr.set_ylim(lo - pad, hi + pad)
    for t in sorted(thresholds):
        ax_tr.axhline(t, color="k", ls="--", lw=1, label="-(D/2) log(2 pi xi)")
    for xi in sorted(floors):
        ax_var.axhline(xi, color="k", ls="--", lw=1, label="xi")
    ax_tr.set(title="training ELBO per point (mean solid, max dotted)", xlabel="step",
              ylabel="nats")
    ax_te.set(title="test: IWAE log-likelihood +- 2 se (solid), ELBO (dashed)",
              xlabel="step", ylabel="nats per point (symlog)")
    ax_te.set_yscale("symlog", linthresh=100.0)
    ax_var.set(title="decoder variance: minimum (solid), median (dashed)", xlabel="step",
               ylabel="sigma^2", yscale="log")
    ax_kl.set(title="KL(q(z|x) || p(z)) per point", xlabel="step", ylabel="nats")
    handles, labels = ax_tr.get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncols=min(3, len(labels)),
               fontsize="small")
    return fig
