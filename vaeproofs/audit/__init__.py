"""``vaeproofs audit``: is *your* VAE's objective bounded?

- :func:`variance_floor`: the static floor of a decoder's variance head (torch.fx trace,
  float64 interval bounds propagated back to the last trainable operations);
- :func:`audit_vae`: that floor, the loss check and a memorisation probe on a deep copy
  of the model, combined into a verdict by the same rule as ``vaeproofs verify``.
"""

from vaeproofs.audit.audit import AuditInterrupted, AuditReport, audit_vae
from vaeproofs.audit.floor import VarianceFloor, static_variance_floor, variance_floor

__all__ = ["AuditInterrupted", "AuditReport", "VarianceFloor", "audit_vae", "static_variance_floor",
           "variance_floor"]
