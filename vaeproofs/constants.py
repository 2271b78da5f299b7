"""Constants and elementary caps shared by every layer (imports neither torch nor sympy).

- :data:`LOG_2PI`: log(2 pi), natural log.
- :func:`gaussian_floor_cap`: the per-point cap -(D/2) log(2 pi xi) on a Gaussian
  log-density whose covariance eigenvalues are all >= xi (Mattei & Frellsen,
  NeurIPS 2018, arXiv 1802.04826, section 2.1; derived symbolically by
  :func:`vaeproofs.symbolic.floor_cap.derive_floor_cap`, which the tests compare with).
- :data:`DECODER_FAMILIES`: the names of the decoder likelihood families, in the order
  the command line lists them; the torch registry :data:`vaeproofs.numeric.heads.HEADS`
  holds exactly these names (tested).
"""

from __future__ import annotations

import math
import sys

from vaeproofs.validation import check_int_range, check_positive

__all__ = ["DECODER_FAMILIES", "LOG_2PI", "gaussian_floor_cap"]

#: log(2 pi), natural logarithm.
LOG_2PI: float = math.log(2.0 * math.pi)

#: The decoder likelihood families (``vaeproofs train --likelihood``), see docs/theory.md section 1.
DECODER_FAMILIES: tuple[str, ...] = (
    "fixed", "shared", "per-pixel", "floor", "bernoulli", "student-t",
    # remedies used in practice (docs/theory.md section 6)
    "softclip", "student-t-floored", "discretised-gaussian", "discretised-logistic",
    "continuous-bernoulli", "gaussian-nll-eps", "beta-nll")


def gaussian_floor_cap(dim: int, xi: float) -> float:
    """The per-point cap -(D/2) log(2 pi xi) on log N(x | mu, Sigma) when every eigenvalue of Sigma >= xi.

    Source: N(x | mu, Sigma) <= (2 pi)^(-D/2) det(Sigma)^(-1/2) <= (2 pi xi)^(-D/2)
    (docs/theory.md section 3; Mattei & Frellsen 2018, section 2.1).  Natural log, one
    value per point summed over the ``dim`` coordinates; ``xi`` is a variance, not a
    standard deviation.  Over n points multiply by n.  Since the KL term is >= 0 the same
    number caps the ELBO per point.

    Raises:
        InvalidArgumentError: ``dim`` not an integer >= 1, or ``xi`` not finite and > 0.
    """
    d = check_int_range("dim", dim, low=1, high=sys.maxsize)
    x = check_positive("xi", xi)
    return -0.5 * d * (LOG_2PI + math.log(x))
