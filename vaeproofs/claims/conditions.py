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
        "fixed finite training set, Gaussian decoder with a learned variance and a flexible mean")
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
        "per-pixel learned decoder variance, trained by Adam on 16 real training points (the "
        "memorisation regime)")
    # -- remedies ------------------------------------------------------------------
    SHARED_FLEXIBLE = (
        "fixed finite training set, flexible decoder with one learned variance shared by all "
        "pixels and points")
    LINEAR_SHARED = "linear decoder (k latent dims) with one shared learned variance"
    STUDENT_T = "fixed finite training set, Student-t decoder with a learned scale, no floor"
    # -- vaeproofs audit: the user's own model ---------------------------------------
    AUDIT = ("the user's model on its own training set, with the parameters that actually "
             "train and the user's loss")
    AUDIT_ALL_TRAINABLE = ("the user's variance head as written, every parameter with "
                           "requires_grad free")
    AUDIT_LOSS = "the user's loss read as a Gaussian negative ELBO"
    # -- remedies beyond the thread (numeric) -----------------------------------------
    FRESH_DEQUANTISATION = (
        "integer data dequantised with uniform noise redrawn at every step (the expected "
        "objective over the noise)")
    STATIC_DEQUANTISATION = (
        "integer data dequantised once with the noise kept (a fixed finite training set)")
    DISCRETISED_LIKELIHOOD = (
        "integer data, decoder with a probability mass function per pixel (Gaussian or "
        "logistic integrated over the quantisation bins)")
    CB_INTERIOR_DATA = (
        "fixed finite training set with every value strictly inside (0, 1), continuous "
        "Bernoulli decoder")
    CB_EXACT_BINARY_VALUES = "data containing exact 0s or 1s, continuous Bernoulli decoder"
    GAUSSIAN_NLL_EPS_VARIANCE = (
        "per-pixel Gaussian decoder trained with torch's GaussianNLLLoss(eps): the model's "
        "variance and density")
    GAUSSIAN_NLL_EPS_REPORTED = (
        "per-pixel Gaussian decoder trained with torch's GaussianNLLLoss(eps): the loss value "
        "it reports")
    SOFTCLIP = (
        "fixed finite training set, Gaussian decoder with log sigma soft-clipped from below "
        "(sigma-VAE: -6 + softplus(log sigma + 6))")
    BETA_NLL = (
        "fixed finite training set, per-pixel Gaussian decoder trained with beta-NLL "
        "(weights stopgrad(sigma^(2 beta)))")
    FLOORED_STUDENT_T = (
        "fixed finite training set, Student-t decoder with scale >= s_min > 0, any nu")

    def __str__(self) -> str:
        return self.value
