"""The static floor of a decoder's variance head: :func:`variance_floor`.

The head is traced with ``torch.fx``; exact float64 interval bounds are propagated
backwards from the variance-like output to the last trainable operations, whose outputs
range over all real numbers (:mod:`vaeproofs.audit.analysis`).  The floor is a lower
bound on the per-pixel variance sigma^2 over every input and every value of the
trainable parameters; data-dependent control flow or an operation outside the covered
list gives ``bounded=None`` with the reason, never a guess.

The cap it implies per pixel is -1/2 log(2 pi floor) (natural log, the floor a
variance; docs/theory.md section 3; Mattei & Frellsen, NeurIPS 2018, arXiv 1802.04826,
section 2.1); per point of D pixels it is D times that.
"""

from __future__ import annotations

import contextlib
import copy
import io
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import fx, nn
from torch.fx.passes.shape_prop import ShapeProp

from vaeproofs.audit.analysis import Analysis, pick_output
from vaeproofs.audit.intervals import Interval
from vaeproofs.audit.kinds import check_kind, variance_interval
from vaeproofs.audit.values import NotDecidable, Pieces, as_interval
from vaeproofs.constants import LOG_2PI
from vaeproofs.errors import InvalidArgumentError

__all__ = ["MAX_LATENT_DIM", "VarianceFloor", "cap_per_dim", "static_variance_floor", "variance_floor"]

#: The largest ``latent_dim`` :func:`variance_floor` accepts: its example input holds
#: 2 x latent_dim numbers, and no VAE has a latent space near this size.
MAX_LATENT_DIM = 1_000_000


@dataclass(frozen=True)
class VarianceFloor:
    """The static floor of one variance head (see the module docstring).

    Attributes:
        variance: the kind of the output (``logvar``, ``var``, ``std``, ``logstd``).
        floor: greatest lower bound found for the per-pixel variance sigma^2 (absolute
            units of the data squared); ``None`` when not decidable.
        bounded: ``floor > 0``; ``None`` when not decidable.
        cap_per_dim: -1/2 log(2 pi floor), nats per pixel; +inf when the floor is 0.
        sup: the least upper bound of the variance found the same way.
        expression: the head as traced, from the last trainable operations to the output.
        set_by: the operations the floor depends on (replacing any by the reals lowers it).
        trainable: the trainable layers and parameters the variance depends on.
        frozen: parameters held constant because they do not train (given by the caller).
        explanation: one or two sentences saying why.
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
    extra: dict[str, Any] = field(default_factory=dict, repr=False)

    def to_json(self) -> dict[str, Any]:
        """The record as JSON-ready values (+inf stays a float; the writer nulls it with a reason)."""
        return {"variance": self.variance, "output": self.output, "floor": self.floor,
                "bounded": self.bounded, "cap_per_dim": self.cap_per_dim, "sup": self.sup,
                "expression": self.expression, "set_by": list(self.set_by),
                "trainable": list(self.trainable), "frozen": list(self.frozen),
                "explanation": self.explanation}


def cap_per_dim(floor: float) -> float:
    """-1/2 log(2 pi floor), +inf for a floor of 0 (natural log; floor is a variance)."""
    return math.inf if floor <= 0 else -0.5 * (LOG_2PI + math.log(floor))


class _Adapter(nn.Module):
    """Wraps ``forward(model, x)`` so that torch.fx traces the user's own call."""

    def __init__(self, model: nn.Module, forward: Callable[[nn.Module, torch.Tensor], Any]) -> None:
        super().__init__()
        self.model = model
        self._forward = forward

    def forward(self, x: torch.Tensor) -> Any:
        return self._forward(self.model, x)


def _piece_count(node: fx.Node) -> int | None:
    name = node.target if node.op == "call_method" else getattr(node.target, "__name__", "")
    if name == "chunk":
        count = node.args[1] if len(node.args) > 1 else node.kwargs.get("chunks")
        return count if isinstance(count, int) else None
    if name == "split":
        sizes = node.args[1] if len(node.args) > 1 else node.kwargs.get("split_size_or_sections")
        return len(sizes) if isinstance(sizes, list | tuple) else None
    return None


class _Proxy(fx.Proxy):
    """A proxy whose ``len`` is known for ``chunk(n)`` and ``split([sizes])`` results."""

    def __len__(self) -> int:
        count = _piece_count(self.node)
        if count is None:
            return super().__len__()
        return count


class _Tracer(fx.Tracer):
    """torch.fx's tracer, also iterating over ``chunk(n)`` and ``split([sizes])`` results.

    ``tuple(x.chunk(2, -1))`` needs the number of pieces at trace time; it is the literal
    ``n`` (``len(sizes)``), the number torch returns whenever the split dimension has at
    least that many elements (shape propagation on the example then checks the graph).
    """

    def proxy(self, node: fx.Node) -> fx.Proxy:
        return _Proxy(node, self)

    def iter(self, obj: fx.Proxy) -> Any:
        count = _piece_count(obj.node)
        if count is not None:
            # fx.Proxy gains __getitem__ at run time (torch.fx installs its magic methods).
            return (obj[i] for i in range(count))  # type: ignore[index]
        return super().iter(obj)


def _trace(root: nn.Module) -> fx.GraphModule:
    tracer = _Tracer()
    graph = tracer.trace(root)
    return fx.GraphModule(tracer.root, graph, root.__class__.__name__)


def _frozen_names(module: nn.Module, frozen: Iterable[str | nn.Parameter]) -> set[str]:
    by_id = {id(p): n for n, p in module.named_parameters()}
    names: set[str] = set()
    for item in frozen:
        if isinstance(item, str):
            names.add(item)
        elif id(item) in by_id:
            names.add(by_id[id(item)])
        else:
            raise InvalidArgumentError("frozen", "must hold parameter names or parameters of "
                                                 "the module, got an unknown tensor")
    return names


