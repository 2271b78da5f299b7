"""Symbolic derivations with sympy.  This sub-package never imports torch."""

from vaeproofs.symbolic.derivation import Derivation, Step

__all__ = ["Derivation", "Step"]
