"""The static floor of a model's variance output: :func:`static_variance_floor`, :func:`variance_floor`.

The model runs once on an example, traced to ATen operations (:mod:`vaeproofs.audit.trace`);
float64 intervals, rounded outward, are propagated through the graph
(:mod:`vaeproofs.audit.bound`) with every trainable parameter and every input ranging
over all real numbers, buffers and frozen parameters at their values.  The floor is the
lower end of the variance's interval: a valid lower bound on the per-pixel variance
sigma^2 for every input (of the example's shape) and every value of the trainable
parameters, not necessarily the greatest one (interval arithmetic may lose the
correlation of repeated operands; every head of docs/theory.md section 7 uses each
varying quantity once, and there the floor is the infimum up to outward rounding).
Data-dependent control flow or an operation without a rule gives ``bounded=None`` with
the ATen operation and the user's source line, never a guess.  When the whole model
cannot be traced, the sub-module that computes the variance (``model.decoder`` first)
is analysed with its own inputs free, and ``analysed`` says which.

The cap it implies per pixel is -1/2 log(2 pi floor) (natural log, the floor a
variance; docs/theory.md section 3; Mattei & Frellsen, NeurIPS 2018, arXiv 1802.04826,
section 2.1); per point of D pixels it is D times that.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import fx, nn

from vaeproofs.audit.bound import Engine, op_label, stem
from vaeproofs.audit.kinds import check_kind, variance_interval
from vaeproofs.audit.select import frozen_names, locate_variance, pick_output
from vaeproofs.audit.trace import TraceFailed, trace_module_call
from vaeproofs.audit.values import Const, NotDecidable, as_interval
from vaeproofs.constants import LOG_2PI
from vaeproofs.errors import InvalidArgumentError

__all__ = ["MAX_LATENT_DIM", "VarianceFloor", "cap_per_dim", "static_variance_floor", "variance_floor"]

#: The largest ``latent_dim`` :func:`variance_floor` accepts: its example input holds
#: 2 x latent_dim numbers, and no VAE has a latent space near this size.
MAX_LATENT_DIM = 1_000_000
WHOLE = "the whole model"


@dataclass(frozen=True)
class VarianceFloor:
    """The static floor of one variance output (see the module docstring).

    Attributes:
        variance: the kind of the output (``logvar``, ``var``, ``std``, ``logstd``).
        floor: a lower bound for the per-pixel variance sigma^2 (absolute units of the data
            squared); ``None`` when not decidable.
        bounded: ``floor > 0``; ``None`` when not decidable.
        cap_per_dim: -1/2 log(2 pi floor), nats per pixel; +inf when the floor is 0.
        sup: an upper bound of the variance found the same way.
        expression: the head as traced, from the last trainable operations to the output.
        set_by: the operations the floor depends on (replacing any by the reals lowers it).
        trainable: the trainable layers and parameters the variance depends on.
        frozen: parameters held constant because they do not train (given by the caller).
        explanation: one or two sentences saying why.
        analysed: what was traced: the whole model, or the sub-module that computes the variance.
    """

    variance: str
    floor: float | None
    bounded: bool | None
    cap_per_dim: float | None
    sup: float | None
    expression: str
    set_by: tuple[str, ...]
    trainable: tuple[str, ...]
    frozen: tuple[str, ...]
    explanation: str
    output: int | str = 1
    analysed: str = WHOLE
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    def to_json(self) -> dict[str, Any]:
        """The record as JSON-ready values (+inf stays a float; the writer nulls it with a reason)."""
        return {"variance": self.variance, "output": self.output, "floor": self.floor,
                "bounded": self.bounded, "cap_per_dim": self.cap_per_dim, "sup": self.sup,
                "expression": self.expression, "set_by": list(self.set_by),
                "trainable": list(self.trainable), "frozen": list(self.frozen),
                "explanation": self.explanation, "analysed": self.analysed}


def cap_per_dim(floor: float) -> float:
    """-1/2 log(2 pi floor), +inf for a floor of 0 (natural log; floor is a variance)."""
    return math.inf if floor <= 0 else -0.5 * (LOG_2PI + math.log(floor))


_WRAP = {"logvar": "exp({})", "var": "{}", "std": "({})^2", "logstd": "exp(2 * {})"}
Select = Callable[[Any], torch.Tensor]


def _undecided(kind: str, output: int | str, frozen: Iterable[str], reason: str,
               analysed: str = WHOLE) -> VarianceFloor:
    return VarianceFloor(variance=kind, floor=None, bounded=None, cap_per_dim=None, sup=None,
                         expression="", set_by=(), trainable=(), frozen=tuple(sorted(frozen)),
                         explanation=f"Not decidable statically: {reason}.", output=output,
                         analysed=analysed)


def _selector(select: Select | None, output: int | str) -> Select:
    if select is not None:
        if not callable(select):
            raise InvalidArgumentError("select", f"must be callable, got {type(select).__name__}")
        return select
    return lambda out: pick_output(out, output)


def _checked(select: Select) -> Select:
    def pick(out: Any) -> torch.Tensor:
        value = select(out)
        if not isinstance(value, torch.Tensor):
            raise InvalidArgumentError("select", f"must give the variance-like tensor, got "
                                                 f"{type(value).__name__}")
        return value
    return pick


def _analyse(module: nn.Module, inputs: tuple[Any, ...], kind: str, pick: Select,
             forward: Callable[..., Any] | None, names: set[str], output: int | str,
             analysed: str) -> VarianceFloor:
    def fn(model: nn.Module, *xs: Any) -> torch.Tensor:
        return pick(forward(model, *xs) if forward is not None else model(*xs))
    traced, roles, captured = trace_module_call(module, fn, inputs, frozen=names, inputs_free=True)
    target = traced.output[0] if isinstance(traced.output, list | tuple) else traced.output
    if not isinstance(target, fx.Node):
        raise NotDecidable("the variance output is not computed from the model's tensors")
    engine = Engine(traced.gm, roles, captured)
    var = variance_interval(kind, as_interval(engine.value(target), "the variance output"))
    floor = var.lo
    stops, ops = engine.last_trainable(target)
    set_by: list[str] = []
    if floor > 0:
        consts = {n: v for n, v in engine.memo.items() if isinstance(v, Const)}
        for node in ops:
            trial = Engine(traced.gm, roles, captured)
            trial.memo = dict(consts)
            trial.override = frozenset({node})
            try:
                lower = variance_interval(kind, as_interval(trial.value(target))).lo
            except NotDecidable:
                continue
            if lower < floor and op_label(node) not in set_by:
                set_by.append(op_label(node))
    trainable = tuple(dict.fromkeys(stem(n) for names_ in stops.values() for n in names_))
    expression = _WRAP[kind].format(engine.expression(target, stops) or "the output")
    where = "" if analysed == WHOLE else f" (analysed: {analysed})"
    if floor > 0:
        explanation = (f"variance = {expression} >= {floor:.6g} for every input and every value "
                       f"of the trainable parameters; the floor is set by "
                       f"{', '.join(set_by) or 'constants'}{where}.")
    else:
        verb = "ranges" if len(trainable) == 1 else "range"
        what = (f"the trainable {', '.join(trainable)} {verb} over all reals" if trainable else
                "the input ranges over all reals")
        explanation = (f"variance = {expression} gets arbitrarily close to 0 ({what}): the floor "
                       f"is 0{where}.")
    return VarianceFloor(variance=kind, floor=floor, bounded=floor > 0, cap_per_dim=cap_per_dim(floor),
                         sup=var.hi, expression=expression, set_by=tuple(set_by),
                         trainable=trainable, frozen=tuple(sorted(names)),
                         explanation=explanation, output=output, analysed=analysed)


def _try(module: nn.Module, inputs: tuple[Any, ...], kind: str, pick: Select,
         forward: Callable[..., Any] | None, names: set[str], output: int | str,
         analysed: str) -> VarianceFloor:
    try:
        return _analyse(module, inputs, kind, pick, forward, names, output, analysed)
    except (TraceFailed, NotDecidable) as exc:
        return _undecided(kind, output, names, str(exc), analysed)
    except RecursionError:
        return _undecided(kind, output, names, "the model is too deep to analyse", analysed)


def static_variance_floor(module: nn.Module, example: Any, *, variance: str,
                          output: int | str = 1, frozen: Iterable[str | nn.Parameter] = (),
                          forward: Callable[[nn.Module, Any], Any] | None = None,
                          select: Select | None = None) -> VarianceFloor:
    """Floor of the variance-like output of ``module(example)`` (or ``forward(module, example)``).

    Args:
        module: the model (a deep copy is traced; the user's module never runs).
        example: an input (a tensor or a tuple of them); only its shape matters, the bound
            holds for every input of that shape.
        variance: what the output is: ``logvar``, ``var``, ``std`` or ``logstd``.
        output: the index (or key) of the variance-like output in what the model returns.
        frozen: parameters (names or objects) held constant, e.g. those an optimiser leaves
            out; buffers and parameters with ``requires_grad=False`` are constants anyway.
        forward: ``forward(module, example)`` for any other call.
        select: picks the variance-like tensor from whatever the model returns (a dict, a
            dataclass, a distribution...); overrides ``output``.
    """
    kind = check_kind(variance)
    if not isinstance(module, nn.Module):
        raise InvalidArgumentError("module", f"must be a torch.nn.Module, got {type(module).__name__}")
    names = frozen_names(module, frozen)
    pick = _checked(_selector(select, output))
    inputs = tuple(example) if isinstance(example, tuple | list) else (example,)
    try:
        work = copy.deepcopy(module)
    except Exception as exc:
        return _undecided(kind, output, names, f"the model cannot be deep-copied ({exc})")
    whole = _try(work, inputs, kind, pick, forward, names, output, WHOLE)
    if whole.bounded is not None:
        return whole
    for name, sub, sub_inputs, sub_pick in locate_variance(work, inputs, pick, forward):
        prefix = name + "."
        inner = {n.removeprefix(prefix) for n in names if n.startswith(prefix)}
        alt = _try(sub, sub_inputs, kind, sub_pick, None, inner, output, f"model.{name} (its inputs free)")
        if alt.bounded is not None:
            why = whole.explanation.removeprefix("Not decidable statically: ").rstrip(".")
            note = f" The whole model was not analysable ({why})."
            return VarianceFloor(**{**alt.__dict__, "frozen": tuple(sorted(names)),
                                    "explanation": alt.explanation + note})
    return whole


def variance_floor(decoder: nn.Module, *, latent_dim: int, variance: str, output: int | str = 1,
                   frozen: Iterable[str | nn.Parameter] = (),
                   select: Select | None = None) -> VarianceFloor:
    """The static floor of element ``output`` of ``decoder(z)``, z of shape (B, latent_dim).

    Args:
        decoder: maps a (B, latent_dim) tensor to a tuple or list (or dict) of tensors.
        latent_dim: the latent dimension (only fixes shapes).
        variance: what the element is: ``"logvar"``, ``"var"``, ``"std"`` or ``"logstd"``.
        output: its index (or key).
        frozen: parameters (names or objects) held constant, e.g. those an optimiser leaves out.
        select: picks the variance-like tensor from the decoder's output (overrides ``output``).

    Returns:
        a :class:`VarianceFloor`; ``bounded`` is None, with the reason, when undecidable.
    """
    if isinstance(latent_dim, bool) or not isinstance(latent_dim, int) \
            or not 1 <= latent_dim <= MAX_LATENT_DIM:
        raise InvalidArgumentError("latent_dim", f"must be an integer in [1, {MAX_LATENT_DIM}], "
                                                 f"got {latent_dim!r}")
    dtype = next((p.dtype for p in decoder.parameters()), torch.get_default_dtype()) \
        if isinstance(decoder, nn.Module) else torch.get_default_dtype()
    example = torch.zeros(2, latent_dim, dtype=dtype if dtype.is_floating_point else torch.float32)
    try:  # on a copy: a call in training mode may update buffers such as BatchNorm's
        work = copy.deepcopy(decoder) if isinstance(decoder, nn.Module) else None
    except Exception:  # static_variance_floor reports an uncopyable model as undecided
        work = None
    if work is not None:
        # A decoder that cannot even be called on z of this shape was given the wrong
        # latent_dim: that is bad input, not an undecidable floor.
        try:
            with torch.random.fork_rng(devices=[]), torch.no_grad():
                work(example)
        except Exception as exc:
            raise InvalidArgumentError(
                "latent_dim", f"decoder(z) raised {type(exc).__name__} for z of shape "
                f"{tuple(example.shape)}: {exc}; latent_dim must be the decoder's input size"
            ) from None
    return static_variance_floor(decoder, example, variance=variance, output=output, frozen=frozen,
                                 select=select)
