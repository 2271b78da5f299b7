"""The training loop: :class:`Trainer` takes Adam updates, :func:`train` runs a config.

Conventions: the loss is minus the mean over the minibatch of the per-point ELBO
(natural log, summed over pixels; one reparameterised draw per point unless
``train_samples`` says otherwise).  "Step N" is the N-th Adam update; the metrics
logged at step N are those of the parameters after N updates (step 0: at
initialisation).  A run diverges at step N when the loss of update N, or a parameter
after it, is not finite, or when a metric logged at step N is not finite; the run
then stops and keeps its history (a recorded outcome, not an exception).

Checking finiteness without paying for it every step: :meth:`Trainer.run` takes the
updates between two checks without looking at them, keeping each loss as a tensor (no
conversion to a Python float) and a snapshot of the state at the start of the window
(parameters, Adam's moments, the generator, the minibatch order).  At the end of the
window it checks every kept loss and every parameter at once.  A non-finite parameter
stays non-finite under later Adam updates (p - lr * u is NaN or infinite when p is), so
the end-of-window check sees any parameter that went bad inside the window.  If the
check fails, the snapshot is restored and the window is replayed one checked update at
a time (:meth:`Trainer.step`), which stops at the first bad update exactly as a
per-step check would, with the same state: the replay follows the same trajectory
because every draw comes from the restored generator and the algorithms are
deterministic.

Determinism: the weights are initialised under ``torch.manual_seed(seed)`` inside
:func:`torch.random.fork_rng` (the caller's global random state is left untouched),
and every draw during training comes from a :class:`torch.Generator` seeded with
``seed``.  Training runs with ``torch.use_deterministic_algorithms(True)`` (restored
afterwards), so on a CPU with the same thread count a seed gives the same run, bit for
bit.

Ctrl-C: :func:`train` stops, records the outcome ``"interrupted"`` with the rows
logged so far, and raises :class:`TrainingInterrupted` (a ``KeyboardInterrupt``)
carrying that record.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor
from tqdm.auto import tqdm

from vaeproofs.errors import InvalidArgumentError
from vaeproofs.numeric.data import (
    Dataset,
    binarize,
    constant_pixels,
    digits_dataset,
    load_npy,
    manifold_dataset,
)
from vaeproofs.numeric.heads import HEADS, gaussian_log_density_cap, make_head
from vaeproofs.numeric.metrics import EvalSettings, evaluate
from vaeproofs.numeric.networks import VAE, gaussian_kl_standard
from vaeproofs.numeric.training.budget import DEFAULT_MEMORY_BUDGET_GB, check_memory
from vaeproofs.numeric.training.config import DTYPES, TrainConfig
from vaeproofs.numeric.training.result import HistoryRow, TrainResult

__all__ = ["Trainer", "TrainingInterrupted", "adam_options", "build_model", "load_dataset",
           "prepare_data", "torch_settings", "train"]

#: Updates between two finiteness checks of :meth:`Trainer.run`.
CHECK_EVERY = 100


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`train`; :attr:`result` is the run recorded so far."""

    def __init__(self, result: TrainResult) -> None:
        super().__init__("training interrupted")
        self.result = result


def load_dataset(config: TrainConfig) -> Dataset:
    """The data set named by ``config.data``, scaled and split as configured."""
    if config.data == "digits":
        return digits_dataset(test_fraction=config.test_fraction, dequantize=config.dequantize,
                              binarized=config.binarized, seed=config.data_seed)
    if config.data == "manifold":
        ds = manifold_dataset(data_dim=config.data_dim, manifold_dim=config.manifold_dim,
                              test_fraction=config.test_fraction, seed=config.data_seed)
        if config.binarized:
            ds = Dataset(ds.name, binarize(ds.train), binarize(ds.test),
                         ds.description + ", binarised at 0.5")
        return ds
    return load_npy(config.data, test_fraction=config.test_fraction, seed=config.data_seed,
                    binarized=config.binarized)


