"""Derivation "bernoulli-cap": the Bernoulli log-likelihood is at most 0.

Usage: ``python derivations/bernoulli_cap.py [--out DIR] [--quiet]``, the same as
``vaeproofs derive bernoulli-cap --out DIR``: prints the steps and the computed facts and writes
``DIR/bernoulli-cap.md`` (Markdown with LaTeX; default DIR: ``derivations/out``).  The
derivation itself is :func:`vaeproofs.symbolic.bernoulli_cap.derive_bernoulli_cap`.
"""

from pathlib import Path

from vaeproofs.cli.derive import script_main

if __name__ == "__main__":
    raise SystemExit(script_main("bernoulli-cap", Path(__file__).resolve().parent / "out"))
