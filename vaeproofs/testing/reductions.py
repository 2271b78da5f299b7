"""Sum or mean over the batch, pixels and latents, read from how weights scale with shape.

Sum or mean over the batch (and over pixels or latents) only changes a fitted weight by a
factor B (or D, K) between shapes: a weight that scales as B^e D^f K^g reveals the
reduction (e = 0: sum over the batch, e = -1: mean over the batch).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["AXIS_PARAMS", "exponents", "leading_term", "reduction_text"]

_AXES = ("batch", "pixels", "latents")
#: The shape parameters, in the order of a fit's (B, D, K) shape.
AXIS_PARAMS = ("batch_size", "data_dim", "latent_dim")


def exponents(shapes: Sequence[tuple[int, int, int]], weights: Sequence[float],
              bounds: Sequence[float]) -> dict[int, int | None]:
    """Integer power of B, D, K in which a nonzero weight scales across shapes.

    Returns axis -> exponent (None: not a power law).  Axes not varied are left out, and
    so is everything when some weight is zero within its bound.
    """
    arr = np.array(shapes, dtype=float)
    varied = [j for j in range(3) if len(set(arr[:, j])) > 1]
    w = np.abs(np.array(weights))
    if not varied or np.any(w <= np.array(bounds)):
        return {}
    logs = np.log(w)
    X = np.column_stack([np.ones(len(shapes)), np.log(arr[:, varied])])
    sol, *_ = np.linalg.lstsq(X, logs, rcond=None)
    expo = np.round(sol[1:])
    offset = logs - X[:, 1:] @ expo
    # |d log w| <= bound / |w|: the offsets of a power law agree within twice that.
    rel = np.array(bounds) / w
    consistent = float(np.ptp(offset)) <= 2.0 * float(rel.max()) + 1e-12
    return {j: (int(e) if consistent else None) for j, e in zip(varied, expo, strict=True)}


def reduction_text(expo: Mapping[int, int | None], term: str, own_axes: tuple[int, ...]
                   ) -> str:
    """Describe the exponents; axes other than ``own_axes`` are named only when nonzero."""
    if not expo:
        return f"{term}: reduction not identified"
    parts = []
    for j, e in sorted(expo.items()):
        if e is None:
            return f"{term}: scales irregularly with the shape"
        if e == 0 and j in own_axes:
            parts.append(f"sum over {_AXES[j]}")
        elif e == -1 and j in own_axes:
            parts.append(f"mean over {_AXES[j]}")
        elif e != 0:
            parts.append(f"x {AXIS_PARAMS[j]}^{e}")
    return f"{term}: " + ", ".join(parts)


def leading_term(coef: Mapping[str, float], bound: Mapping[str, float],
                 names: Sequence[str]) -> str | None:
    """The term among ``names`` fitted farthest from zero, relative to its bound."""
    score = {nm: abs(coef[nm]) / bound[nm] if bound[nm] > 0 else 0.0 for nm in names}
    best = max(score, key=lambda nm: score[nm])
    return best if score[best] > 1.0 else None
