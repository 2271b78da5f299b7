"""Compute the shared evidence sources of ``vaeproofs verify`` in parallel processes.

The expensive, independent computations behind the claims (each construction row,
each run of the confirming training suite, each symbolic derivation, and the claims' own
fits and runs of :mod:`vaeproofs.claims.sources`) are pure functions of their name and the
``quick`` flag.  :func:`prefetch` runs them in a pool
of worker processes and returns them keyed as :class:`~vaeproofs.claims.context.EvidenceContext`
caches them, so the claims then read finished results.  Each training run uses one
torch thread and its own seeded generators, and the mpmath and sympy computations are
exact, so the results are identical to a serial run (tested).

Workers start from a ``forkserver`` that has already imported the heavy layers, so a
worker costs a fork, not a fresh import of torch and sympy.  The symbolic derivations
run in the main process while the workers compute: their sympy steps hold unevaluated
integrals and limits, which unpickling would re-evaluate (slowly), so they never cross
a process boundary.

Scheduling: every other task is queued on the pool at once, most expensive first, from
a background thread (starting the forkserver blocks for its imports, about 3 s, and the
main process does not wait for it); the main process computes the derivations, then
takes back the cheapest tasks the pool has not started yet (``Future.cancel``) and runs
them itself.  So no process waits for another to hand it work, and the long tasks start
first (longest-processing-time order).
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

from vaeproofs.claims.context import SUITES, suite_configs, suite_label
from vaeproofs.claims.sources import SOURCES, compute_source

__all__ = ["VERIFY_DERIVATIONS", "Prefetched", "Task", "prefetch", "shared_tasks"]

#: The catalog derivations that the claims of ``vaeproofs verify`` read (a serial run
#: computes exactly these: tested).  The others (e.g. ``linear-elbo``, a ~4 s proof) are
#: not prefetched: no claim would use them.
VERIFY_DERIVATIONS = (
    "ppca", "ppca-degenerate", "answer2", "answer2-learnable-mean", "floor-cap", "bernoulli-cap",
    "fixed-variance-beta", "shared-variance", "population", "dequantisation", "discretised",
    "continuous-bernoulli", "gaussian-nll-eps", "softclip", "beta-nll", "student-t-floored",
    "mixture", "floor-collapse", "heteroscedastic",
    "single-point-collapse", "fixed-encoder-variance", "population-beta",
)


@dataclass(frozen=True)
class Task:
    """One independent computation: ``kind`` and ``name`` select it; ``cost`` orders the queue."""

    kind: str  # "construction", "training", "source" or "derivation"
    name: str
    cost: float


@dataclass(frozen=True)
class Prefetched:
    """The finished sources: cache key -> value, and cache key -> seconds of compute."""

    values: dict[str, Any]
    seconds: dict[str, float]


#: Seconds of one core per construction row with ``--quick`` (measured once, 2026-12, an
#: idle core); rows not listed cost about 0.1 s.  Only the queue's order depends on them.
_CONSTRUCTION_SECONDS = {
    "exact_likelihood": 1.4, "floored_exact_likelihood": 1.4, "half_space_elbo": 0.8,
    "floored_elbo": 0.6, "memorising_elbo": 0.5, "student_t_elbo": 0.5, "bernoulli_elbo": 0.35,
    "floored_student_t_likelihood": 0.35, "gmm_likelihood": 0.3, "single_point_floor_encoder": 0.25,
}
#: A training run: about 0.5 s with ``--quick``, 3 s without; the full rows about 2.7x the
#: quick ones (the suites' totals, measured as above).
_TRAINING_SECONDS = {True: 0.5, False: 3.0}
_FULL_CONSTRUCTION_FACTOR = 2.7
#: The kinds of task that need the training machinery (``torch._dynamo``, see
#: :data:`_TRAINING_SETUP_SECONDS`): the training runs, and the claims' own fits and runs
#: (torch optimisers; measured: their first run imports it too).
_TRAINING_KINDS = ("training", "source")


def shared_tasks(quick: bool) -> list[Task]:
    """Every shared computation of a verify, most expensive first.

    Costs are rough seconds (measured once on one core) used only to order the queue: the
    long computations start first, and the cheap construction rows come last, so the ones
    the main process takes back when it has finished the derivations are small (a fine
    final balance) and need no training machinery there (a training run would import
    ``torch._dynamo`` in the main process, about 2 s).  They do not affect any result.
    """
    from vaeproofs import constructions

    tasks = [Task("derivation", n, 3.0 if n.startswith(("ppca", "answer2")) else 0.5)
             for n in VERIFY_DERIVATIONS]
    scale = 1.0 if quick else _FULL_CONSTRUCTION_FACTOR
    tasks += [Task("construction", n, scale * _CONSTRUCTION_SECONDS.get(n, 0.1))
              for n in constructions.names()]
    for key in SUITES:
        tasks += [Task("training", f"{key}:{i}", _TRAINING_SECONDS[quick])
                  for i, _ in enumerate(suite_configs(key, quick=quick))]
    tasks += [Task("source", n, s.seconds[0 if quick else 1]) for n, s in SOURCES.items()]
    # A task that needs the training machinery queues as if it cost at least a training
    # run, so the queue's cheap tail stays free of it.
    return sorted(tasks, key=lambda t: -(max(t.cost, _TRAINING_SECONDS[quick])
                                         if t.kind in _TRAINING_KINDS else t.cost))


def run_task(task: Task, quick: bool) -> tuple[Task, Any, float]:
    """Run one task (in a worker process); return it with its value and its compute time."""
    start = time.perf_counter()
    if task.kind == "derivation":
        from vaeproofs.symbolic import catalog

        value: Any = catalog.derive(task.name)
    elif task.kind == "construction":
        from vaeproofs import constructions

        value = constructions.evaluate_named(task.name, quick=quick)
    elif task.kind == "source":
        value = compute_source(task.name, quick)
    elif task.kind == "training":
        from vaeproofs import numeric

        key, index = task.name.rsplit(":", 1)
        value = numeric.train(suite_configs(key, quick=quick)[int(index)], progress=False)
    else:  # pragma: no cover - the kinds are closed above
        raise ValueError(f"task.kind: unknown kind {task.kind!r}")
    return task, value, time.perf_counter() - start


#: Seconds the main process's first training run spends importing the training machinery
#: (``torch._dynamo``, which the workers' forkserver has preloaded): measured, the import
#: alone about 1.0 s of one core, a first quick run 2.5 s against 1.1 s for the next.
_TRAINING_SETUP_SECONDS = 1.5


def _worth_training_here(task: Task, pending: list[Task]) -> bool:
    """Whether the main process should take back its first training run.

    Alone, the pool finishes the pending tasks (started or not) in about their total cost
    R; taking ``task`` back, the main process is done after setup + cost and the pool after
    R - cost.  Worth it only if setup + cost < R (the costs are the queue's estimates).
    """
    return _TRAINING_SETUP_SECONDS + task.cost < sum(t.cost for t in pending)


def _preload() -> None:
    """Each worker's initializer: one torch thread, so the workers do not oversubscribe the
    cores (every training run sets one thread anyway; the constructions' float64 networks
    would otherwise use all cores in every worker)."""
    import torch

    torch.set_num_threads(1)


def _assemble(finished: list[tuple[Task, Any, float]], quick: bool) -> Prefetched:
    from vaeproofs import constructions

    values: dict[str, Any] = {}
    seconds: dict[str, float] = {}
    by = {(t.kind, t.name): (v, s) for t, v, s in finished}
    for (kind, name), (value, secs) in by.items():
        if kind in ("derivation", "source"):
            values[f"{kind}:{name}"], seconds[f"{kind}:{name}"] = value, secs
    rows = {n: by[("construction", n)] for n in constructions.names()}
    values["constructions"] = {n: v for n, (v, _) in rows.items()}
    seconds["constructions"] = sum(s for _, s in rows.values())
    for key in SUITES:
        suite = suite_configs(key, quick=quick)
        runs = [by[("training", f"{key}:{i}")] for i in range(len(suite))]
        values[key] = {suite_label(i, c): v
                       for i, (c, (v, _)) in enumerate(zip(suite, runs, strict=True))}
        seconds[key] = sum(s for _, s in runs)
    return Prefetched(values, seconds)


def prefetch(*, quick: bool, workers: int,
             on_done: Callable[[int, int], None] | None = None) -> Prefetched:
    """Run every shared computation on ``workers`` processes; return them by cache key.

    ``on_done(done, total)`` is called after each task (for a progress line).
    """
    tasks = shared_tasks(quick)
    remote = [t for t in tasks if t.kind != "derivation"]  # most expensive first
    local = [t for t in tasks if t.kind == "derivation"]
    context = multiprocessing.get_context("forkserver")
    # The server imports the heavy layers once; torch._dynamo is what a fused Adam's first
    # step imports (about 2 s), so preloading it saves that in every worker.
    context.set_forkserver_preload([__name__, "vaeproofs.constructions", "vaeproofs.numeric.training",
                                    "torch._dynamo"])
    finished: list[tuple[Task, Any, float]] = []
    # The main process is one of the ``workers``: the pool has ``workers - 1`` processes.
    pool_size = max(1, workers - 1)

    def done(item: tuple[Task, Any, float]) -> None:
        finished.append(item)
        if on_done is not None:
            on_done(len(finished), len(tasks))

    with ProcessPoolExecutor(max_workers=pool_size, mp_context=context,
                             initializer=_preload) as pool:
        futures: list[Future[tuple[Task, Any, float]]] = []
        errors: list[BaseException] = []

        def submit_all() -> None:  # in a thread: the first submit waits for the forkserver
            try:
                futures.extend(pool.submit(run_task, t, quick) for t in remote)
            except BaseException as exc:  # re-raised in the main thread below
                errors.append(exc)

        submitter = threading.Thread(target=submit_all, name="vaeproofs-prefetch-submit",
                                     daemon=True)
        submitter.start()
        reported: set[int] = set()

        def collect() -> None:
            for i, future in enumerate(futures):
                if i not in reported and future.done() and not future.cancelled():
                    reported.add(i)
                    done(future.result())

        for t in local:
            done(run_task(t, quick))
        submitter.join()
        if errors:
            raise errors[0]
        collect()
        # Take back the cheapest tasks the pool has not started, cheapest first; once one
        # cannot be cancelled the pool has reached it, and so every earlier one.
        trained_here = False
        for i in range(len(futures) - 1, -1, -1):
            trains = remote[i].kind in _TRAINING_KINDS
            if trains and not trained_here and not _worth_training_here(
                    remote[i], [t for t, f in zip(remote[: i + 1], futures, strict=False)
                                if not f.done()]):
                break
            if not futures[i].cancel():
                break
            trained_here = trained_here or trains
            reported.add(i)
            done(run_task(remote[i], quick))
            collect()
        for future in as_completed([f for i, f in enumerate(futures) if i not in reported]):
            done(future.result())
    return _assemble(finished, quick)
