"""Symbolic derivations with sympy.  This sub-package never imports torch.

Each derivation NAME of :mod:`vaeproofs.symbolic.catalog` lives in the module of the same
name (hyphens as underscores) and returns a :class:`Derivation` whose ``facts`` and
``results`` are typed records (frozen dataclasses, :class:`Record`).
"""

from vaeproofs.symbolic.derivation import Derivation, Record, Step, StepLog

__all__ = ["Derivation", "Record", "Step", "StepLog"]
