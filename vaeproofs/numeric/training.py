"""Train a VAE with Adam and record what happens: configuration, loop and outcome.

:func:`train` runs one :class:`TrainConfig` and returns a :class:`TrainResult`, whose
:meth:`TrainResult.to_dict` is the JSON document written by ``vaeproofs train``.

Conventions: the loss is minus the mean over the minibatch of the per-point ELBO
(natural log, summed over pixels; one reparameterised draw per point unless
``train_samples`` says otherwise).  "Step N" is the N-th Adam update; the metrics
logged at step N are those of the parameters after N updates (step 0: at
initialisation).  A run diverges at step N when the loss of update N, or a parameter
after it, is not finite, or when a metric logged at step N is not finite; the run
then stops and keeps its history (a recorded outcome, not an exception).

Determinism: the weights are initialised under ``torch.manual_seed(seed)`` inside
:func:`torch.random.fork_rng` (the caller's global random state is left untouched),
and every draw during training comes from a :class:`torch.Generator` seeded with
``seed``.  Training runs with ``torch.use_deterministic_algorithms(True)`` (restored
afterwards), so on a CPU with the same thread count a seed gives the same run, bit for
bit.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from vaeproofs.errors import InvalidArgumentError
from vaeproofs.numeric.data import (
    DIGITS_LEVELS,
    Dataset,
    constant_pixels,
    digits_dataset,
    load_npy,
    manifold_dataset,
)
from vaeproofs.numeric.heads import HEADS, HeadOptions, gaussian_log_density_cap, make_head
from vaeproofs.numeric.metrics import EvalSettings, evaluate
from vaeproofs.numeric.networks import ACTIVATIONS, VAE
from vaeproofs.validation import check_int_range, check_positive

__all__ = ["DTYPES", "TrainConfig", "TrainResult", "Trainer", "load_dataset", "train"]

DTYPES: dict[str, torch.dtype] = {"float32": torch.float32, "float64": torch.float64}
_BIG = 10**9


@dataclass(frozen=True)
class TrainConfig:
    """Every option of one training run; validated on construction.

    Data: ``data`` is ``"digits"``, ``"manifold"`` or a path to an (N, D) ``.npy`` file;
    ``n_train`` takes the first n points of the (shuffled) training split (``None``: all);
    ``n_test`` likewise for the test split (clipped to its size; the JSON records the
    number used); ``dequantize`` (digits only: ``False``; ``True`` or ``"static"``, noise
    drawn once; ``"fresh"``, noise redrawn at every step, see :func:`train`) and
    ``binarize`` (``None``: binarise exactly when the likelihood needs binary data) as
    in :mod:`vaeproofs.numeric.data`; ``data_seed`` fixes the split and the noise.
    Model: ``likelihood`` (a name in :data:`~vaeproofs.numeric.heads.HEADS`),
    ``latent_dim`` k, ``hidden`` width, ``depth`` hidden layers, ``activation``;
    ``xi`` is the variance floor of the ``floor`` head **and** the floor whose cap
    -(D/2) log(2 pi xi) every run is compared with; ``fixed_std`` (s0, a standard
    deviation) for ``fixed``; ``nu`` for the Student-t heads; ``s_min`` (scale floor)
    for ``student-t-floored``; ``softclip_min`` (soft lower bound on log sigma) for
    ``softclip``; ``nll_eps`` for ``gaussian-nll-eps``; ``beta_nll`` for ``beta-nll``
    (see :mod:`vaeproofs.numeric.heads`).
    Optimisation: Adam with ``lr``, ``steps`` updates, minibatches of ``batch_size``
    (``None``: full batch), ``seed``, ``dtype`` (``"float32"`` or ``"float64"``),
    ``num_threads`` torch threads during the run (default 1: these small MLPs are
    bound by per-operation overhead, and a second thread only adds synchronisation
    and contention on a 2-core machine; ``None`` leaves torch's setting).
    The defaults are the per-pixel run of the confirming experiment
    (:func:`~vaeproofs.numeric.suite.confirming_suite` with ``quick=False``).
    Metrics every ``log_every`` steps with ``elbo_samples`` draws per point for the ELBO
    and ``iwae_samples`` (K) for the importance-weighted test log-likelihood.
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
    xi: float = 1e-3
    fixed_std: float = 0.1
    nu: float = 3.0
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
    s_min: float = 1e-3
    softclip_min: float = -6.0
    nll_eps: float = 1e-6
    beta_nll: float = 0.5

    def __post_init__(self) -> None:
        if self.likelihood not in HEADS:
            raise InvalidArgumentError(
                "likelihood", f"must be one of {', '.join(sorted(HEADS))}, got "
                f"{self.likelihood!r}")
        if self.dtype not in DTYPES:
            raise InvalidArgumentError(
                "dtype", f"must be one of {', '.join(DTYPES)}, got {self.dtype!r}")
        if self.activation not in ACTIVATIONS:
            raise InvalidArgumentError(
                "activation", f"must be one of {', '.join(ACTIVATIONS)}, got "
                f"{self.activation!r}")
        if not isinstance(self.data, str) or not self.data:
            raise InvalidArgumentError(
                "data", f"must be 'digits', 'manifold' or a path to a .npy file, got "
                f"{self.data!r}")
        if self.data not in ("digits", "faces", "manifold") and not self.data.endswith(".npy"):
            raise InvalidArgumentError(
                "data", f"must be 'digits', 'faces', 'manifold' or a path to a .npy file, got "
                f"{self.data!r}")
        for name, low in (("steps", 0), ("seed", 0), ("latent_dim", 1), ("hidden", 1),
                          ("depth", 0), ("data_seed", 0), ("manifold_dim", 1),
                          ("data_dim", 1), ("log_every", 1), ("train_samples", 1),
                          ("elbo_samples", 1), ("iwae_samples", 1)):
            check_int_range(name, getattr(self, name), low=low, high=_BIG)
        for name in ("n_train", "n_test", "batch_size", "num_threads"):
            if getattr(self, name) is not None:
                check_int_range(name, getattr(self, name), low=1, high=_BIG)
        for name in ("lr", "xi", "fixed_std", "nu", "s_min", "nll_eps"):
            check_positive(name, getattr(self, name))
        check_positive("beta_nll", self.beta_nll, strict=False)
        if not (isinstance(self.softclip_min, (int, float))
                and math.isfinite(self.softclip_min)):
            raise InvalidArgumentError(
                "softclip_min", f"must be a finite number, got {self.softclip_min!r}")
        if self.dequantize not in (False, True, "static", "fresh"):
            raise InvalidArgumentError(
                "dequantize", f"must be false, true, 'static' or 'fresh', got "
                f"{self.dequantize!r}")
        if HEADS[self.likelihood].grid_data and (
                self.data != "digits" or self.dequantize or self.binarize):
            raise InvalidArgumentError(
                "likelihood", f"{self.likelihood} needs the integer digits (data 'digits', "
                f"not dequantised, not binarised)")
        if not 0.0 < self.test_fraction < 1.0:
            raise InvalidArgumentError(
                "test_fraction", f"must be in (0, 1), got {self.test_fraction}")
        if self.dequantize and self.data != "digits":
            raise InvalidArgumentError(
                "dequantize", f"applies to the digits data only (integer pixels), not "
                f"{self.data!r}")
        needs_binary = HEADS[self.likelihood].binary_data
        if self.binarize and self.dequantize:
            raise InvalidArgumentError("binarize", "cannot be combined with dequantize")
        # A user's array may already be binary: that is checked when the data is loaded.
        if needs_binary and self.binarize is False and self.data == "digits":
            raise InvalidArgumentError(
                "binarize", f"must be true for the {self.likelihood} likelihood on digits")

    def to_dict(self) -> dict[str, Any]:
        """The options as a JSON-ready dict."""
        return asdict(self)

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
        return HeadOptions(xi=self.xi, fixed_std=self.fixed_std, nu=self.nu, s_min=self.s_min,
                           softclip_min=self.softclip_min, nll_eps=self.nll_eps,
                           beta_nll=self.beta_nll, levels=DIGITS_LEVELS)


def load_dataset(config: TrainConfig) -> Dataset:
    """The data set named by ``config.data``, scaled and split as configured."""
    if config.data == "digits":
        return digits_dataset(test_fraction=config.test_fraction,
                              dequantize=config.dequantization or False,
                              binarized=config.binarized, seed=config.data_seed)
    if config.data == "faces":
        from vaeproofs.numeric.data import faces_dataset

        return faces_dataset(test_fraction=config.test_fraction, binarized=config.binarized,
                             seed=config.data_seed)
    if config.data == "manifold":
        ds = manifold_dataset(data_dim=config.data_dim, manifold_dim=config.manifold_dim,
                              test_fraction=config.test_fraction, seed=config.data_seed)
        if config.binarized:
            from vaeproofs.numeric.data import binarize

            ds = Dataset(ds.name, binarize(ds.train), binarize(ds.test),
                         ds.description + ", binarised at 0.5")
        return ds
    return load_npy(config.data, test_fraction=config.test_fraction, seed=config.data_seed,
                    binarized=config.binarized)


def _finite_or_none(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return value


@dataclass
class TrainResult:
    """What a run produced.  ``history`` holds one dict of metrics per logged step.

    ``cap``: the head's own per-point bound on the ELBO (``None`` if it has none);
    ``floor_cap_threshold``: -(D/2) log(2 pi xi) for the configured ``xi``, the value no
    xi-floored model can exceed; ``passed_cap_at_step`` / ``mean_passed_cap_at_step``:
    the first logged step where the maximum / mean per-point training ELBO exceeded
    that threshold (``None``: never).  Each history row has ``step``, ``loss`` (the
    training loss of the update that led there: minus the minibatch-mean ELBO from
    ``train_samples`` draws; ``None`` at step 0) and the keys of
    :func:`vaeproofs.numeric.metrics.evaluate`.
    """

    config: TrainConfig
    outcome: str
    diverged_at_step: int | None
    divergence: str | None
    dim: int
    n_train: int
    n_test: int
    constant_pixels: int
    data_description: str
    cap: float | None
    floor_cap_threshold: float
    history: list[dict[str, float | int | None]] = field(default_factory=list)
    elapsed_s: float = 0.0

    def _first_step_above(self, key: str) -> int | None:
        for row in self.history:
            v = row.get(key)
            if v is not None and math.isfinite(v) and v > self.floor_cap_threshold:
                return int(row["step"])  # type: ignore[arg-type]
        return None

    @property
    def passed_cap_at_step(self) -> int | None:
        return self._first_step_above("train_elbo_max")

    @property
    def mean_passed_cap_at_step(self) -> int | None:
        return self._first_step_above("train_elbo_mean")

    @property
    def final(self) -> dict[str, float | int | None]:
        """The last logged metrics that are all finite (before the divergence, if any)."""
        for row in reversed(self.history):
            if all(math.isfinite(v) for v in row.values() if isinstance(v, float)):
                return dict(row)
        return {}

    @property
    def best(self) -> dict[str, float | int | None]:
        """Per metric, the best logged value and its step (``KEY_step``).

        Best means largest for ELBOs and the IWAE estimate, smallest for the minimum
        decoder variance.
        """
        out: dict[str, float | int | None] = {}
        for key, pick in (("train_elbo_mean", max), ("train_elbo_max", max),
                          ("test_elbo", max), ("test_iwae", max),
                          ("min_decoder_variance", min)):
            rows = [r for r in self.history
                    if r.get(key) is not None and math.isfinite(r[key])]  # type: ignore[arg-type]
            if not rows:
                out[key], out[f"{key}_step"] = None, None
                continue
            row = pick(rows, key=lambda r, k=key: r[k])
            out[key], out[f"{key}_step"] = row[key], row["step"]
            if key == "test_iwae":
                out["test_iwae_se"] = row["test_iwae_se"]
        return out

    def to_dict(self) -> dict[str, Any]:
        """The JSON document (non-finite numbers become ``null``)."""
        final = {k: _finite_or_none(v) if isinstance(v, float) else v
                 for k, v in self.final.items()}
        best = self.best
        history = [{k: _finite_or_none(v) if isinstance(v, float) else v for k, v in r.items()}
                   for r in self.history]
        return {
            "config": self.config.to_dict(),
            "outcome": self.outcome,
            "diverged_at_step": self.diverged_at_step,
            "divergence": self.divergence,
            "data": {"description": self.data_description, "dim": self.dim,
                     "binarized": self.config.binarized,
                     "n_train": self.n_train, "n_test": self.n_test,
                     "constant_pixels_in_training_set": self.constant_pixels},
            "cap": self.cap,
            "floor_cap_threshold": self.floor_cap_threshold,
            "passed_cap_at_step": self.passed_cap_at_step,
            "mean_passed_cap_at_step": self.mean_passed_cap_at_step,
            "final": final,
            "best": best,
            "train_elbo_mean": final.get("train_elbo_mean"),
            "train_elbo_max": final.get("train_elbo_max"),
            "test_elbo": final.get("test_elbo"),
            "test_iwae": final.get("test_iwae"),
            "test_iwae_se": final.get("test_iwae_se"),
            "min_decoder_variance": final.get("min_decoder_variance"),
            "elapsed_s": self.elapsed_s,
            "history": history,
        }


def _adam_options() -> dict[str, bool]:
    """``fused=True`` (one kernel for all parameters; faster on small CPU models) when this
    torch version supports it on the CPU, else torch's default implementation."""
    try:
        torch.optim.Adam([torch.zeros(1, requires_grad=True)], fused=True)
    except (RuntimeError, TypeError, ValueError):
        return {}
    return {"fused": True}


class Trainer:
    """One Adam update at a time on a fixed training tensor.

    :meth:`step` draws the minibatch and the reparameterisation noise from
    ``generator``, takes one update, and returns the loss; it returns ``None`` if
    that loss or a parameter after the update is not finite, and records why in
    :attr:`problem`.
    """

    def __init__(self, model: VAE, x_train: torch.Tensor, *, lr: float,
                 batch_size: int | None, train_samples: int, generator: torch.Generator,
                 noise_scale: float | None = None) -> None:
        self.model = model
        self.x = x_train
        self.n = x_train.shape[0]
        self.batch_size = self.n if batch_size is None else min(batch_size, self.n)
        self.samples = train_samples
        self.generator = generator
        self.params = [p for p in model.parameters() if p.requires_grad]
        self.names = [n for n, p in model.named_parameters() if p.requires_grad]
        self.optimizer = torch.optim.Adam(self.params, lr=lr, **_adam_options())
        self._order = torch.empty(0, dtype=torch.long)
        self._pos = 0
        self.problem: str | None = None
        #: fresh dequantisation: add noise_scale * U(0, 1) noise to every batch, redrawn each step.
        self.noise_scale = noise_scale

    def _batch(self) -> torch.Tensor:
        if self.batch_size == self.n:
            return self.x
        if self._pos + self.batch_size > self._order.numel():
            self._order = torch.randperm(self.n, generator=self.generator)
            self._pos = 0
        idx = self._order[self._pos:self._pos + self.batch_size]
        self._pos += self.batch_size
        return self.x[idx]

    def step(self) -> float | None:
        xb = self._batch()
        if self.noise_scale is not None:
            xb = xb + self.noise_scale * torch.rand(xb.shape, generator=self.generator,
                                                    dtype=xb.dtype)
        loss = -self.model.objective(xb, samples=self.samples, generator=self.generator).mean()
        value = float(loss.detach())
        if not math.isfinite(value):
            self.problem = f"loss is {value}"
            return None
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        with torch.no_grad():
            # Fast screen: a tensor with a NaN or an infinity has a non-finite norm.  A
            # finite tensor can overflow its norm too, so the screen is confirmed exactly.
            screen = torch.isfinite(torch.stack(torch._foreach_norm(self.params))).all()
            if not bool(screen):
                bad = [n for n, p in zip(self.names, self.params, strict=True)
                       if not bool(torch.isfinite(p).all())]
                if bad:
                    self.problem = f"non-finite parameter(s): {', '.join(bad)}"
                    return None
        return value


@contextlib.contextmanager
def _torch_settings(num_threads: int | None) -> Iterator[None]:
    """Deterministic algorithms (and a thread count) for the duration of a run only."""
    was_det = torch.are_deterministic_algorithms_enabled()
    was_warn = torch.is_deterministic_algorithms_warn_only_enabled()
    threads = torch.get_num_threads()
    torch.use_deterministic_algorithms(True)
    if num_threads is not None:
        torch.set_num_threads(num_threads)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(was_det, warn_only=was_warn)
        if num_threads is not None:
            torch.set_num_threads(threads)


def build_model(config: TrainConfig, dim: int) -> VAE:
    """The VAE of ``config`` with weights initialised from ``config.seed``."""
    head = make_head(config.likelihood, config.head_options())
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        model = VAE(dim, config.latent_dim, head, hidden=config.hidden, depth=config.depth,
                    activation=config.activation)
    return model.to(DTYPES[config.dtype])


def prepare_data(config: TrainConfig, dataset: Dataset | None = None
                 ) -> tuple[Dataset, np.ndarray, np.ndarray]:
    """Load (or take) the data set and cut the configured training and test subsets."""
    ds = load_dataset(config) if dataset is None else dataset
    n_avail, n_test_avail = ds.train.shape[0], ds.test.shape[0]
    n = n_avail if config.n_train is None else config.n_train
    if n > n_avail:
        raise InvalidArgumentError(
            "n_train", f"must be in [1, {n_avail}] (the size of the training split of "
            f"{ds.name}), got {n}")
    n_test = n_test_avail if config.n_test is None else min(config.n_test, n_test_avail)
    x_train, x_test = ds.train[:n], ds.test[:n_test]
    if HEADS[config.likelihood].unit_interval_data:
        for name, arr in (("train", x_train), ("test", x_test)):
            if not np.all((arr >= 0.0) & (arr <= 1.0)):
                raise InvalidArgumentError(
                    "data", f"the {config.likelihood} likelihood needs x in [0, 1], but the "
                    f"{name} split has other values")
    if HEADS[config.likelihood].binary_data:
        for name, arr in (("train", x_train), ("test", x_test)):
            if not np.all((arr == 0.0) | (arr == 1.0)):
                raise InvalidArgumentError(
                    "data", f"the {config.likelihood} likelihood needs x in {{0, 1}}, but the "
                    f"{name} split has other values (use binarize)")
    return ds, x_train, x_test


def train(config: TrainConfig, *, progress: bool = True, dataset: Dataset | None = None
          ) -> TrainResult:
    """Train the VAE of ``config`` and return the recorded run.

    ``dataset`` replaces the data named by ``config.data`` (for users' in-memory arrays,
    see :func:`vaeproofs.numeric.data.from_array`).  ``progress`` shows a tqdm bar on
    standard error.  Bad options raise InvalidArgumentError before any training.
    """
    ds, train_np, test_np = prepare_data(config, dataset)
    dtype = DTYPES[config.dtype]
    head_cap = make_head(config.likelihood, config.head_options()).cap(ds.dim)
    result = TrainResult(
        config=config, outcome="completed", diverged_at_step=None, divergence=None,
        dim=ds.dim, n_train=train_np.shape[0], n_test=test_np.shape[0],
        constant_pixels=(0 if config.dequantization == "fresh"
                         else int(constant_pixels(train_np).sum())),
        data_description=ds.description, cap=head_cap,
        floor_cap_threshold=gaussian_log_density_cap(ds.dim, config.xi))
    start = time.perf_counter()
    with _torch_settings(config.num_threads):
        x_train = torch.as_tensor(train_np, dtype=dtype)
        x_test = torch.as_tensor(test_np, dtype=dtype)
        noise_scale, x_eval = None, x_train
        if config.dequantization == "fresh":
            # The training split holds the bins' lower corners k/17; the loss sees
            # (k + u)/17 with u redrawn every step, the metrics one fixed draw (seed + 2).
            noise_scale = 1.0 / DIGITS_LEVELS
            eval_gen = torch.Generator().manual_seed(config.seed + 2)
            x_eval = x_train + noise_scale * torch.rand(x_train.shape, generator=eval_gen,
                                                        dtype=dtype)
        mask = torch.as_tensor(constant_pixels(x_eval.numpy()))
        model = build_model(config, ds.dim)
        gen = torch.Generator().manual_seed(config.seed)
        trainer = Trainer(model, x_train, lr=config.lr, batch_size=config.batch_size,
                          train_samples=config.train_samples, generator=gen,
                          noise_scale=noise_scale)
        settings = EvalSettings(elbo_samples=config.elbo_samples,
                                iwae_samples=config.iwae_samples, seed=config.seed + 1)
        bar = tqdm(total=config.steps, disable=not progress, desc=config.label or
                   config.likelihood, leave=False, dynamic_ncols=True)
        last_loss: float | None = None
        try:
            for step in range(config.steps + 1):
                if step % config.log_every == 0 or step == config.steps:
                    row: dict[str, float | int | None] = {"step": step, "loss": last_loss}
                    row.update(evaluate(model, x_eval, x_test, settings, mask))
                    result.history.append(row)
                    bad = [k for k, v in row.items()
                           if isinstance(v, float) and not math.isfinite(v)]
                    if bad:
                        result.outcome, result.diverged_at_step = "diverged", step
                        result.divergence = f"non-finite metric(s): {', '.join(bad)}"
                        break
                    bar.set_postfix(elbo=f"{row['train_elbo_mean']:.1f}",
                                    minvar=f"{row['min_decoder_variance']:.1e}",
                                    refresh=False)
                if step == config.steps:
                    break
                last_loss = trainer.step()
                if last_loss is None:
                    result.outcome, result.diverged_at_step = "diverged", step + 1
                    result.divergence = trainer.problem
                    break
                bar.update(1)
        finally:
            bar.close()
    result.elapsed_s = time.perf_counter() - start
    return result
