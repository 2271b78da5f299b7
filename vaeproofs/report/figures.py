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
    from vaeproofs.symbolic.derivation import Derivation

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


def answer2_landscape_figure(derivation: Derivation) -> Figure:
    """ELBO landscape of the answer-2 example over (s, tau), from the derived closed form.

    ``derivation`` is the ``answer2-tradeoff`` derivation whose ``s_star`` and
    ``answer_s_star`` results are drawn over the landscape.
    """
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
    fig.colorbar(cs, ax=ax, label="ELBO (nats)", format="%.1f")
    # The derived optimum and the answer's formula, both lambdified from the derivation;
    # the grid's column-wise argmax is an independent numeric check of the former.
    import sympy as sp

    d = derivation
    tau_sym = sp.Symbol("tau", positive=True)
    lam_sym = sp.Symbol("lambda", real=True)
    s_star = sp.lambdify(tau_sym, d.results["s_star"], "numpy")(tau)
    ax.plot(tau, s_star, color="white", lw=2.2, label="derived optimum s* = (1 + tau)^(-1/2)")
    ax.plot(tau, s[np.argmax(grid, axis=0)], color="black", lw=0, marker=".", ms=2.5,
            markevery=6, label="numeric argmax over s on the grid")
    # The answer's lambda multiplies s^2 in the expected log-likelihood, which is -tau/2 s^2:
    # plot its formula with lambda = |c| tau, c the implied constant (-1/2).
    c = abs(float(d.results["implied_proportionality_constant"]))
    with np.errstate(invalid="ignore", divide="ignore"):
        stated = sp.lambdify(lam_sym, d.results["answer_s_star"], "numpy")(c * tau + 0j)
    stated = np.where(np.abs(stated.imag) < 1e-12, stated.real, np.nan)
    ax.plot(tau, stated, color="tab:red", lw=1.8, ls="--",
            label=f"answer's formula (2 lambda')^(-1/2), lambda = {c:g} tau")
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
        figures["answer2-landscape"] = _png(
            answer2_landscape_figure(context.derivation("answer2-tradeoff")))
    return figures, {k: CAPTIONS[k] for k in figures}
