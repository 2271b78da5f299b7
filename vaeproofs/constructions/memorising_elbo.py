"""Construction 2: the ELBO of all n points diverges with one shared decoder variance.

Cells as in :mod:`vaeproofs.constructions.cells`: q_i = N(c_i, s^2) with
``s^2 = h^2 / (2 log(1/epsilon))``, decoder mean equal to x_j on cell j (a hard step;
steep sigmoids in the network) and decoder variance ``epsilon`` — **one scalar shared by
all pixels and all points**, so this is also the shared-variance ("sigma-VAE") model.
For every point,

    ELBO_i = -(D/2) log(2 pi epsilon) - sum_{j != i} P_ij ||x_i - x_j||^2 / (2 epsilon)
             - (c_i^2 + s^2 - 1 - log s^2) / 2,

with the exact normal-CDF masses P_ij.  The middle term is at most
``sum_j ||x_i - x_j||^2 / (4 sqrt(pi log(1/epsilon)))`` (Mills ratio) and tends to 0, the
KL grows like ``(1/2) log log(1/epsilon)``, so each ELBO_i tends to +infinity like
``(D/2) log(1/epsilon)``.  The (1/2) log log(1/epsilon) price is sharp, not an artefact of
the sequence: a wrong cell costs d^2/(2 epsilon), so any two posteriors may overlap by
O(epsilon) only, which for Gaussians at distance Delta needs Delta^2/(8 s^2) >=
log(1/epsilon) + O(log log(1/epsilon)); the KL's trade-off between Delta^2/8 and -log s
then costs at least (1/2) log log(1/epsilon) + O(1) (shown for n = 2; docs/theory.md
section 4.2).  Conventions: natural log, epsilon is a variance, log-densities
summed over the D pixels, objective summed over the n points.

Sources: the mechanism is the one of Mattei & Frellsen (NeurIPS 2018, arXiv 1802.04826,
section 2.1) and of Dai, Wang, Aston, Hua & Wipf (JMLR 19(41), 2018, Theorem 5), here
made explicit for the ELBO; KL from Kingma & Welling (arXiv 1312.6114, appendix B).
"""

from __future__ import annotations

from typing import Any

import mpmath
import sympy as sp

from vaeproofs.constructions.base import FloatLimit, U
from vaeproofs.constructions.cells import CellElbo
from vaeproofs.constructions.exact_likelihood import DEFAULT_POINTS
from vaeproofs.constructions.precision import log_max, tail_underflow_epsilon

__all__ = ["MemorisingElbo"]


class MemorisingElbo(CellElbo):
    """Construction 2: Gaussian decoder, variance epsilon shared by all pixels and points."""

    name = "memorising_elbo"
    rate_note = ("the (1/2) log log(1/epsilon) KL price per point is sharp: a wrong cell costs "
                 "d^2/(2 epsilon), so two posteriors may overlap by O(epsilon) only; for Gaussians at "
                 "distance Delta that needs Delta^2/(8 s^2) >= log(1/epsilon) + O(log log), and the "
                 "KL's trade-off between Delta^2/8 and -log s then costs (1/2) log log(1/epsilon) + O(1)")
    title = "ELBO of all n points, piecewise-constant mean, one shared variance epsilon"
    sources = (
        "Mattei & Frellsen, NeurIPS 2018, arXiv 1802.04826, section 2.1 (mechanism)",
        "Dai, Wang, Aston, Hua & Wipf, Connections with robust PCA and the role of "
        "emergent sparsity in variational autoencoder models, JMLR 19(41), 2018, Theorem 5",
        "Kingma & Welling, arXiv 1312.6114, appendix B (Gaussian KL)",
    )

    def __init__(self, points: Any = DEFAULT_POINTS, *, half_width: Any = 1) -> None:
        super().__init__(points, half_width=half_width)

    def _decoder_parameters(self, eps: mpmath.mpf) -> dict[str, Any]:
        return {"decoder_variance": eps, "decoder_log_variance": mpmath.log(eps)}

    def sq_dist(self, i: int, j: int) -> sp.Expr:
        """``||x_i - x_j||^2`` (exact rational)."""
        return sum((a - b) ** 2 for a, b in zip(self.points[i], self.points[j], strict=True))

    def ell(self, i: int, j: int) -> sp.Expr:
        """``log N(x_i | x_j, epsilon I_D)`` with ``epsilon = exp(-u)``."""
        return (-sp.Rational(self.dim, 2) * (sp.log(2 * sp.pi) - U)
                - self.sq_dist(i, j) * sp.exp(U) / 2)

    def remainder_bound(self, t: Any) -> mpmath.mpf:
        """``|objective - asymptote| <= sum_{i != j} d_ij^2 / (4 sqrt(pi u)) + n h^2 / (4 u)``.

        The remainder is minus the cross-cell terms minus ``n s^2 / 2``; each mass is at most
        ``erfc(sqrt(u)) / 2 <= exp(-u) / (2 sqrt(pi u))`` (``erfc(x) <= exp(-x^2)/(x sqrt(pi))``).
        """
        u = self.to_u(t)
        total = sum(mpmath.mpf(sp.N(self.sq_dist(i, j), 30))
                    for i in range(self.n) for j in range(self.n) if i != j)
        h2 = mpmath.mpf(sp.N(self.h**2, 30))
        return total / (4 * mpmath.sqrt(mpmath.pi * u)) + self.n * h2 / (4 * u)

    def float_limit(self, dtype: str = "float64") -> FloatLimit:
        """The first of: the precision 1/epsilon overflows; a cross-cell mass underflows.

        The cross-cell term ``P_ij d^2 / (2 epsilon)`` is O(1/sqrt(log(1/epsilon))) in exact
        arithmetic, but ``P_ij`` (about ``epsilon / (2 sqrt(pi log(1/epsilon)))``) leaves
        the normal range of ``dtype`` first, then ``exp(-log epsilon)`` overflows.
        """
        overflow = mpmath.exp(-log_max(dtype))
        tail = tail_underflow_epsilon(dtype)
        if tail > overflow:
            return FloatLimit(tail, f"the cross-cell posterior mass Phi(-sqrt(2 log 1/eps)) "
                                    f"drops below the smallest normal {dtype}")
        return FloatLimit(overflow, f"the precision 1/eps overflows {dtype}")

    def _torch_likelihood(self, t: mpmath.mpf) -> dict[str, Any]:
        return {"kind": "gaussian", "log_var": float(mpmath.log(t))}
