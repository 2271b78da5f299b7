"""The training-curve figure of one run or of a suite of runs.

Builds a :class:`matplotlib.figure.Figure` directly (no pyplot, no global state, no
file written); the caller saves it.  Panels: the per-point training ELBO (mean, solid;
maximum, dotted) with the floor cap -(D/2) log(2 pi xi) as a black dashed line, each
family's own cap dash-dotted in the run's colour (the unfloored Student-t is compared
with the cap D (log c(nu) - (1/2) log xi) it would have with its squared scale >= xi,
not with the Gaussian one), and, for a loss that reports a value other than the ELBO
(torch's GaussianNLLLoss(eps)), that reported value's maximum dashed thin; every cap is
in the legend with its value.  The test ELBO and the importance-weighted test
log-likelihood with +- 2 standard errors (symmetric-log scale with plain tick labels,
since memorising runs fall by orders of magnitude).  The minimum and median decoder
variance sigma^2 (log scale; the floor xi dashed): probability-mass heads (Bernoulli,
discretised) are left out and named in the panel, since their pi(1 - pi) or squared
scale does not bound their likelihood and would make a bounded model look collapsed.
The mean KL per point.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence

from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullFormatter, SymmetricalLogLocator

from vaeproofs.numeric.heads import HEADS, make_head, student_t_log_density_cap
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


def _plain(value: float, _pos: object = None) -> str:
    """Tick label without scientific notation: -1000, -100, 0, 100, 1000."""
    return f"{value:.0f}" if abs(value) >= 1 else f"{value:g}"


def _comparison_cap(res: TrainResult) -> tuple[float, str] | None:
    """The cap a run is compared with besides the Gaussian floor cap, and its legend text."""
    name, d = res.config.likelihood, res.dim
    if name == "student-t":
        cap = student_t_log_density_cap(d, res.config.nu, math.sqrt(res.config.xi))
        return cap, (f"student-t cap if scale^2 >= {res.config.xi:g} (nu={res.config.nu:g}): "
                     f"{cap:.1f}")
    if res.cap is not None and res.cap != res.floor_cap_threshold:
        return res.cap, f"cap of {name}: {res.cap:.1f}"
    return None


def plot_training(results: TrainResult | Sequence[TrainResult]) -> Figure:
    """Plot the training curves of one result or several (one colour per run)."""
    runs = [results] if isinstance(results, TrainResult) else list(results)
    fig = Figure(figsize=(11, 8.5), layout="constrained")
    ax_tr, ax_te, ax_var, ax_kl = fig.subplots(2, 2).ravel()
    floor_caps: dict[float, float] = {}  # -(D/2) log(2 pi xi) -> xi
    cap_lines: list[tuple[float, str, str, str]] = []  # value, colour, style, legend text
    omitted: list[str] = []
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
        head_cls = HEADS.get(res.config.likelihood)
        if head_cls is not None and head_cls.mass_function:
            omitted.append(res.config.likelihood)
        else:
            ax_var.plot(*_series(res, "min_decoder_variance"), color=colour, label=label)
            ax_var.plot(*_series(res, "median_decoder_variance"), color=colour, ls="--")
        compared = _comparison_cap(res)
        if compared is not None:
            cap_lines.append((compared[0], colour, "-.", compared[1]))
        if head_cls is not None and head_cls.distinct_objective:
            reported_cap = make_head(res.config.likelihood,
                                     res.config.head_options()).objective_cap(res.dim)
            eps = res.config.nll_eps if res.config.likelihood == "gaussian-nll-eps" else None
            if eps is not None:
                ax_var.axhline(eps, color=colour, ls=":", lw=1,
                               label=f"eps of GaussianNLLLoss: {eps:g}")
            if reported_cap is not None:
                ax_tr.plot(*_series(res, "train_objective_max"), color=colour, ls="--", lw=0.8,
                           label=f"{res.config.likelihood}: reported objective, max")
                cap_lines.append((reported_cap, colour, ":",
                                  f"cap of the reported objective: {reported_cap:.1f}"))
        ax_kl.plot(*_series(res, "kl"), color=colour, label=label)
        floor_caps[res.floor_cap_threshold] = res.config.xi
    # The first steps of a run can sit hundreds of nats lower; frame the later ones.
    later = [v for res in runs for v in _series(res, "train_elbo_mean")[1][1:]]
    tops = ([v for res in runs for v in _series(res, "train_elbo_max")[1]] + sorted(floor_caps)
            + [c[0] for c in cap_lines if c[0] <= 1.5 * max(sorted(floor_caps) or [c[0]])])
    if later and tops:
        lo = sorted(later)[len(later) // 10]
        hi = max(tops)
        pad = 0.1 * max(hi - lo, 1.0)
        ax_tr.set_ylim(lo - pad, hi + pad)
    top = ax_tr.get_ylim()[1]
    for value, colour, style, text in cap_lines:
        # A cap far above every curve stays out of the frame; the legend says so.
        ax_tr.axhline(value, color=colour, ls=style, lw=1,
                      label=text + (" (above the frame)" if value > top else ""))
    for t, xi in sorted(floor_caps.items()):
        ax_tr.axhline(t, color="k", ls="--", lw=1,
                      label=f"Gaussian floor cap -(D/2) log(2 pi xi): {t:.1f} (xi={xi:g})")
    for xi in sorted(set(floor_caps.values())):
        ax_var.axhline(xi, color="k", ls="--", lw=1, label=f"variance floor xi = {xi:g}")
    ax_tr.set(title="training ELBO per point (mean solid, max dotted)", xlabel="step",
              ylabel="nats")
    ax_te.set(title="test: IWAE +- 2 se (solid), ELBO (dashed)",
              xlabel="step", ylabel="nats per point (symlog)")
    ax_te.set_yscale("symlog", linthresh=100.0)
    ax_te.yaxis.set_major_locator(SymmetricalLogLocator(base=10.0, linthresh=100.0))
    ax_te.yaxis.set_major_formatter(FuncFormatter(_plain))
    ax_te.yaxis.set_minor_formatter(NullFormatter())
    ax_var.set(title="decoder variance: minimum (solid), median (dashed)", xlabel="step",
               ylabel="sigma^2 (Student-t: squared scale)", yscale="log")
    if omitted:
        # Wrapped, so the note stays inside its panel and does not widen the layout.
        note = textwrap.fill("not shown (mass functions, capped at 0 whatever their spread): "
                             + ", ".join(sorted(set(omitted))), width=60)
        ax_var.text(0.01, 0.01, note, transform=ax_var.transAxes, fontsize="x-small", va="bottom",
                    in_layout=False)
    ax_kl.set(title="KL(q(z|x) || p(z)) per point", xlabel="step", ylabel="nats")
    handles, labels = ax_tr.get_legend_handles_labels()
    for h, lab in zip(*ax_var.get_legend_handles_labels(), strict=True):
        if lab.startswith("eps of") or lab.startswith("variance floor"):
            handles.append(h)
            labels.append(lab)
    fig.legend(handles, labels, loc="outside lower center", ncols=min(3, len(labels)),
               fontsize="small")
    return fig
