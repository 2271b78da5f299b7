"""``vaeproofs train``: train one VAE and write its record as JSON (and a figure).

The options are those of :class:`vaeproofs.numeric.training.TrainConfig`; the defaults
are the per-pixel run of the confirming experiment.  Every output path (``--json``,
``--plot``) is validated before any work (:func:`vaeproofs.outputs.plan_outputs`).
Bad input, including a run whose estimated memory exceeds ``--memory-budget-gb``,
ends with one line on standard error naming the option, exit code 2, nothing written.
A run that reaches a non-finite value is a recorded outcome (``"diverged"`` in the
JSON; the non-finite numbers are ``null`` and listed under ``"non_finite"``), not an
error: the exit code is 0.  Ctrl-C writes the record so far (outcome
``"interrupted"``) to ``--json``, prints one line and exits with code 130.  The JSON
document is described in :mod:`vaeproofs.numeric.training.result` and its schema is
``vaeproofs/schemas/train.schema.json``.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path
from typing import Any

from vaeproofs.cli.exit_codes import EXIT_INTERRUPTED
from vaeproofs.constants import DECODER_FAMILIES
from vaeproofs.errors import InvalidArgumentError
from vaeproofs.outputs import FIGURE_SUFFIXES, plan_outputs, write_atomic, write_json

# TrainConfig field -> command-line option, so that errors name what the user typed.
_OPTION = {
    "likelihood": "--likelihood", "data": "--data", "n_train": "--n-train",
    "steps": "--steps", "seed": "--seed", "dtype": "--dtype", "lr": "--lr",
    "batch_size": "--batch-size", "latent_dim": "--latent-dim", "hidden": "--hidden",
    "depth": "--depth", "activation": "--activation", "xi": "--floor",
    "fixed_std": "--fixed-std", "nu": "--nu", "dequantize": "--dequantize",
    "binarize": "--binarize", "test_fraction": "--test-fraction", "n_test": "--n-test",
    "data_seed": "--data-seed", "manifold_dim": "--manifold-dim", "data_dim": "--data-dim",
    "log_every": "--log-every", "train_samples": "--train-samples",
    "elbo_samples": "--elbo-samples", "iwae_samples": "--iwae-samples",
    "num_threads": "--threads", "label": "--label", "s_min": "--s-min",
    "softclip_min": "--softclip-min", "nll_eps": "--nll-eps", "beta_nll": "--beta-nll",
}

# Arguments of train() that are not TrainConfig fields.
_OTHER_OPTIONS = {"memory_budget_gb": "--memory-budget-gb"}

# = vaeproofs.numeric.training.budget.DEFAULT_MEMORY_BUDGET_GB (checked by the tests), so that
# `vaeproofs train --help` does not have to import torch.
_DEFAULT_BUDGET_GB = 4.0

# Kept in step with vaeproofs.numeric.heads.HEADS (checked by the tests), so that
# `vaeproofs train --help` does not have to import torch.
LIKELIHOODS = DECODER_FAMILIES


def _count_or_all(text: str) -> int | None:
    if text == "all":
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer or 'all', got {text!r}") from None


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``train`` sub-command."""
    p = subparsers.add_parser(
        "train",
        help="train a VAE with one decoder family and record the run as JSON",
        description="Train a VAE (MLP encoder and decoder, Adam) on sklearn's digits, a "
        "known manifold or your own .npy array, and record per-point training ELBO "
        "(mean and max), decoder variance, KL, test ELBO and an importance-weighted test "
        "log-likelihood at every logged step.  All values are in nats per point "
        "(natural log, summed over pixels).  Digits are scaled to x/16; dequantised "
        "(x + u)/17 with u ~ U(0,1) drawn once; binarised 1[x/16 > 0.5].  The defaults "
        "are the per-pixel run of the confirming experiment.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    d = p.add_argument_group("data")
    d.add_argument("--data", default="digits", metavar="{digits,faces,manifold,PATH.npy}",
                   help="'digits' (sklearn, 8x8, D=64), 'faces' (the 100 faces of "
                   "scikit-image's LFW subset, 25x25, D=625; pip install "
                   "'vaeproofs[faces]'), 'manifold' (points on a known "
                   "smooth manifold) or a .npy file holding a finite (N, D) array")
    d.add_argument("--n-train", type=_count_or_all, default=16, metavar="N",
                   help="training points: the first N of the shuffled training split, or "
                   "'all'; at most the size of that split")
    d.add_argument("--n-test", type=_count_or_all, default=200, metavar="N",
                   help="test points used for the test metrics, or 'all'")
    d.add_argument("--test-fraction", type=float, default=0.2,
                   help="fraction of the data held out as the test split, in (0, 1)")
    d.add_argument("--dequantize", nargs="?", const="static", default=False,
                   choices=("static", "fresh"),
                   help="digits only: use (x + u)/17, u ~ U(0,1), which removes the "
                   "constant pixels; 'static' (the default when the flag is given): u drawn "
                   "once; 'fresh': u redrawn at every training step")
    d.add_argument("--binarize", action=argparse.BooleanOptionalAction, default=None,
                   help="threshold the data at 0.5 (default: exactly when the likelihood is "
                   "bernoulli)")
    d.add_argument("--data-seed", type=int, default=0,
                   help="seed of the train/test split and of the dequantisation noise")
    d.add_argument("--manifold-dim", type=int, default=2,
                   help="manifold data: dimension r of the manifold")
    d.add_argument("--data-dim", type=int, default=64,
                   help="manifold data: ambient dimension D")
    m = p.add_argument_group("model")
    m.add_argument("--likelihood", choices=LIKELIHOODS, default="per-pixel",
                   help="decoder family: fixed N(mu, s0^2 I); shared N(mu, gamma I); "
                   "per-pixel N(mu, diag sigma^2(z)); floor sigma^2 = xi + softplus(rho); "
                   "bernoulli; student-t with learned scale; softclip log sigma = m + "
                   "softplus(r - m); student-t-floored scale = s_min + softplus(r); "
                   "discretised-gaussian and discretised-logistic (mass per level, integer "
                   "digits); continuous-bernoulli (x in [0, 1]); gaussian-nll-eps "
                   "(trained with torch's GaussianNLLLoss(eps)); beta-nll (Seitzer et al. 2022)")
    m.add_argument("--floor", type=float, default=1e-3, metavar="XI",
                   help="variance floor xi > 0 of the floor likelihood, and the xi of the cap "
                   "-(D/2) log(2 pi xi) every run is compared with")
    m.add_argument("--fixed-std", type=float, default=0.1, metavar="S0",
                   help="standard deviation s0 > 0 of the fixed likelihood")
    m.add_argument("--nu", type=float, default=3.0,
                   help="degrees of freedom nu > 0 of the student-t likelihood")
    m.add_argument("--s-min", type=float, default=1e-3,
                   help="scale floor s_min > 0 of the student-t-floored likelihood")
    m.add_argument("--softclip-min", type=float, default=-6.0, metavar="M",
                   help="soft lower bound m on log sigma of the softclip likelihood")
    m.add_argument("--nll-eps", type=float, default=1e-6, metavar="EPS",
                   help="eps > 0 of GaussianNLLLoss in the gaussian-nll-eps likelihood")
    m.add_argument("--beta-nll", type=float, default=0.5, metavar="BETA",
                   help="exponent beta >= 0 of the beta-nll likelihood")
    m.add_argument("--latent-dim", type=int, default=4, help="latent size k")
    m.add_argument("--hidden", type=int, default=64, help="width of the hidden layers")
    m.add_argument("--depth", type=int, default=2,
                   help="hidden layers in the encoder and in the decoder")
    m.add_argument("--activation", choices=("tanh", "relu", "elu"), default="tanh",
                   help="activation of the hidden layers")
    o = p.add_argument_group("optimisation")
    o.add_argument("--steps", type=int, default=3000, help="Adam updates")
    o.add_argument("--lr", type=float, default=3e-3, help="Adam learning rate")
    o.add_argument("--batch-size", type=_count_or_all, default=None, metavar="B",
                   help="minibatch size, or 'all' (the default: full batch)")
    o.add_argument("--seed", type=int, default=0,
                   help="seed of the weights and of every draw in training; on a CPU the "
                   "same seed gives the same run")
    o.add_argument("--dtype", choices=("float32", "float64"), default="float64",
                   help="floating-point type of the model and data")
    o.add_argument("--train-samples", type=int, default=1,
                   help="reparameterised draws per point in the training loss")
    o.add_argument("--threads", type=_count_or_all, default=1, metavar="T",
                   help="torch threads during the run (at most the machine's CPU count), or "
                   "'all' to keep torch's setting")
    o.add_argument("--memory-budget-gb", type=float, default=_DEFAULT_BUDGET_GB, metavar="GB",
                   help="refuse a run whose estimated memory (parameters, Adam state, data, "
                   "the largest step or evaluation) exceeds this many GiB")
    r = p.add_argument_group("metrics and output")
    r.add_argument("--log-every", type=int, default=100, help="steps between logged metrics")
    r.add_argument("--elbo-samples", type=int, default=8,
                   help="draws per point for the logged ELBO estimates")
    r.add_argument("--iwae-samples", type=int, default=64, metavar="K",
                   help="importance samples K per test point for the IWAE log-likelihood")
    r.add_argument("--json", required=True, metavar="OUT.json",
                   help="where to write the run's record (written atomically)")
    r.add_argument("--plot", default=None, metavar="OUT.{png,svg,pdf}",
                   help="also write the training-curve figure, in the format its suffix "
                   "names (.png, .svg or .pdf)")
    r.add_argument("--label", default="", help="name of the run in the figure and the bar")
    r.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="show a progress bar on standard error (default: when standard "
                   "error is a terminal, so that logs of batch jobs stay clean)")
    p.set_defaults(run=run)
    return p


