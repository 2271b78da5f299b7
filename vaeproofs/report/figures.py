"""Figures of the report, built from the evidence context's cached results.

Each builder returns a matplotlib Figure; :func:`build_figures` renders them to PNG
bytes.  A figure is built only when the evidence behind it was computed during the
run (``--only`` may skip whole layers).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from vaeproofs.claims.claim import ClaimResult
    from vaeproofs.claims.context import EvidenceContext

__all__ = ["answer2_landscape_figure", "build_figures"]

CAPTIONS = {
    "constructions": "Objective along each explicit construction against its collapse "
                     "parameter (mpmath), with the caps of the bounded ones.",
    "training": "Training on sklearn's digits with each decoder family: per-point training "
                "ELBO against step, with the floor's cap.",
    "answer2-landscape": "The discussion's 1-D example: ELBO over posterior scale s and "
                         "decoder precision tau, with the derived optimum s*(tau) and the "
                         "answer's stated formula.",
}


def answer2_landscape_figure() -> Figure:
    """ELBO landscape of the answer-2 example over (s, tau), from the derived closed form."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from vaeproofs.symbolic import tradeoff

    s = np.logspace(-3, 1, 240)
    tau = np.logspace(-2, 6, 240)
    grid = tradeoff.answer2_elbo_grid(s, tau)  # shape (len(s), len(tau))
    fig, ax = plt.subplots(figsize=(7.2, 4.8), layout="constrained")
    vmax = float(np.nanmax(grid))
    levels = np.linspace(vmax - 12.0, vmax, 25)
    cs = ax.contourf(tau, s, np.clip(grid, levels[0], None), levels=levels, cmap="viridis")
    fig.colorbar(cs, ax=ax, label="ELBO (nats)")
    s_star = tradeoff.answer2_optimal_scale(tau)
    ax.plot(tau, s_star, color="white", lw=2, label="derived optimum s*(tau)")
    lam = tradeoff.answer2_lambda_of_tau(tau)
    with np.errstate(invalid="ignore", divide="ignore"):
        stated = np.where(lam > 0.5, (2.0 * (lam - 0.5)) ** -0.5, np.nan)
    ax.plot(tau, stated, color="tab:red", lw=1.6, ls="--",
            label="answer's formula (2 lambda')^(-1/2)")
    ax.set(xscale="log", yscale="log", xlabel="decoder precision tau",
           ylabel="posterior scale s", title="Answer 2's example: x = 0, identity decoder mean")
    ax.legend(loc="lower left", fontsize=8)
    return fig


def _png(fig: Figure) -> bytes:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()


def build_figures(context: EvidenceContext, results: Sequence[ClaimResult]
                  ) -> tuple[dict[str, bytes], dict[str, str]]:
    """Render every figure referenced by the evidence; return (PNG bytes, captions)."""
    wanted = {f for r in results for e in r.evidence for f in e.figures}
    figures: dict[str, bytes] = {}
    if "constructions" in wanted:
        from vaeproofs.constructions.figure import constructions_figure

        figures["constructions"] = _png(constructions_figure(list(context.constructions().values())))
    if "training" in wanted:
        from vaeproofs.numeric import plot_training

        figures["training"] = _png(plot_training(list(context.training().values())))
    if "answer2-landscape" in wanted:
        figures["answer2-landscape"] = _png(answer2_landscape_figure())
    return figures, {k: CAPTIONS[k] for k in figures}
