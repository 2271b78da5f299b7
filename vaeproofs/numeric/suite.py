"""The confirming experiment of the numeric side, as a list of training runs.

THEORY.md sections 2 and 4 predict: on a small training set a decoder with a learned
per-pixel variance drives its training ELBO per point past -(D/2) log(2 pi xi), which
no model whose variances are >= xi can exceed (Mattei & Frellsen 2018, section 2.1),
while its test log-likelihood falls; the floored, fixed and Bernoulli decoders stay
under their caps.  Two mechanisms are kept apart (THEORY.md section 5):

- raw digits pixels (x/16): pixels that are constant over the training subset let the
  variance collapse without any memorising, on top of memorising the few points;
- dequantised pixels ((x + u)/17): no pixel is constant, so only memorising is left.

All runs share the data subset, network and optimiser, and differ only in the decoder
family and the data scaling, so their curves can be laid side by side.
"""

from __future__ import annotations

from dataclasses import replace

from vaeproofs.numeric.training import TrainConfig

__all__ = ["confirming_suite"]


def confirming_suite(quick: bool = False) -> list[TrainConfig]:
    """The runs of the confirming experiment, in a fixed order.

    ``quick=True`` is the budget for tests and ``vaeproofs verify --quick`` (fewer steps,
    a coarser floor xi = 1e-2, smaller evaluation); ``quick=False`` trains longer and
    compares with the finer floor xi = 1e-3.  Both use 16 digits for training, Adam,
    float64 and one torch thread per run.
    """
    base = TrainConfig()  # the defaults are the full (quick=False) per-pixel run
    if quick:
        base = replace(base, steps=500, xi=1e-2, log_every=50, n_test=100, elbo_samples=4,
                       iwae_samples=32)
    return [
        replace(base, label="per-pixel, raw pixels (constant pixels + memorising)"),
        replace(base, dequantize=True, label="per-pixel, dequantised (memorising only)"),
        replace(base, likelihood="floor", label=f"floor xi={base.xi:g}, raw pixels"),
        replace(base, likelihood="fixed", label=f"fixed s0={base.fixed_std:g}, raw pixels"),
        replace(base, likelihood="bernoulli", binarize=True, label="bernoulli, binarised"),
        replace(base, likelihood="shared", label="shared, raw pixels"),
        replace(base, likelihood="student-t", label=f"student-t nu={base.nu:g}, raw pixels"),
    ]
