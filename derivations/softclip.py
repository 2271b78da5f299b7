"""Derivation "softclip": sigma-VAE soft clip: cap 6 - log(2 pi)/2 per pixel.

Usage: ``python derivations/softclip.py [--out DIR] [--quiet]``, the same as
``vaeproofs derive softclip --out DIR``: prints the steps and the computed facts and writes
``DIR/softclip.md`` (Markdown with LaTeX; default DIR: ``derivations/out``).  The
derivation itself is :func:`vaeproofs.symbolic.softclip.derive_softclip`.
"""

from pathlib import Path

from vaeproofs.cli.derive import script_main

if __name__ == "__main__":
    raise SystemExit(script_main("softclip", Path(__file__).resolve().parent / "out"))
