"""``vaeproofs audit``: is *your* VAE's objective bounded?

- :func:`variance_floor`: the static floor of a decoder's variance head (torch.fx trace,
  float64 interval bounds propagated back to the last trainable operations);
- :func:`audit_vae`: that floor, the loss check and a memorisation probe on a deep copy
  of the model, combined into a verdict by the same rule as ``vaeproofs verify``;
- :func:`audit_objective`: the same question for any ``objective(model, batch)`` you
  minimise (a VAE's loss, a regressor's Gaussian NLL...): its static lower bound on the
  batch and a probe on copies.
"""

from vaeproofs.audit.audit import AuditInterrupted, AuditReport, audit_vae
from vaeproofs.audit.floor import VarianceFloor, static_variance_floor, variance_floor
from vaeproofs.audit.objective import audit_objective

__all__ = ["AuditInterrupted", "AuditReport", "VarianceFloor", "audit_objective", "audit_vae",
           "static_variance_floor", "variance_floor"]
