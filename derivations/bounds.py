"""Derive the log-likelihood caps and the decoder-variance equivalences.

Prints the derivations ``floor-cap``, ``bernoulli-cap``, ``fixed-variance-beta`` and
``shared-variance`` step by step with their computed facts and writes
``DIR/<name>.md`` (Markdown with LaTeX).

Usage: ``python derivations/bounds.py [--out DIR] [--quiet]``.
"""

from _runner import run_derivations

if __name__ == "__main__":
    raise SystemExit(run_derivations(
        ["floor-cap", "bernoulli-cap", "fixed-variance-beta", "shared-variance"]))
