"""Latent cells: the encoder/decoder geometry shared by the ELBO constructions.

One-dimensional latent space (k = 1), prior N(0, 1).  Point i of n gets the cell
``[c_i - h, c_i + h]`` with centre ``c_i = (2 i - (n - 1)) h`` (i = 0..n-1; the two end
cells extend to -oo and +oo), the encoder posterior ``q_i = N(c_i, s^2)`` and the decoder
output on cell j is point j's value (a hard step in z; the torch network realises it with
steep sigmoids).  The posterior scale shrinks with the collapse parameter epsilon:

    s^2 = h^2 / (2 log(1/epsilon)),

chosen so that the posterior mass outside its cell,
``Phi(-h/s) = Phi(-sqrt(2 log(1/epsilon))) <= epsilon / (2 sqrt(pi log(1/epsilon)))``
(Mills ratio), cancels the ``1/epsilon`` that a wrong cell costs in a Gaussian
log-density.  The price is the KL term, which grows like ``(1/2) log log(1/epsilon)``.

Exact masses (with ``u = log(1/epsilon)`` and ``m = |i - j|``):

    P_ij = (1/2) [erfc((2m - 1) sqrt(u)) - erfc((2m + 1) sqrt(u))]   (j != i),

the second term dropped when cell j is the last one on its side; the centre h cancels.
KL(N(c, s^2) || N(0, 1)) = (c^2 + s^2 - 1 - log s^2)/2 (Kingma & Welling 2014,
arXiv 1312.6114, appendix B).

:class:`CellElbo` is the shared machinery: a subclass supplies the per-pair decoder
log-likelihood ``ell(i, j)`` (sympy, in u), and gets the exact ELBO, its mpmath
evaluator (lambdified from the same expression), rates and torch evaluation.
"""

from __future__ import annotations

import functools
from typing import Any

import mpmath
import sympy as sp

from vaeproofs.constructions.base import Construction, U
from vaeproofs.symbolic.gaussian import kl_normal_standard

__all__ = ["CellElbo", "cell_mass"]


def cell_mass(i: int, j: int, n: int, u: sp.Expr) -> sp.Expr:
    """``q_i``-mass of cell j (j != i) as erfc terms in ``u = log(1/epsilon)``."""
    m = abs(i - j)
    last = j in (0, n - 1)
    lo = sp.erfc((2 * m - 1) * sp.sqrt(u))
    hi = sp.Integer(0) if last else sp.erfc((2 * m + 1) * sp.sqrt(u))
    return (lo - hi) / 2


