"""``vaeproofs audit``: is *your* VAE's objective bounded?

Imports the user's file (it runs that file's code, like ``python FILE.py`` would), calls
the factory, and runs :func:`vaeproofs.audit.audit_vae` on the data, or, with
``--objective FILE.py:FN``, :func:`vaeproofs.audit.audit_objective` on the loss the user
minimises.  Exit codes (:mod:`vaeproofs.cli.exit_codes`): 0 decided (bounded or not), 1 the
evidence conflicts, 2 bad input (one line on stderr), 3 undecided, 5 with
``--require-bounded``: decided NOT bounded (so any non-zero code means "not proven
bounded", for CI), 130 interrupted (the record so far is written with outcome "interrupted").
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import uuid
from pathlib import Path
from typing import Any

from vaeproofs.cli.exit_codes import (
    EXIT_CONFLICT,
    EXIT_INTERRUPTED,
    EXIT_NOT_BOUNDED,
    EXIT_OK,
    EXIT_UNDECIDED,
)
from vaeproofs.errors import InvalidArgumentError

VARIANCE_KINDS = ("logvar", "var", "std", "logstd")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register the ``audit`` sub-command."""
    p = subparsers.add_parser(
        "audit", help="is your own VAE's objective bounded? (static floor, loss check, probe)",
        description="Audit your own VAE. FILE.py:FACTORY names a file and a callable in it; the "
        "command IMPORTS that file (running its top-level code) and calls FACTORY() to get the "
        "model, or a (model, optimizer) pair so the audit sees which parameters train. model(x) "
        "returns (mu_x, var_like_x, mu_z, logvar_z), or a dict / dataclass / distribution naming "
        "them. The audit takes the static floor of the decoder variance, checks your loss, and "
        "trains a deep copy on a few points (your model and optimiser are never changed). With "
        "--objective FILE.py:FN it audits the loss you minimise, FN(model, batch), instead.")
    p.add_argument("factory", metavar="FILE.py:FACTORY",
                   help="file and zero-argument callable returning the model or (model, optimizer)")
    p.add_argument("--data", metavar="X.npy", type=Path, required=True,
                   help="training data, a numeric array of shape (n, ...) (numpy .npy), or a .npz "
                   "whose arrays, in file order, form each batch (e.g. inputs, targets)")
    p.add_argument("--variance", choices=VARIANCE_KINDS, default=None,
                   help="what var_like_x is: log-variance, variance, standard deviation, log-std "
                   "(not needed when the output names it: a dict key, a Normal's scale...)")
    p.add_argument("--objective", metavar="FILE.py:FN",
                   help="audit the loss you minimise, FN(model, batch) -> scalar, instead of a VAE's "
                   "outputs: its proven lower bound on the batch and a probe on copies")
    p.add_argument("--require-bounded", action="store_true",
                   help="for CI: exit 5 when the audit decides NOT bounded (undecided exits 3, a "
                   "conflict 1), so the command succeeds only when boundedness is proven")
    p.add_argument("--loss", metavar="FILE.py:FN",
                   help="your loss fn(x, mu_x, logvar_x, mu_z, logvar_z) (log-variances): it is "
                   "checked and the probe trains with it (default: the Gaussian negative ELBO)")
    p.add_argument("--forward", metavar="FILE.py:FN",
                   help="fn(model, x) returning (mu_x, var_like_x, mu_z, logvar_z), for models "
                   "with another signature")
    p.add_argument("--n-points", type=int, default=16, metavar="N",
                   help="training points the probe memorises (default 16)")
    p.add_argument("--steps", type=int, default=None, metavar="S",
                   help="probe steps (default 2000 within a 50 s budget; 0: no probe)")
    p.add_argument("--seed", type=int, default=0, help="seed of the point choice and the probe")
    p.add_argument("--json", metavar="OUT.json", type=Path, help="write the audit as JSON")
    p.add_argument("--report", metavar="DIR", type=Path,
                   help="write DIR/report.md, DIR/report.html and DIR/figures/probe.png (and "
                   "DIR/figures/pixels.png for image data)")
    p.add_argument("--image-shape", metavar="HxW", default=None,
                   help="draw the probe's smallest variance per pixel as an H x W heat map in "
                   "the report (default: the data's own shape when X is (n, H, W) or (n, 1, H, W); "
                   "otherwise no map)")
    p.add_argument("--no-progress", action="store_true", help="don't show a progress bar")
    p.set_defaults(run=run)


def _split_spec(option: str, spec: str) -> tuple[Path, str]:
    path, sep, name = spec.rpartition(":")
    if not sep or not path or not name.isidentifier():
        raise InvalidArgumentError(option, f"must be FILE.py:NAME, got {spec!r}")
    return Path(path), name


def _not_a_file(path: Path) -> str:
    """Why ``path`` cannot be read as an input file (missing, or a folder, FIFO or device)."""
    if path.exists():
        return f"{str(path)!r} is not a regular file"
    return f"file {str(path)!r} does not exist"


