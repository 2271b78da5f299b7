"""Derivation "mixture": Gaussian mixture unbounded, one Gaussian bounded; the VAE as a mixture.

Usage: ``python derivations/mixture.py [--out DIR] [--quiet]``, the same as
``vaeproofs derive mixture --out DIR``: prints the steps and the computed facts and writes
``DIR/mixture.md`` (Markdown with LaTeX; default DIR: ``derivations/out``).  The
derivation itself is :func:`vaeproofs.symbolic.mixture.derive_mixture`.
"""

from pathlib import Path

from vaeproofs.cli.derive import script_main

if __name__ == "__main__":
    raise SystemExit(script_main("mixture", Path(__file__).resolve().parent / "out"))
