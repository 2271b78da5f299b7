"""Derivation "dequantisation": fresh uniform noise: E[log q] <= D log(1/Delta) - log n.

Usage: ``python derivations/dequantisation.py [--out DIR] [--quiet]``, the same as
``vaeproofs derive dequantisation --out DIR``: prints the steps and the computed facts and writes
``DIR/dequantisation.md`` (Markdown with LaTeX; default DIR: ``derivations/out``).  The
derivation itself is :func:`vaeproofs.symbolic.dequantisation.derive_dequantisation`.
"""

from pathlib import Path

from vaeproofs.cli.derive import script_main

if __name__ == "__main__":
    raise SystemExit(script_main("dequantisation", Path(__file__).resolve().parent / "out"))
