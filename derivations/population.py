"""Derivation "population": Gibbs: E_p[log q] <= -h(p) for a population with a density.

Usage: ``python derivations/population.py [--out DIR] [--quiet]``, the same as
``vaeproofs derive population --out DIR``: prints the steps and the computed facts and writes
``DIR/population.md`` (Markdown with LaTeX; default DIR: ``derivations/out``).  The
derivation itself is :func:`vaeproofs.symbolic.population.derive_population`.
"""

from pathlib import Path

from vaeproofs.cli.derive import script_main

if __name__ == "__main__":
    raise SystemExit(script_main("population", Path(__file__).resolve().parent / "out"))
