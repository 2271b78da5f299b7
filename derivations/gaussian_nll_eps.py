"""Derivation "gaussian-nll-eps": PyTorch GaussianNLLLoss(eps): loss floored, variance not.

Usage: ``python derivations/gaussian_nll_eps.py [--out DIR] [--quiet]``, the same as
``vaeproofs derive gaussian-nll-eps --out DIR``: prints the steps and the computed facts and writes
``DIR/gaussian-nll-eps.md`` (Markdown with LaTeX; default DIR: ``derivations/out``).  The
derivation itself is :func:`vaeproofs.symbolic.gaussian_nll_eps.derive_gaussian_nll_eps`.
"""

from pathlib import Path

from vaeproofs.cli.derive import script_main

if __name__ == "__main__":
    raise SystemExit(script_main("gaussian-nll-eps", Path(__file__).resolve().parent / "out"))
