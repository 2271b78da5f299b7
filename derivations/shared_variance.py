"""Derivation "shared-variance": the ELBO-optimal shared variance and the profiled objective.

Usage: ``python derivations/shared_variance.py [--out DIR] [--quiet]``, the same as
``vaeproofs derive shared-variance --out DIR``: prints the steps and the computed facts and writes
``DIR/shared-variance.md`` (Markdown with LaTeX; default DIR: ``derivations/out``).  The
derivation itself is :func:`vaeproofs.symbolic.shared_variance.derive_shared_variance`.
"""

from pathlib import Path

from vaeproofs.cli.derive import script_main

if __name__ == "__main__":
    raise SystemExit(script_main("shared-variance", Path(__file__).resolve().parent / "out"))
