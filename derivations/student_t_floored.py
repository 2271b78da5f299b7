"""Derivation "student-t-floored": floored Student-t: cap log c(nu) - log s_min, any nu.

Usage: ``python derivations/student_t_floored.py [--out DIR] [--quiet]``, the same as
``vaeproofs derive student-t-floored --out DIR``: prints the steps and the computed facts and writes
``DIR/student-t-floored.md`` (Markdown with LaTeX; default DIR: ``derivations/out``).  The
derivation itself is :func:`vaeproofs.symbolic.student_t_floored.derive_student_t_floored`.
"""

from pathlib import Path

from vaeproofs.cli.derive import script_main

if __name__ == "__main__":
    raise SystemExit(script_main("student-t-floored", Path(__file__).resolve().parent / "out"))
