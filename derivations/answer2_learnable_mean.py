"""Derivation "answer2-learnable-mean": the answer-2 example with a learnable decoder mean a*z.

Usage: ``python derivations/answer2_learnable_mean.py [--out DIR] [--quiet]``, the same as
``vaeproofs derive answer2-learnable-mean --out DIR``: prints the steps and the computed facts and writes
``DIR/answer2-learnable-mean.md`` (Markdown with LaTeX; default DIR: ``derivations/out``).  The
derivation itself is :func:`vaeproofs.symbolic.answer2_learnable_mean.derive_answer2_learnable_mean`.
"""

from pathlib import Path

from vaeproofs.cli.derive import script_main

if __name__ == "__main__":
    raise SystemExit(script_main("answer2-learnable-mean", Path(__file__).resolve().parent / "out"))
