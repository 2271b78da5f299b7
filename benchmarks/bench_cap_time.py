"""(d) How long the confirming experiment needs to pass the floor's cap.

For each per-pixel run of the confirming suite (raw digits: constant pixels plus
memorisation; dequantised digits: memorisation only), a first run finds the logged
step N at which the best per-point training ELBO first exceeds -(D/2) log(2 pi xi).
Training is deterministic for a seed, so a run of exactly N steps follows the same
trajectory; it is timed (median over repeats, metrics included) and checked to pass
the cap at its last step.

Run from the repository root: ``python -m benchmarks.bench_cap_time [--quick]``
"""

from __future__ import annotations

import dataclasses
import sys

from benchmarks.timing import median_seconds
from vaeproofs.numeric import confirming_suite, train


def run(quick: bool = False, repeats: int = 3) -> list[dict[str, object]]:
    """Time each per-pixel run up to the step where it passes the cap; return rows."""
    rows = []
    for config in confirming_suite(quick=quick):
        if config.likelihood != "per-pixel":
            continue
        step = train(config, progress=False).passed_cap_at_step
        name = f"(d) per-pixel, {'dequantised' if config.dequantize else 'raw'} digits"
        if step is None:
            rows.append({"benchmark": name, "variant": "never passed", "median_s": float("nan"),
                         "ratio": float("nan"), "note": f"{config.steps} steps"})
            continue
        short = dataclasses.replace(config, steps=step)
        again = train(short, progress=False)
        if again.passed_cap_at_step != step:
            raise AssertionError(f"truncated run passed at {again.passed_cap_at_step}, not {step}")
        seconds = median_seconds(lambda short=short: train(short, progress=False),
                                 repeats=repeats)
        rows.append({"benchmark": name, "variant": f"{'quick' if quick else 'default'} suite",
                     "median_s": seconds, "ratio": float("nan"),
                     "note": f"passes -(D/2) log(2 pi xi) = {again.floor_cap_threshold:.1f} "
                             f"(xi = {config.xi:g}) at step {step}"})
    return rows


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv):
        print(f"{row['benchmark']:<36} {row['median_s']:8.2f} s  {row['note']}")
