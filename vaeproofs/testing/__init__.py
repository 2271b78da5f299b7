"""Check a user's own VAE loss: is it the negative ELBO, and if not, what is wrong?

:func:`check_gaussian_vae_loss` takes a loss written as
``loss_fn(x, mu_x, logvar_x, mu_z, logvar_z) -> scalar`` (torch tensors, batch first;
``mu_x``/``logvar_x`` the decoder's mean and LOG-VARIANCE at one posterior sample,
``mu_z``/``logvar_z`` the encoder's mean and LOG-VARIANCE) and decides whether it is

    loss = scale * [ sum_b ( -log N(x_b | mu_x, diag exp(logvar_x))
                             + beta * KL(N(mu_z, diag exp(logvar_z)) || N(0, I)) ) ]
           + constant

with scale > 0 and beta > 0, i.e. the negative single-sample ELBO of a Gaussian VAE with
a diagonal-Gaussian decoder, up to a positive scale and an additive constant, possibly
KL-weighted (a beta-VAE, Higgins et al., "beta-VAE: Learning Basic Visual Concepts with a
Constrained Variational Framework", ICLR 2017).  The two pieces are, per point (natural
log; Kingma & Welling 2013, arXiv 1312.6114, appendix B and section C.2)::

    -log N(x | mu, diag v) = 1/2 sum_d [ (x_d - mu_d)^2 / v_d + log v_d + log(2 pi) ]
    KL(N(m, diag s2) || N(0, I)) = 1/2 sum_j [ m_j^2 + s2_j - 1 - log s2_j ]

:func:`check_bernoulli_vae_loss` does the same for a Bernoulli decoder,
``loss_fn(x, logits, mu_z, logvar_z)`` (or probabilities), whose reconstruction is the
binary cross-entropy.

How it decides (:mod:`~vaeproofs.testing.fit`): the loss is evaluated on many designed
random inputs (:mod:`~vaeproofs.testing.design`) at several batch sizes B, data dimensions
D and latent dimensions K, and fitted by least squares with derived round-off bounds
(:mod:`~vaeproofs.testing.least_squares`), with the ELBO forms only, with every term
including planted mistakes (:mod:`~vaeproofs.testing.features`), and, when no term
explains it, with known alternative objectives (:mod:`~vaeproofs.testing.alternatives`:
the sigma-VAE's profiled loss, Rybkin et al. 2021; the capacity objective gamma |KL - C|,
Burgess et al. 2018, arXiv 1804.03599; Laplace / L1).  The mistake is named by a table of
rows, each a predicate on the fitted weights with its own message
(:mod:`~vaeproofs.testing.diagnosis`); sum or mean reductions are read off how the
weights scale with the shape (:mod:`~vaeproofs.testing.reductions`).

A loss that ignores ``logvar_x`` (plain squared error) is the ELBO of a decoder with a FIXED
variance s0^2.  It is reported with ``is_elbo=True``, ``beta=1``, ``fixed_variance=s0^2``:
multiplying -ELBO = sum (x - mu)^2 / (2 s0^2) + KL + const by s0^2 shows it is a beta-VAE
with beta = s0^2 on (x - mu)^2 / 2, i.e. beta = 2 s0^2 on the unhalved (x - mu)^2
(docs/theory.md section 2, remedy.fixed-variance-is-beta-vae);
:func:`assert_gaussian_vae_loss` rejects it when called with ``allow_fixed_variance=False``.

For models rather than losses: :func:`assert_variance_floor` (the static floor of a
variance head is at least a given value), :func:`assert_audit_bounded` (the audit decides
a VAE's objective bounded) and :func:`assert_objective_bounded` (the audit decides any
``objective(model, batch)`` you minimise bounded below), each failing with the audit's
explanation (:mod:`~vaeproofs.testing.floors`).
"""

from __future__ import annotations

from vaeproofs.testing.checks import (
    NotAnElboError,
    assert_bernoulli_vae_loss,
    assert_gaussian_vae_loss,
    check_bernoulli_vae_loss,
    check_gaussian_vae_loss,
)
from vaeproofs.testing.design import LossFunctionError
from vaeproofs.testing.features import BERNOULLI, GAUSSIAN
from vaeproofs.testing.floors import (
    ObjectiveNotBoundedError,
    assert_audit_bounded,
    assert_objective_bounded,
    assert_variance_floor,
)
from vaeproofs.testing.report import LossCheckReport

__all__ = [
    "BERNOULLI_FEATURE_NAMES",
    "FEATURE_NAMES",
    "LossCheckReport",
    "LossFunctionError",
    "NotAnElboError",
    "ObjectiveNotBoundedError",
    "assert_audit_bounded",
    "assert_bernoulli_vae_loss",
    "assert_gaussian_vae_loss",
    "assert_objective_bounded",
    "assert_variance_floor",
    "check_bernoulli_vae_loss",
    "check_gaussian_vae_loss",
]

#: Names of the fitted terms of the Gaussian check, in the order of
#: :attr:`LossCheckReport.coefficients`.
FEATURE_NAMES: tuple[str, ...] = GAUSSIAN.feature_names
#: The same for :func:`check_bernoulli_vae_loss`.
BERNOULLI_FEATURE_NAMES: tuple[str, ...] = BERNOULLI.feature_names