def adam_options() -> dict[str, bool]:
    """``fused=True`` (one kernel for all parameters; faster on small CPU models) when this
    torch version supports it on the CPU, else torch's default implementation."""
    try:
        torch.optim.Adam([torch.zeros(1, requires_grad=True)], fused=True)
    except (RuntimeError, TypeError, ValueError):
        return {}
    return {"fused": True}


@dataclass
class _Snapshot:
    """The state a window of :meth:`Trainer.run` starts from."""

    params: list[Tensor]
    adam: dict[str, list[Tensor]]  # Adam's per-parameter tensors by key; {} before step 1
    generator: Tensor
    order: Tensor
    pos: int


class Trainer:
    """Adam updates on a fixed training tensor.

    :meth:`step` takes one update and checks it; :meth:`run` takes many and checks them
    together (see the module docstring).  Both draw the minibatches and the
    reparameterisation noise from ``generator``; when an update is bad they stop and
    say why in :attr:`problem`.
    """

    def __init__(self, model: VAE, x_train: Tensor, *, lr: float, batch_size: int | None,
                 train_samples: int, generator: torch.Generator,
                 check_every: int = CHECK_EVERY) -> None:
        self.model = model
        self.x = x_train
        self.n = x_train.shape[0]
        self.batch_size = self.n if batch_size is None else min(batch_size, self.n)
        self.samples = train_samples
        self.generator = generator
        self.check_every = check_every
        self.params = [p for p in model.parameters() if p.requires_grad]
        self.names = [n for n, p in model.named_parameters() if p.requires_grad]
        self.optimizer = torch.optim.Adam(self.params, lr=lr, **adam_options())
        self._order = torch.empty(0, dtype=torch.long)
        self._pos = 0
        self.problem: str | None = None
        #: The loss of the last good update (``None`` before the first).
        self.last_loss: float | None = None

    def _batch(self) -> Tensor:
        if self.batch_size == self.n:
            return self.x
        if self._pos + self.batch_size > self._order.numel():
            self._order = torch.randperm(self.n, generator=self.generator)
            self._pos = 0
        idx = self._order[self._pos:self._pos + self.batch_size]
        self._pos += self.batch_size
        return self.x[idx]

    def _loss(self) -> Tensor:
        """Minus the minibatch-mean ELBO: the mean over draws and points of kl - rec."""
        xb = self._batch()
        if self.samples > 1:
            rec, kl = self.model.elbo_terms(xb, samples=self.samples, generator=self.generator)
            return (kl - rec).mean()
        # One draw per point: the terms of VAE.elbo_terms(samples=1) from the same draws,
        # without its leading draws axis, whose broadcasting and 3-D products cost about
        # 5% of a step (tests check the two agree).
        mean, log_var = self.model.encode(xb)
        eps = torch.randn(mean.shape, generator=self.generator, dtype=mean.dtype,
                          device=mean.device)
        z = mean + torch.exp(0.5 * log_var) * eps
        rec = self.model.head.log_prob(xb, self.model.decoder(z))
        return (gaussian_kl_standard(mean, log_var) - rec).mean()

    def _update(self, loss: Tensor) -> None:
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()

    def _bad_parameters(self) -> list[str]:
        with torch.no_grad():
            return [n for n, p in zip(self.names, self.params, strict=True)
                    if not bool(torch.isfinite(p).all())]

    def step(self) -> float | None:
        """One checked update: returns its loss, or ``None`` (and sets :attr:`problem`) if
        the loss is not finite (no update is taken) or a parameter after it is not."""
        loss = self._loss()
        value = float(loss.detach())
        if not math.isfinite(value):
            self.problem = f"loss is {value}"
            return None
        self._update(loss)
        bad = self._bad_parameters()
        if bad:
            self.problem = f"non-finite parameter(s): {', '.join(bad)}"
            return None
        self.last_loss = value
        return value

    def _snapshot(self) -> _Snapshot:
        # One multi-tensor copy per kind of tensor: parameters, then each tensor that
        # Adam keeps per parameter (moments; the step count of the fused kernel).
        with torch.no_grad():
            params = torch._foreach_add(self.params, 0)  # copies
        adam: dict[str, list[Tensor]] = {}
        states = [self.optimizer.state.get(p) for p in self.params]
        if all(states):
            for key in states[0]:  # type: ignore[union-attr]
                adam[key] = torch._foreach_add([st[key] for st in states], 0)  # type: ignore[index]
        return _Snapshot(params, adam, self.generator.get_state(), self._order, self._pos)

    def _restore(self, snap: _Snapshot) -> None:
        with torch.no_grad():
            torch._foreach_copy_(self.params, snap.params)
        for i, p in enumerate(self.params):
            if snap.adam:
                self.optimizer.state[p] = {key: saved[i].clone() for key, saved in snap.adam.items()}
            else:
                self.optimizer.state.pop(p, None)
        self.generator.set_state(snap.generator)
        self._order, self._pos = snap.order, snap.pos

    def _all_finite(self, losses: list[Tensor]) -> bool:
        """Whether every kept loss and every parameter is finite.

        A screen first: a tensor holding NaN or an infinity has a non-finite norm; a
        finite tensor can overflow its norm too, so a failed screen is confirmed exactly.
        """
        with torch.no_grad():
            norms = torch._foreach_norm(self.params)
            screen = torch.isfinite(torch.stack([*norms, *losses])).all()
        if bool(screen):
            return True
        return all(math.isfinite(float(v)) for v in losses) and not self._bad_parameters()

    def run(self, updates: int) -> int:
        """Take up to ``updates`` updates; return how many were good.

        Stops at the first bad update (then :attr:`problem` says why), with the same
        result as ``updates`` calls of :meth:`step`; checks once per ``check_every``
        updates (see the module docstring).
        """
        done = 0
        while done < updates:
            window = min(self.check_every, updates - done)
            if window == 1:
                if self.step() is None:
                    return done
                done += 1
                continue
            snap = self._snapshot()
            losses = []
            for _ in range(window):
                loss = self._loss()
                self._update(loss)
                losses.append(loss.detach())
            if self._all_finite(losses):
                self.last_loss = float(losses[-1])
                done += window
                continue
            self._restore(snap)
            for i in range(window):
                if self.step() is None:
                    return done + i
            done += window
        return done


