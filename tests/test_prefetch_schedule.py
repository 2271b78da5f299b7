"""The order of verify's shared computations (vaeproofs.claims.prefetch): only the schedule
depends on it, never a result (tests/test_cli_verify.py compares parallel with serial)."""

from __future__ import annotations

import pytest

from vaeproofs import constructions
from vaeproofs.claims import prefetch
from vaeproofs.claims.prefetch import Task
from vaeproofs.claims.sources import SOURCES


def test_every_task_once_most_expensive_first() -> None:
    for quick in (True, False):
        tasks = prefetch.shared_tasks(quick)
        assert len({(t.kind, t.name) for t in tasks}) == len(tasks)
        floor = prefetch._TRAINING_SECONDS[quick]   # what a task needing torch's machinery queues as
        position = [max(t.cost, floor) if t.kind in ("training", "source") else t.cost for t in tasks]
        assert position == sorted(position, reverse=True)
        assert {t.name for t in tasks if t.kind == "construction"} == set(constructions.names())
        assert {t.name for t in tasks if t.kind == "derivation"} == set(prefetch.VERIFY_DERIVATIONS)
        assert {t.name for t in tasks if t.kind == "source"} == set(SOURCES)


def test_the_pools_queue_ends_with_the_cheap_construction_rows() -> None:
    # The main process takes tasks back from the end of the pool's queue: with --quick these
    # are construction rows cheaper than any training run (no training machinery needed there).
    remote = [t for t in prefetch.shared_tasks(True) if t.kind != "derivation"]
    last_training = max(i for i, t in enumerate(remote) if t.kind in ("training", "source"))
    tail = remote[last_training + 1:]
    assert len(tail) >= 10
    assert all(t.kind == "construction" and t.cost < prefetch._TRAINING_SECONDS[True] for t in tail)
    # and the most expensive rows start first, before any training run
    assert [t.name for t in remote[:2]] == ["exact_likelihood", "floored_exact_likelihood"]


def test_a_training_run_is_taken_back_only_when_the_pool_has_more_left() -> None:
    run = Task("training", "training:0", 0.5)
    setup = prefetch._TRAINING_SETUP_SECONDS
    # pool alone needs R; taking it back, main needs setup + 0.5: worth it iff that is less
    assert not prefetch._worth_training_here(run, [run] * 3)             # R = 1.5 < 2.0
    assert not prefetch._worth_training_here(run, [run] * 4)             # R = 2.0, a tie
    assert prefetch._worth_training_here(run, [run] * 5)                 # R = 2.5 > 2.0
    assert prefetch._worth_training_here(run, [Task("training", "x", setup + 1.0)])


@pytest.mark.slow
def test_the_pool_finishes_the_training_runs_the_main_process_leaves(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """When taking a training run back does not pay, the main process stops taking tasks;
    the pool must still run every task left in the queue (a forkserver start and two quick
    training runs, a few seconds)."""
    monkeypatch.setattr(prefetch, "_worth_training_here", lambda task, pending: False)
    tasks = [Task("training", "training:0", 2.0), Task("training", "training:1", 2.0),
             Task("construction", "gaussian_nll_eps", 0.1),
             Task("construction", "population_beta_one", 0.1)]
    finished = prefetch.run_tasks(tasks, quick=True, workers=2)
    assert sorted((t.kind, t.name) for t, _, _ in finished) == sorted((t.kind, t.name) for t in tasks)
