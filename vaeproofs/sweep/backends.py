"""Run independent tasks in parallel and hand back each result as soon as it is done.

:func:`run_tasks` maps a picklable function over picklable tasks on one of three
backends and yields a :class:`Done` per task, in completion order:

- ``"local"`` (the default): worker processes on this machine,
  :class:`concurrent.futures.ProcessPoolExecutor` with the ``forkserver`` start method
  (``spawn`` where that is missing), ``workers`` processes (default
  :func:`os.cpu_count`), one torch thread each; no extra dependency;
- ``"dask"``: Dask distributed.  Without ``scheduler`` a
  ``LocalCluster(n_workers=workers, threads_per_worker=1, processes=True)`` on this
  machine; with ``scheduler="tcp://host:8786"`` the user's running cluster (``dask
  scheduler`` / ``dask worker``, dask-jobqueue, ...).  Needs ``pip install 'vaeproofs[dask]'``;
- ``"serial"``: in the calling process, one task after the other (for debugging, for
  timing a serial baseline, and for tests that patch the function).

A task whose function raises is reported (``Done.error``) and the others carry on.
Closing the generator early (e.g. on Ctrl-C) cancels the tasks not yet started and
stops the local worker processes at once; finished results already yielded are the
caller's.  This module imports neither torch nor dask at load.
"""

from __future__ import annotations

import importlib.util
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from vaeproofs.errors import InvalidArgumentError

__all__ = ["BACKENDS", "Done", "check_backend", "run_tasks"]

#: The backends :func:`run_tasks` knows.
BACKENDS: tuple[str, ...] = ("local", "dask", "serial")


@dataclass(frozen=True)
class Done:
    """One finished task: its position in ``tasks``, and its value or its error.

    ``error`` is ``None`` on success, else one line ``"TypeName: message"``.
    """

    index: int
    value: Any = None
    error: str | None = None


def _describe(exc: BaseException) -> str:
    message = " ".join(str(exc).split())[:500]
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def check_backend(backend: str, workers: int | None, scheduler: str | None) -> None:
    """Validate the backend options (before any work starts); raise InvalidArgumentError."""
    if backend not in BACKENDS:
        raise InvalidArgumentError("--backend", f"must be one of {', '.join(BACKENDS)}, got {backend!r}")
    cores = os.cpu_count() or 1
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int)
                                or not 1 <= workers <= cores):
        # Local processes (or LocalCluster workers) beyond the cores only contend for them,
        # and each holds its own torch (hundreds of MB): 100000 of them would exhaust memory.
        raise InvalidArgumentError("--workers", f"must be an integer from 1 to {cores} (the cores of "
                                   f"this machine), got {workers!r}")
    if scheduler is not None:
        if backend != "dask":
            raise InvalidArgumentError("--scheduler", f"applies to --backend dask only, not {backend!r}")
        if workers is not None:
            raise InvalidArgumentError(
                "--workers", "sets the size of a LocalCluster; with --scheduler the cluster's own "
                "workers run the tasks")
        if not scheduler.strip():
            raise InvalidArgumentError("--scheduler", "must be an address such as tcp://host:8786")
    if backend == "dask" and importlib.util.find_spec("distributed") is None:
        raise InvalidArgumentError(
            "--backend", "dask needs Dask distributed: pip install 'vaeproofs[dask]'")