@contextlib.contextmanager
def torch_settings(num_threads: int | None) -> Iterator[None]:
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


def _as_array(name: str, value: object) -> np.ndarray:
    """A split of a caller's :class:`Dataset` as a float64 array (tensors are detached)."""
    if isinstance(value, Tensor):
        value = value.detach().cpu().numpy()
    arr = np.asarray(value, dtype=np.float64)
    if arr.ndim != 2 or not np.all(np.isfinite(arr)):
        raise InvalidArgumentError(
            "dataset", f"the {name} split must be a finite (N, D) array, got shape {arr.shape}")
    return arr


def prepare_data(config: TrainConfig, dataset: Dataset | None = None
                 ) -> tuple[Dataset, np.ndarray, np.ndarray]:
    """Load (or take) the data set and cut the configured training and test subsets."""
    ds = load_dataset(config) if dataset is None else dataset
    train_all, test_all = _as_array("train", ds.train), _as_array("test", ds.test)
    if train_all.shape[1] != test_all.shape[1]:
        raise InvalidArgumentError("dataset", f"the train and test splits have different D: "
                                   f"{train_all.shape[1]} and {test_all.shape[1]}")
    n_avail, n_test_avail = train_all.shape[0], test_all.shape[0]
    n = n_avail if config.n_train is None else config.n_train
    if n > n_avail:
        raise InvalidArgumentError(
            "n_train", f"must be in [1, {n_avail}] (the size of the training split of "
            f"{ds.name}), got {n}")
    n_test = n_test_avail if config.n_test is None else min(config.n_test, n_test_avail)
    x_train, x_test = train_all[:n], test_all[:n_test]
    if HEADS[config.likelihood].binary_data:
        for name, arr in (("train", x_train), ("test", x_test)):
            if not np.all((arr == 0.0) | (arr == 1.0)):
                raise InvalidArgumentError(
                    "data", f"the {config.likelihood} likelihood needs x in {{0, 1}}, but the "
                    f"{name} split has other values (use binarize)")
    return ds, x_train, x_test


