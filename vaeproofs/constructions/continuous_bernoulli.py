"""The continuous Bernoulli on data with exact 0/1 values: the ELBO diverges (slowly).

Cells as in :mod:`vaeproofs.constructions.cells`; on cell j the decoder parameter of each
pixel is l = epsilon where point j's pixel is 0 and 1 - epsilon where it is 1
(Loaiza-Ganem & Cunningham, NeurIPS 2019).  With u = log(1/epsilon) and
a = log((1 - epsilon)/epsilon) = u + log(1 - e^-u):

    log p(x_i | cell j) = D log C + (D - H_ij) log(1 - e^-u) - H_ij u,
    log C = log a - log(1 - 2 e^-u)      (C = 2 artanh(1 - 2l)/(1 - 2l)),

H_ij the Hamming distance.  log C grows like log u, so each memorised point gains
D log log(1/epsilon) while its KL costs (1/2) log log(1/epsilon): along this sequence the ELBO
diverges at rate n (D - 1/2) log log(1/epsilon).  That is a *lower bound* on the growth of
the supremum, not its rate: a wrong cell costs only O(log(1/epsilon)) here, so the encoders
need leak only o(1/log(1/epsilon)), at a KL price of (1/2) log log log(1/epsilon) each, and
the supremum grows like n D log log(1/epsilon) - (n/2) log log log(1/epsilon).
The same decoder on data in [delta, 1 - delta] is capped
(:mod:`vaeproofs.symbolic.continuous_bernoulli`).
"""

from __future__ import annotations

from typing import Any

import mpmath
import sympy as sp

from vaeproofs.constructions.base import FloatLimit, U
from vaeproofs.constructions.bernoulli import BernoulliElbo

__all__ = ["ContinuousBernoulliElbo"]


class ContinuousBernoulliElbo(BernoulliElbo):
    """Continuous Bernoulli decoder on the cells, binary data (diverges)."""

    name = "continuous_bernoulli_elbo"
    rate_note = ("this sequence's rate, a lower bound on the supremum's growth: a wrong cell costs "
                 "only O(log(1/epsilon)), so the encoders' KL price can be (1/2) log log log(1/epsilon)")
    title = "Continuous Bernoulli on data with exact 0/1 values: the ELBO diverges"
    sources = (
        "Loaiza-Ganem & Cunningham, The continuous Bernoulli, NeurIPS 2019 (arXiv 1907.06845), "
        "section 3 (the normaliser C)",
        "Kingma & Welling, arXiv 1312.6114, appendix B (Gaussian KL)",
    )

    def __init__(self, points: Any = ((1, 0, 1), (0, 1, 1)), *, half_width: Any = 1) -> None:
        super().__init__(points, half_width=half_width)

    def check_parameter(self, t: Any) -> mpmath.mpf:
        v = super().check_parameter(t)
        if not v < mpmath.mpf(1) / 2:
            from vaeproofs.errors import InvalidArgumentError

            raise InvalidArgumentError("epsilon", f"must be in (0, 1/2), got {t!r}")
        return v

    def ell(self, i: int, j: int) -> sp.Expr:
        """``sum_pixels log CB(x_i | l_j)`` with ``epsilon = exp(-u)``.

        ``log a`` is written ``log u + log(1 + log(1 - e^-u)/u)`` so that the divergent part
        ``log u`` separates exactly.
        """
        hd = self.hamming(i, j)
        log_c = (sp.log(U) + sp.log(1 + sp.log(1 - sp.exp(-U)) / U)
                 - sp.log(1 - 2 * sp.exp(-U)))
        return self.dim * log_c + (self.dim - hd) * sp.log(1 - sp.exp(-U)) - hd * U

    def _asymptote_parts_u(self) -> tuple[sp.Expr, sp.Expr]:
        """The own-cell split: ``ell(i, j) - ell(i, i) = -H_ij (u + log(1 - e^-u)) = O(u)``."""
        return self.own_cell_asymptote_parts()

    def symbolic_cap(self) -> None:
        """None: log C(l) is unbounded as l -> 0 (the derivation's limit)."""
        return None

    def float_limit(self, dtype: str = "float64") -> FloatLimit:
        """None here: C is computed from the logit magnitude, never from 1 - 2l.

        (PyTorch's own ``ContinuousBernoulli`` clamps probs at finfo.eps instead, which
        caps it; see the derivation.)
        """
        return FloatLimit(0, "none: log C is computed from the logit magnitude")

    def _torch_likelihood(self, t: mpmath.mpf) -> dict[str, Any]:
        u = -mpmath.log(t)
        return {"kind": "continuous_bernoulli", "logit": float(u + mpmath.log1p(-t))}
