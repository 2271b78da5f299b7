"""Shared timing helpers for the benchmarks, on the standard library's :mod:`timeit`.

Every benchmark times its variants side by side in one run (:func:`interleaved_medians`:
one ``timeit`` measurement of each variant in turn, repeated), so a drift in the
machine's load hits all variants alike, and reports medians and their ratios.

Run the benchmarks from the repository root as a package: ``python -m benchmarks.run``.
"""

from __future__ import annotations

import statistics
import timeit
from collections.abc import Callable

__all__ = ["interleaved_medians", "median_seconds"]


def _once(fn: Callable[[], object], setup: Callable[[], object] | None) -> float:
    timer = timeit.Timer(fn, setup=setup if setup is not None else "pass")
    return timer.timeit(number=1)


def median_seconds(fn: Callable[[], object], *, repeats: int, setup: Callable[[], object] | None = None
                   ) -> float:
    """Median wall time of ``fn()`` over ``repeats`` timeit measurements (``setup()`` untimed)."""
    return statistics.median(_once(fn, setup) for _ in range(repeats))


def interleaved_medians(fns: dict[str, Callable[[], object]], *, repeats: int,
                        setup: Callable[[], object] | None = None) -> dict[str, float]:
    """Median times of several functions, measured in alternation with :mod:`timeit`."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            times[name].append(_once(fn, setup))
    return {name: statistics.median(t) for name, t in times.items()}
