"""Decoder likelihood heads: the density (or mass function) p_theta(x | z) of each family.

One module per concept; importing this package registers every family in :data:`HEADS`:

- :mod:`~vaeproofs.numeric.heads.base`: the interface, registry, options and the caps in
  absolute units (:func:`gaussian_log_density_cap`, :func:`cap_relative_to_data`);
- :mod:`~vaeproofs.numeric.heads.gaussian`: ``fixed``, ``shared``, ``per-pixel``,
  ``floor``, ``softclip``;
- :mod:`~vaeproofs.numeric.heads.discrete`: ``bernoulli``, ``discretised-gaussian``,
  ``discretised-logistic`` (probability mass functions: cap 0);
- :mod:`~vaeproofs.numeric.heads.student_t`: ``student-t``, ``student-t-floored``;
- :mod:`~vaeproofs.numeric.heads.continuous_bernoulli`: ``continuous-bernoulli``;
- :mod:`~vaeproofs.numeric.heads.losses`: ``gaussian-nll-eps``, ``beta-nll`` (per-pixel
  Gaussians trained with a loss used in practice).

Conventions are stated in :mod:`~vaeproofs.numeric.heads.base`.
"""

from vaeproofs.numeric.heads.base import (
    HEADS,
    HeadOptions,
    LikelihoodHead,
    cap_relative_to_data,
    equivalent_variance_floor,
    gaussian_log_density_cap,
    make_head,
)
from vaeproofs.numeric.heads.continuous_bernoulli import (
    ContinuousBernoulli,
    continuous_bernoulli_log_normaliser,
    continuous_bernoulli_sup_log_density,
)
from vaeproofs.numeric.heads.discrete import Bernoulli, DiscretisedGaussian, DiscretisedLogistic
from vaeproofs.numeric.heads.gaussian import (
    FixedGaussian,
    FlooredGaussian,
    PerPixelGaussian,
    SharedGaussian,
    SoftClipGaussian,
)
from vaeproofs.numeric.heads.losses import BetaNLLGaussian, GaussianNLLEps
from vaeproofs.numeric.heads.student_t import (
    FlooredStudentT,
    StudentT,
    student_t_log_density_cap,
    student_t_log_normaliser,
)

__all__ = [
    "HEADS",
    "Bernoulli",
    "BetaNLLGaussian",
    "ContinuousBernoulli",
    "DiscretisedGaussian",
    "DiscretisedLogistic",
    "FixedGaussian",
    "FlooredGaussian",
    "FlooredStudentT",
    "GaussianNLLEps",
    "HeadOptions",
    "LikelihoodHead",
    "PerPixelGaussian",
    "SharedGaussian",
    "SoftClipGaussian",
    "StudentT",
    "cap_relative_to_data",
    "continuous_bernoulli_log_normaliser",
    "continuous_bernoulli_sup_log_density",
    "equivalent_variance_floor",
    "gaussian_log_density_cap",
    "make_head",
    "student_t_log_density_cap",
    "student_t_log_normaliser",
]
