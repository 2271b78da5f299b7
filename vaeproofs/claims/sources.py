"""The claims' own computations, named so that ``vaeproofs verify`` can run them in its pool.

Most claims read shared sources (derivations, construction rows, training suites); a few
also run a small computation of their own (L-BFGS fits, a short Adam run).  Each of those
is a pure function of the ``quick`` flag, registered here under a name, so that
:meth:`~vaeproofs.claims.context.EvidenceContext.source` caches it like any shared source
and :mod:`vaeproofs.claims.prefetch` can compute it in a worker process alongside the rest
instead of serially after them.

The function is looked up by module and attribute name when the source is computed (not
bound at import), so a test that replaces it (``monkeypatch.setattr``) is honoured.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

__all__ = ["SOURCES", "Source", "compute_source"]


@dataclass(frozen=True)
class Source:
    """Where a claim's own computation lives, and its rough cost (only orders the queue).

    Attributes:
        module: the module that defines it.
        function: its name there; called as ``function(quick)``.
        seconds: rough seconds of one core with ``--quick`` and without (measured once in
            one process after its imports, 2026-12-04).
    """

    module: str
    function: str
    seconds: tuple[float, float]


#: Name -> the computation behind it.
SOURCES: dict[str, Source] = {
    "floor-fits": Source("vaeproofs.claims.floor_cost_evidence", "floor_fits", (0.4, 1.3)),
    "regression-fits": Source("vaeproofs.claims.regression_evidence", "regression_fits", (0.4, 0.4)),
    "regression-runs": Source("vaeproofs.claims.regression_evidence", "regression_runs", (0.0, 2.1)),
    "population-beta-runs": Source("vaeproofs.claims.kl_price_evidence", "population_beta_runs",
                                   (0.25, 0.4)),
    "fixed-encoder-soft-profiles": Source("vaeproofs.claims.kl_price_evidence",
                                          "fixed_encoder_soft_profiles", (0.4, 0.7)),
    "continuous-bernoulli-caps": Source("vaeproofs.claims.remedy_training",
                                        "continuous_bernoulli_caps", (0.35, 0.4)),
    "beta-nll-dynamics": Source("vaeproofs.claims.remedy_training", "beta_nll_dynamics_runs",
                                (0.1, 0.1)),
}


def compute_source(name: str, quick: bool) -> Any:
    """Run the computation registered as ``name`` (a key of :data:`SOURCES`)."""
    source = SOURCES[name]
    return getattr(importlib.import_module(source.module), source.function)(quick)
