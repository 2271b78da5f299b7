"""Print and write the linear-Gaussian VAE derivation ("linear-elbo").

Usage: ``python derivations/linear_elbo.py [--out DIR] [--quiet]``; writes
``DIR/linear-elbo.md`` (default DIR: ``derivations/out``).  The derivation itself is
:func:`vaeproofs.symbolic.linear.derive_linear_elbo`.
"""

from _runner import run_derivations

if __name__ == "__main__":
    raise SystemExit(run_derivations(["linear-elbo"]))
