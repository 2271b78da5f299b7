"""Derivation "fixed-variance-beta": a fixed decoder variance is a beta-VAE with beta = 2 s0^2.

Usage: ``python derivations/fixed_variance_beta.py [--out DIR] [--quiet]``, the same as
``vaeproofs derive fixed-variance-beta --out DIR``: prints the steps and the computed facts and writes
``DIR/fixed-variance-beta.md`` (Markdown with LaTeX; default DIR: ``derivations/out``).  The
derivation itself is :func:`vaeproofs.symbolic.fixed_variance_beta.derive_fixed_variance_beta`.
"""

from pathlib import Path

from vaeproofs.cli.derive import script_main

if __name__ == "__main__":
    raise SystemExit(script_main("fixed-variance-beta", Path(__file__).resolve().parent / "out"))
