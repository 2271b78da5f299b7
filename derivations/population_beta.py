"""Derivation "population-beta": the beta-weighted population objective is <= -h(p) iff beta >= 1.

Usage: ``python derivations/population_beta.py [--out DIR] [--quiet]``, the same as
``vaeproofs derive population-beta --out DIR``: prints the steps and the computed facts and writes
``DIR/population-beta.md`` (Markdown with LaTeX; default DIR: ``derivations/out``).  The
derivation itself is :func:`vaeproofs.symbolic.population_beta.derive_population_beta`.
"""

from pathlib import Path

from vaeproofs.cli.derive import script_main

if __name__ == "__main__":
    raise SystemExit(script_main("population-beta", Path(__file__).resolve().parent / "out"))
