"""The setting shared by the two answer-2 derivations ("answer2", "answer2-learnable-mean").

One data point x = 0, a 1-D latent z with prior N(0, 1), encoder q(z) = N(0, s^2) with
s > 0 a standard deviation, decoder N(x | a z, 1/tau) with precision tau > 0 (a = 1:
the answer's identity mean).  The Gaussian pieces come from
:mod:`vaeproofs.symbolic.gaussian`, derived there by integration (Kingma & Welling 2013,
appendix B; docs/theory.md sections 3.1, 3.2 and 3.6).  Natural logarithms.
"""

from __future__ import annotations

from functools import lru_cache

import sympy as sp

from vaeproofs.symbolic.gaussian import expected_gaussian_log_density, kl_normal_standard
from vaeproofs.symbolic.sources import ANSWER2, KINGMA_WELLING_KL, theory

__all__ = [
    "A2_SOURCES",
    "HALF",
    "LAM",
    "TAU",
    "A",
    "S",
    "clean",
    "identity_mean_pieces",
    "pieces",
    "positive_roots",
]

#: encoder standard deviation s > 0
S = sp.Symbol("s", positive=True)
#: decoder precision tau > 0
TAU = sp.Symbol("tau", positive=True)
#: the answer's lambda (its sign is not assumed, hence only real)
LAM = sp.Symbol("lambda", real=True)
#: decoder mean slope a (the decoder mean is a z)
A = sp.Symbol("a", real=True)
HALF = sp.Rational(1, 2)

#: the sources both answer-2 derivations cite
A2_SOURCES: tuple[str, ...] = (ANSWER2, KINGMA_WELLING_KL,
                               theory("sections 2 (claims answer2.*, comment.*) and 3.6"))


def clean(expr: sp.Expr) -> sp.Expr:
    """Expand logarithms (every symbol is positive where a log appears) and expand."""
    return sp.expand(sp.expand_log(sp.expand(expr), force=True))


def positive_roots(expr: sp.Expr, var: sp.Symbol) -> list[sp.Expr]:
    """Roots of ``expr`` in ``var`` that are not manifestly negative."""
    return [r for r in sp.solve(expr, var) if not r.could_extract_minus_sign()]


def pieces(a: sp.Expr) -> dict[str, sp.Expr]:
    """Expected log-likelihood, KL and ELBO of the example with decoder mean ``a`` z.

    E_{z~N(0, s^2)} log N(0 | a z + 0, 1/tau): x = 0, w = a, b = 0, sigma^2 = 1/tau,
    encoder mean 0 and variance s^2; KL(N(0, s^2) || N(0, 1)).
    """
    elog = clean(expected_gaussian_log_density(0, a, 0, 1 / TAU, 0, S**2))
    kl = clean(kl_normal_standard(0, S**2))
    return {"elog": elog, "kl": kl, "elbo": elog - kl}


@lru_cache(maxsize=1)
def identity_mean_pieces() -> dict[str, sp.Expr]:
    """``elog``, ``kl`` and ``elbo`` of the identity-mean example (a = 1), cached."""
    return pieces(sp.Integer(1))
