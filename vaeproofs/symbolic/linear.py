"""The linear-Gaussian VAE in closed form: ELBO, exact marginal, exact posterior, gap.

This module holds the building blocks; the derivation "linear-elbo" that proves the
identities at the sizes :data:`PROVED_SIZES` is :mod:`vaeproofs.symbolic.linear_elbo`.

Model (docs/theory.md section 3): prior p(z) = N(0, I_k), decoder
p(x | z) = N(W z + b, sigma^2 I_D), encoder q(z | x) = N(m, S) with a full (or
diagonal) covariance S.  Conventions: natural logarithms; ``sigma2`` / sigma^2 and
S are (co)variances, not standard deviations; every quantity is for ONE data point
(a sum over the D coordinates of x, no average).  Domains: sigma^2 > 0, S symmetric
positive definite.

What is derived, and how:

- the ELBO for any D and k, assembled from the one-dimensional pieces of
  :mod:`vaeproofs.symbolic.gaussian`: each coordinate x_i sees the scalar Gaussian
  u_i = (W z)_i with mean (W m)_i and variance (W S W^T)_ii (moments of a linear map
  of a Gaussian), so E_q[log p(x | z)] is a sum of
  :func:`~vaeproofs.symbolic.gaussian.expected_gaussian_log_density` terms; the KL is
  derived from Gaussian second moments E[(z - c)(z - c)^T] = S + (m - c)(m - c)^T.
  For diagonal S the KL is checked against
  :func:`~vaeproofs.symbolic.gaussian.kl_diagonal_standard`.
- the exact posterior by Bayes' rule: log p(x | z) + log p(z) is quadratic in z;
  completing the square gives its precision A (minus the Hessian) and mean A^{-1} h;
  the leftover constant plus the Gaussian normaliser is log p(x).  Both are checked
  against the textbook forms N(M^{-1} W^T (x - b), sigma^2 M^{-1}),
  M = W^T W + sigma^2 I, and x ~ N(b, W W^T + sigma^2 I) (Tipping & Bishop 1999,
  JRSS-B 61(3), section 3; Bishop, PRML 2006, eqs. 2.113-2.117).
- the gap identity log p(x) - ELBO = KL(q || p(z | x)), and that the gap is zero at
  q = posterior and only there.

Proved sizes (:data:`PROVED_SIZES`), every entry of x, b, m, S and sigma^2 a
separate symbol: (D, k) = (2, 1) with a general W, and (3, 2) where the ELBO and
posterior checks use a general W and the marginal / gap identities use the
QR-reduced W = [[w11, w12], [0, w22], [0, 0]] (:func:`qr_reduced`; no loss of
generality by rotation invariance, see there).  With a general 3x2 W the gap
identity also reduces to 0 but takes about 2 minutes (measured), so it is not run.
Simplification uses the log-aware canceller :func:`cancel_logs` (sympy's
``simplify`` is far slower on these expressions).

References:
    Kingma & Welling, arXiv 1312.6114 (2013), appendix B (Gaussian KL).
    Tipping & Bishop, "Probabilistic principal component analysis", JRSS-B 61(3),
    611-622 (1999), section 3 (marginal and posterior of the linear-Gaussian model).
    Lucas, Tucker, Grosse & Norouzi, "Don't blame the ELBO! A linear VAE perspective
    on posterior collapse", NeurIPS 2019, section 4 (linear VAE ELBO in closed form).
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from vaeproofs.errors import InvalidArgumentError
from vaeproofs.symbolic.gaussian import expected_gaussian_log_density

__all__ = [
    "PROVED_SIZES",
    "LinearGaussianSymbols",
    "cancel_logs",
    "expected_log_likelihood",
    "gaussian_kl",
    "gaussian_log_density",
    "gaussian_quadratic_expectation",
    "linear_elbo",
    "linear_elbo_matrix_form",
    "linear_elbo_textbook",
    "linear_gaussian_symbols",
    "log_marginal",
    "posterior_by_bayes",
    "posterior_formula",
    "qr_reduced",
]

#: (D, k) pairs for which :func:`derive_linear_elbo` proves the identities.
PROVED_SIZES: tuple[tuple[int, int], ...] = ((2, 1), (3, 2))

#: Sizes at which the marginal and gap identities use the QR-reduced W of
#: :func:`qr_reduced` (the ELBO and posterior checks there use a general W).
QR_REDUCED_SIZES: frozenset[tuple[int, int]] = frozenset({(3, 2)})


def qr_reduced(W: sp.Matrix) -> sp.Matrix:
    """W with every entry below the diagonal set to 0 (the R factor of W = Q R).

    Every quantity of the linear-Gaussian model depends on (x, W, b) only through
    W^T W, W^T (x - b), ||x - b||^2 and W W^T's spectrum, all invariant under
    x - b -> Q^T (x - b), W -> Q^T W for an orthogonal Q; choosing Q from the QR
    decomposition W = Q R makes W upper triangular.  So an identity proved for
    this form (with x, b arbitrary) holds for every W of that size.
    """
    out = W.copy()
    for i in range(W.shape[0]):
        for j in range(min(i, W.shape[1])):
            out[i, j] = 0
    return out

#: the sources the "linear-elbo" derivation cites
SOURCES = [
    "Kingma & Welling, 'Auto-Encoding Variational Bayes', arXiv 1312.6114 (2013), appendix B",
    "Tipping & Bishop, 'Probabilistic principal component analysis', JRSS-B 61(3) (1999), "
    "section 3: x ~ N(b, W W^T + sigma^2 I); z | x ~ N(M^{-1} W^T (x - b), sigma^2 M^{-1})",
    "Bishop, 'Pattern Recognition and Machine Learning' (2006), eqs. 2.113-2.117 "
    "(linear-Gaussian marginal and conditional)",
    "Lucas, Tucker, Grosse & Norouzi, 'Don't blame the ELBO!', NeurIPS 2019, section 4",
    "vaeproofs docs/theory.md, section 3",
]


# --------------------------------------------------------------------------- symbols

@dataclass(frozen=True)
class LinearGaussianSymbols:
    """Explicit symbolic matrices of a linear-Gaussian VAE of size (D, k).

    ``x``, ``b`` are D x 1, ``W`` is D x k, ``m`` is k x 1, ``S`` is k x k symmetric
    (entries ``s_ij = s_ji``; diagonal entries declared positive), ``sigma2`` is a
    positive symbol (a variance).
    """

    D: int
    k: int
    x: sp.Matrix
    W: sp.Matrix
    b: sp.Matrix
    sigma2: sp.Symbol
    m: sp.Matrix
    S: sp.Matrix

    @property
    def all_symbols(self) -> list[sp.Symbol]:
        """Every free symbol, in a fixed order (for lambdify)."""
        out: list[sp.Symbol] = []
        for mat in (self.x, self.W, self.b, self.m, self.S):
            for s in mat:
                if isinstance(s, sp.Symbol) and s not in out:
                    out.append(s)
        return [*out, self.sigma2]


def linear_gaussian_symbols(D: int, k: int, *, diagonal_S: bool = False
                            ) -> LinearGaussianSymbols:
    """All-symbol matrices for sizes D >= 1, k >= 1 (S diagonal if ``diagonal_S``)."""
    if D < 1 or k < 1:
        raise InvalidArgumentError("D" if D < 1 else "k", f"must be >= 1, got D={D}, k={k}")
    x = sp.Matrix(D, 1, lambda i, _: sp.Symbol(f"x_{i + 1}", real=True))
    b = sp.Matrix(D, 1, lambda i, _: sp.Symbol(f"b_{i + 1}", real=True))
    W = sp.Matrix(D, k, lambda i, j: sp.Symbol(f"w_{i + 1}{j + 1}", real=True))
    m = sp.Matrix(k, 1, lambda j, _: sp.Symbol(f"m_{j + 1}", real=True))

    def s_entry(i: int, j: int) -> sp.Expr:
        lo, hi = min(i, j), max(i, j)
        if lo == hi:
            return sp.Symbol(f"s_{lo + 1}{hi + 1}", positive=True)
        return sp.S.Zero if diagonal_S else sp.Symbol(f"s_{lo + 1}{hi + 1}", real=True)

    S = sp.Matrix(k, k, s_entry)
    sigma2 = sp.Symbol("sigma^2", positive=True)
    return LinearGaussianSymbols(D, k, x, W, b, sigma2, m, S)


# --------------------------------------------------------------------- simplification

def _log_atoms_of(arg: sp.Expr) -> sp.Expr:
    """log|arg| as a sum of e * log(f) over irreducible factors f (leading coeff > 0)."""
    num, den = sp.fraction(sp.together(arg))
    out = sp.S.Zero
    for part, sign in ((num, 1), (den, -1)):
        content, factors = sp.factor_list(sp.expand(part))
        content = abs(content)
        if content != 1:
            p, q = sp.fraction(sp.Rational(content)) if content.is_Rational else (content, 1)
            for base, e in sp.factorint(p).items() if p != 1 else ():
                out += sign * e * sp.log(base)
            for base, e in sp.factorint(q).items() if q != 1 else ():
                out -= sign * e * sp.log(base)
        for f, e in factors:
            lead = sp.Poly(f, *sorted(f.free_symbols, key=str)).LC() if f.free_symbols else f
            g = -f if lead < 0 else f
            out += sign * e * sp.log(g, evaluate=False)
    return out


def cancel_logs(expr: sp.Expr) -> sp.Expr:
    """Put a sum of rational terms and logarithms into a canonical form (0 if it vanishes).

    Every ``log(P)`` is rewritten as ``sum e_i log(f_i)`` over the irreducible factors
    f_i of the numerator and denominator of P (integer contents split into primes),
    then the coefficient of each distinct log atom and the log-free remainder are
    cancelled as rational functions.  The rewriting is exact when every log argument
    is POSITIVE (determinants of covariance matrices, variances, 2 pi): then
    log P = log|P| = sum e_i log|f_i|.  Because logarithms of distinct irreducible
    polynomials are linearly independent over rational functions, the result is 0
    exactly when ``expr`` vanishes identically on that domain.
    """
    expr = sp.expand(expr)
    expr = expr.replace(lambda e: isinstance(e, sp.log), lambda e: _log_atoms_of(e.args[0]))
    expr = sp.expand(expr)
    atoms = sorted(expr.atoms(sp.log), key=sp.default_sort_key)
    dummies = [sp.Dummy(f"L{i}") for i in range(len(atoms))]
    linear = expr.subs(dict(zip(atoms, dummies, strict=True)), simultaneous=True)
    poly_part = sp.Poly(linear, *dummies) if dummies else None
    out = sp.S.Zero
    if poly_part is None:
        return _cancel_sum(linear)
    rest = linear
    for atom, dummy in zip(atoms, dummies, strict=True):
        coeff = linear.coeff(dummy)
        rest -= coeff * dummy
        out += _cancel_sum(sp.expand(coeff)) * atom
    rest = sp.expand(rest)
    if rest.has(*dummies):
        raise ValueError("cancel_logs: logs appear non-linearly in the expression")
    return out + _cancel_sum(rest)


def _cancel_sum(expr: sp.Expr) -> sp.Expr:
    """Cancel an expanded sum of rational terms, grouping terms by denominator first.

    Equivalent to ``sp.cancel(sp.together(expr))`` but much faster on sums of
    thousands of terms that share a few denominators.
    """
    groups: dict[sp.Expr, list[sp.Expr]] = {}
    for term in sp.Add.make_args(expr):
        num, den = sp.fraction(term)
        groups.setdefault(den, []).append(num)
    total = sp.S.Zero
    for den, nums in groups.items():
        num = sp.expand(sp.Add(*nums))
        if num != 0:
            total = sp.cancel(sp.together(total + sp.cancel(num / den)))
    return total


def _inverse(A: sp.Matrix) -> sp.Matrix:
    """Inverse as adjugate / determinant (fast and exact for small symbolic matrices)."""
    det = sp.expand(A.det(method="berkowitz"))
    return A.adjugate(method="berkowitz") / det


# --------------------------------------------------------------------- Gaussian pieces

def gaussian_quadratic_expectation(A: sp.Matrix, c: sp.Matrix, m: sp.Matrix, S: sp.Matrix
                                   ) -> sp.Expr:
    """E_{z ~ N(m, S)}[(z - c)^T A (z - c)] from the second moments of a Gaussian.

    Uses only E[(z_i - c_i)(z_j - c_j)] = S_ij + (m_i - c_i)(m_j - c_j) (definition
    of the covariance), summed against A_ij; equals tr(A S) + (m - c)^T A (m - c).
    """
    k = m.shape[0]
    d = m - c
    return sp.Add(*(A[i, j] * (S[i, j] + d[i] * d[j]) for i in range(k) for j in range(k)))


def gaussian_log_density(z: sp.Matrix, mean: sp.Matrix, cov: sp.Matrix) -> sp.Expr:
    """log N(z | mean, cov), natural log, ``cov`` symmetric positive definite."""
    n = z.shape[0]
    d = z - mean
    quad = (d.T * _inverse(cov) * d)[0, 0]
    return -sp.Rational(n, 2) * sp.log(2 * sp.pi) - sp.log(cov.det(method="berkowitz")) / 2 \
        - quad / 2


def gaussian_kl(m: sp.Matrix, S: sp.Matrix, mu: sp.Matrix, Sigma: sp.Matrix | None = None,
                *, precision: sp.Matrix | None = None) -> sp.Expr:
    """KL(N(m, S) || N(mu, Sigma)) by Gaussian moments: E_q[log q] - E_q[log N(z | mu, Sigma)].

    Natural log; S and Sigma symmetric positive definite.  Each expectation of a
    log-density is -k/2 log 2 pi + 1/2 log det(precision) - 1/2 E_q[quadratic form in
    the precision], the last term from :func:`gaussian_quadratic_expectation`.  Equals
    1/2 (tr(Sigma^{-1} S) + (mu - m)^T Sigma^{-1} (mu - m) - k + log det Sigma - log det S).
    Give ``precision`` = Sigma^{-1} instead of ``Sigma`` when it is simpler (it avoids
    inverting a matrix of rational functions).
    """
    k = m.shape[0]
    if (Sigma is None) == (precision is None):
        raise InvalidArgumentError("Sigma", "give exactly one of Sigma and precision")
    if precision is None:
        precision = _inverse(Sigma)

    def expected_log_density(mean: sp.Matrix, prec: sp.Matrix) -> sp.Expr:
        quad = gaussian_quadratic_expectation(prec, mean, m, S)
        return (-sp.Rational(k, 2) * sp.log(2 * sp.pi)
                + sp.log(prec.det(method="berkowitz")) / 2 - quad / 2)

    return expected_log_density(m, _inverse(S)) - expected_log_density(mu, precision)


def expected_log_likelihood(x: sp.Matrix, W: sp.Matrix, b: sp.Matrix, sigma2: sp.Expr,
                            m: sp.Matrix, S: sp.Matrix) -> sp.Expr:
    """E_{z ~ N(m, S)}[log N(x | W z + b, sigma2 I)], summed over the D coordinates.

    Coordinate i depends on z only through u_i = (W z)_i ~ N((W m)_i, (W S W^T)_ii),
    so each term is the 1-D :func:`expected_gaussian_log_density` with slope 1.
    """
    mean_u = W * m
    var_u = W * S * W.T
    return sp.Add(*(expected_gaussian_log_density(x[i], 1, b[i], sigma2, mean_u[i], var_u[i, i])
                    for i in range(x.shape[0])))


def linear_elbo(x: sp.Matrix, W: sp.Matrix, b: sp.Matrix, sigma2: sp.Expr,
                m: sp.Matrix, S: sp.Matrix) -> sp.Expr:
    """ELBO of one point: E_q[log p(x | z)] - KL(N(m, S) || N(0, I)), natural log.

    Built from :func:`expected_log_likelihood` and :func:`gaussian_kl`; any D, k.
    """
    k = m.shape[0]
    return expected_log_likelihood(x, W, b, sigma2, m, S) - gaussian_kl(
        m, S, sp.zeros(k, 1), sp.eye(k))


def linear_elbo_textbook(x: sp.Matrix, W: sp.Matrix, b: sp.Matrix, sigma2: sp.Expr,
                         m: sp.Matrix, S: sp.Matrix) -> sp.Expr:
    """The ELBO as printed in docs/theory.md section 3 (typed in, used only as a reference):

    -D/2 log(2 pi sigma^2) - (||x - W m - b||^2 + tr(W S W^T)) / (2 sigma^2)
    - 1/2 (tr S + m^T m - k - log det S).
    """
    D, k = W.shape
    r = x - W * m - b
    return (-sp.Rational(D, 2) * sp.log(2 * sp.pi * sigma2)
            - ((r.T * r)[0, 0] + (W * S * W.T).trace()) / (2 * sigma2)
            - ((S.trace() + (m.T * m)[0, 0] - k - sp.log(S.det(method="berkowitz"))) / 2))


def linear_elbo_matrix_form() -> tuple[sp.Expr, dict[str, sp.Basic]]:
    """The ELBO for symbolic sizes D, k with sympy MatrixSymbols, built from moments.

    E_q||x - b - W z||^2 = ||x - b||^2 - 2 (x - b)^T W m + tr(W^T W (S + m m^T))
    (second moment E[z z^T] = S + m m^T), rewritten as ||x - W m - b||^2 + tr(W S W^T);
    KL = E_q[log q] - E_q[log p] with E_q[(z - m)^T S^{-1} (z - m)] = tr(I_k) = k and
    E_q[z^T z] = tr S + m^T m.  Returns the expression and its symbols by name
    (``D``, ``k``, ``x``, ``W``, ``b``, ``m``, ``S``, ``sigma2``).
    """
    D, k = sp.symbols("D k", integer=True, positive=True)
    sigma2 = sp.Symbol("sigma^2", positive=True)
    x = sp.MatrixSymbol("x", D, 1)
    W = sp.MatrixSymbol("W", D, k)
    b = sp.MatrixSymbol("b", D, 1)
    m = sp.MatrixSymbol("m", k, 1)
    S = sp.MatrixSymbol("S", k, k)
    r = x - W * m - b
    expected_sq = sp.Trace(r.T * r) + sp.Trace(W * S * W.T)
    expected_log_lik = -D * sp.log(2 * sp.pi * sigma2) / 2 - expected_sq / (2 * sigma2)
    e_log_q = -k * sp.log(2 * sp.pi) / 2 - sp.log(sp.Determinant(S)) / 2 - k / 2
    e_log_p = -k * sp.log(2 * sp.pi) / 2 - (sp.Trace(S) + sp.Trace(m.T * m)) / 2
    elbo = expected_log_lik - (e_log_q - e_log_p)
    names = {"D": D, "k": k, "x": x, "W": W, "b": b, "m": m, "S": S, "sigma2": sigma2}
    return elbo, names


def _matrix_form_at(sym: LinearGaussianSymbols) -> sp.Expr:
    """Substitute explicit matrices of size (D, k) into :func:`linear_elbo_matrix_form`."""
    elbo, names = linear_elbo_matrix_form()
    sized = elbo.subs({names["D"]: sym.D, names["k"]: sym.k})
    D, k = sym.D, sym.k
    reps = {
        sp.MatrixSymbol("x", D, 1): sym.x, sp.MatrixSymbol("W", D, k): sym.W,
        sp.MatrixSymbol("b", D, 1): sym.b, sp.MatrixSymbol("m", k, 1): sym.m,
        sp.MatrixSymbol("S", k, k): sym.S, names["sigma2"]: sym.sigma2,
    }
    out = sized.xreplace(reps).doit()
    if isinstance(out, sp.MatrixBase):
        out = out[0, 0]
    return out


# ------------------------------------------------------------- marginal and posterior

def log_marginal(x: sp.Matrix, W: sp.Matrix, b: sp.Matrix, sigma2: sp.Expr) -> sp.Expr:
    """log p(x) = log N(x | b, W W^T + sigma2 I) (Tipping & Bishop 1999, section 3).

    Mean and covariance follow from x = W z + b + eps with z ~ N(0, I),
    eps ~ N(0, sigma2 I) independent: E[x] = b, Cov[x] = W W^T + sigma2 I.
    """
    D = x.shape[0]
    return gaussian_log_density(x, b, W * W.T + sigma2 * sp.eye(D))


@dataclass(frozen=True)
class BayesPosterior:
    """The posterior obtained by completing the square in log p(x | z) + log p(z).

    ``precision`` A = -Hessian_z, ``linear`` h = gradient at z = 0, ``mean`` A^{-1} h,
    ``cov`` A^{-1}, ``log_evidence`` = the constant after completing the square plus
    the Gaussian normaliser k/2 log 2 pi - 1/2 log det A, i.e. log p(x).
    """

    precision: sp.Matrix
    linear: sp.Matrix
    mean: sp.Matrix
    cov: sp.Matrix
    log_evidence: sp.Expr
    quadratic_residual: sp.Expr


def posterior_by_bayes(x: sp.Matrix, W: sp.Matrix, b: sp.Matrix, sigma2: sp.Expr
                       ) -> BayesPosterior:
    """Derive p(z | x) from Bayes' rule by completing the square.

    f(z) = log N(x | W z + b, sigma2 I) + log N(z | 0, I) is quadratic in z:
    f(z) = f(0) + h^T z - z^T A z / 2 (``quadratic_residual`` is the expanded
    difference, 0 when that holds).  Then p(z | x) is proportional to exp f(z), i.e.
    N(A^{-1} h, A^{-1}), and log p(x) = log INT exp f = f(0) + h^T A^{-1} h / 2
    + k/2 log 2 pi - 1/2 log det A.
    """
    D, k = W.shape
    z = sp.Matrix(k, 1, lambda j, _: sp.Dummy(f"z{j + 1}", real=True))
    r = x - W * z - b
    f = (-sp.Rational(D, 2) * sp.log(2 * sp.pi * sigma2) - (r.T * r)[0, 0] / (2 * sigma2)
         - sp.Rational(k, 2) * sp.log(2 * sp.pi) - (z.T * z)[0, 0] / 2)
    zero = {zj: 0 for zj in z}
    A = -sp.hessian(f, list(z)).applyfunc(sp.cancel)
    h = sp.Matrix([sp.diff(f, zj) for zj in z]).subs(zero).applyfunc(sp.cancel)
    f0 = f.subs(zero)
    residual = sp.expand(f - (f0 + (h.T * z)[0, 0] - (z.T * A * z)[0, 0] / 2))
    A_inv = _inverse(A)
    mean = (A_inv * h).applyfunc(sp.cancel)
    cov = A_inv.applyfunc(sp.cancel)
    log_ev = (f0 + (h.T * A_inv * h)[0, 0] / 2 + sp.Rational(k, 2) * sp.log(2 * sp.pi)
              - sp.log(A.det(method="berkowitz")) / 2)
    return BayesPosterior(A, h, mean, cov, log_ev, residual)


def posterior_formula(x: sp.Matrix, W: sp.Matrix, b: sp.Matrix, sigma2: sp.Expr
                      ) -> tuple[sp.Matrix, sp.Matrix]:
    """Textbook posterior N(M^{-1} W^T (x - b), sigma2 M^{-1}), M = W^T W + sigma2 I.

    Tipping & Bishop 1999, section 3 (their eq. for <x_n> and M); typed in as the
    reference that :func:`posterior_by_bayes` is checked against.
    """
    k = W.shape[1]
    M_inv = _inverse(W.T * W + sigma2 * sp.eye(k))
    return (M_inv * W.T * (x - b)).applyfunc(sp.cancel), (sigma2 * M_inv).applyfunc(sp.cancel)
