"""Derivation "continuous-bernoulli": C(l); log p(0 | l) -> oo like log log(1/l).

Usage: ``python derivations/continuous_bernoulli.py [--out DIR] [--quiet]``, the same as
``vaeproofs derive continuous-bernoulli --out DIR``: prints the steps and the computed facts and writes
``DIR/continuous-bernoulli.md`` (Markdown with LaTeX; default DIR: ``derivations/out``).  The
derivation itself is :func:`vaeproofs.symbolic.continuous_bernoulli.derive_continuous_bernoulli`.
"""

from pathlib import Path

from vaeproofs.cli.derive import script_main

if __name__ == "__main__":
    raise SystemExit(script_main("continuous-bernoulli", Path(__file__).resolve().parent / "out"))
