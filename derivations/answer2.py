"""Derivation "answer2": the second answer's 1-D KL-versus-precision example, re-derived.

Usage: ``python derivations/answer2.py [--out DIR] [--quiet]``, the same as
``vaeproofs derive answer2 --out DIR``: prints the steps and the computed facts and writes
``DIR/answer2.md`` (Markdown with LaTeX; default DIR: ``derivations/out``).  The
derivation itself is :func:`vaeproofs.symbolic.answer2.derive_answer2`.
"""

from pathlib import Path

from vaeproofs.cli.derive import script_main

if __name__ == "__main__":
    raise SystemExit(script_main("answer2", Path(__file__).resolve().parent / "out"))
