"""Construction 3: the linear VAE on degenerate data (sample covariance of rank r <= k).

Model (docs/theory.md section 3): ``p(x | z) = N(W z + b, sigma^2 I_D)``, prior N(0, I_k),
encoder ``q(z | x) = N(m(x), S)``.  Data: n points ``x_i = b + sum_j a_ij u_j`` in an
r-dimensional affine subspace, with orthonormal ``u_1..u_r`` and sample covariance
``sum_j l_j u_j u_j^T`` (rank r, eigenvalues l_j > 0).

Sequence (the probabilistic-PCA maximiser of Tipping & Bishop, JRSS-B 61(3), 1999, with
its noise variance sent to 0): ``W = [u_j sqrt(l_j - sigma^2)]``, b the mean, and the exact
posterior ``m = M^{-1} W^T (x - b)``, ``S = sigma^2 M^{-1}``, ``M = W^T W + sigma^2 I =
diag(l)`` (diagonal, so a diagonal-covariance encoder attains it and the ELBO is tight).
Substituting into the closed-form ELBO (docs/theory.md section 3) and simplifying with sympy
gives, summed over the n points (natural log, sigma^2 a variance),

    ELBO = -(n/2) [D log(2 pi) + sum_j log l_j + (D - r) log sigma^2 + r],

so the supremum over parameters is +infinity with slope ``(D - r)/2`` per point in
``log(1/sigma^2)`` (exactly, no remainder).  The collapse parameter is
``epsilon = sigma^2 < min_j l_j``.
"""

from __future__ import annotations

import functools
from typing import Any

import mpmath
import numpy as np
import sympy as sp

from vaeproofs.constructions.base import Construction, FloatLimit, U
from vaeproofs.constructions.precision import unit_roundoff
from vaeproofs.errors import InvalidArgumentError

__all__ = ["DegenerateLinear"]

_R = sp.Rational


def _default_basis() -> list[list[sp.Expr]]:
    # Two orthonormal rational directions in R^4 (a 3-4-5 rotation in each plane).
    return [[_R(3, 5), _R(4, 5), 0, 0], [0, 0, _R(4, 5), _R(-3, 5)]]


