"""Derivation "floor-cap": the Gaussian density cap under a variance floor xi.

Usage: ``python derivations/floor_cap.py [--out DIR] [--quiet]``, the same as
``vaeproofs derive floor-cap --out DIR``: prints the steps and the computed facts and writes
``DIR/floor-cap.md`` (Markdown with LaTeX; default DIR: ``derivations/out``).  The
derivation itself is :func:`vaeproofs.symbolic.floor_cap.derive_floor_cap`.
"""

from pathlib import Path

from vaeproofs.cli.derive import script_main

if __name__ == "__main__":
    raise SystemExit(script_main("floor-cap", Path(__file__).resolve().parent / "out"))
