"""The catalog of named derivations, for ``vaeproofs derive NAME`` and the report.

Each entry maps a derivation's name to ``"module:function"``; the function takes no
arguments and returns a :class:`~vaeproofs.symbolic.derivation.Derivation`.  Modules
are imported only when a derivation is asked for, so listing the catalog is cheap.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from vaeproofs.errors import InvalidArgumentError
from vaeproofs.symbolic.derivation import Derivation

__all__ = ["CATALOG", "derive", "names"]

CATALOG: dict[str, tuple[str, str]] = {
    # name: ("module:function", one-line description).  One name per derivation: the
    # module is vaeproofs/symbolic/<name with underscores>.py (except the two Gaussian
    # building blocks, both in gaussian.py) and the script derivations/<same>.py.
    "gaussian-kl": ("vaeproofs.symbolic.gaussian:derive_kl",
                    "KL(N(m, s^2) || N(0, 1)) by integration, summed over a diagonal"),
    "gaussian-expected-loglik": ("vaeproofs.symbolic.gaussian:derive_expected_log_density",
                                 "E_q[log N(x | w z + b, sigma^2)] for Gaussian q"),
    "linear-elbo": ("vaeproofs.symbolic.linear_elbo:derive_linear_elbo",
                    "closed-form linear-Gaussian ELBO, exact marginal, posterior, gap = KL"),
    "ppca": ("vaeproofs.symbolic.ppca:derive_ppca",
             "probabilistic PCA maximum likelihood; the linear VAE attains it"),
    "ppca-degenerate": ("vaeproofs.symbolic.ppca_degenerate:derive_ppca_degenerate",
                        "rank r <= k data: the supremum is +infinity, rate (D - r)/2"),
    "answer2": ("vaeproofs.symbolic.answer2:derive_answer2",
                "the second answer's 1-D KL-versus-precision example, re-derived"),
    "answer2-learnable-mean": (
        "vaeproofs.symbolic.answer2_learnable_mean:derive_answer2_learnable_mean",
        "the same example with a learnable decoder mean a*z"),
    "floor-cap": ("vaeproofs.symbolic.floor_cap:derive_floor_cap",
                  "Gaussian density cap under a variance floor xi"),
    "bernoulli-cap": ("vaeproofs.symbolic.bernoulli_cap:derive_bernoulli_cap",
                      "Bernoulli log-likelihood <= 0"),
    "fixed-variance-beta": ("vaeproofs.symbolic.fixed_variance_beta:derive_fixed_variance_beta",
                            "fixed variance = squared error + constants = beta-VAE, "
                            "beta = 2 s0^2"),
    "shared-variance": ("vaeproofs.symbolic.shared_variance:derive_shared_variance",
                        "ELBO-optimal shared variance and the profiled objective"),
    # -- beyond the thread ----------------------------------------------------------
    "population": ("vaeproofs.symbolic.population:derive_population",
                   "Gibbs: E_p[log q] <= -h(p) for a population with a density"),
    "dequantisation": ("vaeproofs.symbolic.dequantisation:derive_dequantisation",
                       "fresh uniform noise: E[log q] <= D log(1/Delta) - log n"),
    "discretised": ("vaeproofs.symbolic.discretised:derive_discretised",
                    "pmf decoders: log P <= 0; sup -n log n over n distinct points"),
    "continuous-bernoulli": ("vaeproofs.symbolic.continuous_bernoulli:"
                             "derive_continuous_bernoulli",
                             "C(l); log p(0 | l) -> oo like log log(1/l)"),
    "gaussian-nll-eps": ("vaeproofs.symbolic.gaussian_nll_eps:derive_gaussian_nll_eps",
                         "PyTorch GaussianNLLLoss(eps): loss floored, variance not"),
    "softclip": ("vaeproofs.symbolic.softclip:derive_softclip",
                 "sigma-VAE soft clip: cap 6 - log(2 pi)/2 per pixel"),
    "beta-nll": ("vaeproofs.symbolic.beta_nll:derive_beta_nll",
                 "beta-NLL: stationary variance r^2, collapse slowed not prevented"),
    "student-t-floored": ("vaeproofs.symbolic.student_t_floored:derive_student_t_floored",
                          "floored Student-t: cap log c(nu) - log s_min, any nu"),
    "mixture": ("vaeproofs.symbolic.mixture:derive_mixture",
                "Gaussian mixture unbounded, one Gaussian bounded; the VAE as a mixture"),
    "floor-collapse": ("vaeproofs.symbolic.floor_collapse:derive_floor_collapse",
                       "linear VAE, sigma^2 >= xi: sigma^2 = max(xi, sigma^2_ML), posterior "
                       "collapse of every l_j <= sigma^2"),
    "heteroscedastic": ("vaeproofs.symbolic.heteroscedastic:derive_heteroscedastic",
                        "mean-variance regression: sup per input -(m/2)(log(2 pi s^2) + 1), "
                        "+oo iff all its targets are equal"),
    # -- the KL's price (single-point collapse, fixed encoder variance, beta < 1) ----
    "single-point-collapse": ("vaeproofs.symbolic.single_point_collapse:"
                              "derive_single_point_collapse",
                              "half-space collapse in the ELBO: (1/2) log log(1/v_min) per point"),
    "fixed-encoder-variance": ("vaeproofs.symbolic.fixed_encoder_variance:"
                               "derive_fixed_encoder_variance",
                               "fixed encoder variance s0^2: unbounded iff D >= 4 s0^2 (n-1)/n"),
    "population-beta": ("vaeproofs.symbolic.population_beta:derive_population_beta",
                        "beta-weighted population objective: <= -h(p) iff beta >= 1"),
}


def names() -> list[str]:
    """The names of all derivations, in catalog order."""
    return list(CATALOG)


def _resolve(name: str) -> Callable[[], Derivation[Any, Any]]:
    if name not in CATALOG:
        raise InvalidArgumentError(
            "name", f"unknown derivation {name!r}; valid names: {', '.join(CATALOG)}")
    module_name, func_name = CATALOG[name][0].split(":")
    return getattr(importlib.import_module(module_name), func_name)


def derive(name: str) -> Derivation[Any, Any]:
    """Run the derivation called ``name`` and return it."""
    return _resolve(name)()
