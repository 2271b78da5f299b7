"""Evaluate every explicit construction and write DIR/constructions.json and .png.

Usage: ``python derivations/constructions.py --out DIR [--quick] [--dps N]``.

Each JSON object has the keys documented in :class:`vaeproofs.constructions.ConstructionRow`
(``name``, ``bounded``, ``parameter``, ``parameter_values``, ``values`` (mpmath decimal
strings), ``torch_float64``, ``rate``, ``cap``, ``limit``, ``limit_value``, plus digits,
errors and float limits).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from vaeproofs.constructions import run_all
from vaeproofs.constructions.figure import constructions_figure
from vaeproofs.errors import InvalidArgumentError
from vaeproofs.outputs import check_output_file, plan_outputs, write_atomic


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path, help="output directory")
    parser.add_argument("--quick", action="store_true", help="three values per construction")
    parser.add_argument("--dps", type=int, default=None,
                        help="mpmath decimal digits (default 30, 20 with --quick)")
    args = parser.parse_args(argv)
    try:  # every output is validated before the (long) evaluation starts
        folder = plan_outputs(dirs={"--out": args.out})["--out"]
        folder.mkdir(exist_ok=True)
        json_path = check_output_file("--out", folder / "constructions.json")
        png_path = check_output_file("--out", folder / "constructions.png")
    except InvalidArgumentError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 2
    start = time.perf_counter()
    rows = run_all(quick=args.quick, dps=args.dps)
    write_atomic(json_path, json.dumps([r.to_json() for r in rows], indent=2) + "\n")
    png = io.BytesIO()
    constructions_figure(rows).savefig(png, format="png", dpi=110)
    write_atomic(png_path, png.getvalue())
    for r in rows:
        worst = r.max_torch_rel_error
        print(f"{r.name:26s} bounded={r.bounded!s:5s} rate: {r.rate}  "
              f"max torch rel err {worst if worst is None else f'{worst:.1e}'}  ({r.seconds:.1f} s)")
    print(f"wrote {args.out}/constructions.json and .png in "
          f"{time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
