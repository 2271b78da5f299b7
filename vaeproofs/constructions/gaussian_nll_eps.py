"""PyTorch's ``GaussianNLLLoss(eps)`` along a collapsing variance: the loss stops, the variance does not.

Memorised means (r = 0 on every element) and one variance v = epsilon shared by all n D
elements.  The objective is minus PyTorch's loss, ``-gaussian_nll_loss(mean, x, v,
eps=eps_c, full=True, reduction="sum")`` = -(n D / 2)(log 2 pi + log max(v, eps_c)): it is
frozen at its cap once v < eps_c, while (``diagnostics``) the gradient PyTorch returns with
respect to v stays (n D)/(2 eps_c) > 0, so a descent step keeps lowering v, and the model's
actual log-likelihood -(n D / 2) log(2 pi v) diverges.  Derivation:
:mod:`vaeproofs.symbolic.gaussian_nll_eps` (PyTorch documentation for the loss).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import mpmath
import sympy as sp

from vaeproofs.constructions.base import Construction, FloatLimit, U
from vaeproofs.constructions.exact_likelihood import DEFAULT_POINTS
from vaeproofs.constructions.precision import dtype_info

__all__ = ["DEFAULT_EPS", "GaussianNllEps"]

#: PyTorch's default eps of GaussianNLLLoss.
DEFAULT_EPS = sp.Rational(1, 10**6)


class GaussianNllEps(Construction):
    """The clamped loss at memorised means, variance epsilon -> 0 (see module docstring)."""

    name = "gaussian_nll_eps"
    title = "GaussianNLLLoss(eps = 1e-6): the loss is frozen while the variance goes to 0"
    parameter = "epsilon"
    objective_kind = "negated PyTorch GaussianNLLLoss (full=True, summed) at memorised means"
    sources = ("PyTorch documentation, torch.nn.GaussianNLLLoss (clamp under no_grad)",)

    def __init__(self, points: Any = DEFAULT_POINTS, *, eps: Any = DEFAULT_EPS) -> None:
        from vaeproofs.validation import as_distinct_points, check_positive

        self.array = as_distinct_points("points", points, min_points=1)
        self.n, self.dim = self.array.shape
        self.eps = sp.nsimplify(check_positive("eps", eps), rational=True)

    def parameters(self, t: Any) -> dict[str, Any]:
        v = self.check_parameter(t)
        return {"variance": v, "clamped_variance": max(v, mpmath.mpf(sp.N(self.eps, 30)))}

    def _symbolic_objective_u(self) -> sp.Expr:
        nd = self.n * self.dim
        return -sp.Rational(nd, 2) * (sp.log(2 * sp.pi) + sp.log(sp.Max(sp.exp(-U), self.eps)))

    def _objective(self, u: mpmath.mpf) -> mpmath.mpf:
        v = max(mpmath.exp(-u), mpmath.mpf(sp.N(self.eps, 40)))
        return -mpmath.mpf(self.n * self.dim) / 2 * (mpmath.log(2 * mpmath.pi) + mpmath.log(v))

    def _asymptote_parts_u(self) -> tuple[sp.Expr, sp.Expr]:
        """Constant once exp(-u) < eps: ``(0, -(n D/2)(log 2 pi + log eps))``."""
        return sp.Integer(0), -sp.Rational(self.n * self.dim, 2) * (sp.log(2 * sp.pi)
                                                                    + sp.log(self.eps))

    def symbolic_cap(self) -> sp.Expr:
        """``-(n D/2)(log 2 pi + log eps)``: log max(v, eps) >= log eps."""
        return -sp.Rational(self.n * self.dim, 2) * (sp.log(2 * sp.pi) + sp.log(self.eps))

    def diagnostics(self, values: Sequence[mpmath.mpf]) -> dict[str, Any]:
        """Per value: the derived dloss/dv, PyTorch's autograd dloss/dv (float64, where the
        variance is representable) and the model's log-likelihood with the actual variance."""
        nd = self.n * self.dim
        eps = mpmath.mpf(sp.N(self.eps, 30))
        derived, torch_grad, loglik = [], [], []
        for v in values:
            w = max(v, eps)
            derived.append(mpmath.nstr(nd / (2 * w), 15))          # r = 0: l'(w) = 1/(2w)
            loglik.append(mpmath.nstr(-mpmath.mpf(nd) / 2 * mpmath.log(2 * mpmath.pi * v), 15))
            if v > mpmath.mpf(float(dtype_info("float64").tiny)):
                from vaeproofs.constructions import networks

                torch_grad.append(networks.gaussian_nll_eps_loss(
                    self.array, self.array, float(v), eps=float(eps))[1])
            else:
                torch_grad.append(None)
        # PyTorch's float64 gradient is n D / (2 w) after one division and a sum of n D equal
        # terms: within (n D + 2) ulp of the exact value.
        tol = (nd + 2) * mpmath.mpf(2) ** -52
        pairs = [(mpmath.mpf(t), mpmath.mpf(d)) for t, d in zip(torch_grad, derived, strict=True)
                 if t is not None]
        return {"eps": mpmath.nstr(eps, 6), "derived_gradient_in_variance": derived,
                "torch_gradient_in_variance": torch_grad,
                "model_log_likelihood_at_variance": loglik,
                "torch_agrees_with_derived": bool(pairs) and all(abs(t - d) <= tol * abs(d)
                                                                 for t, d in pairs),
                "gradient_pushes_variance_down": all(mpmath.mpf(g) > 0 for g in derived),
                # The loss value at every variance at or below eps: one value means frozen.
                "frozen_below_eps": len({mpmath.nstr(self.objective(v, dps=30), 25)
                                         for v in values if v <= eps}) == 1}

    def float_limit(self, dtype: str = "float64") -> FloatLimit:
        """The variance itself underflows below the smallest normal ``dtype``."""
        return FloatLimit(mpmath.mpf(float(dtype_info(dtype).tiny)),
                          f"the variance underflows {dtype} (the clamp hides it from the loss)")

    def _torch_objective(self, t: mpmath.mpf, dtype: str) -> float:
        from vaeproofs.constructions import networks

        loss, _ = networks.gaussian_nll_eps_loss(self.array, self.array, float(t),
                                                 eps=float(sp.N(self.eps)), dtype=dtype)
        return -loss