class DegenerateLinear(Construction):
    """Construction 3 (see module docstring).

    Args:
        coefficients: an (n, r) array of coordinates ``a_ij`` with zero column means and
            orthogonal columns (so that the sample covariance is diagonal in the basis).
        basis: r orthonormal vectors in R^D (rational entries).
        offset: the mean b (length D).
    """

    name = "degenerate_linear"
    title = "Linear VAE on rank-r data: ELBO slope (D - r)/2 in log(1/sigma^2)"
    parameter = "epsilon"
    objective_kind = "ELBO = exact log-likelihood (tight), total over the n points"
    sources = (
        "Tipping & Bishop, Probabilistic principal component analysis, JRSS-B 61(3), "
        "1999, section 3.2 (W_ML, sigma^2_ML, maximised likelihood)",
        "Lucas, Tucker, Grosse & Norouzi, Don't blame the ELBO!, NeurIPS 2019 (linear VAE "
        "attains the pPCA likelihood with a tight ELBO)",
        "Dai & Wipf, Diagnosing and enhancing VAE models, ICLR 2019, section 3",
    )

    def __init__(self, coefficients: Any = ((2, 1), (-2, 1), (2, -1), (-2, -1)),
                 basis: Any = None, offset: Any = (0.5, -1, 0.25, 2)) -> None:
        a = sp.Matrix([[sp.nsimplify(v, rational=True) for v in row] for row in
                       np.asarray(coefficients, dtype=float)])
        basis = _default_basis() if basis is None else basis
        u = sp.Matrix([[sp.nsimplify(v, rational=True) for v in row] for row in basis]).T
        b = sp.Matrix([sp.nsimplify(v, rational=True) for v in offset])
        n, r = a.shape
        if u.shape[1] != r or b.shape[0] != u.shape[0]:
            raise InvalidArgumentError("basis", f"must hold r = {r} vectors of length "
                                       f"{b.shape[0]}, got {u.shape[1]} of length {u.shape[0]}")
        if sp.simplify(u.T * u - sp.eye(r)) != sp.zeros(r, r):
            raise InvalidArgumentError("basis", "must be orthonormal")
        if any(sum(a[:, j]) != 0 for j in range(r)):
            raise InvalidArgumentError("coefficients", "columns must have zero mean")
        gram = (a.T * a) / n
        if gram != sp.diag(*[gram[j, j] for j in range(r)]) or any(
                gram[j, j] <= 0 for j in range(r)):
            raise InvalidArgumentError("coefficients", "columns must be orthogonal, nonzero")
        if r >= u.shape[0]:
            raise InvalidArgumentError("coefficients", "rank r must be < D")
        self.a, self.u, self.b = a, u, b
        self.n, self.r = n, r
        self.dim = u.shape[0]
        self.k = r
        self.eigenvalues = [gram[j, j] for j in range(r)]
        self.data = [b + u * a[i, :].T for i in range(n)]

    def check_parameter(self, t: Any) -> mpmath.mpf:
        v = super().check_parameter(t)
        lmin = min(self.eigenvalues)
        if v >= lmin:
            raise InvalidArgumentError("epsilon", f"must be < min eigenvalue {lmin}, got {t!r}")
        return v

    # --------------------------------------------------------------- parameters ---
    def _weights(self, sigma2: sp.Expr) -> tuple[sp.Matrix, sp.Matrix]:
        w = sp.Matrix.hstack(*[self.u[:, j] * sp.sqrt(self.eigenvalues[j] - sigma2)
                               for j in range(self.r)])
        m_mat = w.T * w + sigma2 * sp.eye(self.k)
        return w, m_mat

    def parameters(self, t: Any) -> dict[str, Any]:
        """W, b, sigma^2 and the exact posterior (encoder weight, posterior variances)."""
        eps = self.check_parameter(t)
        with mpmath.workdps(30):
            ls = [mpmath.mpf(sp.N(lv, 30)) for lv in self.eigenvalues]
            u = [[mpmath.mpf(sp.N(self.u[i, j], 30)) for j in range(self.r)]
                 for i in range(self.dim)]
            w = [[u[i][j] * mpmath.sqrt(ls[j] - eps) for j in range(self.r)]
                 for i in range(self.dim)]
            enc = [[w[i][j] / ls[j] for i in range(self.dim)] for j in range(self.r)]
            return {"W": w, "b": [mpmath.mpf(sp.N(v, 30)) for v in self.b],
                    "decoder_variance": eps, "encoder_weight": enc,
                    "posterior_variances": [eps / lv for lv in ls]}

    # ---------------------------------------------------------------- objective ---
    def elbo_expression(self, sigma2: sp.Expr) -> sp.Expr:
        """The total ELBO with the construction's parameters plugged into the closed form.

        Closed form (docs/theory.md section 3; Gaussian expectation plus Kingma & Welling's KL):
        ``-D/2 log(2 pi s2) - (||x - W m - b||^2 + tr(W S W^T))/(2 s2)
        - (tr S + m^T m - k - log det S)/2`` per point.
        """
        w, m_mat = self._weights(sigma2)
        minv = m_mat.inv()
        s_cov = sigma2 * minv
        total = sp.Integer(0)
        for x in self.data:
            m = minv * w.T * (x - self.b)
            res = x - w * m - self.b
            total += (-sp.Rational(self.dim, 2) * sp.log(2 * sp.pi * sigma2)
                      - ((res.T * res)[0, 0] + (w * s_cov * w.T).trace()) / (2 * sigma2)
                      - (s_cov.trace() + (m.T * m)[0, 0] - self.k - sp.log(s_cov.det())) / 2)
        return total

    @functools.cached_property
    def _closed_form(self) -> sp.Expr:
        return sp.expand(sp.expand_log(sp.simplify(self.elbo_expression(sp.exp(-U))),
                                       force=True))

    def _symbolic_objective_u(self) -> sp.Expr:
        return self._closed_form

    @functools.cached_property
    def _mp_objective(self) -> Any:
        return sp.lambdify(U, self._closed_form, modules="mpmath")

    def _objective(self, u: mpmath.mpf) -> mpmath.mpf:
        return mpmath.mpf(self._mp_objective(u))

    def remainder_bound(self, t: Any) -> mpmath.mpf:
        """0: the closed form is exactly linear in log(1/sigma^2)."""
        return mpmath.mpf(0)

    # -------------------------------------------------------------------- torch ---
    def float_limit(self, dtype: str = "float64") -> FloatLimit:
        """Mean resolution: the residual ``x - W m - b`` is only known to ~``u max|x|``.

        In exact arithmetic the residual is O(sigma^2); in floating point it carries a
        rounding error of about ``u * max|x|`` per coordinate (u the unit roundoff), which
        costs ``n D (u max|x|)^2 / (2 sigma^2)`` — O(1) once sigma^2 falls to
        ``n D (u max|x|)^2 / 2``.
        """
        xmax = max(abs(mpmath.mpf(sp.N(v, 30))) for x in self.data for v in x)
        limit = self.n * self.dim * (unit_roundoff(dtype) * xmax) ** 2 / 2
        return FloatLimit(limit, f"mean resolution: the {dtype} rounding error of the "
                                 f"reconstruction, squared and divided by sigma^2, is O(1)")

    def _torch_objective(self, t: mpmath.mpf, dtype: str) -> float:
        from vaeproofs.constructions import networks

        p = self.parameters(t)
        data = np.array([[float(v) for v in x] for x in self.data])
        net = networks.LinearGaussianVae(
            weight=np.array(p["W"], dtype=float), bias=np.array(p["b"], dtype=float),
            log_var=float(mpmath.log(t)),
            encoder_weight=np.array(p["encoder_weight"], dtype=float),
            posterior_log_var=np.array([float(mpmath.log(v)) for v in
                                        p["posterior_variances"]]), dtype=dtype)
        return networks.linear_elbo(net, data, dtype=dtype)
