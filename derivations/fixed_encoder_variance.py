"""Derivation "fixed-encoder-variance": with a fixed encoder variance, unbounded iff D >= 4 s0^2 (n-1)/n.

Usage: ``python derivations/fixed_encoder_variance.py [--out DIR] [--quiet]``, the same as
``vaeproofs derive fixed-encoder-variance --out DIR``: prints the steps and the computed facts and writes
``DIR/fixed-encoder-variance.md`` (Markdown with LaTeX; default DIR: ``derivations/out``).  The
derivation itself is :func:`vaeproofs.symbolic.fixed_encoder_variance.derive_fixed_encoder_variance`.
"""

from pathlib import Path

from vaeproofs.cli.derive import script_main

if __name__ == "__main__":
    raise SystemExit(script_main("fixed-encoder-variance", Path(__file__).resolve().parent / "out"))
