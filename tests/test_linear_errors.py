"""Bad input to the numpy linear-Gaussian API gets InvalidArgumentError naming the argument."""

from __future__ import annotations

import numpy as np
import pytest

from vaeproofs import InvalidArgumentError, linear

RNG = np.random.default_rng(0)
N, D, K = 4, 3, 2
X = RNG.normal(size=(N, D))
W = RNG.normal(size=(D, K))
B = np.zeros(D)
M = RNG.normal(size=(N, K))
S = np.eye(K) * 0.5


def _call(**over: object) -> None:
    args = {"x": X, "W": W, "b": B, "sigma2": 0.3, "m": M, "S": S} | over
    linear.elbo(**args)


@pytest.mark.parametrize(
    ("override", "argument"),
    [
        ({"sigma2": 0.0}, "sigma2"),
        ({"sigma2": -1.0}, "sigma2"),
        ({"sigma2": float("nan")}, "sigma2"),
        ({"S": np.array([[1.0, 0.5], [0.0, 1.0]])}, "S"),         # not symmetric
        ({"S": np.array([[1.0, 2.0], [2.0, 1.0]])}, "S"),         # indefinite
        ({"S": np.ones((N + 1, K, K))}, "S"),                      # wrong stack size
        ({"m": np.zeros((N, K + 1))}, "m"),
        ({"W": np.zeros((D + 1, K))}, "W"),
        ({"b": np.zeros(D + 1)}, "b"),
        ({"x": np.zeros(D)}, "x"),                                 # 1-D x
        ({"x": np.where(np.eye(N, D) > 0, np.nan, X)}, "x"),       # NaN
        ({"W": np.full((D, K), np.inf)}, "W"),
    ],
)
def test_elbo_names_the_bad_argument(override: dict[str, object], argument: str) -> None:
    with pytest.raises(InvalidArgumentError) as exc:
        _call(**override)
    assert exc.value.argument == argument
    assert str(exc.value).startswith(f"{argument}: ")


def test_ppca_k_out_of_range_and_degenerate_data() -> None:
    for k in (0, D, -1):
        with pytest.raises(InvalidArgumentError, match=r"^k: must be in \[1, 2\]"):
            linear.ppca_mle(X, k)
    # Rank-1 data (computed: every row a multiple of one vector) with k = 1: unbounded.
    rank_one = np.outer(RNG.normal(size=6), RNG.normal(size=D))
    with pytest.raises(InvalidArgumentError, match="rank <= k"):
        linear.ppca_mle(rank_one, 1)
    with pytest.raises(InvalidArgumentError, match=r"^X: "):
        linear.ppca_mle(X[:1], 1)


def test_other_entry_points_validate_too() -> None:
    with pytest.raises(InvalidArgumentError, match=r"^sigma2: "):
        linear.log_marginal(X, W, B, -2.0)
    with pytest.raises(InvalidArgumentError, match=r"^b: "):
        linear.posterior(X, W, np.zeros(D + 2), 1.0)
    with pytest.raises(InvalidArgumentError, match=r"^S: "):
        linear.kl_to_posterior(X, W, B, 1.0, M, -np.eye(K))
