"""Derivation "floor-collapse": a floor on the linear VAE's shared variance causes posterior collapse.

Usage: ``python derivations/floor_collapse.py [--out DIR] [--quiet]``, the same as
``vaeproofs derive floor-collapse --out DIR``: prints the steps and the computed facts and writes
``DIR/floor-collapse.md`` (Markdown with LaTeX; default DIR: ``derivations/out``).  The
derivation itself is :func:`vaeproofs.symbolic.floor_collapse.derive_floor_collapse`.
"""

from pathlib import Path

from vaeproofs.cli.derive import script_main

if __name__ == "__main__":
    raise SystemExit(script_main("floor-collapse", Path(__file__).resolve().parent / "out"))
