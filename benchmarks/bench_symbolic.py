"""(a) The toolkit's closed-form linear ELBO derivation against brute-force sympy.stats.

Both build the exact ELBO of a linear-Gaussian VAE with D = 2, k = 1 (every parameter a
symbol): the toolkit from its Gaussian identities (taken once from the standard normal's
moments, an expression the derivations check equal to the integral, then substituted), the
brute force by asking ``sympy.stats.E`` for the expectation of the
log-likelihood and of log q - log p directly.  Both results are checked equal before
timing.  "cold" clears the toolkit's caches so its one-off expectations are timed too.

Run from the repository root: ``python -m benchmarks.bench_symbolic``
"""

from __future__ import annotations

import sympy as sp
from sympy import stats

from benchmarks.timing import interleaved_medians
from vaeproofs.symbolic import gaussian
from vaeproofs.symbolic.linear import linear_elbo, linear_gaussian_symbols

D, K = 2, 1


def _toolkit() -> sp.Expr:
    s = linear_gaussian_symbols(D, K, diagonal_S=True)
    return linear_elbo(s.x, s.W, s.b, s.sigma2, s.m, s.S)


def _brute_force() -> sp.Expr:
    s = linear_gaussian_symbols(D, K, diagonal_S=True)
    z = stats.Normal("z", s.m[0], sp.sqrt(s.S[0, 0]))
    loglik = sum(-sp.log(2 * sp.pi * s.sigma2) / 2
                 - (s.x[i] - s.W[i, 0] * z - s.b[i]) ** 2 / (2 * s.sigma2) for i in range(D))
    log_q = -sp.log(2 * sp.pi * s.S[0, 0]) / 2 - (z - s.m[0]) ** 2 / (2 * s.S[0, 0])
    log_p = -sp.log(2 * sp.pi) / 2 - z**2 / 2
    return stats.E(loglik) - stats.E(log_q - log_p)


def _clear_caches() -> None:
    gaussian._kl_generic.cache_clear()
    gaussian._expected_log_density_generic.cache_clear()


def run(repeats: int = 5) -> list[dict[str, object]]:
    """Time both ways (cold and warm toolkit); return table rows."""
    difference = sp.simplify(sp.expand_log(_toolkit() - _brute_force(), force=True))
    if difference != 0:
        raise AssertionError(f"toolkit and sympy.stats disagree: {difference}")
    cold = interleaved_medians({"toolkit (cold)": _toolkit, "sympy.stats": _brute_force},
                               repeats=repeats, setup=_clear_caches)
    warm = interleaved_medians({"toolkit (warm)": _toolkit}, repeats=repeats)
    base = cold["sympy.stats"]
    return [
        {"benchmark": "(a) symbolic linear ELBO, D=2 k=1", "variant": name, "median_s": t,
         "ratio": t / base, "note": "time / sympy.stats time (results checked equal)"}
        for name, t in {**cold, **warm}.items()
    ]


if __name__ == "__main__":
    for row in run():
        print(f"{row['variant']:<16} {row['median_s'] * 1e3:10.2f} ms   ratio {row['ratio']:.3g}")
