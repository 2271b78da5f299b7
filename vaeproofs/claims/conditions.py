"""The closed vocabulary of settings that claims are judged in.

A claim's *scope* and every piece of evidence's *condition* are members of
:class:`Condition`; the verdict rule (:mod:`vaeproofs.claims.verdict`) compares
members, never free text.  A misspelt condition is therefore an ``AttributeError``
at import time (and a type error in a checker), not a silently undecided claim.

Each member's value is the sentence the report prints.  The wording states the
setting precisely: the unboundedness results are about a *fixed finite training
set* (or data on a lower-dimensional set), never about the population objective.
"""

from __future__ import annotations

from enum import Enum

__all__ = ["Condition"]


class Condition(str, Enum):
    """A setting under which a statement is judged (the value is its printed text)."""

    # -- the thread's question and first answer ------------------------------------
    FLEXIBLE_LEARNED_VARIANCE = (
        "fixed finite training set, Gaussian decoder with a z-dependent learned variance and any "
        "mean that can output one training point (a constant mean suffices)")
    FLOORED = "fixed finite training set, decoder variance eigenvalues >= xi > 0"
    BERNOULLI = "fixed finite training set of binary data, Bernoulli decoder"
    FIXED_VARIANCE = "Gaussian decoder with fixed variance s0^2"
    MEAN_ONLY_SQUARED_ERROR = (
        "mean-only decoder trained with squared error, read as a Gaussian with fixed isotropic "
        "variance s0^2 I")
    PLAIN_SQUARED_ERROR_AS_IDENTITY = (
        "plain (unhalved) squared error + KL read as identity covariance")
    # -- the second answer and its comment -----------------------------------------
    ANSWER2_EXAMPLE = "the answer's 1-D example (x = 0, identity decoder mean, precision tau)"
    ANSWER2_OBJECTIVE = "the answer's objective as written (lambda s^2 with a plus sign)"
    LEARNABLE_MEAN = "the same 1-D example with a learnable decoder mean a*z"
    LEARNABLE_MEAN_FIXED_S = (
        "the same 1-D example once the decoder mean a*z is learnable (a = 0, any fixed s)")
    # -- the third answer ----------------------------------------------------------
    PER_PIXEL_TRAINED = (
        "per-pixel learned decoder variance, trained by Adam on real digits: 16 training points "
        "(the memorisation regime) and, in the onset study, all 1438 dequantised training digits")
    ONSET_STUDY = (
        "Gaussian decoders trained by Adam on 16 up to all 1438 dequantised digits within a fixed "
        "step budget (the onset-of-collapse study)")
    # -- remedies ------------------------------------------------------------------
    SHARED_FLEXIBLE = (
        "fixed finite training set, one learned variance shared by all pixels and points, a "
        "decoder mean that can interpolate all n points")
    LINEAR_SHARED = "linear decoder (k latent dims) with one shared learned variance"
    STUDENT_T = "fixed finite training set, Student-t decoder with a learned scale, no floor"
    # -- vaeproofs audit: the user's own model ---------------------------------------
    AUDIT = ("the user's model on its own training set, with the parameters that actually "
             "train and the user's loss")
    AUDIT_ALL_TRAINABLE = ("the user's variance head as written, every parameter with "
                           "requires_grad free")
    AUDIT_LOSS = "the user's loss read as a Gaussian negative ELBO"
    # -- beyond the thread ---------------------------------------------------------
    POPULATION_DENSITY = (
        "population objective: expectation over a data distribution with a density and finite "
        "differential entropy h(p), any decoder family (per-pixel learned variance included)")
    FINITE_SAMPLE = (
        "the same objective on a fixed finite training set (atomic empirical distribution, "
        "no density)")
    LOWER_DIMENSIONAL_POPULATION = (
        "population supported on a lower-dimensional set (no density in R^D), flexible "
        "Gaussian decoder")
    INFINITE_NEGENTROPY = "population with a density but h(p) = -infinity"
    FRESH_DEQUANTISATION = (
        "n distinct points on a grid of spacing Delta in D dimensions, uniform noise on the "
        "cells drawn afresh at every step, any decoder family; the bound is on the average over "
        "the n points of the expected objective")
    STATIC_DEQUANTISATION = (
        "the statement's second part, that the same grid points with the uniform noise drawn "
        "once and kept (a fixed finite set) leave the objective unbounded (flexible Gaussian "
        "decoder with a learned variance)")
    PMF_DECODER = (
        "fixed finite training set of discrete data, decoder with a probability mass function "
        "per pixel (categorical, discretised logistic, bin-integrated Gaussian), any learned "
        "scale")
    DENSITY_ON_DISCRETE = (
        "the same discrete data with a density decoder (Gaussian with a learned variance)")
    CONTINUOUS_BERNOULLI_ENDPOINTS = (
        "fixed finite training set in [0, 1] that contains exact 0 or 1 values, continuous "
        "Bernoulli decoder")
    CONTINUOUS_BERNOULLI_INTERIOR = (
        "fixed finite training set in [delta, 1 - delta], delta > 0, continuous Bernoulli "
        "decoder")
    TORCH_CONTINUOUS_BERNOULLI = (
        "PyTorch's ContinuousBernoulli as implemented (probs clamped to [finfo.eps, "
        "1 - finfo.eps] in the normaliser)")
    GAUSSIAN_NLL_EPS_VARIANCE = (
        "fixed finite training set, flexible Gaussian decoder trained with PyTorch's "
        "GaussianNLLLoss(eps): the decoder's variance")
    GAUSSIAN_NLL_EPS_LOSS = "PyTorch's GaussianNLLLoss(eps): the reported loss value"
    SOFTCLIP = (
        "fixed finite training set, Gaussian decoder with log sigma soft-clipped from below "
        "(sigma-VAE code, min = -6)")
    BETA_NLL = (
        "fixed finite training set, flexible Gaussian decoder trained with beta-NLL, "
        "0 < beta <= 1")
    STUDENT_T_FLOORED = (
        "fixed finite training set, Student-t decoder with scale >= s_min > 0, any nu > 0")
    GAUSSIAN_MIXTURE = (
        "Gaussian-mixture maximum likelihood on a fixed finite set, a component's variance "
        "free to shrink")
    SINGLE_GAUSSIAN = (
        "one Gaussian, 1-D or isotropic, fitted by maximum likelihood to n >= 2 distinct points "
        "(a full-covariance Gaussian in R^D needs points that affinely span R^D)")
    # -- the collapse mechanism's conditions (docs/theory.md section 1) ---------------
    SHARED_VARIANCE_MIXTURE = (
        "Gaussian-mixture maximum likelihood on n distinct points, K components with one shared "
        "variance (the finite analogue of the shared-variance claims)")
    FIXED_ENCODERS = (
        "fixed finite training set, z-dependent learned decoder variance and constant mean, the "
        "Gaussian encoders held fixed (they do not concentrate)")
    # -- beyond the thread, second round ---------------------------------------------
    LINEAR_FLOORED = (
        "linear decoder (k latent dims) with one shared learned variance sigma^2 >= xi >= 0, "
        "encoder with a linear mean and a diagonal or full covariance, fixed finite training set")
    REGRESSION_FLEXIBLE = (
        "fixed finite regression data set (inputs x_i, targets y_i), flexible Gaussian "
        "mean-variance regressor fitted by the NLL, with or without a variance floor xi")
    # -- the KL's price: single-point collapse, fixed encoder variance, beta < 1 ----
    SINGLE_POINT_COLLAPSE = (
        "fixed finite training set, Gaussian decoder whose variance depends on z (down to "
        "v_min) and whose mean equals one training point x_i on a half-space A of latent space "
        "(a constant mean allowed), Gaussian encoders with free means and variances")
    SINGLE_POINT_ENCODER_FLOOR = (
        "the same decoder family with every Gaussian encoder variance bounded below by "
        "s_min^2 > 0 (encoder means free)")
    SINGLE_POINT_FIXED_ENCODERS = (
        "the same decoder family with every encoder held fixed (means and variances)")
    FIXED_ENCODER_VARIANCE = (
        "fixed finite training set of n distinct points in R^D, Gaussian encoders with "
        "covariance fixed at s0^2 I_k and free means (k >= n - 1), flexible decoder mean, one "
        "learned decoder variance shared by all pixels and points")
    FIXED_ENCODER_LIKELIHOOD = (
        "the exact log-likelihood of the same decoder family (flexible mean, one shared "
        "variance), which involves no encoder")
    POPULATION_BETA_BELOW_ONE = (
        "population objective for data with a density and finite entropy, KL term weighted by "
        "beta < 1 (KL annealing, beta-VAE with beta < 1), one learned decoder variance, latent "
        "dimension k >= D")
    POPULATION_BETA_AT_LEAST_ONE = (
        "the same population objective with KL weight beta >= 1 (beta = 1: the ELBO)")

    def __str__(self) -> str:
        return self.value
