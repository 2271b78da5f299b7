"""A proven lower bound of the user's objective on one fixed batch: :func:`static_loss_bound`.

The question "is the objective bounded on this training batch?" is asked of the whole
objective at once: ``objective(model, batch)`` (a scalar, the loss the optimiser
minimises) is traced to ATen operations (:mod:`vaeproofs.audit.trace`) with every
trainable parameter a free placeholder ranging over all reals, the batch, the buffers
and the frozen parameters held at their values, and outward-rounded float64 intervals
are propagated through the graph (:mod:`vaeproofs.audit.bound`), with one-variable
forms (:mod:`vaeproofs.audit.forms`) pairing terms that share a variable, such as the
KL's exp(lv) - lv or a likelihood's r^2 / s^2 + log s.  The lower end of the
output's interval is a valid lower bound of the loss for every value of the trainable
parameters on that batch: a finite one proves the objective (minus the loss) bounded.
It is a valid bound, not necessarily the greatest one: interval arithmetic treats
repeated occurrences of a parameter as independent, which can only lower it.

A lower end of -inf says that interval arithmetic found no finite bound; ``unbounded_paths``
names where the -inf enters (a free log-variance added to the loss, the log of a
variance that reaches 0), each with the user's source line.  Along such a path the loss
goes to -inf when the other terms stay finite, which for a Gaussian likelihood needs a
mean that reproduces a training point: the verdict (:mod:`vaeproofs.audit.verdict`)
asks for that separately; -inf alone is not a proof of unboundedness.

Parameters of the loss itself (a loss module holding its own ``logvar``, as in latent
diffusion's LPIPSWithDiscriminator) are found when ``objective`` is an ``nn.Module``
(its parameters are analysed under ``objective.``) or when the trace captures an
``nn.Parameter`` with ``requires_grad`` from a closure (then free, conservatively).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import torch
from torch import fx, nn

from vaeproofs.audit.bound import Engine
from vaeproofs.audit.select import frozen_names
from vaeproofs.audit.trace import TraceFailed, trace_module_call
from vaeproofs.audit.values import NotDecidable, as_interval
from vaeproofs.errors import InvalidArgumentError

__all__ = ["LossBound", "static_loss_bound"]

WHOLE = "the whole objective"


@dataclass(frozen=True)
class LossBound:
    """A lower bound of ``objective(model, batch)`` over the trainable parameters (batch fixed).

    Attributes:
        lower: the proven lower bound (a valid one, not necessarily the greatest); -inf when
            interval arithmetic finds none (see ``unbounded_paths``); None when undecided.
        decided: whether the analysis ran to the end (``lower`` is a number).
        reason: why undecided: "<aten op> at <file:line>: ...", or "" when decided.
        unbounded_paths: where the -inf enters (operation and source line), when lower is -inf.
        trainable: the parameters that range over all reals.
        frozen: parameters held constant (outside the optimiser, or requires_grad=False).
        analysed: what was analysed.
        expression: a readable expression of the objective as traced (may be "").
    """

    lower: float | None
    decided: bool
    reason: str
    unbounded_paths: tuple[str, ...]
    trainable: tuple[str, ...]
    frozen: tuple[str, ...]
    analysed: str
    expression: str

    @property
    def bounded(self) -> bool | None:
        """True when the lower bound is finite; None otherwise (-inf proves nothing alone)."""
        return True if self.lower is not None and math.isfinite(self.lower) else None

    def to_json(self) -> dict[str, Any]:
        """JSON-ready values (-inf stays a float; the writer nulls it with a reason)."""
        return {"lower": self.lower, "decided": self.decided, "reason": self.reason,
                "unbounded_paths": list(self.unbounded_paths), "trainable": list(self.trainable),
                "frozen": list(self.frozen), "analysed": self.analysed,
                "expression": self.expression}


def _check_batch(batch: Any) -> tuple[Any, ...]:
    items = tuple(batch) if isinstance(batch, tuple | list) else (batch,)
    if not items or not any(isinstance(t, torch.Tensor) for t in items):
        raise InvalidArgumentError("batch", f"must be a tensor or a tuple of tensors, got "
                                            f"{type(batch).__name__}")
    return items


def static_loss_bound(objective: Callable[[nn.Module, Any], torch.Tensor], model: nn.Module,
                      batch: Any, *, frozen: Iterable[str | nn.Parameter] = ()) -> LossBound:
    """A lower bound of ``objective(model, batch)`` for every value of the trainable parameters.

    Args:
        objective: the loss the optimiser minimises, ``objective(model, batch)`` -> a scalar
            tensor; an ``nn.Module`` objective has its own parameters analysed too.
        model: the model (deep-copied; the user's objects never run).
        batch: a tensor or a tuple of tensors (one row per example), held fixed.
        frozen: parameters (names or objects, of ``model`` or of an ``nn.Module`` objective
            as ``objective.<name>``) held constant because the optimiser leaves them out.

    Returns:
        a :class:`LossBound`; ``decided`` is False, with the reason, when the code cannot
        be traced (data-dependent control flow) or holds an operation without a rule.
    """
    if not isinstance(model, nn.Module):
        raise InvalidArgumentError("model", f"must be a torch.nn.Module, got {type(model).__name__}")
    if not callable(objective):
        raise InvalidArgumentError("objective", f"must be callable, got {type(objective).__name__}")
    items = _check_batch(batch)
    extra = objective if isinstance(objective, nn.Module) else None
    names = frozen_names(model, [f for f in frozen if not (isinstance(f, str) and f.startswith("objective."))
                                 and not (extra is not None and any(f is p for p in extra.parameters()))])
    if extra is not None:
        by_id = {id(p): n for n, p in extra.named_parameters()}
        names |= {f"extra.{f.removeprefix('objective.')}" if isinstance(f, str) else f"extra.{by_id[id(f)]}"
                  for f in frozen if (isinstance(f, str) and f.startswith("objective."))
                  or (not isinstance(f, str) and id(f) in by_id)}
    shown = tuple(sorted(n.replace("extra.", "objective.", 1) for n in names))

    def undecided(reason: str) -> LossBound:
        return LossBound(lower=None, decided=False, reason=reason, unbounded_paths=(), trainable=(),
                         frozen=shown, analysed=WHOLE, expression="")
    try:
        work = copy.deepcopy(model)
        work_extra = copy.deepcopy(extra) if extra is not None else None
    except Exception as exc:
        return undecided(f"the model cannot be deep-copied ({exc})")

    def fn(m: nn.Module, *xs: Any) -> torch.Tensor:
        b = xs if isinstance(batch, tuple | list) else xs[0]
        out = (work_extra(m, b) if work_extra is not None else objective(m, b))
        if not isinstance(out, torch.Tensor) or out.numel() != 1:
            got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
            raise InvalidArgumentError("objective", f"must return a one-element tensor (the loss), "
                                                    f"got {got}")
        return out.reshape(())
    try:
        traced, roles, captured = trace_module_call(work, fn, items, frozen=names, inputs_free=False,
                                                    extra=work_extra)
        target = traced.output[0] if isinstance(traced.output, list | tuple) else traced.output
        if not isinstance(target, fx.Node):
            raise NotDecidable("the objective is not computed from the model's tensors")
        engine = Engine(traced.gm, roles, captured)
        value = as_interval(engine.value(target), "the objective")
    except (TraceFailed, NotDecidable) as exc:
        return undecided(str(exc))
    except RecursionError:
        return undecided("the objective is too deep to analyse")
    stops, _ = engine.last_trainable(target)
    from vaeproofs.audit.bound import stem

    rename = {role.name: role.name.replace("extra.", "objective.", 1) for role in roles.values()}
    trainable = tuple(dict.fromkeys(stem(rename.get(n, n)) for ns in stops.values() for n in ns))
    paths = tuple(p.replace("extra.", "objective.") for p in engine.sources(target, "lo")) \
        if value.lo == -math.inf else ()
    return LossBound(lower=value.lo, decided=True, reason="", unbounded_paths=paths,
                     trainable=trainable, frozen=shown, analysed=WHOLE,
                     expression=engine.expression(target, stops).replace("extra.", "objective."))
