"""The sigma-VAE soft clip: log sigma -> m + softplus(log sigma - m) caps the objective.

Rybkin, Daniilidis & Levine's code applies ``softclip(tensor, min) = min + softplus(tensor -
min)`` with ``min = -6`` to log sigma (sigma a standard deviation).  Since softplus > 0, the
clipped log sigma is > -6, the variance > e^(-12), and each Gaussian factor's log-density
is < -log(2 pi)/2 + 6 (about 5.08 nats per pixel): a supremum approached as the raw
log sigma -> -infinity with a memorised mean, never attained.  The clip's derivative
sigmoid(t - m) -> 0, so the collapse also stalls.  In units a user can judge: the floor
variance e^(-12) relative to the data's per-pixel variance s^2, and the cap above the best
Gaussian fit to the data, (1/2) log(s^2 e^12) + 1/2 nats per pixel.

Conventions: natural log; per pixel; sigma a standard deviation, variances squared.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from vaeproofs.symbolic.derivation import Derivation, DerivationBuilder, equation
from vaeproofs.symbolic.facts import FactRecord
from vaeproofs.symbolic.sources import RYBKIN, RYBKIN_CODE

__all__ = ["SOFTCLIP_MIN", "SoftclipFacts", "derive_softclip", "softclip_cap"]

#: The sigma-VAE code's lower soft limit on log sigma.
SOFTCLIP_MIN = -6


def softclip_cap(minimum: sp.Expr = SOFTCLIP_MIN) -> sp.Expr:
    """``-log(2 pi)/2 - m``: the per-pixel cap on a Gaussian log-density with log sigma > m."""
    return -sp.log(2 * sp.pi) / 2 - sp.sympify(minimum)


@dataclass(frozen=True)
class SoftclipFacts(FactRecord):
    """Facts of :func:`derive_softclip`.

    Attributes:
        clipped_above_min: m + softplus(t - m) > m for every real t.
        cap_per_pixel: the cap -log(2 pi)/2 + 6 (nats per pixel).
        cap_approached: the log-density at r = 0 tends to the cap as t -> -oo.
        cap_attained: some real t reaches it (False).
        clip_gradient_limit: d softclip/dt as t -> -oo ("0").
        floor_variance: e^(-12).
        cap_above_gaussian_fit_unit_variance: cap minus -log(2 pi e)/2, for data of
            per-pixel variance 1 (nats per pixel).
    """

    clipped_above_min: bool
    cap_per_pixel: float
    cap_approached: bool
    cap_attained: bool
    clip_gradient_limit: str
    floor_variance: float
    cap_above_gaussian_fit_unit_variance: float

    @property
    def bounded(self) -> bool:
        """The clip keeps log sigma above m, so the density is capped."""
        return self.clipped_above_min and self.cap_approached


def derive_softclip() -> Derivation:
    """Derive the soft-clip cap and its vanishing gradient.

    results: ``clipped`` (in the raw t), ``log_density_at_mean``, ``cap``,
    ``cap_above_fit`` (as a function of the data variance s2).
    facts: :class:`SoftclipFacts`.
    """
    t = sp.Symbol("t", real=True)
    s2 = sp.Symbol("s2", positive=True)
    m = sp.Integer(SOFTCLIP_MIN)
    d = DerivationBuilder(name="softclip", title="sigma-VAE soft clip: log σ > -6 caps the density at "
                   "6 - log(2π)/2 per pixel", sources=[RYBKIN_CODE, RYBKIN])
    softplus = sp.log(1 + sp.exp(t - m))
    clipped = m + softplus
    above = bool(softplus.is_positive)
    d.step("The clipped log σ for a raw output t (softplus > 0, so it exceeds -6):",
           equation(sp.Symbol("log σ"), clipped))
    at_mean = -sp.log(2 * sp.pi) / 2 - clipped
    cap = softclip_cap(m)
    lim = sp.limit(at_mean, t, -sp.oo)
    zero = sp.solveset(softplus, t, sp.S.Reals)
    d.step("A Gaussian factor at its mean has log-density -log(2π)/2 - log σ:",
           equation(sp.Symbol("log N(μ | μ, σ²)"), at_mean))
    d.step("its supremum, approached as t -> -oo:", equation(sp.Limit(sp.Symbol("log N"), t, -sp.oo), lim))
    d.step("and never attained: softplus(t + 6) = 0 has the real solutions", zero)
    grad = sp.diff(clipped, t)
    glim = sp.limit(grad, t, -sp.oo)
    d.step("The clip's derivative vanishes as t -> -oo, so the collapse stalls:",
           equation(sp.Limit(sp.Derivative(sp.Symbol("softclip"), t), t, -sp.oo), glim))
    fit = -sp.log(2 * sp.pi * sp.E * s2) / 2
    above_fit = sp.expand_log(cap - fit, force=True)
    d.step("Relative to data of per-pixel variance s2, the cap exceeds the best Gaussian fit "
           "-log(2πe s2)/2 by", equation(sp.Symbol("cap - fit"), above_fit))
    d.results.update(clipped=clipped, log_density_at_mean=at_mean, cap=cap, cap_above_fit=above_fit)
    facts = SoftclipFacts(
        clipped_above_min=above,
        cap_per_pixel=float(cap),
        cap_approached=bool(sp.simplify(lim - cap) == 0),
        cap_attained=zero != sp.S.EmptySet,
        clip_gradient_limit=sp.sstr(glim),
        floor_variance=float(sp.exp(2 * m)),
        cap_above_gaussian_fit_unit_variance=float(above_fit.subs(s2, 1)),
    )
    return d.build(facts)
