"""Derivation "gaussian-kl": KL(N(m, s^2) || N(0, 1)) by integration.

Usage: ``python derivations/gaussian_kl.py [--out DIR] [--quiet]``, the same as
``vaeproofs derive gaussian-kl --out DIR``: prints the steps and the computed facts and writes
``DIR/gaussian-kl.md`` (Markdown with LaTeX; default DIR: ``derivations/out``).  The
derivation itself is :func:`vaeproofs.symbolic.gaussian.derive_kl`.
"""

from pathlib import Path

from vaeproofs.cli.derive import script_main

if __name__ == "__main__":
    raise SystemExit(script_main("gaussian-kl", Path(__file__).resolve().parent / "out"))
