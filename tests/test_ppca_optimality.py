"""pPCA's maximum against random linear VAEs (the numeric evidence for remedy.shared-variance-linear)."""

from __future__ import annotations

import dataclasses

import pytest

from vaeproofs.errors import InvalidArgumentError
from vaeproofs.ppca_optimality import ppca_optimality


def test_full_rank_data_attain_and_never_exceed_the_ppca_maximum() -> None:
    r = ppca_optimality(draws=30)
    assert r.sigma2_ml > 0 and r.attained and r.never_exceeded and r.holds
    assert r.best_random < r.loglik  # the random sets are far from the optimum


def test_the_check_can_fail() -> None:
    """A random parameter set above L_max, or an untight ELBO, makes it fail."""
    r = ppca_optimality(draws=5)
    assert not dataclasses.replace(r, best_random=r.loglik + 10 * r.tolerance).holds
    assert not dataclasses.replace(r, elbo_at_mle=r.loglik - 10 * r.tolerance).holds


def test_bad_sizes_are_refused_by_name() -> None:
    with pytest.raises(InvalidArgumentError, match=r"^k:"):
        ppca_optimality(dim=3, k=3)
    with pytest.raises(InvalidArgumentError, match=r"^draws:"):
        ppca_optimality(draws=0)
