"""(e) Time of ``vaeproofs audit`` on the toolkit's own MLP VAE with a per-pixel head.

The model is :class:`vaeproofs.numeric.networks.VAE` (data dim 64, latent 4, hidden 64,
depth 2, the training defaults) with the per-pixel Gaussian head, on sklearn's digits
scaled to [0, 1].  Two medians (``timeit``, one call per repeat):

- the static part: :func:`static_variance_floor` on the whole model (deep copy, torch.fx
  trace, shape propagation, backward interval propagation); goal < 1 s;
- the full audit with default settings (:func:`audit_vae`: static floor, probe of 2000
  steps on 16 points within its 50 s budget), progress bar off, torch threads as found.

Run from the repository root: ``python -m benchmarks.bench_audit [--quick]``
"""

from __future__ import annotations

import statistics
import sys
import timeit

import torch


def _setup() -> tuple[object, object, object]:
    from sklearn.datasets import load_digits

    from vaeproofs.numeric.heads import HEADS
    from vaeproofs.numeric.networks import VAE

    torch.manual_seed(0)
    model = VAE(64, 4, HEADS["per-pixel"](), hidden=64, depth=2)
    data = load_digits().data / 16.0

    def forward(m: VAE, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
        mu_z, logvar_z = m.encode(x)
        z = mu_z + torch.exp(0.5 * logvar_z) * torch.randn_like(mu_z)
        mu_x, logvar_x = m.head.split(m.decoder(z))
        return mu_x, logvar_x, mu_z, logvar_z

    return model, data, forward


def run(quick: bool = False) -> list[dict[str, object]]:
    """Median times of the static part and of the full audit; return table rows."""
    from vaeproofs.audit import audit_vae, static_variance_floor

    model, data, forward = _setup()
    example = torch.as_tensor(data[:2], dtype=torch.float32)
    vf = static_variance_floor(model, example, variance="logvar", forward=forward)
    assert vf.bounded is False, vf.explanation  # the per-pixel head has no floor
    static = timeit.repeat(lambda: static_variance_floor(model, example, variance="logvar",
                                                         forward=forward),
                           number=1, repeat=5 if quick else 15)
    reports = []

    def full() -> None:
        reports.append(audit_vae(model, data, variance="logvar", forward=forward, progress=False))

    full_runs = timeit.repeat(full, number=1, repeat=1 if quick else 3)
    last = reports[-1]
    return [
        {"benchmark": "(e) audit, toolkit MLP per-pixel", "variant": "static floor",
         "median_s": statistics.median(static), "ratio": float("nan"),
         "note": f"median of {len(static)}; goal < 1 s"},
        {"benchmark": "(e) audit, toolkit MLP per-pixel", "variant": "full audit (default probe)",
         "median_s": statistics.median(full_runs), "ratio": float("nan"),
         "note": f"median of {len(full_runs)}; probe {last.probe.steps} steps, stopped: "
                 f"{last.probe.stopped}; verdict {last.decision}"},
    ]


if __name__ == "__main__":
    for row in run(quick="--quick" in sys.argv[1:]):
        print(f"{row['variant']:<28} median {row['median_s']:.3f} s  ({row['note']})")