_WRAP = {"logvar": "exp({})", "var": "{}", "std": "({})^2", "logstd": "exp(2 * {})"}


def _undecided(kind: str, output: int | str, frozen: set[str], reason: str) -> VarianceFloor:
    return VarianceFloor(variance=kind, floor=None, bounded=None, cap_per_dim=None, sup=None,
                         expression="", set_by=(), trainable=(), frozen=tuple(sorted(frozen)),
                         explanation=f"Not decidable statically: {reason}.", output=output)


def _reason(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    if "control flow" in text:
        return f"data-dependent control flow, which torch.fx cannot trace ({text[:200]})"
    return f"torch.fx cannot trace the model ({type(exc).__name__}: {text[:200]})"


def _variance_of(analysis: Analysis, target: Any, kind: str, output: int | str) -> Interval:
    value = analysis.value(target) if isinstance(target, fx.Node) else analysis._map(target)
    if isinstance(value, Pieces):
        value = value.interval
    elif isinstance(value, tuple | list):
        value = pick_output(value, output)
    return variance_interval(kind, as_interval(value, "the variance output"))


def static_variance_floor(module: nn.Module, example: torch.Tensor, *, variance: str,
                          output: int | str = 1, frozen: Iterable[str | nn.Parameter] = (),
                          forward: Callable[[nn.Module, torch.Tensor], Any] | None = None
                          ) -> VarianceFloor:
    """Floor of output ``output`` of ``module(example)`` (or ``forward(module, example)``).

    ``example`` only fixes shapes; the bound holds for every input.  Parameters named in
    ``frozen`` (or given as objects) count as constants, like buffers and parameters with
    ``requires_grad=False``.  The user's module is never run: a deep copy is traced.
    """
    kind = check_kind(variance)
    if not isinstance(module, nn.Module):
        raise InvalidArgumentError("module", f"must be a torch.nn.Module, got {type(module).__name__}")
    names = _frozen_names(module, frozen)
    try:
        work = copy.deepcopy(module)
    except Exception as exc:
        return _undecided(kind, output, names, f"the model cannot be deep-copied ({exc})")
    root, prefix = (_Adapter(work, forward), "model.") if forward is not None else (work, "")
    try:
        gm = _trace(root)
    except Exception as exc:
        return _undecided(kind, output, names, _reason(exc))
    try:
        # ShapeProp prints a traceback of its own before re-raising; the reason below says it.
        with torch.random.fork_rng(devices=[]), torch.no_grad(), \
                contextlib.redirect_stderr(io.StringIO()):
            ShapeProp(gm).propagate(example)
    except Exception as exc:
        return _undecided(kind, output, names, "running the traced model on an input of shape "
                          f"{tuple(example.shape)} failed ({type(exc).__name__}: {exc})")
    out_node = next(n for n in gm.graph.nodes if n.op == "output")
    structure = out_node.args[0]
    target = pick_output(structure, output) if not isinstance(structure, fx.Node) else structure
    analysis = Analysis(gm, names, prefix)
    try:
        var = _variance_of(analysis, target, kind, output)
    except NotDecidable as exc:
        return _undecided(kind, output, names, str(exc))
    except RecursionError:
        return _undecided(kind, output, names, "the variance path is too deep to analyse")
    floor = var.lo
    set_by: list[str] = []
    if floor > 0:
        for node, name in analysis.ops.items():
            trial = Analysis(gm, names, prefix)
            trial.override = node
            try:
                lower = _variance_of(trial, target, kind, output).lo
            except NotDecidable:
                continue
            if lower < floor:
                set_by.append(name)
    inner = analysis.exprs.get(target, "") if isinstance(target, fx.Node) else ""
    expression = _WRAP[kind].format(inner or "the output")
    trainable = tuple(analysis.trainable)
    if floor > 0:
        explanation = (f"variance = {expression} >= {floor:.6g} for every input and every value "
                       f"of the trainable parameters; the floor is set by "
                       f"{', '.join(set_by) or 'constants'}.")
    else:
        verb = "ranges" if len(trainable) == 1 else "range"
        what = (f"the trainable {', '.join(trainable)} {verb} over all reals" if trainable else
                "the input ranges over all reals")
        explanation = (f"variance = {expression} gets arbitrarily close to 0 ({what}): the floor "
                       "is 0 and the objective has no cap.")
    return VarianceFloor(variance=kind, floor=floor, bounded=floor > 0, cap_per_dim=cap_per_dim(floor),
                         sup=var.hi, expression=expression, set_by=tuple(set_by),
                         trainable=trainable, frozen=tuple(sorted(names)),
                         explanation=explanation, output=output)


def variance_floor(decoder: nn.Module, *, latent_dim: int, variance: str, output: int | str = 1,
                   frozen: Iterable[str | nn.Parameter] = ()) -> VarianceFloor:
    """The static floor of element ``output`` of ``decoder(z)``, z of shape (B, latent_dim).

    Args:
        decoder: maps a (B, latent_dim) tensor to a tuple or list (or dict) of tensors.
        latent_dim: the latent dimension (only fixes shapes).
        variance: what the element is: ``"logvar"``, ``"var"``, ``"std"`` or ``"logstd"``.
        output: its index (or key).
        frozen: parameters (names or objects) held constant, e.g. those an optimiser leaves out.

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
    return static_variance_floor(decoder, example, variance=variance, output=output, frozen=frozen)
