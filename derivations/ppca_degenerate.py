"""Derivation "ppca-degenerate": rank r <= k data: the linear-Gaussian likelihood is unbounded.

Usage: ``python derivations/ppca_degenerate.py [--out DIR] [--quiet]``, the same as
``vaeproofs derive ppca-degenerate --out DIR``: prints the steps and the computed facts and writes
``DIR/ppca-degenerate.md`` (Markdown with LaTeX; default DIR: ``derivations/out``).  The
derivation itself is :func:`vaeproofs.symbolic.ppca_degenerate.derive_ppca_degenerate`.
"""

from pathlib import Path

from vaeproofs.cli.derive import script_main

if __name__ == "__main__":
    raise SystemExit(script_main("ppca-degenerate", Path(__file__).resolve().parent / "out"))
