"""The shared, cached computations that claims draw their evidence from.

Several claims rest on the same expensive computation (a training suite, the
construction sequences, a sympy derivation).  :class:`EvidenceContext` runs each
of them at most once per ``vaeproofs verify`` and hands the cached result to every
claim that asks.  It imports the heavy layers (torch, mpmath constructions) only
when a claim first needs them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from vaeproofs.symbolic.derivation import Derivation

if TYPE_CHECKING:
    from vaeproofs.constructions.row import ConstructionRow

__all__ = ["EvidenceContext"]


class EvidenceContext:
    """Lazily computed, cached evidence sources.

    Args:
        quick: use the reduced settings (fewer parameter values, shorter training)
            of ``vaeproofs verify --quick`` (measured times: README).
        progress: show progress bars for long computations.
    """

    def __init__(self, *, quick: bool = False, progress: bool = False) -> None:
        self.quick = quick
        self.progress = progress
        self._cache: dict[str, Any] = {}
        self._prefetched: dict[str, tuple[Any, float]] = {}
        self.timings: dict[str, float] = {}
        #: Seconds spent computing shared sources in this process so far (a claim's own
        #: time excludes those it waited for; :attr:`timings` holds them, once each).
        self.computed_seconds = 0.0
        #: Cache keys read since the caller last cleared it (which sources a gatherer used).
        self.accessed: set[str] = set()

    def prefetch(self, workers: int, on_done: Callable[[int, int], None] | None = None) -> None:
        """Compute every shared source on ``workers`` processes now (see
        :mod:`vaeproofs.claims.prefetch`); claims then read the finished results.

        A prefetched source counts as computed (for :meth:`derivations` and
        :attr:`timings`, in compute seconds) only once a claim asks for it.
        """
        from vaeproofs.claims.prefetch import prefetch

        done = prefetch(quick=self.quick, workers=workers, on_done=on_done)
        self._prefetched = {k: (v, done.seconds[k]) for k, v in done.values.items()}

    def _cached(self, key: str, compute: Callable[[], Any]) -> Any:
        self.accessed.add(key)
        if key not in self._cache and key in self._prefetched:
            self._cache[key], self.timings[key] = self._prefetched.pop(key)
        if key not in self._cache:
            start = time.perf_counter()
            before = self.computed_seconds
            self._cache[key] = compute()
            # A source computed inside another (nested) is timed within it only.
            self.timings[key] = time.perf_counter() - start - (self.computed_seconds - before)
            self.computed_seconds = before + time.perf_counter() - start
        return self._cache[key]

    # -- symbolic ---------------------------------------------------------------
    def derivation(self, name: str) -> Derivation:
        """The catalog derivation ``name`` (see :mod:`vaeproofs.symbolic.catalog`)."""
        from vaeproofs.symbolic import catalog

        return self._cached(f"derivation:{name}", lambda: catalog.derive(name))

    def derivations(self) -> list[Derivation]:
        """Every derivation that has been computed so far, in catalog order."""
        from vaeproofs.symbolic import catalog

        return [self._cache[f"derivation:{n}"] for n in catalog.names()
                if f"derivation:{n}" in self._cache]

    # -- a claim's own computations ---------------------------------------------
    def source(self, name: str) -> Any:
        """A claim's own computation, registered in :data:`vaeproofs.claims.sources.SOURCES`."""
        from vaeproofs.claims.sources import compute_source

        return self._cached(f"source:{name}", lambda: compute_source(name, self.quick))

    # -- high precision ---------------------------------------------------------
    def constructions(self) -> dict[str, ConstructionRow]:
        """The evaluated construction rows (see :func:`vaeproofs.constructions.run_all`)."""
        from vaeproofs import constructions

        def compute() -> dict[str, ConstructionRow]:
            rows = constructions.run_all(quick=self.quick)
            return {row.name: row for row in rows}

        return self._cached("constructions", compute)

    def construction(self, name: str) -> ConstructionRow:
        """One evaluated construction row, by name."""
        return self.constructions()[name]

    # -- numeric ----------------------------------------------------------------
    def _suite(self, key: str) -> dict[str, Any]:
        """The results of the training suite cached under ``key`` (see :data:`SUITES`), by label."""
        from vaeproofs import numeric

        def compute() -> dict[str, Any]:
            results = {}
            for i, config in enumerate(suite_configs(key, quick=self.quick)):
                results[suite_label(i, config)] = numeric.train(config, progress=self.progress)
            return results

        return self._cached(key, compute)

    def training(self) -> dict[str, Any]:
        """The confirming training suite's results, keyed by run name."""
        return self._suite("training")

    def remedy_training(self) -> dict[str, Any]:
        """The remedy training suite's results (:func:`vaeproofs.numeric.remedy_suite`), by label."""
        return self._suite("remedy-training")


#: Cache key -> name of the suite function in :mod:`vaeproofs.numeric.suite`.
SUITES: dict[str, str] = {"training": "confirming_suite", "remedy-training": "remedy_suite"}


def suite_configs(key: str, *, quick: bool) -> list[Any]:
    """The configurations of the training suite cached under ``key``."""
    from vaeproofs.numeric import suite

    return getattr(suite, SUITES[key])(quick=quick)


def suite_label(index: int, config: Any) -> str:
    """The key of a suite's run ``index`` in its cached results: its label, else index and head."""
    return config.label or f"{index}:{config.likelihood}"
