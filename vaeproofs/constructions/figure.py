"""The constructions figure: each objective against its collapse parameter, with caps.

Pure: builds and returns a matplotlib ``Figure`` from the rows of
:func:`vaeproofs.constructions.run_all`; the caller saves it.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING

from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, NullLocator

if TYPE_CHECKING:
    from vaeproofs.constructions.row import ConstructionRow

__all__ = ["constructions_figure"]

#: A panel switches to a symmetric log scale when its largest |value| exceeds this many
#: times its linear range (the cap, at least 10 nats): beyond it a linear axis shows the
#: cap and the moderate values as one flat line.
_SYMLOG_RATIO = 1e4

#: Characters per title line: a panel is about this wide at the title's font size.
_TITLE_WIDTH = 62


def _x(row: ConstructionRow) -> tuple[list[float], str]:
    import mpmath

    vals = [mpmath.mpf(v) for v in row.parameter_values]
    if row.parameter == "epsilon":
        # Natural log, like the stated rates: the plotted slope is the rate's coefficient.
        return [float(-mpmath.log(v)) for v in vals], "ln(1/epsilon)"
    return [float(v) for v in vals], "alpha"


def _widen(value: float) -> float:
    """``value`` moved one decade outward (kept finite near the float64 limit)."""
    return value * 10 if math.isfinite(value * 10) else value


def _decade_ticks(low: float, high: float, most: int = 6) -> list[float]:
    """0 and at most ``most`` decades on each side the values reach (for a symlog axis)."""
    ticks = [0.0]
    for end, sign in ((low, -1.0), (high, 1.0)):
        if sign * end <= 1:
            continue
        top = math.floor(math.log10(abs(end)))
        step = max(1, math.ceil(top / most))
        ticks += [sign * 10.0 ** e for e in range(top, 0, -step)]
    return sorted(ticks)


def _decade_label(value: float, _pos: int) -> str:
    if value == 0:
        return "0"
    return f"{'-' if value < 0 else ''}1e{round(math.log10(abs(value)))}"


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
        # Linear axes where the values stay moderate: the divergent objectives are linear
        # in alpha and in ln(1/epsilon), so the plotted slope is the rate.  An objective
        # that runs to -1e46 or -1e296 (fresh noise) would leave a linear axis with one
        # unreadable offset and the cap on the zero line: such panels use a symmetric log
        # scale, linear within the cap's size (at least 10 nats) and logarithmic beyond.
        linear = max(10.0, abs(float(row.cap)) if row.cap is not None else 0.0)
        finite = [abs(v) for v in y if math.isfinite(v)]
        ax.set_xlabel(label)
        if finite and max(finite) > _SYMLOG_RATIO * linear:
            ax.set_yscale("symlog", linthresh=linear)
            ax.set_ylabel("nats (symmetric log scale)")
            # Only the side the values run to: the other side would be empty decades.
            low = min(v for v in y if math.isfinite(v))
            high = max(v for v in y if math.isfinite(v))
            ax.set_ylim(min(_widen(low), -linear), max(_widen(high), 2 * linear))
            ax.set_yticks(_decade_ticks(low, high))
            ax.yaxis.set_major_formatter(FuncFormatter(_decade_label))
            ax.yaxis.set_minor_locator(NullLocator())
        else:
            ax.set_ylabel("nats")
        verdict = "bounded" if row.bounded else "unbounded"
        title = "\n".join(textwrap.fill(part, _TITLE_WIDTH) for part in
                          (f"{row.name} ({verdict})", row.objective, f"rate: {row.rate}"))
        ax.set_title(title, fontsize=8)
        # The divergent-downward panels have their empty corner at the lower left.
        ax.legend(fontsize=6, loc="lower left" if y and y[-1] < y[0] and
                  ax.get_yscale() == "symlog" else "upper left")
    for ax in axes[len(rows):]:
        ax.set_visible(False)
    return fig
