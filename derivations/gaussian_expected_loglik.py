"""Derivation "gaussian-expected-loglik": E_q[log N(x | w z + b, sigma^2)] for Gaussian q.

Usage: ``python derivations/gaussian_expected_loglik.py [--out DIR] [--quiet]``, the same as
``vaeproofs derive gaussian-expected-loglik --out DIR``: prints the steps and the computed facts and writes
``DIR/gaussian-expected-loglik.md`` (Markdown with LaTeX; default DIR: ``derivations/out``).  The
derivation itself is :func:`vaeproofs.symbolic.gaussian.derive_expected_log_density`.
"""

from pathlib import Path

from vaeproofs.cli.derive import script_main

if __name__ == "__main__":
    raise SystemExit(script_main("gaussian-expected-loglik", Path(__file__).resolve().parent / "out"))
