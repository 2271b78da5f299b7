"""The constructions figure: each objective against its collapse parameter, with caps.

Pure: builds and returns a matplotlib ``Figure`` from the rows of
:func:`vaeproofs.constructions.run_all`; the caller saves it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from matplotlib.figure import Figure

if TYPE_CHECKING:
    from vaeproofs.constructions.row import ConstructionRow

__all__ = ["constructions_figure"]


def _x(row: ConstructionRow) -> tuple[list[float], str]:
    import mpmath

    vals = [mpmath.mpf(v) for v in row.parameter_values]
    if row.parameter == "epsilon":
        # Natural log, like the stated rates: the plotted slope is the rate's coefficient.
        return [float(-mpmath.log(v)) for v in vals], "ln(1/epsilon)"
    return [float(v) for v in vals], "alpha"


def constructions_figure(rows: Sequence[ConstructionRow]) -> Figure:
    """One panel per construction: mpmath values (line), torch float64 values (markers),
    the sympy asymptote (dashed) and the cap (red, where there is one)."""
    ncols = 4
    nrows = math.ceil(len(rows) / ncols)
    fig = Figure(figsize=(4.4 * ncols, 3.7 * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, row in zip(axes, rows, strict=False):
        x, label = _x(row)
        y = [float(v) for v in row.values]
        ax.plot(x, y, "-o", ms=3, label="exact (mpmath)")
        ax.plot(x, [float(v) for v in row.asymptote], "--", lw=1, label="sympy asymptote")
        tx = [(xi, t) for xi, t in zip(x, row.torch_float64, strict=True) if t is not None]
        if tx:
            ax.plot(*zip(*tx, strict=True), "x", ms=6, label="torch float64 network")
        if row.cap is not None:
            ax.axhline(float(row.cap), color="red", lw=1, label=f"cap {float(row.cap):.3g}")
        # Linear axes throughout: the divergent objectives are linear in alpha and in
        # ln(1/epsilon), so the plotted slope is the rate.
        ax.set_xlabel(label)
        ax.set_ylabel("nats")
        verdict = "bounded" if row.bounded else "unbounded"
        ax.set_title(f"{row.name} ({verdict})\n{row.objective}\nrate: {row.rate}", fontsize=8)
        ax.legend(fontsize=6, loc="upper left")
    for ax in axes[len(rows):]:
        ax.set_visible(False)
    return fig
