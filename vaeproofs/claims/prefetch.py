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

Scheduling: every other task waits in one queue, most expensive first.  Each pool
process is fed from the queue's head by a thread of the main process, one task at a time
(the forkserver's imports take about 2 s; ``vaeproofs verify`` starts the server
before it imports its own layers, :mod:`vaeproofs.forkserver`, and the main process does not
wait for it); the main process computes the derivations, then takes tasks from the same
queue: first the cheap tasks that need no training machinery, from the tail; then, if
that pays for the machinery's import (:func:`_worth_training_here`), from the head as the
pool does, so the run ends in longest-processing-time order (the last tasks to finish are
short ones); where it does not pay, the main process stops taking tasks and the pool
finishes the queue.  So no process waits for another to hand it work.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from vaeproofs import forkserver
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
    return _assemble(run_tasks(shared_tasks(quick), quick=quick, workers=workers, on_done=on_done),
                     quick)


def run_tasks(tasks: list[Task], *, quick: bool, workers: int,
              on_done: Callable[[int, int], None] | None = None) -> list[tuple[Task, Any, float]]:
    """Run ``tasks`` (in :func:`shared_tasks`'s order) on the main process and a pool of
    ``workers - 1`` processes, as scheduled in the module docstring; every task runs once.

    Returns ``(task, value, seconds)`` for each, in the order they finished.
    """
    remote = [t for t in tasks if t.kind != "derivation"]  # most expensive first
    local = [t for t in tasks if t.kind == "derivation"]
    context = forkserver.context()  # the server imports the heavy layers once, for all workers
    finished: list[tuple[Task, Any, float]] = []
    # The main process is one of the ``workers``: the pool has ``workers - 1`` processes.
    pool_size = max(1, workers - 1)

    def done(item: tuple[Task, Any, float]) -> None:
        finished.append(item)
        if on_done is not None:
            on_done(len(finished), len(tasks))

    queue = deque(remote)          # not started yet, most expensive first
    in_flight: set[Task] = set()   # started by a pool process
    lock = threading.Lock()
    futures: list[Future[tuple[Task, Any, float]]] = []
    stop = threading.Event()       # a failure, or the main process is leaving

    with ProcessPoolExecutor(max_workers=pool_size, mp_context=context,
                             initializer=_preload) as pool:

        def feed() -> None:
            """Keep one task in flight on the pool, taken from the queue's head: a task is
            handed over only when a process is free for it, so the main process can still
            take any task not yet handed over (the executor's own queue could not give one
            back once it had moved it to its call queue)."""
            while not stop.is_set():
                with lock:
                    if not queue:
                        return
                    task = queue.popleft()
                    in_flight.add(task)
                future = pool.submit(run_task, task, quick)  # the first waits for the forkserver
                futures.append(future)
                wait([future])
                with lock:
                    in_flight.discard(task)
                if future.exception() is not None:
                    stop.set()

        feeders = [threading.Thread(target=feed, name=f"vaeproofs-prefetch-feed-{i}", daemon=True)
                   for i in range(pool_size)]
        for feeder in feeders:
            feeder.start()
        reported: set[int] = set()

        def collect() -> None:
            for i, future in enumerate(list(futures)):
                if i not in reported and future.done() and future.exception() is None:
                    reported.add(i)
                    done(future.result())

        try:
            for t in local:
                done(run_task(t, quick))
                collect()
            # Then the main process takes tasks too: first the cheap ones that need no
            # training machinery, from the tail; then, if that pays for the machinery's
            # import, from the head as the pool does, so the run ends in longest-
            # processing-time order (the last tasks to finish are short ones).
            trained_here = False
            while not stop.is_set():
                with lock:
                    if not queue:
                        break
                    if not trained_here and queue[-1].kind not in _TRAINING_KINDS:
                        task = queue.pop()
                    elif (not trained_here and queue[0].kind in _TRAINING_KINDS
                          and not _worth_training_here(queue[0], [*queue, *in_flight])):
                        break
                    else:
                        task = queue.popleft()
                trained_here = trained_here or task.kind in _TRAINING_KINDS
                done(run_task(task, quick))
                collect()
            # What the main process left (training runs it did not take) the pool finishes:
            # the feeders return once the queue is empty.
            for feeder in feeders:
                feeder.join()
        finally:
            stop.set()
            for feeder in feeders:
                feeder.join()
        for i, future in enumerate(futures):
            if i not in reported:
                done(future.result())   # re-raises a worker's error
    return finished
