"""The options of one training run: :class:`TrainConfig`, validated and normalised on construction.

Every field is checked for its type and range when the config is built, so a bad
option fails before any data is loaded, naming the field (the command line maps the
field to its option).  Types are strict: integers accept Python and numpy integers
(normalised to ``int``), reals accept Python and numpy reals (normalised to
``float``), never strings or bools; booleans must be ``bool`` (``numpy.bool_`` is
normalised), so a truthy string such as ``"no"`` is refused rather than read as true
(``dequantize`` also takes ``"static"`` or ``"fresh"``).

Likelihood-head options (``xi``, ``fixed_std``, ``nu``, ``s_min``, ``softclip_min``,
``nll_eps``, ``beta_nll``) are grouped at the end of the fields and named exactly like
the fields of :class:`~vaeproofs.numeric.heads.HeadOptions`:
:meth:`TrainConfig.head_options` copies every field of that name, ``_HEAD_OPTION_TYPES``
says how each is read (type and sign) and :data:`HEAD_OPTION_CHECKS` holds the overflow
checks.  A new head option is one field here, one in ``HeadOptions``, one reader.

Head options are also refused up front when the run could only overflow in its
floating-point type (float32 or float64), naming the option: the Gaussian normalising
constant 2 pi xi (variance floor) or 2 pi s0^2 (fixed standard deviation s0) must be
finite and so must its reciprocal, which multiplies the squared error; the Student-t
normalising constant lgamma((nu+1)/2) - lgamma(nu/2) - log(nu pi)/2 must be finite.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields
from typing import Any

import numpy as np
import torch

from vaeproofs.errors import InvalidArgumentError
from vaeproofs.numeric.data import DIGITS_LEVELS
from vaeproofs.numeric.heads import HEADS, HeadOptions
from vaeproofs.numeric.networks import ACTIVATIONS

__all__ = ["DTYPES", "HEAD_OPTION_CHECKS", "TrainConfig", "max_threads"]

DTYPES: dict[str, torch.dtype] = {"float32": torch.float32, "float64": torch.float64}
_BIG = 10**9

_STRINGS = ("likelihood", "data", "dtype", "activation", "label")
# name -> smallest allowed value
_INTS = {"steps": 0, "seed": 0, "latent_dim": 1, "hidden": 1, "depth": 0, "data_seed": 0,
         "manifold_dim": 1, "data_dim": 1, "log_every": 1, "train_samples": 1,
         "elbo_samples": 1, "iwae_samples": 1}
_OPTIONAL_INTS = ("n_train", "n_test", "batch_size", "num_threads")


def max_threads() -> int:
    """The most torch threads a run may ask for: the CPUs of this machine (``os.cpu_count``)."""
    return os.cpu_count() or 1


def _integer(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise InvalidArgumentError(name, f"must be an integer, got {value!r}")
    v = int(value)
    if not low <= v <= high:
        raise InvalidArgumentError(name, f"must be in [{low}, {high}], got {v}")
    return v


def _real(name: str, value: Any) -> float:
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | float | np.integer
                                                              | np.floating):
        raise InvalidArgumentError(
            name, f"must be a real number, got {value!r} ({type(value).__name__})")
    v = float(value)
    if not math.isfinite(v):
        raise InvalidArgumentError(name, f"must be finite, got {v}")
    return v


def _positive(name: str, value: Any) -> float:
    v = _real(name, value)
    if v <= 0.0:
        raise InvalidArgumentError(name, f"must be > 0, got {v}")
    return v


def _boolean(name: str, value: Any, *, optional: bool = False) -> bool | None:
    if optional and value is None:
        return None
    if not isinstance(value, bool | np.bool_):
        want = "true, false or None" if optional else "true or false (a bool)"
        raise InvalidArgumentError(name, f"must be {want}, got {value!r}")
    return bool(value)


def _non_negative(name: str, value: Any) -> float:
    v = _real(name, value)
    if v < 0.0:
        raise InvalidArgumentError(name, f"must be >= 0, got {v}")
    return v


def _dequantize(value: Any) -> bool | str:
    """``False``, ``True`` (= ``"static"``), ``"static"`` or ``"fresh"``; nothing else."""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if value in ("static", "fresh"):
        return str(value)
    raise InvalidArgumentError(
        "dequantize", f"must be false, true, 'static' or 'fresh', got {value!r}")


def _largest(dtype: str) -> float:
    return float(np.finfo(np.float32 if dtype == "float32" else np.float64).max)


def _variance_range(dtype: str) -> tuple[float, float]:
    """Variances v whose 2 pi v and 1 / v are both finite in ``dtype``."""
    big = _largest(dtype)
    return 1.0 / big, big / (2.0 * math.pi)


def _check_xi(config: TrainConfig) -> None:
    # The floor head evaluates xi in the run's dtype; every run compares with the cap
    # -(D/2) log(2 pi xi), computed in float64.
    dtype = config.dtype if config.likelihood == "floor" else "float64"
    low, high = _variance_range(dtype)
    if not low <= config.xi <= high:
        raise InvalidArgumentError(
            "xi", f"must be in [{low:.3g}, {high:.3g}] so that 2 pi xi and 1/xi are finite in "
            f"{dtype}, got {config.xi:g}")


def _check_fixed_std(config: TrainConfig) -> None:
    if config.likelihood != "fixed":
        return
    low, high = _variance_range(config.dtype)
    s_low, s_high = math.sqrt(low), math.sqrt(high)  # s0^2 in [low, high], no overflow
    if not s_low <= config.fixed_std <= s_high:
        raise InvalidArgumentError(
            "fixed_std", f"must be in [{s_low:.3g}, {s_high:.3g}] so that 2 pi s0^2 and 1/s0^2 "
            f"are finite in {config.dtype}, got {config.fixed_std:g}")


def _check_nu(config: TrainConfig) -> None:
    if not config.likelihood.startswith("student-t"):  # student-t, student-t-floored
        return
    nu = config.nu
    try:
        norm = math.lgamma((nu + 1.0) / 2.0) - math.lgamma(nu / 2.0) - 0.5 * math.log(nu * math.pi)
    except (OverflowError, ValueError):
        norm = math.inf
    if not (math.isfinite(norm) and math.isfinite(nu * math.pi)
            and abs(norm) <= _largest(config.dtype)):
        raise InvalidArgumentError(
            "nu", f"is too large: the Student-t normalising constant overflows in "
            f"{config.dtype}, got {nu:g}")


#: Head option -> how it is read (type and sign), as in HeadOptions.
_HEAD_OPTION_TYPES: dict[str, Callable[[str, Any], float]] = {
    "xi": _positive, "fixed_std": _positive, "nu": _positive, "s_min": _positive,
    "softclip_min": _real, "nll_eps": _positive, "beta_nll": _non_negative}

#: Head option -> the check that refuses values the run could only overflow with.
HEAD_OPTION_CHECKS: dict[str, Callable[[TrainConfig], None]] = {
    "xi": _check_xi, "fixed_std": _check_fixed_std, "nu": _check_nu}


@dataclass(frozen=True)
class TrainConfig:
    """Every option of one training run; validated and normalised on construction.

    Data: ``data`` is ``"digits"``, ``"manifold"`` or a path to an (N, D) ``.npy`` file;
    ``n_train`` takes the first n points of the (shuffled) training split (``None``: all);
    ``n_test`` likewise for the test split (clipped to its size; the JSON records the
    number used); ``dequantize`` (digits only) and ``binarize`` (``None``: binarise
    exactly when the likelihood needs binary data) as in :mod:`vaeproofs.numeric.data`;
    ``dequantize`` is ``False``, ``True`` or ``"static"`` (noise drawn once) or
    ``"fresh"`` (noise redrawn at every step, see :func:`~vaeproofs.numeric.training.train`);
    ``data_seed`` fixes the split and the noise.
    Model: ``likelihood`` (a name in :data:`~vaeproofs.numeric.heads.HEADS`),
    ``latent_dim`` k, ``hidden`` width, ``depth`` hidden layers, ``activation``.
    Optimisation: Adam with ``lr``, ``steps`` updates, minibatches of ``batch_size``
    (``None``: full batch), ``seed``, ``dtype`` (``"float32"`` or ``"float64"``),
    ``num_threads`` torch threads during the run (default 1: these small MLPs are
    bound by per-operation overhead; at most the machine's CPU count; ``None`` leaves
    torch's setting).
    Metrics every ``log_every`` steps with ``elbo_samples`` draws per point for the ELBO
    and ``iwae_samples`` (K) for the importance-weighted test log-likelihood.
    Head options (see the module docstring): ``xi`` is the variance floor of the
    ``floor`` head **and** the floor whose cap -(D/2) log(2 pi xi) every run is compared
    with; ``fixed_std`` (s0, a standard deviation) for ``fixed``; ``nu`` for the Student-t
    heads; ``s_min`` (scale floor) for ``student-t-floored``; ``softclip_min`` (soft lower
    bound on log sigma) for ``softclip``; ``nll_eps`` for ``gaussian-nll-eps``;
    ``beta_nll`` for ``beta-nll`` (see :mod:`vaeproofs.numeric.heads`).
    The defaults are the per-pixel run of the confirming experiment
    (:func:`~vaeproofs.numeric.suite.confirming_suite` with ``quick=False``).
    """

    likelihood: str = "per-pixel"
    data: str = "digits"
    n_train: int | None = 16
    steps: int = 3000
    seed: int = 0
    dtype: str = "float64"
    lr: float = 3e-3
    batch_size: int | None = None
    latent_dim: int = 4
    hidden: int = 64
    depth: int = 2
    activation: str = "tanh"
    dequantize: bool | str = False
    binarize: bool | None = None
    test_fraction: float = 0.2
    n_test: int | None = 200
    data_seed: int = 0
    manifold_dim: int = 2
    data_dim: int = 64
    log_every: int = 100
    train_samples: int = 1
    elbo_samples: int = 8
    iwae_samples: int = 64
    num_threads: int | None = 1
    label: str = ""
    # -- likelihood-head options: the fields of HeadOptions, same names ---------------
    xi: float = 1e-3
    fixed_std: float = 0.1
    nu: float = 3.0
    s_min: float = 1e-3
    softclip_min: float = -6.0
    nll_eps: float = 1e-6
    beta_nll: float = 0.5

    def __post_init__(self) -> None:
        set_ = object.__setattr__  # frozen: normalise in place during construction
        if isinstance(self.data, os.PathLike):
            set_(self, "data", os.fspath(self.data))
        for name in _STRINGS:
            if not isinstance(getattr(self, name), str):
                raise InvalidArgumentError(name, f"must be a string, got {getattr(self, name)!r}")
        for name, low in _INTS.items():
            set_(self, name, _integer(name, getattr(self, name), low, _BIG))
        for name in _OPTIONAL_INTS:
            if getattr(self, name) is not None:
                high = max_threads() if name == "num_threads" else _BIG
                set_(self, name, _integer(name, getattr(self, name), 1, high))
        set_(self, "lr", _positive("lr", self.lr))
        for name, read in _HEAD_OPTION_TYPES.items():
            set_(self, name, read(name, getattr(self, name)))
        set_(self, "test_fraction", _real("test_fraction", self.test_fraction))
        set_(self, "dequantize", _dequantize(self.dequantize))
        set_(self, "binarize", _boolean("binarize", self.binarize, optional=True))
        self._check_choices()
        for check in HEAD_OPTION_CHECKS.values():
            check(self)

    def _check_choices(self) -> None:
        if self.likelihood not in HEADS:
            raise InvalidArgumentError(
                "likelihood", f"must be one of {', '.join(sorted(HEADS))}, got {self.likelihood!r}")
        if self.dtype not in DTYPES:
            raise InvalidArgumentError(
                "dtype", f"must be one of {', '.join(DTYPES)}, got {self.dtype!r}")
        if self.activation not in ACTIVATIONS:
            raise InvalidArgumentError(
                "activation", f"must be one of {', '.join(ACTIVATIONS)}, got {self.activation!r}")
        if not self.data or (self.data not in ("digits", "faces", "manifold")
                             and not self.data.endswith(".npy")):
            raise InvalidArgumentError(
                "data", f"must be 'digits', 'manifold' or a path to a .npy file, got {self.data!r}")
        if not 0.0 < self.test_fraction < 1.0:
            raise InvalidArgumentError(
                "test_fraction", f"must be in (0, 1), got {self.test_fraction}")
        if HEADS[self.likelihood].grid_data and (
                self.data != "digits" or self.dequantize or self.binarize):
            raise InvalidArgumentError(
                "likelihood", f"{self.likelihood} needs the integer digits (data 'digits', "
                f"not dequantised, not binarised)")
        if self.dequantize and self.data != "digits":
            raise InvalidArgumentError(
                "dequantize", f"applies to the digits data only (integer pixels), not {self.data!r}")
        if self.binarize and self.dequantize:
            raise InvalidArgumentError("binarize", "cannot be combined with dequantize")
        # A user's array may already be binary: that is checked when the data is loaded.
        if HEADS[self.likelihood].binary_data and self.binarize is False and self.data == "digits":
            raise InvalidArgumentError(
                "binarize", f"must be true for the {self.likelihood} likelihood on digits")

    def to_dict(self) -> dict[str, Any]:
        """The options as a JSON-ready dict (the ``config`` object of the JSON record)."""
        return asdict(self)

    to_json = to_dict

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainConfig:
        """Inverse of :meth:`to_dict`; unknown keys are an error."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise InvalidArgumentError("config", f"unknown option(s): {', '.join(unknown)}")
        return cls(**values)

    @property
    def binarized(self) -> bool:
        """Whether the data are binarised: ``binarize``, or if that is ``None``, whether the
        likelihood needs binary data."""
        return HEADS[self.likelihood].binary_data if self.binarize is None else self.binarize

    @property
    def dequantization(self) -> str | None:
        """``None``, ``"static"`` (``dequantize`` true or ``"static"``) or ``"fresh"``."""
        if not self.dequantize:
            return None
        return "fresh" if self.dequantize == "fresh" else "static"

    def head_options(self) -> HeadOptions:
        """The :class:`HeadOptions` of this run: every field of ``HeadOptions`` that is an
        option here, and ``levels``, the digits' quantisation levels."""
        mine = {f.name for f in fields(self)}
        return HeadOptions(levels=DIGITS_LEVELS, **{f.name: getattr(self, f.name)
                                                    for f in fields(HeadOptions) if f.name in mine})
