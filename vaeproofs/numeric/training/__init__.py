"""Train a VAE with Adam and record what happens: configuration, loop and outcome.

:func:`train` runs one :class:`TrainConfig` and returns a :class:`TrainResult`, whose
:meth:`TrainResult.to_json` is the JSON document written by ``vaeproofs train``.

Modules: :mod:`~vaeproofs.numeric.training.config` (the options),
:mod:`~vaeproofs.numeric.training.result` (the record: one :class:`HistoryRow` per
logged step), :mod:`~vaeproofs.numeric.training.trainer` (:class:`Trainer`: checked Adam
updates), :mod:`~vaeproofs.numeric.training.loop` (:func:`train`)
and :mod:`~vaeproofs.numeric.training.budget` (the memory estimate checked before a run).
"""

from vaeproofs.numeric.training.budget import (
    DEFAULT_MEMORY_BUDGET_GB,
    MemoryEstimate,
    check_memory,
    estimate_memory,
)
from vaeproofs.numeric.training.config import DTYPES, HEAD_OPTION_CHECKS, TrainConfig, max_threads
from vaeproofs.numeric.training.loop import (
    TrainingInterrupted,
    build_model,
    load_dataset,
    prepare_data,
    torch_settings,
    train,
)
from vaeproofs.numeric.training.result import OUTCOMES, BestMetrics, HistoryRow, TrainResult
from vaeproofs.numeric.training.trainer import Trainer, adam_options

__all__ = [
    "DEFAULT_MEMORY_BUDGET_GB",
    "DTYPES",
    "HEAD_OPTION_CHECKS",
    "OUTCOMES",
    "BestMetrics",
    "HistoryRow",
    "MemoryEstimate",
    "TrainConfig",
    "TrainResult",
    "Trainer",
    "TrainingInterrupted",
    "adam_options",
    "build_model",
    "check_memory",
    "estimate_memory",
    "load_dataset",
    "max_threads",
    "prepare_data",
    "torch_settings",
    "train",
]