def load_callable(option: str, spec: str) -> Any:
    """Import FILE.py of ``spec`` = "FILE.py:NAME" and return its attribute NAME (a callable)."""
    path, name = _split_spec(option, spec)
    if not path.is_file():
        raise InvalidArgumentError(option, _not_a_file(path))
    module_name = f"vaeproofs_user_{path.stem}_{uuid.uuid4().hex[:8]}"
    spec_obj = importlib.util.spec_from_file_location(module_name, path)
    if spec_obj is None or spec_obj.loader is None:
        raise InvalidArgumentError(option, f"cannot import {str(path)!r} as Python")
    module = importlib.util.module_from_spec(spec_obj)
    folder = str(path.resolve().parent)
    sys.path.insert(0, folder)
    try:
        spec_obj.loader.exec_module(module)
    except Exception as exc:
        raise InvalidArgumentError(option, f"importing {str(path)!r} raised "
                                           f"{type(exc).__name__}: {exc}") from None
    finally:
        if folder in sys.path:
            sys.path.remove(folder)
    fn = getattr(module, name, None)
    if fn is None or not callable(fn):
        raise InvalidArgumentError(option, f"{str(path)!r} has no callable named {name!r}")
    return fn


def _load_data(path: Path) -> Any:
    import numpy as np

    if not path.is_file():
        raise InvalidArgumentError("--data", _not_a_file(path))
    try:
        arr = np.load(path, allow_pickle=False)
        if isinstance(arr, np.lib.npyio.NpzFile):
            with arr:
                arrays = tuple(arr[k] for k in arr.files)
            if not arrays:
                raise InvalidArgumentError("--data", f"{str(path)!r} holds no arrays")
            return arrays[0] if len(arrays) == 1 else arrays
    except InvalidArgumentError:
        raise
    except Exception as exc:
        raise InvalidArgumentError("--data", f"cannot read {str(path)!r} as a .npy or .npz array "
                                             f"({type(exc).__name__}: {exc})") from None
    if not isinstance(arr, np.ndarray):
        raise InvalidArgumentError("--data", f"must be one array (.npy), got {type(arr).__name__}")
    return arr


def _image_shape(spec: str | None, data: Any) -> tuple[int, int] | None:
    """``--image-shape HxW`` checked against the data's values per point, or the data's own
    (H, W) when it is image-shaped; None: no per-pixel map."""
    import math

    import numpy as np

    if not isinstance(data, np.ndarray) or data.ndim < 2:
        if spec is not None:
            raise InvalidArgumentError("--image-shape", "needs one data array of shape (n, ...) "
                                                        "(a VAE's --data), not batches of several arrays")
        return None
    per_point = math.prod(data.shape[1:])
    if spec is None:
        trailing = data.shape[1:] if data.ndim == 3 else data.shape[2:] if (
            data.ndim == 4 and data.shape[1] == 1) else None
        return (int(trailing[0]), int(trailing[1])) if trailing else None
    parts = spec.lower().split("x")
    if len(parts) != 2 or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise InvalidArgumentError("--image-shape", f"must be HxW with two positive integers "
                                                    f"(e.g. 8x8), got {spec!r}")
    shape = (int(parts[0]), int(parts[1]))
    if shape[0] * shape[1] != per_point:
        raise InvalidArgumentError("--image-shape", f"must hold the data's {per_point} values per "
                                                    f"point, got {spec} ({shape[0] * shape[1]})")
    return shape


def _model(factory: Any) -> tuple[Any, Any]:
    import torch

    try:
        made = factory()
    except Exception as exc:
        raise InvalidArgumentError("FACTORY", f"the factory raised {type(exc).__name__}: "
                                              f"{exc}") from None
    model, optimizer = (made if isinstance(made, tuple) and len(made) == 2 else (made, None))
    if not isinstance(model, torch.nn.Module):
        raise InvalidArgumentError("FACTORY", f"must return a torch.nn.Module or (model, "
                                              f"optimizer), got {type(made).__name__}")
    if optimizer is not None and not isinstance(optimizer, torch.optim.Optimizer):
        raise InvalidArgumentError("FACTORY", f"the second item must be a torch.optim.Optimizer, "
                                              f"got {type(optimizer).__name__}")
    return model, optimizer


def _write(args: argparse.Namespace, planned: dict[str, Path], report: Any,
           image_shape: tuple[int, int] | None = None) -> None:
    from vaeproofs.audit.report import pixel_figure, probe_figure, render_html, render_markdown
    from vaeproofs.outputs import write_atomic, write_json

    doc = report.to_json()
    doc["command"] = "audit"
    if "--json" in planned:
        write_json(planned["--json"], doc)
    if "--report" in planned:
        folder = planned["--report"]
        (folder / "figures").mkdir(parents=True, exist_ok=True)
        png = probe_figure(report)
        if png is not None:
            write_atomic(folder / "figures" / "probe.png", png)
        pixels = None
        if image_shape is not None:
            try:
                pixels = pixel_figure(report, image_shape)
            except InvalidArgumentError as exc:  # the model's outputs are not the data's pixels
                print(f"vaeproofs audit: no per-pixel map: {exc.problem}", file=sys.stderr)
        if pixels is not None:
            write_atomic(folder / "figures" / "pixels.png", pixels)
        write_atomic(folder / "report.md", render_markdown(report, figure="probe" if png else None,
                                                           pixels="pixels" if pixels else None))
        write_atomic(folder / "report.html", render_html(report, png=png, pixels_png=pixels))


