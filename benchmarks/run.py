"""Run every benchmark and print one table: ``python -m benchmarks.run [--quick]``.

Run from the repository root (the benchmarks are a package; nothing edits ``sys.path``).

(a) symbolic derivation vs sympy.stats, (b) closed form vs Monte Carlo of matched
accuracy, (c) a training step vs a plain PyTorch loop, (d) time to pass the floor's
cap, (e) the audit (static part and full), (f) verify serial vs parallel, (g) the
collapse monitor's overhead on a training step (its onset-settings table, (h), takes
minutes: ``python -m benchmarks.bench_monitor --part onset``).
Each benchmark times its sides in alternation within this one run; every ratio is
median time / median time of that benchmark's baseline (ratio 1), so < 1 is faster.
Results and the machine are recorded in benchmarks/README.md.
"""

from __future__ import annotations

import math
import os
import platform
import sys

from benchmarks import (
    bench_audit,
    bench_cap_time,
    bench_monitor,
    bench_montecarlo,
    bench_symbolic,
    bench_train_step,
    bench_verify,
)


def _train_step_rows() -> list[dict[str, object]]:
    rows = bench_train_step.run()
    return [{"benchmark": "(c) training step, per-pixel VAE", "variant": r["name"],
             "median_s": r["median_s"], "ratio": r["ratio"],
             "note": f"median of {r['repeats']} x {r['steps']} steps; ratio to plain loop"}
            for r in rows]


def _monitor_rows(quick: bool) -> list[dict[str, object]]:
    rows = bench_monitor.overhead(repeats=5 if quick else 21, steps=50 if quick else 200)
    return [{"benchmark": f"(g) monitor overhead, {r['model']}", "variant": r["side"],
             "median_s": r["median_s"], "ratio": r["ratio"],
             "note": f"CPU time, median of {r['repeats']} x {r['steps']} steps; ratio to the plain "
                     f"loop; monitor's own time {100 * r['direct_share']:.2f} % of a step"}
            for r in rows]


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, {platform.platform()}")
    rows = [*bench_symbolic.run(repeats=3 if quick else 5),
            *bench_montecarlo.run(repeats=3 if quick else 7),
            *_train_step_rows(),
            *bench_cap_time.run(quick=quick, repeats=1 if quick else 3),
            *bench_audit.run(quick=quick),
            *bench_audit.run_examples(quick=quick),
            *bench_verify.run(quick=True, repeats=1 if quick else 3),
            *([] if quick else bench_verify.run(quick=False, repeats=1)),
            *_monitor_rows(quick)]
    print(f"\n| {'benchmark':<36} | {'variant':<44} | {'median':>12} | {'ratio':>9} | note |")
    print(f"|{'-' * 38}|{'-' * 46}|{'-' * 14}|{'-' * 11}|------|")
    for r in rows:
        t = r["median_s"]
        shown = f"{t * 1e3:9.3f} ms" if t < 1 else f"{t:10.3g} s"
        ratio = "" if math.isnan(r["ratio"]) else f"{r['ratio']:9.3g}"
        print(f"| {r['benchmark']:<36} | {r['variant']:<44} | {shown:>12} | {ratio:>9} | {r['note']} |")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
