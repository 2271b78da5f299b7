"""What a training run recorded: :class:`HistoryRow` per logged step, :class:`BestMetrics`,
and :class:`TrainResult`, whose :meth:`TrainResult.to_json` is the document written by
``vaeproofs train --json``.

Conventions: natural log, nats **per point** (summed over the D pixels); variances are
sigma^2.  A row is *finite* when every number in it is finite; a run stops at the first
row that is not (outcome ``"diverged"``), so only the last row can be non-finite.
``final`` and ``best`` are taken over finite rows only.  ``to_json`` returns plain
Python values and may contain non-finite floats; :func:`vaeproofs.outputs.write_json`
writes each as ``null`` and lists it, with its path and value, under ``"non_finite"``.

The document (the JSON Schema ``vaeproofs/schemas/train.schema.json`` states it exactly):
``config``; ``outcome`` (``"completed"``, ``"diverged"`` or ``"interrupted"``);
``diverged_at_step`` and ``divergence`` (why; ``null`` unless diverged); ``data``
(``description``, ``dim``, ``binarized``, ``n_train``, ``n_test``,
``constant_pixels_in_training_set``); ``cap`` (the head's own per-point cap, ``null``
if none); ``floor_cap_threshold`` -(D/2) log(2 pi xi); ``passed_cap_at_step`` and
``mean_passed_cap_at_step``; ``final`` (the last finite row, ``{}`` if none); ``best``
(per metric its best value and ``<metric>_step``); the headline metrics of ``final``
repeated at the top level; ``elapsed_s``; ``history`` (every row).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from vaeproofs.numeric.training.config import TrainConfig

__all__ = ["OUTCOMES", "BestMetrics", "HistoryRow", "TrainResult"]

#: The possible outcomes of a run.
OUTCOMES: tuple[str, ...] = ("completed", "diverged", "interrupted")


@dataclass(frozen=True)
class HistoryRow:
    """The metrics of one logged step (see :func:`vaeproofs.numeric.metrics.evaluate`).

    ``step``: Adam updates taken (0: at initialisation); ``loss``: the training loss of
    the update that led here (minus the minibatch-mean ELBO from ``train_samples``
    draws; ``None`` at step 0).  Per point over the training set: ``train_elbo_mean``,
    ``train_elbo_max``, ``train_rec_mean``, ``kl`` (mean KL); decoder variances at
    z = m(x): ``min_decoder_variance``, ``median_decoder_variance``, and the medians
    over the pixels constant / varying across the training set (``None`` when that
    group is empty); test set: ``test_elbo``, ``test_iwae`` (K-sample importance-
    weighted log-likelihood, Burda et al. 2016, eq. 8) and its standard error
    ``test_iwae_se``.  Only for heads whose training objective differs from their
    log-density: ``train_objective_mean`` / ``train_objective_max`` (per point: the
    head's objective minus the KL); for a head with a variance clamp ``eps``:
    ``fraction_variance_below_eps``.  ``None`` (and absent from the JSON) otherwise.
    """

    step: int
    loss: float | None
    train_elbo_mean: float
    train_elbo_max: float
    train_rec_mean: float
    kl: float
    min_decoder_variance: float
    median_decoder_variance: float
    median_variance_constant_pixels: float | None
    median_variance_varying_pixels: float | None
    test_elbo: float
    test_iwae: float
    test_iwae_se: float
    train_objective_mean: float | None = None
    train_objective_max: float | None = None
    fraction_variance_below_eps: float | None = None

    def non_finite(self) -> list[str]:
        """Names of the fields holding NaN or an infinity."""
        return [f.name for f in fields(self)
                if isinstance(v := getattr(self, f.name), float) and not math.isfinite(v)]

    @property
    def is_finite(self) -> bool:
        """True when no field is NaN or infinite."""
        return not self.non_finite()

    def to_json(self) -> dict[str, Any]:
        """The row as a dict (field order); non-finite floats are kept as they are.  The
        metrics only some heads have (:data:`OPTIONAL_METRICS`) appear only when set."""
        doc = asdict(self)
        for key in OPTIONAL_METRICS:
            if doc[key] is None:
                del doc[key]
        return doc


#: Metrics of :class:`HistoryRow` that only some heads report.
OPTIONAL_METRICS: tuple[str, ...] = ("train_objective_mean", "train_objective_max",
                                     "fraction_variance_below_eps")


#: Metric -> whether larger is better, for :class:`BestMetrics`.
_BEST: dict[str, bool] = {"train_elbo_mean": True, "train_elbo_max": True, "test_elbo": True,
                          "test_iwae": True, "min_decoder_variance": False}


@dataclass(frozen=True)
class BestMetrics:
    """Per metric, its best value over the finite rows and the step of that row.

    Best means largest for the ELBOs and the IWAE estimate, smallest for the minimum
    decoder variance; ``test_iwae_se`` is the standard error of the best ``test_iwae``.
    Every field is ``None`` when no row is finite.
    """

    train_elbo_mean: float | None = None
    train_elbo_mean_step: int | None = None
    train_elbo_max: float | None = None
    train_elbo_max_step: int | None = None
    test_elbo: float | None = None
    test_elbo_step: int | None = None
    test_iwae: float | None = None
    test_iwae_step: int | None = None
    test_iwae_se: float | None = None
    min_decoder_variance: float | None = None
    min_decoder_variance_step: int | None = None

    @classmethod
    def of(cls, rows: list[HistoryRow]) -> BestMetrics:
        """The best of ``rows``, which must all be finite (the first row wins ties)."""
        if not rows:
            return cls()
        values: dict[str, Any] = {}
        for key, larger in _BEST.items():
            sign = 1.0 if larger else -1.0
            row = max(rows, key=lambda r, k=key, s=sign: s * getattr(r, k))
            values[key], values[f"{key}_step"] = getattr(row, key), row.step
            if key == "test_iwae":
                values["test_iwae_se"] = row.test_iwae_se
        return cls(**values)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TrainResult:
    """What a run produced.  ``history`` holds one :class:`HistoryRow` per logged step.

    ``cap``: the head's own per-point bound on the ELBO (``None`` if it has none);
    ``floor_cap_threshold``: -(D/2) log(2 pi xi) for the configured ``xi``, the value no
    xi-floored model can exceed (Mattei & Frellsen 2018, section 2.1);
    ``passed_cap_at_step`` / ``mean_passed_cap_at_step``: the first logged step where the
    maximum / mean per-point training ELBO exceeded that threshold (``None``: never).
    ``outcome`` is one of :data:`OUTCOMES`; ``diverged_at_step`` and ``divergence`` say
    where and why a run diverged.
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
    history: list[HistoryRow] = field(default_factory=list)
    elapsed_s: float = 0.0

    def _first_step_above(self, key: str) -> int | None:
        for row in self.history:
            v = getattr(row, key)
            if math.isfinite(v) and v > self.floor_cap_threshold:
                return row.step
        return None

    @property
    def passed_cap_at_step(self) -> int | None:
        return self._first_step_above("train_elbo_max")

    @property
    def mean_passed_cap_at_step(self) -> int | None:
        return self._first_step_above("train_elbo_mean")

    @property
    def finite_history(self) -> list[HistoryRow]:
        """The rows whose every number is finite."""
        return [row for row in self.history if row.is_finite]

    @property
    def final(self) -> HistoryRow | None:
        """The last finite row (before the divergence, if any); ``None`` if there is none."""
        rows = self.finite_history
        return rows[-1] if rows else None

    @property
    def best(self) -> BestMetrics:
        """Per metric, the best value over the finite rows and its step."""
        return BestMetrics.of(self.finite_history)

    def to_json(self) -> dict[str, Any]:
        """The JSON document of the run (see the module docstring)."""
        final = self.final
        final_doc = {} if final is None else final.to_json()
        return {
            "config": self.config.to_json(),
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
            "final": final_doc,
            "best": self.best.to_json(),
            **{key: final_doc.get(key) for key in _HEADLINE},
            "elapsed_s": self.elapsed_s,
            "history": [row.to_json() for row in self.history],
        }

    #: Older name of :meth:`to_json`, kept for callers written against it.
    to_dict = to_json


# Metrics of ``final`` repeated at the top level of the document.
_HEADLINE = ("train_elbo_mean", "train_elbo_max", "test_elbo", "test_iwae", "test_iwae_se",
             "min_decoder_variance")