#: audit_vae's argument -> the option that sets it.
_API_OPTION = {"data": "--data", "X": "--data", "loss_fn": "--loss", "forward": "--forward",
               "n_points": "--n-points", "steps": "--steps", "seed": "--seed",
               "variance": "--variance", "optimizer": "FACTORY", "model": "FACTORY",
               "objective": "--objective", "batch": "--data"}

#: The API's words in messages -> the command line's.
_API_WORDS = (("pass variance= (", "pass --variance ("), ("variance=", "--variance "),
              ("forward=fn(model, x)", "--forward FILE.py:FN (FN(model, x))"),
              ("audit_objective(model, X, objective)", "--objective FILE.py:FN (FN(model, batch))"))


def _cli_words(problem: str) -> str:
    for api, cli in _API_WORDS:
        problem = problem.replace(api, cli)
    return problem


def run(args: argparse.Namespace) -> int:
    """Audit the model; print the verdict; write the outputs; return the exit code."""
    from vaeproofs.outputs import plan_outputs

    factory_path, _ = _split_spec("FACTORY", args.factory)
    inputs = {"FACTORY": factory_path, "--data": args.data}
    for opt in ("loss", "forward", "objective"):
        if getattr(args, opt) is not None:
            inputs[f"--{opt}"] = _split_spec(f"--{opt}", getattr(args, opt))[0]
    planned = plan_outputs(files={"--json": args.json}, dirs={"--report": args.report},
                           inputs=inputs, suffixes={"--json": (".json",)})
    data = _load_data(args.data)
    image_shape = _image_shape(args.image_shape, data) if args.objective is None else None
    if args.objective is not None and args.image_shape is not None:
        raise InvalidArgumentError("--image-shape", "draws a VAE probe's variances; it cannot be "
                                                    "combined with --objective")
    model, optimizer = _model(load_callable("FACTORY", args.factory))
    if args.objective is not None:
        for opt in ("loss", "forward"):
            if getattr(args, opt) is not None:
                raise InvalidArgumentError(f"--{opt}", "cannot be combined with --objective (the "
                                                       "objective is the whole loss and calls the model)")
    objective = load_callable("--objective", args.objective) if args.objective else None
    loss_fn = load_callable("--loss", args.loss) if args.loss else None
    forward = load_callable("--forward", args.forward) if args.forward else None

    from vaeproofs.audit import AuditInterrupted, audit_objective, audit_vae

    progress = not args.no_progress and sys.stderr.isatty()
    try:
        if objective is not None:
            report = audit_objective(model, data, objective, optimizer=optimizer, n_points=args.n_points,
                                     steps=args.steps, seed=args.seed, progress=progress,
                                     variance=args.variance)
        else:
            report = audit_vae(model, data, variance=args.variance, forward=forward, loss_fn=loss_fn,
                               optimizer=optimizer, n_points=args.n_points, steps=args.steps,
                               seed=args.seed, progress=progress)
    except InvalidArgumentError as exc:  # name the option the user typed, not the API's argument
        option = _API_OPTION.get(exc.argument)
        if option is None:
            raise
        raise InvalidArgumentError(option, _cli_words(exc.problem)) from None
    except AuditInterrupted as exc:
        _write(args, planned, exc.report, image_shape)
        print("vaeproofs audit: interrupted; the record so far is written", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(report.verdict)
    vf = report.variance_floor
    if report.audited == "objective":
        print(f"\nloss lower bound {report.loss_lower_bound}  floor {vf.floor}  min variance "
              f"{report.min_variance}  decision {report.decision}")
    else:
        print(f"\nfloor {vf.floor}  cap/point {report.cap_per_point}  best objective/point "
              f"{report.best_objective_per_point}  min variance {report.min_variance}  "
              f"decision {report.decision}")
    if report.advice:
        print("\nadvice:")
        for item in report.advice:
            print(f"- {item.text}")
    _write(args, planned, report, image_shape)
    if "--report" in planned:
        print(f"report: {planned['--report'] / 'report.html'}")
    if report.decision == "conflict":
        print("vaeproofs audit: the evidence conflicts (see the evidence table)", file=sys.stderr)
        return EXIT_CONFLICT
    if report.decision == "fails" and args.require_bounded:
        print("vaeproofs audit: --require-bounded: the objective is NOT bounded", file=sys.stderr)
        return EXIT_NOT_BOUNDED
    return EXIT_OK if report.decision in ("holds", "fails") else EXIT_UNDECIDED
