"""Least squares with derived round-off bounds on the residual and the coefficients.

Round-off bound (derived, not tuned).  The inputs are float32-representable, so a cast to
float32 is exact.  A loss is a sum of T = B (D + K) element-wise terms, each computed with
at most :data:`OPS_PER_TERM` floating-point operations, so its computed value is within
gamma_{T + OPS_PER_TERM} * M of the exact one, where gamma_n = n u / (1 - n u), u the unit
round-off of the precision the loss computes in, and M the sum of the terms' magnitudes
(Higham, "Accuracy and Stability of Numerical Algorithms", 2nd ed. 2002, Lemma 3.1 and
eq. (4.4)).  Our own float64 term sums add the same bound with u = 2^-53.  With this
per-evaluation bound t_i, an exact model's least-squares residual r satisfies
||r||_2 <= ||t||_2 (the residual is the projection of the round-off), and each fitted
coefficient c_j lies within sum_i |pinv(F)_ji| t_i of its exact value.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from vaeproofs.errors import VaeproofsError

__all__ = ["OPS_PER_TERM", "BoundedFit", "IllConditionedError", "bounded_fit", "gamma",
           "lstsq_with_bounds"]

#: Assumed most floating-point operations per element-wise term of a user's loss
#: (e.g. (x - mu)**2 * exp(-logvar) * 0.5 is 5 operations; exp and log counted as one
#: operation with at most a few ulp error).
OPS_PER_TERM = 10
_U64 = float(np.finfo(np.float64).eps) / 2.0
_MAX_CONDITION = 1e8


class IllConditionedError(VaeproofsError):
    """The term columns of a fit are numerically dependent on the designed inputs."""


def gamma(n: int, u: float) -> float:
    """Higham's gamma_n = n u / (1 - n u) (Accuracy and Stability, Lemma 3.1)."""
    nu = n * u
    if nu >= 0.5:
        raise VaeproofsError(f"round-off bound is vacuous for {n} terms at unit round-off {u}")
    return nu / (1.0 - nu)


def lstsq_with_bounds(F: NDArray[np.float64], y: NDArray[np.float64], t: NDArray[np.float64]
                      ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Least squares with column scaling; returns (coef, coef round-off bound, residual).

    Raises :class:`IllConditionedError` when the scaled columns have condition number
    >= 1e8 (the bounds would then be meaningless).
    """
    norms = np.linalg.norm(F, axis=0)
    norms[norms == 0.0] = 1.0
    Fs = F / norms
    cond = np.linalg.cond(Fs)
    if not cond < _MAX_CONDITION:
        raise IllConditionedError(f"the designed term columns are ill-conditioned "
                                  f"(condition number {cond:.3g})")
    pinv = np.linalg.pinv(Fs)
    cs = pinv @ y
    coef = cs / norms
    bound = (np.abs(pinv) @ t) / norms
    resid = y - Fs @ cs
    return coef, bound, resid


@dataclass(frozen=True)
class BoundedFit:
    """A least-squares fit, its coefficient bounds, and its residual against its bound.

    ``residual`` = ||y - F c||_2 and ``tolerance`` = ||t||_2 plus the round-off of the
    residual's own computation (backward-stable solve), both absolute.
    """

    coef: NDArray[np.float64]
    bound: NDArray[np.float64]
    residual: float
    tolerance: float
    roundoff: NDArray[np.float64]

    @property
    def explains(self) -> bool:
        return self.residual <= self.tolerance


def bounded_fit(F: NDArray[np.float64], A: NDArray[np.float64], y: NDArray[np.float64], *,
                n_terms: int, unit_roundoff: float,
                roundoff: NDArray[np.float64] | None = None) -> BoundedFit:
    """Fit ``y ~ F c`` and bound the round-off (module docstring).

    ``A`` holds, per evaluation and column, the sum of the magnitudes of the elements the
    column sums (for a log of a sum S: 1 + |log S|, since a relative error d of S moves
    log S by d).  Without ``roundoff`` the per-evaluation bound t is computed from a first,
    unbounded pass: t_i = (gamma_T(u) + gamma_T(u64)) max(|y_i|, sum_j A_ij |c_j|).
    """
    n = y.shape[0]
    if roundoff is None:
        coef0, _, _ = lstsq_with_bounds(F, y, np.zeros(n))
        magnitude = np.maximum(np.abs(y), A @ np.abs(coef0))
        roundoff = (gamma(n_terms, unit_roundoff) + gamma(n_terms, _U64)) * magnitude
    coef, bound, resid = lstsq_with_bounds(F, y, roundoff)
    ls_slack = 4 * n * F.shape[1] * _U64 * float(np.linalg.norm(A @ np.abs(coef)))
    return BoundedFit(coef, bound, float(np.linalg.norm(resid)),
                      float(np.linalg.norm(roundoff)) + ls_slack, roundoff)
