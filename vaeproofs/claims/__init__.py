"""The claims layer: every claim of the discussion, its evidence, and a computed verdict.

It composes the symbolic, constructions and numeric layers; nothing here is computed
from scratch and no verdict is typed in (see :mod:`vaeproofs.claims.verdict`).

The names below are imported lazily, so that ``vaeproofs.claims.verdict`` (the
evidence record and the verdict rule, which the audit reuses) loads without the
catalog and its sympy derivations.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vaeproofs.claims.catalog import CLAIMS, claim_ids
    from vaeproofs.claims.claim import Claim, ClaimResult, evaluate_claim
    from vaeproofs.claims.context import EvidenceContext
    from vaeproofs.claims.verdict import Evidence, decide

__all__ = ["CLAIMS", "Claim", "ClaimResult", "Evidence", "EvidenceContext", "claim_ids",
           "decide", "evaluate_claim"]

_WHERE = {"CLAIMS": "catalog", "claim_ids": "catalog", "Claim": "claim", "ClaimResult": "claim",
          "evaluate_claim": "claim", "EvidenceContext": "context", "Evidence": "verdict",
          "decide": "verdict"}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(f"vaeproofs.claims.{_WHERE[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'vaeproofs.claims' has no attribute {name!r}")
