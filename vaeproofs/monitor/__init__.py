"""Watch a training loop for the variance collapse: :class:`CollapseMonitor`.

In a plain PyTorch loop::

    monitor = CollapseMonitor(x_train, variance="logvar", optimizer=opt, quantization=1/17)
    for step in ...:
        mu_x, logvar_x, mu_z, logvar_z = model(xb)
        ...
        monitor.update(logvar_x, objective=elbo_per_point)   # or monitor.watch(model.decoder)
        if monitor.should_stop:
            break

What it computes once, what it tracks each step and how the thresholds are derived:
docs/monitor.md and :mod:`vaeproofs.monitor.thresholds`.  Integrations live in their own
modules, imported only by their users: :mod:`vaeproofs.monitor.lightning` (a Lightning
callback, extra ``vaeproofs[lightning]``) and :mod:`vaeproofs.monitor.tensorboard`
(rows to a ``SummaryWriter``).  Importing this package imports neither lightning nor
tensorboard nor matplotlib.
"""

from vaeproofs.monitor.core import STOP_CODES, CollapseMonitor
from vaeproofs.monitor.events import CODES, CollapseWarning, MonitorEvent, VarianceNotice
from vaeproofs.monitor.limits import DataLimits, data_limits
from vaeproofs.monitor.thresholds import Thresholds, fit_trend

__all__ = ["CODES", "STOP_CODES", "CollapseMonitor", "CollapseWarning", "DataLimits", "MonitorEvent",
           "Thresholds", "VarianceNotice", "data_limits", "fit_trend", "model_pixel_variance",
           "variance_heatmap"]


def __getattr__(name: str) -> object:
    # matplotlib loads only when a picture is asked for.
    if name in ("variance_heatmap", "model_pixel_variance"):
        from vaeproofs.monitor import heatmap

        return getattr(heatmap, name)
    raise AttributeError(f"module 'vaeproofs.monitor' has no attribute {name!r}")
