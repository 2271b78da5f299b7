"""The half-space ELBO (docs/theory.md section 1): encoders must concentrate, and then it diverges.

Mattei & Frellsen's decoder (constant mean x_1, z-dependent variance) with Gaussian
encoders, n = 3, D = 2: with fixed encoders the total ELBO climbs and then falls to
-infinity; with the other points' encoder variance 9/(4 alpha + 2 log alpha) it diverges
like D q_1(A) alpha - ((n - 1)/2) log alpha.  The constant of the asymptote is checked
against a closed form computed here independently of the construction.
"""

from __future__ import annotations

from collections.abc import Callable

import mpmath
import pytest
import sympy as sp

from vaeproofs import constructions
from vaeproofs.constructions.base import U
from vaeproofs.constructions.half_space_elbo import HalfSpaceElbo


@pytest.fixture(scope="module")
def row(quick_row: Callable[[str], constructions.ConstructionRow]) -> constructions.ConstructionRow:
    return quick_row("half_space_elbo")


def test_concentrating_encoders_diverge_at_the_derived_rate(row: constructions.ConstructionRow) -> None:
    c = constructions.get("half_space_elbo")
    assert row.diverges and not row.bounded and row.limit == "oo"
    q1 = sp.erfc(-sp.Integer(30) / sp.sqrt(2)) / 2          # q_1(z < 0) = Phi(30)
    assert sp.simplify(c.symbolic_rate() - (2 * sp.Symbol("alpha", positive=True) * q1
                                            - sp.log(sp.Symbol("alpha", positive=True)))) == 0
    # constant: -(nD/2) log 2 pi - sum d_j^2/2 - KL_1 - (n-1)/2 (c^2 - 1 - log c^2 + log 4)
    with mpmath.workdps(30):
        d2 = [mpmath.mpf("2.5625"), mpmath.mpf("5.3125")]      # from DEFAULT_POINTS
        kl1 = (9 + mpmath.mpf("0.01") - 1 - mpmath.log(mpmath.mpf("0.01"))) / 2
        const = (-3 * mpmath.log(2 * mpmath.pi) - sum(d2) / 2 - kl1
                 - (9 - 1 - mpmath.log(9) + mpmath.log(4)))
        derived = c.asymptote(1) - 2 * q1.evalf(30)
        assert abs(derived - const) < mpmath.mpf("1e-20")


def test_the_remainder_is_the_kl_correction_plus_a_vanishing_leak() -> None:
    """objective - asymptote = -(n - 1) [s^2/2 + (1/2) log(1 + log(alpha)/(2 alpha))] - leak,
    with 0 <= leak <= (sum_j d_j^2/2) alpha^(-3/2) (Mills ratio: q_j(A) e^{2 alpha} is
    O(alpha^(-3/2)))."""
    c = constructions.get("half_space_elbo")
    for a in (100, 1000):
        with mpmath.workdps(30):
            alpha = mpmath.mpf(a)
            s2 = 9 / (4 * alpha + 2 * mpmath.log(alpha))
            kl_correction = 2 * (s2 / 2 + mpmath.log(1 + mpmath.log(alpha) / (2 * alpha)) / 2)
            leak = c.asymptote(a) - kl_correction - c.objective(a, dps=25)
            assert 0 <= leak <= mpmath.mpf("7.875") / 2 * alpha ** mpmath.mpf(-1.5), (a, leak)


def test_fixed_encoders_climb_then_fall_to_minus_infinity(row: constructions.ConstructionRow) -> None:
    d = row.diagnostics
    values = [mpmath.mpf(v) for v in d["fixed_encoder_values"]]
    assert d["fixed_encoder_alphas"] == [200, 260]
    assert 371 < values[0] < 372 and -3.2e27 < values[1] < -3.1e27
    assert d["fixed_encoder_limit"] == "-oo"
    for exact, t64 in zip(values, d["fixed_encoder_torch_float64"], strict=True):
        assert abs(t64 - float(exact)) <= 1e-10 * abs(float(exact))
    bound = HalfSpaceElbo(concentrating=False).fixed_encoder_upper_bound()
    assert all(v <= sp.N(bound.subs(U, a), 30) for a, v in zip((200, 260), values, strict=True))


def test_torch_network_follows_mpmath(row: constructions.ConstructionRow) -> None:
    followed = [r for r in row.torch_rel_error if r is not None]
    assert followed and max(followed) < 1e-12


def test_the_fixed_sequence_is_not_a_registered_proof() -> None:
    with pytest.raises(NotImplementedError):
        HalfSpaceElbo(concentrating=False).limit()