def _init_local_worker() -> None:
    """Worker start-up: one thread for torch and BLAS, and Ctrl-C left to the parent (which
    stops the pool), so a keyboard interrupt never prints a traceback per worker.

    torch reads ``OMP_NUM_THREADS`` when it is first imported, so a task that imports it
    later runs on one thread without this process paying for the import up front.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = "1"
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(1)


def _mp_context() -> multiprocessing.context.BaseContext:
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def _stop_local(executor: ProcessPoolExecutor, *, finished: bool) -> None:
    if finished:
        executor.shutdown(wait=True)
        return
    # Taken before shutdown, which forgets them; stopping them wakes the pool's manager
    # thread, which then exits, so the interpreter can too.
    processes = list((getattr(executor, "_processes", None) or {}).values())
    executor.shutdown(wait=False, cancel_futures=True)
    terminate = getattr(executor, "terminate_workers", None)  # Python >= 3.14
    if callable(terminate):
        terminate()
        return
    for process in processes:
        process.terminate()


def _run_local(fn: Callable[[Any], Any], tasks: Sequence[Any], workers: int) -> Iterator[Done]:
    executor = ProcessPoolExecutor(max_workers=workers, mp_context=_mp_context(),
                                   initializer=_init_local_worker)
    finished = False
    try:
        futures: dict[Future[Any], int] = {executor.submit(fn, t): i for i, t in enumerate(tasks)}
        pending = set(futures)
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in sorted(done, key=futures.__getitem__):
                exc = fut.exception()
                yield (Done(futures[fut], fut.result()) if exc is None
                       else Done(futures[fut], error=_describe(exc)))
        finished = True
    finally:
        _stop_local(executor, finished=finished)


def _run_dask(fn: Callable[[Any], Any], tasks: Sequence[Any], workers: int,
              scheduler: str | None) -> Iterator[Done]:
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    else:
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise InvalidArgumentError("--scheduler", f"cannot connect to {scheduler!r}: "
                                       f"{_describe(exc)}") from None
    futures = []
    try:
        futures = [client.submit(fn, task, pure=False) for task in tasks]
        index = {fut.key: i for i, fut in enumerate(futures)}
        for fut in as_completed(futures):
            if fut.status == "error":
                yield Done(index[fut.key], error=_describe(fut.exception()))
            else:
                yield Done(index[fut.key], fut.result())
    finally:
        if futures:
            client.cancel(futures)
        client.close()
        if cluster is not None:
            cluster.close()


def _run_serial(fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterator[Done]:
    for i, task in enumerate(tasks):
        try:
            value = fn(task)
        except Exception as exc:
            yield Done(i, error=_describe(exc))
        else:
            yield Done(i, value)


def run_tasks(fn: Callable[[Any], Any], tasks: Sequence[Any], *, backend: str = "local",
              workers: int | None = None, scheduler: str | None = None,
              progress: bool = False, desc: str = "") -> Iterator[Done]:
    """Yield a :class:`Done` for each of ``tasks`` as ``fn(task)`` finishes.

    Args:
        fn: a module-level (picklable) function of one task.
        tasks: picklable arguments, one per call.
        backend: ``"local"``, ``"dask"`` or ``"serial"`` (see the module docstring).
        workers: worker processes for ``local`` and the Dask LocalCluster (default
            :func:`os.cpu_count`; never more than there are tasks); not with ``scheduler``.
        scheduler: address of a running Dask scheduler (``backend="dask"`` only).
        progress: show a tqdm bar (tasks done / total) on standard error.
        desc: the bar's label.

    The options are checked when this is called; the work starts at the first ``next``.

    Raises:
        InvalidArgumentError: bad backend options (at the call), or a scheduler that
            cannot be reached (at the first ``next``).
    """
    check_backend(backend, workers, scheduler)
    tasks = list(tasks)
    n = min(workers or os.cpu_count() or 1, max(len(tasks), 1))
    return _iterate(fn, tasks, backend, n, scheduler, progress, desc)


def _iterate(fn: Callable[[Any], Any], tasks: list[Any], backend: str, workers: int,
             scheduler: str | None, progress: bool, desc: str) -> Iterator[Done]:
    if not tasks:
        return
    if backend == "local":
        inner = _run_local(fn, tasks, workers)
    elif backend == "dask":
        inner = _run_dask(fn, tasks, workers, scheduler)
    else:
        inner = _run_serial(fn, tasks)
    from tqdm.auto import tqdm

    bar = tqdm(total=len(tasks), desc=desc or backend, unit="task", disable=not progress,
               leave=False, dynamic_ncols=True)
    try:
        for done in inner:
            bar.update(1)
            yield done
    finally:
        bar.close()
        inner.close()
