"""(e) Time of ``vaeproofs audit``: the static part per example model, and the full audit.

Static part (goal < 1 s each), medians of ``timeit`` repeats, one call per repeat, after
one untimed warm-up call (the first trace in a process also imports and initialises
torch's tracing machinery, about 2 s, paid once):

- :func:`static_variance_floor` on the toolkit's own MLP VAE
  (:class:`vaeproofs.numeric.networks.VAE`, data dim 64, latent 4, hidden 64, depth 2,
  per-pixel Gaussian head, sklearn's digits scaled to [0, 1]): deep copy, one real-tensor
  ATen trace, interval propagation, the set-by search;
- :func:`variance_floor` on every example head of ``examples/heads/``;
- :func:`static_loss_bound` of the per-pixel Gaussian negative ELBO of the same MLP VAE on
  a batch of 16 digits.

Full audit: :func:`audit_vae` with default settings (static floor, probe of 2000 steps on
16 points within its 50 s budget), progress bar off, torch threads as found.

Run from the repository root: ``python -m benchmarks.bench_audit [--quick] [--static-only]``

:func:`run_examples` (``--examples``) times the *decision* of each audit in the runnable
examples (``examples/audit_regressor.py``, ``audit_loss_module.py``,
``audit_distributions.py``) with the default probe: median wall time of ``audit_objective``
(static bound, output floor, probe of at most 5 s) and of ``audit_vae``; goal <= 10 s on 2
cores.  The first audit of a process also imports ``torch._dynamo`` (make_fx needs it): that
one-time cost is measured separately, in a fresh interpreter.
"""

from __future__ import annotations

import math
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


def _median(fn: object, repeats: int) -> tuple[float, int]:
    fn()  # warm-up, untimed
    times = timeit.repeat(fn, number=1, repeat=repeats)
    return statistics.median(times), len(times)


def _row(variant: str, median: float, n: int, note: str) -> dict[str, object]:
    return {"benchmark": "(e) audit, static part", "variant": variant, "median_s": median,
            "ratio": float("nan"), "note": f"median of {n}; {note}; goal < 1 s"}