def _log(result: TrainResult, row: HistoryRow) -> bool:
    """Append ``row``; return False (recording the divergence) if it is not finite."""
    result.history.append(row)
    bad = row.non_finite()
    if bad:
        result.outcome, result.diverged_at_step = "diverged", row.step
        result.divergence = f"non-finite metric(s): {', '.join(bad)}"
    return not bad


def train(config: TrainConfig, *, progress: bool = True, dataset: Dataset | None = None,
          memory_budget_gb: float = DEFAULT_MEMORY_BUDGET_GB) -> TrainResult:
    """Train the VAE of ``config`` and return the recorded run.

    ``dataset`` replaces the data named by ``config.data`` (for users' in-memory arrays,
    see :func:`vaeproofs.numeric.data.from_array`).  ``progress`` shows a tqdm bar on
    standard error.  Bad options, and runs whose estimated memory exceeds
    ``memory_budget_gb`` (:mod:`vaeproofs.numeric.training.budget`), raise
    InvalidArgumentError before any training.  Ctrl-C raises
    :class:`TrainingInterrupted` carrying the run so far.
    """
    ds, train_np, test_np = prepare_data(config, dataset)
    check_memory(config, dim=ds.dim, n_train=train_np.shape[0], n_test=test_np.shape[0],
                 budget_gb=memory_budget_gb)
    dtype = DTYPES[config.dtype]
    head_cap = make_head(config.likelihood, config.head_options()).cap(ds.dim)
    result = TrainResult(
        config=config, outcome="completed", diverged_at_step=None, divergence=None,
        dim=ds.dim, n_train=train_np.shape[0], n_test=test_np.shape[0],
        constant_pixels=int(constant_pixels(train_np).sum()),
        data_description=ds.description, cap=head_cap,
        floor_cap_threshold=_floor_cap(ds.dim, config.xi))
    start = time.perf_counter()
    with torch_settings(config.num_threads):
        x_train = torch.as_tensor(train_np, dtype=dtype)
        x_test = torch.as_tensor(test_np, dtype=dtype)
        mask = torch.as_tensor(constant_pixels(train_np))
        model = build_model(config, ds.dim)
        trainer = Trainer(model, x_train, lr=config.lr, batch_size=config.batch_size,
                          train_samples=config.train_samples,
                          generator=torch.Generator().manual_seed(config.seed))
        settings = EvalSettings(elbo_samples=config.elbo_samples,
                                iwae_samples=config.iwae_samples, seed=config.seed + 1)
        bar = tqdm(total=config.steps, disable=not progress, desc=config.label or
                   config.likelihood, leave=False, dynamic_ncols=True)
        step = 0
        try:
            while True:
                row = HistoryRow(step=step, loss=trainer.last_loss,
                                 **evaluate(model, x_train, x_test, settings, mask))
                if not _log(result, row):
                    break
                bar.set_postfix(elbo=f"{row.train_elbo_mean:.1f}",
                                minvar=f"{row.min_decoder_variance:.1e}", refresh=False)
                if step == config.steps:
                    break
                todo = min(config.log_every - step % config.log_every, config.steps - step)
                done = trainer.run(todo)
                step += done
                bar.update(done)
                if done < todo:
                    result.outcome, result.diverged_at_step = "diverged", step + 1
                    result.divergence = trainer.problem
                    break
        except KeyboardInterrupt:
            result.outcome = "interrupted"
            result.elapsed_s = time.perf_counter() - start
            raise TrainingInterrupted(result) from None
        finally:
            bar.close()
    result.elapsed_s = time.perf_counter() - start
    return result



def _floor_cap(dim: int, xi: float) -> float:
    """-(D/2) log(2 pi xi), required finite (TrainConfig bounds xi so that it is)."""
    value = gaussian_log_density_cap(dim, xi)
    if not math.isfinite(value):
        raise InvalidArgumentError(
            "xi", f"gives a non-finite cap -(D/2) log(2 pi xi) for D = {dim}, got {xi:g}")
    return value
