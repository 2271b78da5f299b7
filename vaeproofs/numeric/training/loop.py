"""The training loop: :func:`train` runs a :class:`TrainConfig` and records the run.

Conventions: the loss is minus the mean over the minibatch of the per-point ELBO
(natural log, summed over pixels; one reparameterised draw per point unless
``train_samples`` says otherwise).  "Step N" is the N-th Adam update; the metrics
logged at step N are those of the parameters after N updates (step 0: at
initialisation).  A run diverges at step N when the loss of update N, or a parameter
after it, is not finite, or when a metric logged at step N is not finite; the run
then stops and keeps its history (a recorded outcome, not an exception).  The updates
between two logged steps are taken by :meth:`~vaeproofs.numeric.training.trainer.Trainer.run`,
which checks every loss and parameter (see :mod:`vaeproofs.numeric.training.trainer`).

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

import numpy as np
import torch
from torch import Tensor
from tqdm.auto import tqdm

from vaeproofs.errors import InvalidArgumentError
from vaeproofs.numeric.data import (
    DIGITS_LEVELS,
    Dataset,
    binarize,
    constant_pixels,
    digits_dataset,
    load_npy,
    manifold_dataset,
)
from vaeproofs.numeric.heads import HEADS, gaussian_log_density_cap, make_head
from vaeproofs.numeric.metrics import EvalSettings, evaluate
from vaeproofs.numeric.networks import VAE
from vaeproofs.numeric.training.budget import DEFAULT_MEMORY_BUDGET_GB, check_memory
from vaeproofs.numeric.training.config import DTYPES, TrainConfig
from vaeproofs.numeric.training.result import HistoryRow, TrainResult
from vaeproofs.numeric.training.trainer import Trainer

__all__ = ["TrainingInterrupted", "build_model", "load_dataset",
           "prepare_data", "torch_settings", "train"]



class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during :func:`train`; :attr:`result` is the run recorded so far."""

    def __init__(self, result: TrainResult) -> None:
        super().__init__("training interrupted")
        self.result = result

    def __reduce__(self) -> tuple[type[TrainingInterrupted], tuple[TrainResult]]:
        # Pickle by the constructor's argument (a record crossing from a worker process).
        return (type(self), (self.result,))


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
            ds = Dataset(ds.name, binarize(ds.train), binarize(ds.test),
                         ds.description + ", binarised at 0.5")
        return ds
    return load_npy(config.data, test_fraction=config.test_fraction, seed=config.data_seed,
                    binarized=config.binarized)


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


def _log(result: TrainResult, row: HistoryRow) -> bool:
    """Append ``row``; return False (recording the divergence) if it is not finite."""
    result.history.append(row)
    bad = row.non_finite()
    if bad:
        result.outcome, result.diverged_at_step = "diverged", row.step
        result.divergence = f"non-finite metric(s): {', '.join(bad)}"
    return not bad


def train(config: TrainConfig, *, progress: bool = True, dataset: Dataset | None = None,
          memory_budget_gb: float | None = DEFAULT_MEMORY_BUDGET_GB) -> TrainResult:
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
        constant_pixels=(0 if config.dequantization == "fresh"
                         else int(constant_pixels(train_np).sum())),
        data_description=ds.description, cap=head_cap,
        floor_cap_threshold=_floor_cap(ds.dim, config.xi))
    start = time.perf_counter()
    with torch_settings(config.num_threads):
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
        trainer = Trainer(model, x_train, lr=config.lr, batch_size=config.batch_size,
                          train_samples=config.train_samples,
                          generator=torch.Generator().manual_seed(config.seed),
                          noise_scale=noise_scale)
        settings = EvalSettings(elbo_samples=config.elbo_samples,
                                iwae_samples=config.iwae_samples, seed=config.seed + 1)
        bar = tqdm(total=config.steps, disable=not progress, desc=config.label or
                   config.likelihood, leave=False, dynamic_ncols=True)
        step = 0
        try:
            while True:
                row = HistoryRow(step=step, loss=trainer.last_loss,
                                 **evaluate(model, x_eval, x_test, settings, mask))
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