class CellElbo(Construction):
    """The ELBO of the cell construction for a given decoder likelihood (abstract).

    Args:
        points: the data set (n >= 2 distinct points of dimension D), values exact in
            binary floating point (they are converted to rationals).
        half_width: the cell half-width h > 0.
    """

    parameter = "epsilon"
    objective_kind = "ELBO, total over the n points"

    def __init__(self, points: Any, *, half_width: Any = 1) -> None:
        from vaeproofs.validation import as_distinct_points, check_positive

        arr = as_distinct_points("points", points, min_points=2)
        check_positive("half_width", half_width)
        self.array = arr
        self.points = [[sp.nsimplify(float(v), rational=True) for v in row] for row in arr]
        self.n, self.dim = arr.shape
        self.h = sp.nsimplify(float(half_width), rational=True)

    # ----------------------------------------------------------------- geometry ---
    def centres(self) -> list[sp.Expr]:
        """Posterior means ``c_i = (2 i - (n - 1)) h``."""
        return [(2 * i - (self.n - 1)) * self.h for i in range(self.n)]

    def boundaries(self) -> list[sp.Expr]:
        """Cell boundaries ``c_j + h`` between cells j and j + 1."""
        return [c + self.h for c in self.centres()[:-1]]

    def posterior_variance(self) -> sp.Expr:
        """``s^2 = h^2 / (2 u)``, u = log(1/epsilon)."""
        return self.h**2 / (2 * U)

    def parameters(self, t: Any) -> dict[str, Any]:
        """Posterior means and scale, cell boundaries, decoder outputs per cell, epsilon."""
        eps = self.check_parameter(t)
        u = -mpmath.log(eps)
        s2 = mpmath.mpf(sp.N(self.h**2, 30)) / (2 * u)
        return {"epsilon": eps,
                "posterior_means": [mpmath.mpf(sp.N(c, 30)) for c in self.centres()],
                "posterior_variance": s2,
                "boundaries": [mpmath.mpf(sp.N(b, 30)) for b in self.boundaries()],
                "decoder_outputs": [[mpmath.mpf(sp.N(v, 30)) for v in r] for r in self.points],
                **self._decoder_parameters(eps)}

    def _decoder_parameters(self, eps: mpmath.mpf) -> dict[str, Any]:
        return {}

    # ---------------------------------------------------------------- objective ---
    def ell(self, i: int, j: int) -> sp.Expr:
        """``log p(x_i | decoder on cell j)`` in ``U`` (summed over the D pixels)."""
        raise NotImplementedError

    def kl_terms(self) -> list[sp.Expr]:
        """KL(q_i || prior) for each point."""
        s2 = self.posterior_variance()
        return [kl_normal_standard(c, s2) for c in self.centres()]

    def _symbolic_objective_u(self) -> sp.Expr:
        total = sp.Integer(0)
        kls = self.kl_terms()
        for i in range(self.n):
            stay = sp.Integer(1)
            for j in range(self.n):
                if j != i:
                    p = cell_mass(i, j, self.n, U)
                    stay -= p
                    total += p * self.ell(i, j)
            total += stay * self.ell(i, i) - kls[i]
        return total

    def own_cell_asymptote_parts(self) -> tuple[sp.Expr, sp.Expr]:
        """``(divergent, constant)`` of ``sum_i ell(i, i) - KL_i``: the asymptote without the
        cross-cell terms.

        The objective equals ``sum_i [ell(i, i) + sum_{j != i} P_ij (ell(i, j) - ell(i, i))
        - KL_i]``; each mass is at most ``erfc(sqrt(u))/2 <= exp(-u)/(2 sqrt(pi u))`` (Mills
        ratio), so every cross term tends to 0 when ``ell(i, j) - ell(i, i) = o(sqrt(u) e^u)``
        (true of the Gaussian's ``d^2 e^u / 2`` and of every O(u) difference).  A subclass
        for which that holds may return this from ``_asymptote_parts_u``: it avoids sympy
        limits of erfc products, which are slow.
        """
        from vaeproofs.constructions.base import asymptotic_split

        kls = self.kl_terms()
        return asymptotic_split(sum((self.ell(i, i) - kls[i] for i in range(self.n)),
                                    sp.Integer(0)))

    @functools.cached_property
    def _mp_objective(self) -> Any:
        return sp.lambdify(U, self._symbolic_objective_u(), modules="mpmath")

    def _objective(self, u: mpmath.mpf) -> mpmath.mpf:
        return mpmath.mpf(self._mp_objective(u))

    def remainder_bound(self, t: Any) -> mpmath.mpf | None:
        """A bound on ``|objective - asymptote|`` from the Mills ratio (see subclasses)."""
        return None

    # -------------------------------------------------------------------- torch ---
    def _torch_objective(self, t: mpmath.mpf, dtype: str) -> float:
        from vaeproofs.constructions import networks

        u = float(-mpmath.log(t))
        net = networks.CellStepDecoder(self.array, boundaries=[float(b) for b in
                                                               self.boundaries()],
                                       dtype=dtype)
        return networks.cell_elbo(net, self.array, centres=[float(c) for c in self.centres()],
                                  posterior_var=float(self.h) ** 2 / (2 * u),
                                  boundaries=[float(b) for b in self.boundaries()],
                                  likelihood=self._torch_likelihood(t), dtype=dtype)

    def _torch_likelihood(self, t: mpmath.mpf) -> dict[str, Any]:
        raise NotImplementedError

