"""(f) ``vaeproofs verify`` serial against parallel, side by side in one run.

Each repeat runs ``python -m vaeproofs verify [--quick] --workers W --no-progress`` as a
fresh process (imports included, as a user runs it) for W = 1 (serial) and W = the
machine's cores, in alternation, and records the wall time with :mod:`timeit`.  The
verdicts of the two runs are compared too: the parallel run must decide every claim the
same way (its evidence is identical; ``tests/test_cli_verify.py`` checks that).

Run from the repository root: ``python -m benchmarks.bench_verify [--quick] [--full]``
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import timeit
from pathlib import Path


def _verify(workers: int, quick: bool, out: Path) -> None:
    args = [sys.executable, "-m", "vaeproofs", "verify", "--workers", str(workers), "--no-progress",
            "--json", str(out)] + (["--quick"] if quick else [])
    subprocess.run(args, check=True, capture_output=True, timeout=1200)


def _verdicts(path: Path) -> dict[str, str]:
    return {c["id"]: c["verdict"] for c in json.loads(path.read_text())["claims"]}


def run(quick: bool = True, repeats: int = 3) -> list[dict[str, object]]:
    """Rows ``{"benchmark", "variant", "median_s", "ratio", "note"}`` (ratio to serial)."""
    cores = os.cpu_count() or 1
    times: dict[int, list[float]] = {1: [], cores: []}
    with tempfile.TemporaryDirectory() as tmp:
        outs = {w: Path(tmp) / f"v{w}.json" for w in times}
        for _ in range(repeats):
            for w in times:
                times[w].append(timeit.Timer(lambda w=w: _verify(w, quick, outs[w])).timeit(number=1))
        same = _verdicts(outs[1]) == _verdicts(outs[cores])
    serial = statistics.median(times[1])
    label = "(f) verify --quick" if quick else "(f) verify (full)"
    return [{"benchmark": label, "variant": f"--workers {w}" + (" (serial)" if w == 1 else ""),
             "median_s": statistics.median(t), "ratio": statistics.median(t) / serial,
             "note": f"median of {repeats} fresh processes; same verdicts: {same}"}
            for w, t in times.items()]


if __name__ == "__main__":
    full = "--full" in sys.argv
    for row in run(quick=not full, repeats=1 if "--quick" in sys.argv else 3):
        print(f"{row['benchmark']:<22} {row['variant']:<22} {row['median_s']:8.1f} s  "
              f"ratio {row['ratio']:.2f}  {row['note']}")
