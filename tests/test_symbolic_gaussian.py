"""The Gaussian pieces of vaeproofs.symbolic.gaussian: derived forms vs textbook and quadrature.

References: Kingma & Welling 2013 (arXiv 1312.6114), appendix B, for the KL; docs/theory.md
section 3 for the expected log-density.  Numeric reference values come from
scipy.integrate.quad over the real line, whose own error estimate sets the tolerance.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from scipy import integrate, stats

from vaeproofs.errors import InvalidArgumentError
from vaeproofs.symbolic import gaussian


def test_kl_derivation_matches_textbook() -> None:
    d = gaussian.derive_kl()
    assert d.name == "gaussian-kl"
    assert d.results.difference_to_textbook == 0
    assert d.facts.matches_textbook is True
    assert "$$" in d.to_markdown()
    # The helpers' fast path (normal moments) is the integral's expression, exactly.
    assert d.facts.moments_match_integral is True
    m, s2 = gaussian._M, gaussian._S2
    fast = gaussian.kl_normal_standard(m, s2)
    assert fast == d.results.kl
    assert sp.simplify(fast - d.results.kl) == 0


def test_expected_log_density_derivation_matches_textbook() -> None:
    d = gaussian.derive_expected_log_density()
    assert d.name == "gaussian-expected-loglik"
    assert d.results.difference_to_textbook == 0
    assert d.facts.matches_textbook is True
    assert d.facts.moments_match_integral is True
    g = gaussian
    fast = g.expected_gaussian_log_density(g._X, g._W, g._B, g._SIGMA2, g._M, g._S2)
    assert fast == d.results.expected_log_density
    assert sp.simplify(fast - d.results.expected_log_density) == 0


@pytest.mark.slow
@pytest.mark.parametrize("f", ["z**3 - 2*z + log(t)", "(z - m)**4 / s2", "x*z**2 + 7"])
def test_expectation_equals_the_direct_integral(f: str) -> None:
    # gaussian_expectation integrates after z = m + sqrt(s2) u; the integral taken directly,
    # with m and s2 inside the density's exponent, must give the same expression.
    z, m, x, t = sp.Symbol("z", real=True), sp.Symbol("m", real=True), sp.Symbol("x", real=True), \
        sp.Symbol("t", positive=True)
    s2 = sp.Symbol("s2", positive=True)
    expr = sp.sympify(f, locals={"z": z, "m": m, "x": x, "t": t, "s2": s2})
    density = sp.exp(-(z - m) ** 2 / (2 * s2)) / sp.sqrt(2 * sp.pi * s2)
    direct = sp.integrate(sp.expand(density * sp.expand(expr)), (z, -sp.oo, sp.oo))
    integrated = gaussian.gaussian_expectation(expr, z, m, s2)
    assert sp.simplify(integrated - direct) == 0
    # The moment formula gives the integral's expression exactly (same normal form).
    by_moments = gaussian.gaussian_expectation_by_moments(expr, z, m, s2)
    assert by_moments == integrated
    assert sp.simplify(by_moments - direct) == 0


def test_moments_refuse_a_non_polynomial() -> None:
    z, m, s2 = sp.Symbol("z", real=True), sp.Symbol("m", real=True), sp.Symbol("s2", positive=True)
    with pytest.raises(InvalidArgumentError, match="f: must be a polynomial in z"):
        gaussian.gaussian_expectation_by_moments(sp.exp(z), z, m, s2)
    # E[z^4] under N(m, s2) = m^4 + 6 m^2 s2 + 3 s2^2: the moment table, not a typed answer,
    # must reproduce the textbook raw moment.
    assert sp.expand(gaussian.gaussian_expectation_by_moments(z**4, z, m, s2)
                     - (m**4 + 6 * m**2 * s2 + 3 * s2**2)) == 0


def test_textbook_comparison_can_fail() -> None:
    # A wrong "textbook" (missing the -1/2) must leave a non-zero difference.
    m, s2 = sp.Symbol("m", real=True), sp.Symbol("v", positive=True)
    wrong = (m**2 + s2 - sp.log(s2)) / 2
    assert sp.simplify(gaussian.kl_normal_standard(m, s2) - wrong) != 0


def _quad(f, mean: float, sd: float) -> tuple[float, float]:
    lo, hi = mean - 40 * sd, mean + 40 * sd  # the density beyond 40 sd is < 1e-340
    return integrate.quad(f, lo, hi, epsabs=1e-13, epsrel=1e-13, limit=200, points=[mean])


@pytest.mark.parametrize(("m", "s2"), [(0.0, 1.0), (1.3, 0.2), (-2.0, 3.5), (0.4, 1e-2)])
def test_kl_matches_quadrature(m: float, s2: float) -> None:
    kl = float(gaussian.kl_normal_standard(sp.Float(m), sp.Float(s2)))
    q = stats.norm(m, math.sqrt(s2))

    def integrand(z: float) -> float:
        return q.pdf(z) * (q.logpdf(z) - stats.norm.logpdf(z))

    ref, err = _quad(integrand, m, math.sqrt(s2))
    # quad's error estimate plus 100 ulp of the value for the final sum.
    assert abs(kl - ref) <= 10 * err + 100 * np.finfo(float).eps * max(1.0, abs(ref))


@pytest.mark.parametrize(("x", "w", "b", "sigma2", "m", "s2"),
                         [(0.5, 1.0, 0.0, 1.0, 0.0, 1.0), (2.0, -0.7, 0.3, 0.25, 1.1, 0.4),
                          (-1.0, 3.0, 1.0, 2.0, -0.5, 0.05)])
def test_expected_log_density_matches_quadrature(x, w, b, sigma2, m, s2) -> None:
    value = float(gaussian.expected_gaussian_log_density(
        *(sp.Float(v) for v in (x, w, b, sigma2, m, s2))))
    q = stats.norm(m, math.sqrt(s2))

    def integrand(z: float) -> float:
        return q.pdf(z) * stats.norm.logpdf(x, w * z + b, math.sqrt(sigma2))

    ref, err = _quad(integrand, m, math.sqrt(s2))
    assert abs(value - ref) <= 10 * err + 100 * np.finfo(float).eps * max(1.0, abs(ref))


def test_diagonal_kl_is_the_sum_and_checks_lengths() -> None:
    a, b = sp.symbols("a b", real=True)
    u, v = sp.symbols("u v", positive=True)
    total = gaussian.kl_diagonal_standard([a, b], [u, v])
    assert sp.simplify(total - gaussian.kl_normal_standard(a, u)
                       - gaussian.kl_normal_standard(b, v)) == 0
    # KL(N(0, 1) || N(0, 1)) = 0 in every coordinate.
    assert gaussian.kl_diagonal_standard([0, 0, 0], [1, 1, 1]) == 0
    with pytest.raises(InvalidArgumentError, match="variances: must have the length of means"):
        gaussian.kl_diagonal_standard([a, b], [u])
