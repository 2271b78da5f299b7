"""The decoder-head interface, its registry, shared options and the caps in absolute units.

A head turns the decoder network's raw output into a per-pixel distribution over x.
Each family is one small subclass of :class:`LikelihoodHead` with a ``name``: it
registers itself in :data:`HEADS` and becomes available to :func:`make_head`,
:class:`~vaeproofs.numeric.training.TrainConfig` and ``vaeproofs train --likelihood``.

Conventions (all heads):

- natural logarithms; :meth:`LikelihoodHead.log_prob` returns log p(x | z) **summed over
  the D pixels**, one value **per point** (shape = the batch shape of ``x``); for a
  probability-mass head (discrete data) it is a log-probability, for the others a
  log-density;
- "variance" means sigma^2, never sigma; :meth:`LikelihoodHead.variance` returns the
  per-pixel quantity the decoder reports (each head's docstring says which: a
  variance, or the squared scale of a Student-t or discretised head);
- :meth:`LikelihoodHead.cap` is an upper bound on log p(x | z) per point that holds for
  **every** parameter value (``None`` when no such bound exists).  Since the KL term is
  >= 0, the same number bounds the ELBO per point;
- :meth:`LikelihoodHead.objective` is the per-point quantity whose gradient training
  follows.  It equals :meth:`log_prob` except for heads that reproduce a loss used in
  practice (``gaussian-nll-eps``, ``beta-nll``): training then follows that loss, while
  :meth:`log_prob` stays the model's true log-density, so the reported ELBO is the true one.

The decoder network outputs ``params_per_pixel * D`` numbers per latent vector, laid
out as consecutive blocks of D (e.g. ``[mu, log sigma^2]`` for the per-pixel head).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

from torch import Tensor, nn

from vaeproofs.constants import LOG_2PI, gaussian_floor_cap
from vaeproofs.errors import InvalidArgumentError
from vaeproofs.validation import check_positive

__all__ = [
    "HEADS",
    "HeadOptions",
    "LikelihoodHead",
    "cap_relative_to_data",
    "equivalent_variance_floor",
    "gaussian_log_density_cap",
    "make_head",
]


#: name -> head class, filled in by :meth:`LikelihoodHead.__init_subclass__`.
HEADS: dict[str, type[LikelihoodHead]] = {}


def gaussian_log_density_cap(dim: int, variance_floor: float) -> float:
    """Upper bound -(D/2) log(2 pi xi) on log N(x | mu, Sigma) when every eigenvalue of Sigma >= xi.

    The one implementation is :func:`vaeproofs.constants.gaussian_floor_cap`; this name is
    kept for the heads' callers.  Per point, natural log; ``variance_floor`` is a variance.
    """
    return gaussian_floor_cap(dim, variance_floor)


def equivalent_variance_floor(cap_per_pixel: float) -> float:
    """The Gaussian variance xi_eq whose density cap -(1/2) log(2 pi xi_eq) equals ``cap_per_pixel``.

    xi_eq = exp(-2 c) / (2 pi) for a cap of c nats per pixel (natural log).  It puts any
    per-pixel log-density cap on the scale of a variance floor, so that caps of different
    families (soft clip, floored Student-t, a clamp) can be compared with each other and
    with the data's spread.
    """
    c = float(cap_per_pixel)
    if not math.isfinite(c):
        raise InvalidArgumentError("cap_per_pixel", f"must be a finite number, got {c}")
    return math.exp(-2.0 * c - LOG_2PI)


def cap_relative_to_data(cap_per_pixel: float, data_variance: float) -> float:
    """A per-pixel cap as a fraction of the data's per-pixel variance: xi_eq / var(x).

    ``xi_eq`` is :func:`equivalent_variance_floor` of the cap (nats per pixel, natural log);
    ``data_variance`` is a variance (> 0), e.g. the mean over pixels of the per-pixel
    variance of the training data.  A floor is in absolute units, so the same cap is
    harmless on data of variance 1 and binding on data scaled to [0, 1e-3]: a ratio
    far below 1 means the floor only stops a collapse far below the data's own spread
    (the memorising regime), a ratio near or above 1 means it limits ordinary fits.
    """
    v = check_positive("data_variance", data_variance)
    return equivalent_variance_floor(cap_per_pixel) / v


@dataclass(frozen=True)
class HeadOptions:
    """Hyper-parameters a head may use; each head reads only its own.

    - ``xi``: variance floor of the ``floor`` head (> 0);
    - ``fixed_std``: standard deviation s0 of the ``fixed`` head (> 0);
    - ``nu``: degrees of freedom of the Student-t heads (> 0);
    - ``s_min``: scale floor (a standard-deviation-like scale, > 0) of ``student-t-floored``;
    - ``softclip_min``: the lower soft bound on log sigma of ``softclip`` (sigma-VAE: -6);
    - ``nll_eps``: the ``eps`` of torch's ``GaussianNLLLoss`` in ``gaussian-nll-eps`` (> 0);
    - ``beta_nll``: the exponent beta of ``beta-nll`` (>= 0; 0 is the plain NLL);
    - ``levels``: number of quantisation levels of the discretised heads (data k/(L-1)).
    """

    xi: float = 1e-3
    fixed_std: float = 0.1
    nu: float = 3.0
    s_min: float = 1e-3
    softclip_min: float = -6.0
    nll_eps: float = 1e-6
    beta_nll: float = 0.5
    levels: int = 17


class LikelihoodHead(nn.Module):
    """Base class of the decoder families.  Subclasses set ``name`` and ``params_per_pixel``."""

    name: ClassVar[str] = ""
    params_per_pixel: ClassVar[int] = 1
    #: True when the family needs x in {0, 1}.
    binary_data: ClassVar[bool] = False
    #: True when the family needs x on the grid k/(levels - 1) (integer, not dequantised, data).
    grid_data: ClassVar[bool] = False
    #: True when the family needs x in [0, 1].
    unit_interval_data: ClassVar[bool] = False
    #: True when log p is a log-probability (a mass function), not a log-density.
    mass_function: ClassVar[bool] = False
    #: True when :meth:`objective` differs from :meth:`log_prob`.
    distinct_objective: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        if cls.name:
            if cls.name in HEADS:
                raise TypeError(f"likelihood head {cls.name!r} is defined twice")
            HEADS[cls.name] = cls

    @classmethod
    def from_options(cls, options: HeadOptions) -> LikelihoodHead:
        """Build the head from the shared options (default: no hyper-parameters)."""
        return cls()

    def split(self, out: Tensor) -> tuple[Tensor, ...]:
        """Split the decoder output (..., params_per_pixel * D) into blocks of D."""
        return tuple(out.chunk(self.params_per_pixel, dim=-1))

    def log_prob(self, x: Tensor, out: Tensor) -> Tensor:
        """log p(x | z) summed over pixels, per point (natural log)."""
        raise NotImplementedError

    def objective(self, x: Tensor, out: Tensor) -> Tensor:
        """The per-point quantity training maximises (default: :meth:`log_prob`)."""
        return self.log_prob(x, out)

    def mean(self, out: Tensor) -> Tensor:
        """The decoder mean E[x | z], per pixel."""
        return self.split(out)[0]

    def variance(self, out: Tensor) -> Tensor:
        """Per-pixel decoder variance sigma^2(z), same shape as :meth:`mean`."""
        raise NotImplementedError

    def cap(self, dim: int) -> float | None:
        """Upper bound on log p(x | z) per point for all parameters, or ``None`` if unbounded."""
        return None

    def objective_cap(self, dim: int) -> float | None:
        """Upper bound on :meth:`objective` per point for all parameters (default: :meth:`cap`)."""
        return self.cap(dim)


def make_head(name: str, options: HeadOptions | None = None) -> LikelihoodHead:
    """Build the head registered as ``name`` (one of :data:`HEADS`)."""
    cls = HEADS.get(name)
    if cls is None:
        raise InvalidArgumentError(
            "likelihood", f"must be one of {', '.join(sorted(HEADS))}, got {name!r}")
    return cls.from_options(options or HeadOptions())
