"""The claims layer: every claim of the discussion, its evidence, and a computed verdict.

It composes the symbolic, constructions and numeric layers; nothing here is computed
from scratch and no verdict is typed in (see :mod:`vaeproofs.claims.verdict`).
"""

from vaeproofs.claims.catalog import CLAIMS, claim_ids
from vaeproofs.claims.claim import Claim, ClaimResult, evaluate_claim
from vaeproofs.claims.context import EvidenceContext
from vaeproofs.claims.verdict import Evidence, decide

__all__ = ["CLAIMS", "Claim", "ClaimResult", "Evidence", "EvidenceContext", "claim_ids",
           "decide", "evaluate_claim"]