def static_rows(quick: bool = False) -> list[dict[str, object]]:
    """Median time of the static part per example model."""
    from vaeproofs.audit import static_loss_bound, static_variance_floor, variance_floor
    from vaeproofs.audit.remedies import load_heads

    repeats = 3 if quick else 7
    model, data, forward = _setup()
    example = torch.as_tensor(data[:2], dtype=torch.float32)
    vf = static_variance_floor(model, example, variance="logvar", forward=forward)
    assert vf.bounded is False, vf.explanation  # the per-pixel head has no floor
    t, n = _median(lambda: static_variance_floor(model, example, variance="logvar", forward=forward),
                   repeats)
    rows = [_row("floor: toolkit MLP per-pixel", t, n, f"floor {vf.floor:g}")]
    for head in load_heads():
        decoder = head.make()
        floor = variance_floor(decoder, latent_dim=2, variance=head.VARIANCE).floor
        t, n = _median(lambda d=decoder, h=head: variance_floor(d, latent_dim=2, variance=h.VARIANCE),
                       repeats)
        rows.append(_row(f"floor: head {head.NAME}", t, n, f"floor {floor:.6g}"))
    batch = torch.as_tensor(data[:16], dtype=torch.float32)

    def neg_elbo(m: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
        mu_x, logvar_x, mu_z, logvar_z = forward(m, x)
        nll = 0.5 * (math.log(2 * math.pi) + logvar_x + (x - mu_x) ** 2 / logvar_x.exp())
        kl = 0.5 * (mu_z**2 + logvar_z.exp() - 1 - logvar_z)
        return nll.sum() / x.shape[0] + kl.sum() / x.shape[0]
    lower = static_loss_bound(neg_elbo, model, batch).lower
    t, n = _median(lambda: static_loss_bound(neg_elbo, model, batch), repeats)
    rows.append(_row("loss bound: toolkit MLP negative ELBO", t, n, f"lower {lower:g}"))
    return rows


def run(quick: bool = False, static_only: bool = False) -> list[dict[str, object]]:
    """The static rows and (unless ``static_only``) the full audit's median; table rows."""
    from vaeproofs.audit import audit_vae

    rows = static_rows(quick)
    if static_only:
        return rows
    model, data, forward = _setup()
    reports = []

    def full() -> None:
        reports.append(audit_vae(model, data, variance="logvar", forward=forward, progress=False))

    full_runs = timeit.repeat(full, number=1, repeat=1 if quick else 3)
    last = reports[-1]
    rows.append(
        {"benchmark": "(e) audit, toolkit MLP per-pixel", "variant": "full audit (default probe)",
         "median_s": statistics.median(full_runs), "ratio": float("nan"),
         "note": f"median of {len(full_runs)}; probe {last.probe.steps} steps, stopped: "
                 f"{last.probe.stopped}; verdict {last.decision}"})
    return rows


def _example(name: str) -> object:
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "examples" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"bench_example_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _import_cost() -> float:
    import subprocess

    code = ("import time, torch; t = time.perf_counter(); import torch._dynamo; "
            "print(time.perf_counter() - t)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def run_examples(quick: bool = False) -> list[dict[str, object]]:
    """Median decision time of each example's audits (default probe); return table rows."""
    from vaeproofs.audit import audit_objective, audit_vae

    reg, lm = _example("audit_regressor"), _example("audit_loss_module")
    dist = _example("audit_distributions")
    xy, digits = reg.load(), lm.load()

    def lm_case(clip: float | None, left_out: bool) -> object:
        model, loss = lm.make(), lm.LearnedVarianceLoss(floor=clip)
        params = list(model.parameters()) + ([] if left_out else [loss.logvar])
        return audit_objective(model, digits, loss, optimizer=torch.optim.Adam(params), progress=False)

    cases = {
        "regressor, softplus, NLL": lambda: audit_objective(reg.make(), xy, reg.nll, variance="var",
                                                            progress=False),
        "regressor, softplus + 1e-2, NLL": lambda: audit_objective(reg.make_floored(), xy, reg.nll,
                                                                   variance="var", progress=False),
        "regressor, GaussianNLLLoss": lambda: audit_objective(reg.make(), xy, reg.gaussian_nll,
                                                              progress=False),
        "loss module, logvar trained": lambda: lm_case(None, False),
        "loss module, logvar left out": lambda: lm_case(None, True),
        "loss module, logvar soft-clipped": lambda: lm_case(-6.907755278982137, False),
        "sigma-VAE optimal sigma": lambda: audit_objective(lm.make(), digits, lm.sigma_vae_loss,
                                                           progress=False),
        "distributions, objective": lambda: audit_objective(dist.make(), digits, dist.negative_elbo,
                                                            progress=False),
        "distributions floored, objective": lambda: audit_objective(dist.make_floored(), digits,
                                                                    dist.negative_elbo, progress=False),
        "distributions, audit_vae": lambda: audit_vae(dist.make(), digits, progress=False),
        "distributions floored, audit_vae": lambda: audit_vae(dist.make_floored(), digits, progress=False),
    }
    rows = [{"benchmark": "(e) audit decision, examples", "variant": "one-time import of torch._dynamo",
             "median_s": _import_cost(), "ratio": float("nan"), "note": "fresh interpreter, once"}]
    for name, case in cases.items():
        reports: list[object] = []
        times = timeit.repeat(lambda case=case, out=reports: out.append(case()), number=1,
                              repeat=1 if quick else 3)
        last = reports[-1]
        probe = getattr(last, "objective_probe", None) or getattr(last, "probe", None)
        rows.append({"benchmark": "(e) audit decision, examples", "variant": name,
                     "median_s": statistics.median(times), "ratio": float("nan"),
                     "note": f"median of {len(times)}; decision {last.decision}; probe "
                             f"{getattr(probe, 'steps', 0)} steps, stopped: "
                             f"{getattr(probe, 'stopped', '-')}; goal <= 10 s"})
    return rows


if __name__ == "__main__":
    if "--examples" in sys.argv[1:]:
        for row in run_examples(quick="--quick" in sys.argv[1:]):
            print(f"{row['variant']:<36} median {row['median_s']:.3f} s  ({row['note']})")
        sys.exit(0)
    argv = sys.argv[1:]
    for row in run(quick="--quick" in argv, static_only="--static-only" in argv):
        print(f"{row['variant']:<44} median {row['median_s']:.3f} s  ({row['note']})")
