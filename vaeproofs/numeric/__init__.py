"""Torch VAEs trained on real data, with every decoder family of docs/theory.md section 1.

Public API: :class:`TrainConfig`, :func:`train` -> :class:`TrainResult` (one
:class:`HistoryRow` per logged step),
:func:`write_json`, :func:`plot_training`, :func:`confirming_suite`, the likelihood
heads (:data:`HEADS`, :func:`make_head`) and the data loaders.  This package imports
torch; it never imports sympy at module load.  (The linear-VAE module
``vaeproofs.numeric.linear`` lives alongside and is imported on its own.)
"""

from vaeproofs.numeric.data import Dataset, digits_dataset, from_array, manifold_dataset
from vaeproofs.numeric.heads import HEADS, HeadOptions, LikelihoodHead, make_head
from vaeproofs.numeric.networks import VAE
from vaeproofs.numeric.results import read_json, write_json
from vaeproofs.numeric.suite import confirming_suite, remedy_suite
from vaeproofs.numeric.training import (
    HistoryRow,
    TrainConfig,
    TrainingInterrupted,
    TrainResult,
    train,
)

__all__ = [
    "HEADS",
    "VAE",
    "Dataset",
    "HeadOptions",
    "HistoryRow",
    "LikelihoodHead",
    "TrainConfig",
    "TrainResult",
    "TrainingInterrupted",
    "confirming_suite",
    "digits_dataset",
    "from_array",
    "make_head",
    "manifold_dataset",
    "plot_training",
    "read_json",
    "remedy_suite",
    "train",
    "write_json",
]


def __getattr__(name: str) -> object:
    # matplotlib loads only when the figure is asked for.
    if name == "plot_training":
        from vaeproofs.numeric.figure import plot_training

        return plot_training
    raise AttributeError(f"module 'vaeproofs.numeric' has no attribute {name!r}")
