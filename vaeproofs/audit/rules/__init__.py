"""The rule table: one interval rule per ATen operation (see :mod:`vaeproofs.audit.bound`).

:data:`TABLE` maps an operation's name, ``"aten.<op>"`` (every overload) or
``"aten.<op>.<overload>"`` (that overload only, looked up first), to its rule.  A rule
takes a :class:`Call` (the node's arguments as abstract values) and returns the
abstract value of the result: an :class:`~vaeproofs.audit.intervals.Interval` holding
every element, or a tuple of them for an operation with several outputs.  Every rule
is sound: for every value of the arguments in their intervals, every element of the
result lies in the returned interval (rounded outward, :mod:`vaeproofs.audit.intervals`).
An operation without a rule makes the analysis undecided at that node; nothing is guessed.

The families: :mod:`.elementwise` (exp, log, softplus, + - * /, pow, clamp, where,
...), :mod:`.structure` (views, indexing, cat/stack/split, reductions, creation,
random draws), :mod:`.layers` (matrix products, convolution, normalisation, softmax,
attention), :mod:`.losses` (mse, l1, Huber, binary cross-entropy).
"""

from __future__ import annotations

from vaeproofs.audit.rules.base import Call, Rule, rule_name
from vaeproofs.audit.rules.elementwise import ELEMENTWISE
from vaeproofs.audit.rules.layers import LAYERS
from vaeproofs.audit.rules.losses import LOSSES
from vaeproofs.audit.rules.structure import STRUCTURE

__all__ = ["TABLE", "Call", "Rule", "lookup", "rule_name"]

#: Operation name -> rule (see the module docstring).
TABLE: dict[str, Rule] = {**ELEMENTWISE, **STRUCTURE, **LAYERS, **LOSSES}


def lookup(target: object) -> Rule | None:
    """The rule of a node's target (an OpOverload or operator.getitem), or None."""
    overload, packet = rule_name(target)
    return TABLE.get(overload) or TABLE.get(packet)
