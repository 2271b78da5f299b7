"""Assertions for users' own test suites: the variance has a floor, the objective is bounded.

As :func:`assert_gaussian_vae_loss` checks a loss, these check a model, for a pytest
suite (as hypothesis or ``sklearn.utils.estimator_checks`` serve theirs):

- :func:`assert_variance_floor`: the static floor of a variance head, from the audit's
  :func:`vaeproofs.audit.variance_floor` (or :func:`~vaeproofs.audit.static_variance_floor`
  for a whole model), is at least ``at_least``; it fails with the audit's explanation;
- :func:`assert_audit_bounded`: :func:`vaeproofs.audit.audit_vae` decides the model's
  objective bounded on the data; it fails with the audit's verdict paragraph;
- :func:`assert_objective_bounded`: :func:`vaeproofs.audit.audit_objective` decides the
  objective you minimise, ``objective(model, batch)``, bounded below on the data (any
  model: a VAE's loss, a regressor's Gaussian NLL); it fails with the audit's verdict.

Both raise :class:`ObjectiveNotBoundedError`, an :class:`AssertionError`, so pytest shows
the message as the failure.  Conventions: the floor is a variance sigma^2 in the data's
units squared; the cap it implies is -1/2 log(2 pi floor) nats per pixel.  The audit
is imported when an assertion runs, not when :mod:`vaeproofs.testing` is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from vaeproofs.errors import InvalidArgumentError
from vaeproofs.validation import check_positive

if TYPE_CHECKING:
    import torch
    from torch import nn

    from vaeproofs.audit import AuditReport, VarianceFloor

__all__ = ["ObjectiveNotBoundedError", "assert_audit_bounded", "assert_objective_bounded",
           "assert_variance_floor"]


class ObjectiveNotBoundedError(AssertionError):
    """The model's variance floor or objective bound is not what the test asserts."""


def assert_variance_floor(module: nn.Module, *, at_least: float, variance: str = "logvar",
                          latent_dim: int | None = None, example: torch.Tensor | None = None,
                          output: int | str = 1, frozen: Iterable[str] = (),
                          forward: Callable[[nn.Module, torch.Tensor], Any] | None = None
                          ) -> VarianceFloor:
    """Assert that output ``output`` of ``module`` has a static variance floor >= ``at_least``.

    Give ``latent_dim`` for a decoder called on z of shape (B, latent_dim), or ``example``
    (an input fixing the shapes; ``forward(module, example)`` for another call).
    Returns the :class:`~vaeproofs.audit.VarianceFloor` when the assertion holds.

    Raises:
        ObjectiveNotBoundedError: the floor is lower than ``at_least``, or undecidable.
        InvalidArgumentError: neither ``latent_dim`` nor ``example`` given, or bad values.
    """
    from vaeproofs.audit import static_variance_floor, variance_floor

    bound = check_positive("at_least", at_least)
    if (latent_dim is None) == (example is None):
        raise InvalidArgumentError("latent_dim", "give exactly one of latent_dim (a decoder) and "
                                                 "example (any module's input)")
    if latent_dim is not None:
        record = variance_floor(module, latent_dim=latent_dim, variance=variance, output=output,
                                frozen=frozen)
    else:
        assert example is not None
        record = static_variance_floor(module, example, variance=variance, output=output,
                                       frozen=frozen, forward=forward)
    if record.floor is None:
        raise ObjectiveNotBoundedError(f"the variance floor is undecided, so it cannot be shown to be "
                                       f">= {bound:.6g}: {record.explanation}")
    if record.floor < bound:
        raise ObjectiveNotBoundedError(f"variance floor {record.floor:.6g} < at_least = {bound:.6g}: "
                                       f"{record.explanation}")
    return record


def assert_audit_bounded(model: nn.Module, data: Any, **audit_vae_kwargs: Any) -> AuditReport:
    """Assert that :func:`vaeproofs.audit.audit_vae` decides the objective bounded.

    ``audit_vae_kwargs`` go to :func:`~vaeproofs.audit.audit_vae` (``variance`` is
    required there; ``steps=0`` skips its memorisation probe and decides from the static
    floor and the loss check alone).  Returns the report when the assertion holds.

    Raises:
        ObjectiveNotBoundedError: the audit decides ``fails``, ``conflict`` or ``undecided``.
    """
    from vaeproofs.audit import audit_vae

    report = audit_vae(model, data, **audit_vae_kwargs)
    if report.bounded is not True:
        raise ObjectiveNotBoundedError(f"the audit's decision is {report.decision!r}, not bounded: "
                                       f"{report.verdict}")
    return report


def assert_objective_bounded(model: nn.Module, data: Any, objective: Callable[[nn.Module, Any], Any],
                             **audit_objective_kwargs: Any) -> AuditReport:
    """Assert that :func:`vaeproofs.audit.audit_objective` decides ``objective`` bounded.

    ``objective(model, batch)`` is the scalar loss you minimise (so "bounded" means bounded
    below: the objective it negates cannot run off to +inf); ``data`` is an array, a tuple
    of arrays or a DataLoader, as :func:`~vaeproofs.audit.audit_objective` takes it, and
    ``audit_objective_kwargs`` go there (``optimizer``, ``steps``, ``variance``...).
    Returns the report (its ``loss_lower_bound`` is the proven bound) when the assertion holds.

    Raises:
        ObjectiveNotBoundedError: the audit decides ``fails``, ``conflict`` or ``undecided``.
    """
    from vaeproofs.audit import audit_objective

    report = audit_objective(model, data, objective, **audit_objective_kwargs)
    if report.bounded is not True:
        bound = report.loss_lower_bound
        shown = "none" if bound is None else f"{bound:.6g}"
        raise ObjectiveNotBoundedError(f"the audit's decision is {report.decision!r}, not bounded "
                                       f"(proven lower bound of the loss: {shown}): {report.verdict}")
    return report