def _config_values(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "likelihood": args.likelihood, "data": args.data, "n_train": args.n_train,
        "steps": args.steps, "seed": args.seed, "dtype": args.dtype, "lr": args.lr,
        "batch_size": args.batch_size, "latent_dim": args.latent_dim, "hidden": args.hidden,
        "depth": args.depth, "activation": args.activation, "xi": args.floor,
        "fixed_std": args.fixed_std, "nu": args.nu, "dequantize": args.dequantize,
        "binarize": args.binarize, "test_fraction": args.test_fraction,
        "n_test": args.n_test, "data_seed": args.data_seed,
        "manifold_dim": args.manifold_dim, "data_dim": args.data_dim,
        "log_every": args.log_every, "train_samples": args.train_samples,
        "elbo_samples": args.elbo_samples, "iwae_samples": args.iwae_samples,
        "num_threads": args.threads, "label": args.label, "s_min": args.s_min,
        "softclip_min": args.softclip_min, "nll_eps": args.nll_eps, "beta_nll": args.beta_nll,
    }


def _figure_bytes(fig: Any, suffix: str) -> bytes:
    """The figure in the format its file suffix names (png, svg or pdf)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format=suffix.lstrip(".").lower(), dpi=110)
    return buffer.getvalue()


def _plan(args: argparse.Namespace) -> dict[str, Path]:
    """Validate every output path before any work (one line, exit code 2, nothing written)."""
    data = args.data if args.data not in ("digits", "manifold") else None
    return plan_outputs(files={"--json": args.json, "--plot": args.plot},
                        inputs={"--data": data}, suffixes={"--plot": FIGURE_SUFFIXES})


def _option_error(exc: InvalidArgumentError) -> InvalidArgumentError:
    """The same error, naming the command-line option instead of the TrainConfig field."""
    problem = exc.problem.replace("(memory_budget_gb)", "(--memory-budget-gb)")
    option = _OPTION.get(exc.argument) or _OTHER_OPTIONS.get(exc.argument, exc.argument)
    return InvalidArgumentError(option, problem)


def run(args: argparse.Namespace) -> int:
    """Run ``vaeproofs train``; returns the exit code."""
    planned = _plan(args)
    from vaeproofs.numeric.training import TrainConfig, TrainingInterrupted, train

    try:
        config = TrainConfig(**_config_values(args))
        progress = sys.stderr.isatty() if args.progress is None else args.progress
        result = train(config, progress=progress, memory_budget_gb=args.memory_budget_gb)
    except InvalidArgumentError as exc:
        raise _option_error(exc) from exc
    except TrainingInterrupted as stop:
        write_json(planned["--json"], stop.result.to_json())
        rows = stop.result.history
        where = f"after logged step {rows[-1].step}" if rows else "before the first logged step"
        print(f"vaeproofs train: interrupted {where}; wrote the record so far to {args.json}",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    write_json(planned["--json"], result.to_json())
    if args.plot is not None:
        from vaeproofs.numeric.figure import plot_training

        write_atomic(planned["--plot"], _figure_bytes(plot_training(result), planned["--plot"].suffix))
    _summary(args, config, result)
    return 0


def _nats(value: float) -> str:
    """Two decimals for ordinary values; four significant digits for huge ones."""
    return f"{value:.2f}" if abs(value) < 1e7 else f"{value:.4g}"


def _summary(args: argparse.Namespace, config: Any, result: Any) -> None:
    final = result.final
    status = result.outcome + (f" at step {result.diverged_at_step} ({result.divergence})"
                               if result.outcome == "diverged" else "")
    passed = result.passed_cap_at_step
    print(f"{config.likelihood} on {result.n_train} {config.data} points, {config.steps} steps:"
          f" {status}")
    if final is not None:
        print(f"  training ELBO per point: mean {_nats(final.train_elbo_mean)}, max "
              f"{_nats(final.train_elbo_max)} nats; min decoder variance "
              f"{final.min_decoder_variance:.3g}")
        print(f"  test ELBO {_nats(final.test_elbo)}, test IWAE (K={config.iwae_samples}) "
              f"{_nats(final.test_iwae)} +- {_nats(final.test_iwae_se)} nats per point")
    if final is not None and final.train_objective_max is not None:
        print(f"  training objective the loss reports (not the ELBO): mean "
              f"{_nats(final.train_objective_mean)}, max {_nats(final.train_objective_max)}"
              + ("" if final.fraction_variance_below_eps is None else
                 f"; fraction of variances below eps {final.fraction_variance_below_eps:.3f}"))
    cap = "none" if result.cap is None else f"{result.cap:.2f}"
    print(f"  cap of this family: {cap}; floor cap -(D/2) log(2 pi xi) = "
          f"{result.floor_cap_threshold:.2f} (xi={config.xi:g}): "
          + ("not passed" if passed is None else f"passed at step {passed}"))
    print(f"  wrote {args.json}" + (f" and {args.plot}" if args.plot else ""))
