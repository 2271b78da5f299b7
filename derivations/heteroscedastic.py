"""Derivation "heteroscedastic": mean-variance regression, the supremum per distinct input.

Usage: ``python derivations/heteroscedastic.py [--out DIR] [--quiet]``, the same as
``vaeproofs derive heteroscedastic --out DIR``: prints the steps and the computed facts and writes
``DIR/heteroscedastic.md`` (Markdown with LaTeX; default DIR: ``derivations/out``).  The
derivation itself is :func:`vaeproofs.symbolic.heteroscedastic.derive_heteroscedastic`.
"""

from pathlib import Path

from vaeproofs.cli.derive import script_main

if __name__ == "__main__":
    raise SystemExit(script_main("heteroscedastic", Path(__file__).resolve().parent / "out"))
