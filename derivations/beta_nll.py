"""Derivation "beta-nll": beta-NLL: stationary variance r^2, collapse slowed not prevented.

Usage: ``python derivations/beta_nll.py [--out DIR] [--quiet]``, the same as
``vaeproofs derive beta-nll --out DIR``: prints the steps and the computed facts and writes
``DIR/beta-nll.md`` (Markdown with LaTeX; default DIR: ``derivations/out``).  The
derivation itself is :func:`vaeproofs.symbolic.beta_nll.derive_beta_nll`.
"""

from pathlib import Path

from vaeproofs.cli.derive import script_main

if __name__ == "__main__":
    raise SystemExit(script_main("beta-nll", Path(__file__).resolve().parent / "out"))
