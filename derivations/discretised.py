"""Derivation "discretised": pmf decoders: log P <= 0; sup -n log n over n distinct points.

Usage: ``python derivations/discretised.py [--out DIR] [--quiet]``, the same as
``vaeproofs derive discretised --out DIR``: prints the steps and the computed facts and writes
``DIR/discretised.md`` (Markdown with LaTeX; default DIR: ``derivations/out``).  The
derivation itself is :func:`vaeproofs.symbolic.discretised.derive_discretised`.
"""

from pathlib import Path

from vaeproofs.cli.derive import script_main

if __name__ == "__main__":
    raise SystemExit(script_main("discretised", Path(__file__).resolve().parent / "out"))
