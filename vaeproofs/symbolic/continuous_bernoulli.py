"""The continuous Bernoulli: its density at x = 0 (or 1) is unbounded in the parameter.

Loaiza-Ganem & Cunningham (NeurIPS 2019, section 3) normalise l^x (1 - l)^(1 - x) on
[0, 1]: p(x | l) = C(l) l^x (1 - l)^(1 - x) with C(l) = 2 artanh(1 - 2l)/(1 - 2l) for
l != 1/2 and C(1/2) = 2.  This module derives C by integration and shows:

- at x = 0, log p(0 | l) = log C(l) + log(1 - l) tends to +infinity as l -> 0, at the rate
  log log(1/l) (the remainder tends to 0): on data containing exact 0 or 1 values the
  objective is unbounded (slowly; the KL cost of memorising grows like
  (1/2) log log(1/l) per point, so the ELBO still diverges when D >= 1, see the
  construction ``continuous_bernoulli_elbo``);
- for data in [delta, 1 - delta] the log-density is linear in x, so its maximum over x is at
  an end point, and sup_l log p(delta | l) is finite (both ends of l give -infinity); it is
  computed for delta = 1/512 (8-bit values mapped to (k + 1/2)/256);
- PyTorch's ``ContinuousBernoulli`` clamps ``probs`` to [finfo.eps, 1 - finfo.eps] inside the
  normaliser, so its log_prob is capped at log C(finfo.eps) per pixel (computed here for
  float32 and float64): the implementation is bounded where the model is not.

Conventions: natural log; l is the parameter ("lambda" in the paper) in (0, 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import mpmath
import numpy as np
import sympy as sp

from vaeproofs.symbolic.derivation import Derivation, DerivationBuilder, equation
from vaeproofs.symbolic.facts import FactRecord
from vaeproofs.symbolic.sources import LOAIZA_GANEM

__all__ = ["ContinuousBernoulliFacts", "derive_continuous_bernoulli", "log_normaliser"]

_L = sp.Symbol("l", positive=True)


def log_normaliser(logit_magnitude: sp.Expr) -> sp.Expr:
    """``log C(l)`` for l < 1/2 written with ``a = log((1 - l)/l) = 2 artanh(1 - 2l)``.

    ``C(l) = a / (1 - 2l)`` and ``1 - 2l = tanh(a/2)``; this form never rounds 1 - 2l.
    """
    a = sp.sympify(logit_magnitude)
    return sp.log(a) - sp.log(sp.tanh(a / 2))


@dataclass(frozen=True)
class ContinuousBernoulliFacts(FactRecord):
    """Facts of :func:`derive_continuous_bernoulli`.

    Attributes:
        normaliser_matches_paper: 1 / int_0^1 l^x (1-l)^(1-x) dx equals
            2 artanh(1 - 2l)/(1 - 2l).
        normaliser_at_half: lim_{l -> 1/2} C(l) (``2``).
        density_at_zero_limit: lim_{l -> 0} log p(0 | l) (``"oo"``).
        rate_remainder_limit: lim_{l -> 0} [log p(0 | l) - log log(1/l)] (``"0"``).
        interior_limits_minus_infinity: log p(delta | l) -> -oo at both l -> 0 and l -> 1.
        interior_sup_per_pixel: sup_l log p(delta | l) for delta = 1/512 (nats).
        interior_argmax: the maximising l.
        torch_cap_float32, torch_cap_float64: log C(finfo.eps) (nats per pixel).
    """

    normaliser_matches_paper: bool
    normaliser_at_half: str
    density_at_zero_limit: str
    rate_remainder_limit: str
    interior_limits_minus_infinity: bool
    interior_sup_per_pixel: float
    interior_argmax: float
    torch_cap_float32: float
    torch_cap_float64: float

    @property
    def unbounded_on_exact_endpoints(self) -> bool:
        """The density at 0 diverges (at rate log log(1/l))."""
        return self.density_at_zero_limit == "oo" and self.rate_remainder_limit == "0"


def derive_continuous_bernoulli() -> Derivation:
    """Derive C(l), the divergence at x = 0 with its rate, the interior cap, torch's clamp.

    results: ``normaliser``, ``log_density``, ``log_density_at_zero_in_u`` (l = e^-u).
    facts: :class:`ContinuousBernoulliFacts`.
    """
    lam = _L
    x = sp.Symbol("x", real=True)
    u = sp.Symbol("u", positive=True)
    r = sp.Symbol("r", positive=True)   # r = l/(1 - l)
    d = DerivationBuilder(name="continuous-bernoulli",
                   title="Continuous Bernoulli: C(λ), and log p(0 | λ) → ∞ like log log(1/λ)",
                   sources=[LOAIZA_GANEM])
    # int_0^1 l^x (1-l)^(1-x) dx = (1 - l) int_0^1 r^x dx, r = l/(1 - l).
    anti = r**x / sp.log(r)                       # antiderivative, checked by differentiation
    anti_ok = sp.simplify(sp.diff(anti, x) - r**x) == 0
    inner = anti.subs(x, 1) - anti.subs(x, 0) if anti_ok else sp.nan
    mass = sp.simplify((1 - lam) * inner.subs(r, lam / (1 - lam)))
    paper = 2 * sp.atanh(1 - 2 * lam) / (1 - 2 * lam)
    diff = (1 / mass - paper).rewrite(sp.log)
    matches = sp.simplify(sp.expand_log(diff, force=True)) == 0
    if not matches:   # compare numerically at exact rationals when simplify cannot
        matches = all(abs(sp.N(diff.subs(lam, q), 30)) < 1e-25
                      for q in (sp.Rational(1, 7), sp.Rational(2, 5), sp.Rational(5, 6)))
    d.step("Normalising l^x (1 - l)^(1 - x) on [0, 1] (with r = l/(1 - l)):",
           equation(sp.Integral(lam**x * (1 - lam)**(1 - x), (x, 0, 1)), mass))
    d.step("so C(l) = 1/that, which is Loaiza-Ganem & Cunningham's normaliser:",
           equation(sp.Symbol("C(l)"), paper))
    at_half = sp.limit(paper, lam, sp.Rational(1, 2))
    d.step("At l = 1/2 (a removable singularity):",
           equation(sp.Limit(sp.Symbol("C(l)"), lam, sp.Rational(1, 2)), at_half))
    # log p(0 | l) with l = e^-u: a = log((1 - l)/l) = u + log(1 - e^-u).
    a = u + sp.log(1 - sp.exp(-u))
    log_c = sp.log(a) - sp.log(1 - 2 * sp.exp(-u))    # log C(l), l = e^-u < 1/2
    at_zero = log_c + sp.log(1 - sp.exp(-u))
    lim0 = sp.limit(at_zero, u, sp.oo)
    remainder = sp.limit(at_zero - sp.log(u), u, sp.oo)
    d.step("At x = 0, log p(0 | l) = log C(l) + log(1 - l); with l = e^(-u) "
           "(u = log(1/l)) and C(l) = a/(1 - 2l), a = log((1 - l)/l):",
           equation(sp.Symbol("log p(0 | e^-u)"), at_zero))
    d.step("It diverges as l -> 0 ...", equation(sp.Limit(sp.Symbol("log p(0 | l)"), u, sp.oo), lim0))
    d.step("... at the rate log log(1/l): the remainder log p(0 | l) - log u tends to",
           equation(sp.Limit(sp.Symbol("log p(0|l) - log log(1/l)"), u, sp.oo), remainder))
    # Interior data x in [delta, 1 - delta]: linear in x, the symmetric end is the same.
    delta = sp.Rational(1, 512)
    log_p = sp.log(paper) + x * sp.log(lam) + (1 - x) * sp.log(1 - lam)
    # l -> 0 (u -> oo) and l -> 1 (by the symmetry p(x | l) = p(1 - x | 1 - l)).
    lo = log_c + delta * (-u) + (1 - delta) * sp.log(1 - sp.exp(-u))
    hi = log_c + (1 - delta) * (-u) + delta * sp.log(1 - sp.exp(-u))
    lim_lo, lim_hi = sp.limit(lo, u, sp.oo), sp.limit(hi, u, sp.oo)
    d.step("For data in [δ, 1 - δ] the log-density is linear in x, so its maximum is at x = δ "
           "or 1 - δ (symmetric: p(x | l) = p(1 - x | 1 - l)); at x = δ = 1/512 it tends to "
           "-oo at both ends l -> 0 and l -> 1:",
           equation(sp.Tuple(sp.Limit(sp.Symbol("log p(δ | l)"), lam, 0),
                             sp.Limit(sp.Symbol("log p(δ | l)"), lam, 1)), sp.Tuple(lim_lo, lim_hi)))
    # Maximise in u = log(1/l) over l < 1/2: for l >= 1/2, p(delta | l) = p(1 - delta | 1 - l)
    # <= p(delta | 1 - l), since p(x | l') decreases in x when l' < 1/2.
    f_delta = sp.lambdify(u, lo, modules="mpmath")
    df_delta = sp.lambdify(u, sp.diff(lo, u), modules="mpmath")
    with mpmath.workdps(30):
        grid = [mpmath.mpf(k) / 4 for k in range(4, 400)]   # l = e^-u < 1/2
        best = max(grid, key=f_delta)
        arg_u = mpmath.findroot(df_delta, (best - mpmath.mpf(1) / 4, best + mpmath.mpf(1) / 4),
                                solver="anderson")
        sup_val, arg = f_delta(arg_u), mpmath.exp(-arg_u)
    d.step("so its supremum over l is attained inside (0, 1); mpmath's findroot on the "
           "derivative gives", equation(sp.Symbol("sup_l log p(1/512 | l)"),
                                        sp.Float(sup_val, 15)))
    caps = {}
    for dtype in ("float32", "float64"):
        eps = sp.Rational(float(np.finfo(np.dtype(dtype)).eps))
        caps[dtype] = float(sp.N(log_normaliser(sp.log((1 - eps) / eps)), 30))
    d.step("PyTorch's ContinuousBernoulli clamps probs to [finfo.eps, 1 - finfo.eps] in the "
           "normaliser, capping log_prob at log C(finfo.eps) per pixel (float32, float64):",
           equation(sp.Symbol("log C(eps)"), sp.Tuple(sp.Float(caps["float32"], 6),
                                                      sp.Float(caps["float64"], 6))))
    d.results.update(normaliser=paper, log_density=log_p, log_density_at_zero_in_u=at_zero)
    facts = ContinuousBernoulliFacts(
        normaliser_matches_paper=bool(matches),
        normaliser_at_half=sp.sstr(at_half),
        density_at_zero_limit=sp.sstr(lim0),
        rate_remainder_limit=sp.sstr(remainder),
        interior_limits_minus_infinity=bool(lim_lo == -sp.oo and lim_hi == -sp.oo),
        interior_sup_per_pixel=float(sup_val),
        interior_argmax=float(arg),
        torch_cap_float32=caps["float32"],
        torch_cap_float64=caps["float64"],
    )
    return d.build(facts)
