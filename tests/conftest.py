"""Test configuration: hypothesis profiles, and CPU time per test (``--cpu-durations=N``).

- ``ci`` (the default): derandomised, so a red build reproduces exactly.
- ``thorough``: many more examples and fresh random seeds, for local runs:
  ``HYPOTHESIS_PROFILE=thorough pytest``.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

try:
    import resource
except ImportError:  # pragma: no cover - not on Windows
    resource = None  # type: ignore[assignment]

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=40,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "thorough",
    derandomize=False,
    max_examples=400,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


# ------------------------------------------------------------------------------ CPU time
# `pytest --cpu-durations=N` lists the N tests (setup + call + teardown) that used the most
# CPU time: this process's plus that of the subprocesses it waited for.  On a shared
# machine wall times (--durations) swell with the load; CPU time shows what a test costs.
# Processes that are never waited for (a forkserver and its pool) are not counted.

_CPU_KEY = pytest.StashKey[float]()


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--cpu-durations", type=int, default=None, metavar="N",
                     help="list the N tests that used the most CPU time (0: all), and the total")


def _cpu_on(config: pytest.Config) -> bool:
    return resource is not None and config.getoption("--cpu-durations") is not None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):  # type: ignore[no-untyped-def]
    if _cpu_on(item.config):
        item.stash[_CPU_KEY] = _cpu_seconds()
    yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    if _cpu_on(item.config) and call.when == "teardown" and _CPU_KEY in item.stash:
        outcome.get_result().user_properties.append(("cpu_s", _cpu_seconds() - item.stash[_CPU_KEY]))


_cpu_by_test: dict[str, float] = {}


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    for key, value in report.user_properties:
        if key == "cpu_s":
            _cpu_by_test[report.nodeid] = value


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:  # type: ignore[no-untyped-def]
    n = config.getoption("--cpu-durations")
    if n is None or not _cpu_by_test:
        return
    ranked = sorted(_cpu_by_test.items(), key=lambda kv: kv[1], reverse=True)
    terminalreporter.write_sep("=", f"CPU time per test ({'all' if n == 0 else f'top {n}'})")
    for nodeid, seconds in ranked if n == 0 else ranked[:n]:
        terminalreporter.write_line(f"{seconds:8.2f}s  {nodeid}")
    terminalreporter.write_line(f"total CPU time of {len(ranked)} tests: {sum(_cpu_by_test.values()):.1f} s "
                                "(collection and worker start not included)")


# ------------------------------------------------------------------------------ scheduling
# `pytest` runs `-n auto --dist loadfile --no-loadscope-reorder` (pyproject): each test file
# goes whole to one worker, in the order collected here.  Without this order xdist would
# hand out the files with the most tests first, and the expensive files with few tests (the
# two verify runs, the scripts run as subprocesses) would start last and finish alone.
# Longest processing time first: the files below start first, most CPU first (measured
# with `pytest -n 0 --cpu-durations=0`, summed by file); every other file follows in the
# usual order.  The order only decides which worker runs a file and when, never a result.
EXPENSIVE_FIRST = (
    "test_cli_verify.py",
    "test_constructions_torch.py",
    "test_derivation_scripts.py",
    "test_sweep_cli.py",
    "test_layering.py",
    "test_constructions_math.py",
    "test_properties_linear.py",
    "test_properties_constructions.py",
    "test_claims_kl_price.py",
    "test_claims.py",
)


#: Files that go to one worker together, each group as one unit, because they compute the
#: same pure results and a worker computes each once (the memos under "sharing" below).
#: The serial verify in test_cli_verify.py derives every derivation and evaluates every
#: quick construction row, which test_derivation_scripts.py, test_constructions_torch.py
#: and test_claims.py reuse; the linear ELBO's derivation is shared with
#: test_symbolic_linear.py; and the constructions' test files evaluate many of the same
#: exact objectives.  Apart, two workers computed these twice (about 20 s of CPU for the
#: derivations and rows, 9 s for the objectives, measured by logging the memos' misses per
#: worker); together they are about half the suite's CPU, so the other worker takes the rest.
SAME_WORKER = (
    ("test_cli_verify.py", "test_derivation_scripts.py", "test_constructions_torch.py",
     "test_symbolic_linear.py", "test_constructions_math.py", "test_properties_constructions.py",
     "test_claims.py"),
)
_UNIT = {name: group[0] for group in SAME_WORKER for name in group}


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadfile`` with each group of :data:`SAME_WORKER` as one unit (other
    distribution modes: xdist's own scheduler)."""
    if config.getoption("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class SharedMemoScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = super()._split_scope(nodeid)
            return _UNIT.get(path.rsplit("/", 1)[-1], path)

    return SharedMemoScheduling(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(EXPENSIVE_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: files keep their order


def pytest_sessionstart(session: pytest.Session) -> None:
    """Under xdist, one torch thread per worker: ``-n auto`` already starts one worker per
    core, and a second intra-op thread in each would only compete for the same cores (and
    spin while it waits).  Only the threads of the test processes change; every result
    that a test compares is computed in one process (or, for the verify and sweep runs,
    in workers that use one thread each already)."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        import torch

        torch.set_num_threads(1)


# ------------------------------------------------------------------------------ sharing
@pytest.fixture(autouse=True, scope="session")
def _each_derivation_once_per_process() -> Iterator[None]:
    """Memoise :func:`vaeproofs.symbolic.catalog.derive` for the test session.

    A derivation is a pure function of its name and returns a frozen record, so the many
    tests (and in-process ``verify``/``derive`` calls) that ask for the same derivation
    share one result instead of re-running sympy each time.  Under xdist each worker is
    its own process, so each derivation is computed at most once per worker.  Tests that
    must see a fresh or a broken derivation monkeypatch ``catalog.derive`` over this.
    Subprocesses (the verify runs, the scripts, the layering checks) compute their own.
    """
    from vaeproofs.symbolic import catalog

    original = catalog.derive
    catalog.derive = functools.cache(original)  # type: ignore[method-assign]
    yield
    catalog.derive = original  # type: ignore[method-assign]


@pytest.fixture(autouse=True, scope="session")
def _each_construction_row_once_per_process() -> Iterator[None]:
    """Memoise :func:`vaeproofs.constructions.evaluate_named` (hence ``run_all``) for the
    test session, as :func:`_each_derivation_once_per_process` does for derivations: a row
    is a frozen record computed from its name and settings alone, so the quick rows that
    claim tests, the constructions script and the in-process serial verify ask for are
    computed at most once per worker.  Tests of the evaluation itself call
    ``evaluate_construction``, which is not cached (its objective values are, below)."""
    from vaeproofs import constructions

    original = constructions.evaluate_named
    cached = functools.cache(original)

    def memo(name: str, *, quick: bool = False, dps: int | None = None) -> Any:
        # One key per row whichever way the caller spelled it: functools.cache alone keys
        # ``(name, quick=True)`` and ``(name, quick=True, dps=None)`` apart.
        return cached(name, quick=quick, dps=dps)

    constructions.evaluate_named = memo  # type: ignore[assignment]
    yield
    constructions.evaluate_named = original  # type: ignore[assignment]


@pytest.fixture(autouse=True, scope="session")
def _each_objective_value_once_per_process() -> Iterator[None]:
    """Memoise :meth:`Construction.objective` for the registry's constructions: the exact
    objective is a pure function of the construction, the point and the digits, and the
    tests that judge the constructions (growth, rates, caps, torch against mpmath, the rows)
    evaluate many of the same points, about 1 s each for the likelihood constructions.

    Keyed on the point exactly as given (an ``mpf`` by its binary value, a string or a
    number by its type and value), so only the same call hits; a construction built in a
    test (not the registry's instance), an unhashable point or an invalid argument goes
    through uncached, and errors are never cached.
    """
    import mpmath

    from vaeproofs import constructions
    from vaeproofs.constructions.base import Construction

    original = Construction.objective
    values: dict[tuple[object, ...], Any] = {}

    def memo(self: Construction, t: Any, *, dps: int = 30) -> Any:
        point = ("mpf", t._mpf_) if isinstance(t, mpmath.mpf) else (type(t).__name__, t)
        name = getattr(self, "name", None)
        if (type(t) not in (mpmath.mpf, str, int, float)
                or name not in constructions.names() or constructions.get(name) is not self):
            return original(self, t, dps=dps)
        key = (name, point, dps)
        if key not in values:
            values[key] = original(self, t, dps=dps)
        return values[key]

    Construction.objective = memo  # type: ignore[method-assign]
    yield
    Construction.objective = original  # type: ignore[method-assign]


def _quick_row(name: str) -> Any:
    from vaeproofs import constructions

    return constructions.evaluate_named(name, quick=True)  # quick values, 20 digits, no digit check


@pytest.fixture(scope="session")
def quick_row() -> Callable[[str], Any]:
    """``quick_row(name)``: the construction ``name`` evaluated along its quick values at 20
    digits, without the extra-digits check (the rows of ``verify --quick``), computed once
    per process and shared by the test files that judge claims on them.  A row is a frozen
    record; a test that needs a changed row makes a copy (``dataclasses.replace``)."""
    return _quick_row
