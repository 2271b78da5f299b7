"""Derivation "linear-elbo": the linear-Gaussian VAE: closed-form ELBO, exact posterior, gap = KL.

Usage: ``python derivations/linear_elbo.py [--out DIR] [--quiet]``, the same as
``vaeproofs derive linear-elbo --out DIR``: prints the steps and the computed facts and writes
``DIR/linear-elbo.md`` (Markdown with LaTeX; default DIR: ``derivations/out``).  The
derivation itself is :func:`vaeproofs.symbolic.linear_elbo.derive_linear_elbo`.
"""

from pathlib import Path

from vaeproofs.cli.derive import script_main

if __name__ == "__main__":
    raise SystemExit(script_main("linear-elbo", Path(__file__).resolve().parent / "out"))
