"""The audit's report: Markdown and one self-contained HTML page, from jinja2 templates.

The templates live in ``vaeproofs/audit/templates/`` with the same stylesheet as the
``verify`` report.  The HTML needs no network: the figure is an embedded base64 PNG.
The figure shows the probe's per-point objective against the cap the static floor
implies, and the smallest variance against the floor (log scale); for image data a second
figure maps the probe's smallest variance per pixel (:func:`pixel_figure`).
"""

from __future__ import annotations

import base64
import io
import math
import platform
from importlib import resources
from typing import TYPE_CHECKING, Any

from vaeproofs.errors import InvalidArgumentError

if TYPE_CHECKING:
    from vaeproofs.audit.audit import AuditReport

__all__ = ["CAPTION", "PIXEL_CAPTION", "pixel_figure", "probe_figure", "render_html", "render_markdown",
           "versions"]

CAPTION = ("Memorisation probe: per-point objective (ELBO, nats) against the cap the static "
           "floor implies, and the smallest decoder variance against the floor (log scale).")

_ANSWERS = {"holds": "Bounded.", "fails": "Not bounded.",
            "conflict": "Conflict: the evidence disagrees.", "undecided": "Undecided."}


def _num(x: Any) -> str:
    if x is None:
        return "-"
    if isinstance(x, float) and math.isinf(x):
        return "+inf" if x > 0 else "-inf"
    if isinstance(x, float):
        return f"{x:.6g}"
    return str(x)


def _cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def versions() -> dict[str, str]:
    """Python, vaeproofs, torch and numpy versions."""
    import numpy
    import torch

    import vaeproofs

    return {"python": platform.python_version(), "vaeproofs": vaeproofs.__version__,
            "torch": torch.__version__, "numpy": numpy.__version__}


def _objective_figure(report: AuditReport) -> bytes | None:
    """audit_objective's probe: the loss against the proven bound, the smallest variance."""
    probe = report.objective_probe
    if probe is None or not probe.trace_step:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
    ax1.plot(probe.trace_step, probe.trace_loss, color="tab:blue", label="loss")
    lower = report.loss_lower_bound
    if lower is not None and math.isfinite(lower):
        ax1.axhline(lower, color="tab:red", ls="--", label=f"proven bound {lower:.4g}")
    ax1.set(xlabel="probe step", ylabel="loss (your units)", title="loss vs its proven bound")
    ax1.legend(fontsize=8)
    if probe.trace_min_variance:
        ax2.plot(probe.trace_step[:len(probe.trace_min_variance)], probe.trace_min_variance,
                 color="tab:green", label="smallest variance")
        ax2.axhline(probe.witness_floor, color="tab:gray", ls=":", label="witness floor")
        ax2.set(yscale="log")
        ax2.legend(fontsize=8)
    ax2.set(xlabel="probe step", ylabel="variance", title="the model's variance output")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()


#: The caption of the per-pixel figure (:func:`pixel_figure`).
PIXEL_CAPTION = ("The probe's smallest decoder variance at each pixel, over the points it "
                 "memorised and its steps (log10; the static floor, where above 0, marked on "
                 "the colour bar): which pixels collapse first.")


def pixel_figure(report: AuditReport, shape: tuple[int, int]) -> bytes | None:
    """The probe's smallest variance per pixel as a ``shape`` heat map, PNG bytes (None
    without a VAE probe that recorded one).

    Raises:
        InvalidArgumentError: naming ``image_shape`` when ``shape`` does not hold the
            model's pixels.
    """
    probe = report.probe
    if report.audited == "objective" or probe is None or not probe.pixel_min_variance:
        return None
    pixels = len(probe.pixel_min_variance)
    if len(shape) != 2 or math.prod(shape) != pixels:
        raise InvalidArgumentError("image_shape", f"must hold the model's {pixels} variance "
                                                  f"outputs per point, got {shape}")
    import numpy as np

    from vaeproofs.monitor.heatmap import variance_heatmap

    floor = report.variance_floor.floor
    fig = variance_heatmap(np.asarray(probe.pixel_min_variance), shape=shape,
                           floor=floor if floor is not None and floor > 0 else None,
                           title="probe: smallest variance per pixel")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    return buf.getvalue()


def probe_figure(report: AuditReport) -> bytes | None:
    """The probe figure as PNG bytes (None without a probe)."""
    if report.audited == "objective":
        return _objective_figure(report)
    probe = report.probe
    if probe is None or not probe.trace_step:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
    ax1.plot(probe.trace_step, probe.trace_objective, color="tab:blue", label="objective per point")
    cap = report.cap_per_point
    if cap is not None and math.isfinite(cap):
        ax1.axhline(cap, color="tab:red", ls="--", label=f"cap {cap:.4g}")
    title = "objective vs its cap" if cap is not None and math.isfinite(cap) else (
        "objective (no cap: the floor is 0)" if cap is not None else "objective (floor undecided)")
    ax1.set(xlabel="probe step", ylabel="ELBO per point (nats)", title=title)
    ax1.legend(fontsize=8)
    ax2.plot(probe.trace_step, probe.trace_min_variance, color="tab:green",
             label="smallest variance")
    floor = report.variance_floor.floor
    if floor is not None and floor > 0:
        ax2.axhline(floor, color="tab:red", ls="--", label=f"floor {floor:.3g}")
    ax2.set(xlabel="probe step", ylabel="variance", yscale="log", title="variance vs the floor")
    ax2.legend(fontsize=8)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110)
    plt.close(fig)
    return buf.getvalue()


def _env() -> Any:
    import jinja2

    return jinja2.Environment(loader=jinja2.PackageLoader("vaeproofs.audit", "templates"),
                              autoescape=jinja2.select_autoescape(["html.j2"]),
                              keep_trailing_newline=True, trim_blocks=False)


def _context(report: AuditReport) -> dict[str, Any]:
    from vaeproofs.claims.conditions import Condition

    return {"r": report, "answer": _ANSWERS[report.decision], "scope": Condition.AUDIT.value,
            "num": _num, "cell": _cell, "versions": versions(), "caption": CAPTION}


def render_markdown(report: AuditReport, *, figure: str | None = "probe",
                    pixels: str | None = None) -> str:
    """The report as Markdown; the figures are referenced as ``figures/<figure>.png`` and
    ``figures/<pixels>.png`` (the per-pixel map, :func:`pixel_figure`)."""
    text = _env().get_template("report.md.j2").render(figure=figure, pixels=pixels,
                                                      pixel_caption=PIXEL_CAPTION, **_context(report))
    return "\n".join(line.rstrip() for line in text.splitlines()).strip() + "\n"


def render_html(report: AuditReport, *, png: bytes | None = None,
                pixels_png: bytes | None = None) -> str:
    """The report as one self-contained HTML page (the figures embedded as data URIs)."""
    # One style sheet for every report: the verification report's.
    css = (resources.files("vaeproofs.report") / "templates" / "report.css").read_text("utf-8")
    data = base64.b64encode(png).decode("ascii") if png else None
    pixels = base64.b64encode(pixels_png).decode("ascii") if pixels_png else None
    return _env().get_template("report.html.j2").render(css=css, png=data, pixels_png=pixels,
                                                        pixel_caption=PIXEL_CAPTION,
                                                        **_context(report))
