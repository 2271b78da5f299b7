"""Print and write the probabilistic PCA derivations ("ppca", "ppca-degenerate").

Usage: ``python derivations/ppca.py [--out DIR] [--quiet]``; writes ``DIR/ppca.md``
and ``DIR/ppca-degenerate.md`` (default DIR: ``derivations/out``).  The derivations
are :func:`vaeproofs.symbolic.ppca.derive_ppca` and
:func:`vaeproofs.symbolic.ppca.derive_degenerate`.
"""

from _runner import run_derivations

if __name__ == "__main__":
    raise SystemExit(run_derivations(["ppca", "ppca-degenerate"]))
