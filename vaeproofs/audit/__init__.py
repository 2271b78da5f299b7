"""``vaeproofs audit``: is *your* VAE's objective bounded?

- :func:`variance_floor`, :func:`static_variance_floor`: the static floor of a model's
  variance output (the code run once and traced to ATen operations, outward-rounded
  float64 intervals propagated through one rule per operation);
- :func:`static_loss_bound`: a proven lower bound of the user's whole objective on a
  fixed batch, over every value of the trainable parameters;
- :func:`audit_vae`: that floor, the loss check and a memorisation probe on a deep copy
  of the model, combined into a verdict by the same rule as ``vaeproofs verify``;
- :func:`audit_objective`: the same question for any ``objective(model, batch)`` you
  minimise (a VAE's loss, a regressor's Gaussian NLL...): its static lower bound on the
  batch and a probe on copies.
"""

from vaeproofs.audit.audit import AuditInterrupted, AuditReport, audit_vae
from vaeproofs.audit.floor import VarianceFloor, static_variance_floor, variance_floor
from vaeproofs.audit.loss_bound import LossBound, static_loss_bound
from vaeproofs.audit.objective import audit_objective

__all__ = ["AuditInterrupted", "AuditReport", "LossBound", "VarianceFloor", "audit_objective", "audit_vae",
           "static_loss_bound", "static_variance_floor", "variance_floor"]
