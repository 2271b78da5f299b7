"""Derivation "single-point-collapse": the half-space ELBO collapse and its KL price per point.

Usage: ``python derivations/single_point_collapse.py [--out DIR] [--quiet]``, the same as
``vaeproofs derive single-point-collapse --out DIR``: prints the steps and the computed facts and writes
``DIR/single-point-collapse.md`` (Markdown with LaTeX; default DIR: ``derivations/out``).  The
derivation itself is :func:`vaeproofs.symbolic.single_point_collapse.derive_single_point_collapse`.
"""

from pathlib import Path

from vaeproofs.cli.derive import script_main

if __name__ == "__main__":
    raise SystemExit(script_main("single-point-collapse", Path(__file__).resolve().parent / "out"))
