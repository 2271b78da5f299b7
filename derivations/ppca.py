"""Derivation "ppca": probabilistic PCA maximum likelihood, attained by the linear VAE.

Usage: ``python derivations/ppca.py [--out DIR] [--quiet]``, the same as
``vaeproofs derive ppca --out DIR``: prints the steps and the computed facts and writes
``DIR/ppca.md`` (Markdown with LaTeX; default DIR: ``derivations/out``).  The
derivation itself is :func:`vaeproofs.symbolic.ppca.derive_ppca`.
"""

from pathlib import Path

from vaeproofs.cli.derive import script_main

if __name__ == "__main__":
    raise SystemExit(script_main("ppca", Path(__file__).resolve().parent / "out"))
