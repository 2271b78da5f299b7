"""The terms a checked loss is fitted with: ELBO pieces and planted-mistake pieces.

Every term is a sum over the batch (and over pixels or latents) of one element-wise
expression of the designed inputs.  The arrays are named as in the loss's signature:
``x``, ``mu_x``, ``logvar_x`` (Gaussian decoder: mean and LOG-VARIANCE), ``nlp`` =
-log p and ``nl1mp`` = -log(1 - p), ``p`` (Bernoulli decoder: probability of a 1), and
``mu_z``, ``logvar_z`` (encoder mean and LOG-VARIANCE).  Natural log throughout.

ELBO pieces, per element (Kingma & Welling 2013, arXiv 1312.6114, appendix B and C.2)::

    -log N(x | mu, v)        = 1/2 [ (x - mu)^2 / v + log v + log(2 pi) ]
    -log Bernoulli(x | p)    = -x log p - (1 - x) log(1 - p)       (binary cross-entropy)
    KL(N(m, s2) || N(0, 1))  = 1/2 [ m^2 + s2 - 1 - log s2 ]

Each :class:`Likelihood` lists its reconstruction terms and its ELBO "families": the
weights, relative to each other, with which an ELBO combines them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
from numpy.typing import NDArray

__all__ = ["BERNOULLI", "GAUSSIAN", "KL_FAMILY", "KL_TERMS", "Likelihood", "term_sums"]

Arrays = Mapping[str, NDArray[np.float64]]
Term = Callable[[Arrays], NDArray[np.float64]]

LOG_2PI = math.log(2.0 * math.pi)


def _sq_err(a: Arrays) -> NDArray[np.float64]:
    return (a["x"] - a["mu_x"]) ** 2


#: Gaussian reconstruction terms; the comment says which mistake each one plants.
_GAUSSIAN_RECON: dict[str, Term] = {
    "sq_err/var": lambda a: _sq_err(a) * np.exp(-a["logvar_x"]),          # ELBO
    "logvar_x": lambda a: a["logvar_x"],                                  # ELBO
    "sq_err/var^2": lambda a: _sq_err(a) * np.exp(-2.0 * a["logvar_x"]),  # log-std as logvar
    "sq_err/std": lambda a: _sq_err(a) * np.exp(-0.5 * a["logvar_x"]),    # divided by std
    "sq_err*var": lambda a: _sq_err(a) * np.exp(a["logvar_x"]),           # sign in exponent
    "sq_err": _sq_err,                                                    # fixed variance
}

#: Bernoulli reconstruction terms (p the decoder's probability of a 1).
_BERNOULLI_RECON: dict[str, Term] = {
    "-x log p": lambda a: a["x"] * a["nlp"],                              # ELBO
    "-(1-x) log(1-p)": lambda a: (1.0 - a["x"]) * a["nl1mp"],             # ELBO
    # binary_cross_entropy_with_logits applied to probabilities: sigmoid applied twice,
    # softplus(p) - x p = -x log sigmoid(p) - (1 - x) log(1 - sigmoid(p)).
    "bce_logits(p)": lambda a: np.logaddexp(0.0, a["p"]) - a["x"] * a["p"],
    "(x-p)^2": lambda a: (a["x"] - a["p"]) ** 2,                          # squared error on p
}

#: KL terms (the encoder's part).
KL_TERMS: Mapping[str, Term] = MappingProxyType({
    "mu_z^2": lambda a: a["mu_z"] ** 2,                                   # ELBO
    "var_z": lambda a: np.exp(a["logvar_z"]),                             # ELBO
    "logvar_z": lambda a: a["logvar_z"],                                  # ELBO
    "var_z^2": lambda a: np.exp(2.0 * a["logvar_z"]),                     # log-std as logvar
    "std_z": lambda a: np.exp(0.5 * a["logvar_z"]),                       # std for variance
    "1/var_z": lambda a: np.exp(-a["logvar_z"]),                          # sign in exponent
})
#: The KL's ELBO form: sum(m^2 + s2 - log s2) = 2 KL + (number of latents).
KL_FAMILY: Mapping[str, float] = MappingProxyType({"mu_z^2": 1.0, "var_z": 1.0,
                                                   "logvar_z": -1.0})


@dataclass(frozen=True)
class Family:
    """One ELBO form of the reconstruction: ``column = sum_j weights[j] * term_j``.

    ``nll = nll_per_column * column + const_per_element * (B D)`` is the negative
    log-likelihood summed over the batch and pixels; ``fixed_variance`` marks the
    squared-error form whose variance s0^2 is absorbed in the weight.
    """

    weights: Mapping[str, float]
    nll_per_column: float
    const_per_element: float
    fixed_variance: bool = False


@dataclass(frozen=True)
class Likelihood:
    """A decoder family: its reconstruction terms and its ELBO forms."""

    name: str
    recon: Mapping[str, Term]
    families: Mapping[str, Family]

    @property
    def feature_names(self) -> tuple[str, ...]:
        return (*self.recon, *KL_TERMS, "const")


GAUSSIAN = Likelihood(
    "gaussian", MappingProxyType(_GAUSSIAN_RECON), MappingProxyType({
        # 1/2 sum[(x - mu)^2 / v + log v] + 1/2 log(2 pi) per element.
        "learned": Family(MappingProxyType({"sq_err/var": 1.0, "logvar_x": 1.0}), 0.5,
                          0.5 * LOG_2PI),
        # sum (x - mu)^2 / (2 s0^2) + 1/2 log(2 pi s0^2) per element: s0^2 in the weight.
        "fixed": Family(MappingProxyType({"sq_err": 1.0}), math.nan, math.nan,
                        fixed_variance=True),
    }))
BERNOULLI = Likelihood(
    "bernoulli", MappingProxyType(_BERNOULLI_RECON), MappingProxyType({
        "bernoulli": Family(MappingProxyType({"-x log p": 1.0, "-(1-x) log(1-p)": 1.0}),
                            1.0, 0.0),
    }))


def term_sums(terms: Mapping[str, Term], arrays: Arrays
              ) -> tuple[list[NDArray[np.float64]], list[NDArray[np.float64]]]:
    """Per evaluation: the sum of each term and the sum of its absolute values.

    Arrays are (n, B, D) or (n, B, K); the sums are over the last two axes, shape (n,).
    """
    cols, abs_cols = [], []
    for fn in terms.values():
        v = fn(arrays)
        cols.append(v.sum(axis=(1, 2)))
        abs_cols.append(np.abs(v).sum(axis=(1, 2)))
    return cols, abs_cols
