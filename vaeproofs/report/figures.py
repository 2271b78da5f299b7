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
    "remedy-training": "The remedies practitioners write, trained side by side on the same 16 "
                       "digits: per-point training objective, decoder variance and each head's "
                       "own cap (fresh vs static dequantisation, GaussianNLLLoss eps, beta-NLL, "
                       "soft clip, floored Student-t, discretised and continuous-Bernoulli heads).",
    "answer2-landscape": "The discussion's 1-D example: ELBO over posterior scale s and "
                         "decoder precision tau, with the derived optimum s*(tau) and the "
                         "answer's stated formula (left); the ELBO maximised over s against "
                         "tau, bounded with the identity mean and unbounded along the "
                         "learnable mean's a = 0 ridge (right).",
}


def answer2_landscape_figure(derivation: Derivation, learnable_mean: Derivation | None = None
                             ) -> Figure:
    """ELBO landscape of the answer-2 example over (s, tau), and the ridge that decides it.

    ``derivation`` is the ``answer2`` derivation: its ELBO is drawn over (s, tau) with
    the derived optimum ``s_star`` and the answer's stated formula ``answer.s_star`` at
    the corrected lambda = tau/2.  ``learnable_mean`` is the ``answer2-learnable-mean``
    derivation: the right panel draws the ELBO maximised over s against tau for the
    identity mean (bounded) and along the learnable mean's a = 0 ridge (unbounded).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import sympy as sp

    from vaeproofs.symbolic import answer2

    s = np.logspace(-3, 1, 240)
    tau = np.logspace(-2, 6, 240)
    grid = answer2.answer2_elbo_grid(s, tau)  # shape (len(s), len(tau))
    fig, (ax, ridge) = plt.subplots(1, 2, figsize=(11.5, 4.8), layout="constrained",
                                    width_ratios=(1.25, 1.0))
    vmax = float(np.nanmax(grid))
    levels = np.linspace(vmax - 12.0, vmax, 25)
    cs = ax.contourf(tau, s, np.clip(grid, levels[0], None), levels=levels, cmap="viridis")
    fig.colorbar(cs, ax=ax, label="ELBO (nats)", format="%.1f")
    # The derived optimum and the answer's formula, both lambdified from the derivation;
    # the grid's column-wise argmax is an independent numeric check of the former.
    d = derivation
    tau_sym = sp.Symbol("tau", positive=True)
    lam_sym = sp.Symbol("lambda", real=True)
    s_star = sp.lambdify(tau_sym, d.results.s_star, "numpy")(tau)
    ax.plot(tau, s_star, color="white", lw=2.2,
            label=f"derived optimum s* = {d.results.corrected.s_star_in_lambda}, "
                  f"lambda = {d.results.corrected.lam}")
    ax.plot(tau, s[np.argmax(grid, axis=0)], color="black", lw=0, marker=".", ms=2.5,
            markevery=6, label="numeric argmax over s on the grid")
    # The answer's formula (2 lambda')^(-1/2), lambda' = lambda - 1/2, at the lambda the
    # sign-corrected s^2 term gives (lambda = tau/2, computed in the derivation).
    lam_of_tau = sp.lambdify(tau_sym, d.results.corrected.lam, "numpy")(tau)
    with np.errstate(invalid="ignore", divide="ignore"):
        stated = sp.lambdify(lam_sym, d.results.answer.s_star, "numpy")(lam_of_tau + 0j)
    stated = np.where(np.abs(stated.imag) < 1e-12, stated.real, np.nan)
    ax.plot(tau, stated, color="tab:red", lw=1.8, ls="--",
            label=f"answer's formula (2 lambda')^(-1/2), lambda' = lambda - 1/2, "
                  f"lambda = {d.results.corrected.lam}")
    ax.set(xscale="log", yscale="log", xlabel="decoder precision tau",
           ylabel="posterior scale s", title="Answer 2's example: x = 0, identity decoder mean")
    ax.legend(loc="lower left", fontsize=7)
    # Right: the optimised ELBO against tau. Identity mean: bounded by its supremum.
    # Learnable mean a z at a = 0 (the best a): the ridge log(tau / 2 pi)/2 -> +oo.
    identity = sp.lambdify(tau_sym, d.results.elbo_at_s_star, "numpy")(tau)
    ridge.plot(tau, identity, color="tab:blue", lw=2, label="identity mean: max over s")
    ridge.plot(tau, np.max(grid, axis=0), color="black", lw=0, marker=".", ms=2.5,
               markevery=8, label="numeric max over s on the grid")
    ridge.axhline(float(d.results.sup_over_precision_identity_mean), color="tab:blue", lw=0.8,
                  ls=":", label=f"its supremum {d.results.sup_over_precision_identity_mean}")
    if learnable_mean is not None:
        lm = learnable_mean.results
        ridge_values = np.broadcast_to(
            sp.lambdify(tau_sym, lm.profiled_at_best_a, "numpy")(tau), tau.shape)
        ridge.plot(tau, ridge_values, color="tab:orange", lw=2,
                   label=f"learnable mean a z, ridge a = {lm.best_a}: max over s, a\n"
                         f"(-> +oo at rate {lm.learnable_mean_rate} log tau)")
    ridge.set(xscale="log", xlabel="decoder precision tau", ylabel="ELBO maximised (nats)",
              title="The ridge that decides the verdict")
    ridge.legend(loc="lower right", fontsize=7)
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
    if "remedy-training" in wanted:
        from vaeproofs.numeric import plot_training

        figures["remedy-training"] = _png(plot_training(list(context.remedy_training().values())))
    if "answer2-landscape" in wanted:
        figures["answer2-landscape"] = _png(answer2_landscape_figure(
            context.derivation("answer2"), context.derivation("answer2-learnable-mean")))
    return figures, {k: CAPTIONS[k] for k in figures}
