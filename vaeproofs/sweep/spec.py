"""The sweep specification: a TOML file with a ``[fixed]`` and a ``[grid]`` table.

Keys are the options of ``vaeproofs train`` with dashes written as underscores
(``n_train``, ``batch_size``, ``floor``, ``threads``, ...); ``[fixed]`` gives one value
per key, ``[grid]`` a non-empty list per key.  The sweep runs every combination of the
grid values (in the order the keys and values are written, the last key varying
fastest), each combined with the fixed options; an option in neither table keeps the
default of ``vaeproofs train``.  ``"all"`` stands for "every point" / "full batch" /
"torch's setting" exactly where the command line accepts it (``n_train``, ``n_test``,
``batch_size``, ``threads``).  An optional top-level ``description`` string names the
study.

Everything is validated before any run starts (:func:`load_spec`, then
:meth:`SweepSpec.configs`): the TOML syntax, unknown tables or keys, a key in both
tables, an empty grid, the type of every value, and every combination against the
checks of :class:`vaeproofs.numeric.training.TrainConfig` and of the data it names
(e.g. ``n_train`` larger than the training split).  A problem raises
:class:`~vaeproofs.errors.InvalidArgumentError` whose one-line message names the key.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import sys
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from vaeproofs.errors import InvalidArgumentError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = ["FIELD", "SweepSpec", "load_preset", "load_spec", "parse_spec", "preset_names", "run_id"]

_COUNT, _INT, _FLOAT, _STR, _BOOL, _OPT_BOOL = "count", "int", "float", "str", "bool", "opt_bool"
_BOOL_OR_STR = "bool_or_str"  # dequantize: true/false, or "static"/"fresh" (TrainConfig checks the word)

#: Spec key -> (TrainConfig field, kind).  Keys are ``vaeproofs train``'s options with
#: dashes as underscores (``--floor`` sets the field ``xi``, ``--threads`` ``num_threads``);
#: ``count`` accepts an integer or ``"all"`` (``None`` in the configuration).
FIELD: dict[str, tuple[str, str]] = {
    "likelihood": ("likelihood", _STR), "data": ("data", _STR), "n_train": ("n_train", _COUNT),
    "n_test": ("n_test", _COUNT), "test_fraction": ("test_fraction", _FLOAT),
    "dequantize": ("dequantize", _BOOL_OR_STR), "binarize": ("binarize", _OPT_BOOL),
    "data_seed": ("data_seed", _INT), "manifold_dim": ("manifold_dim", _INT),
    "data_dim": ("data_dim", _INT), "floor": ("xi", _FLOAT), "fixed_std": ("fixed_std", _FLOAT),
    "nu": ("nu", _FLOAT), "latent_dim": ("latent_dim", _INT), "hidden": ("hidden", _INT),
    "depth": ("depth", _INT), "activation": ("activation", _STR), "steps": ("steps", _INT),
    "lr": ("lr", _FLOAT), "batch_size": ("batch_size", _COUNT), "seed": ("seed", _INT),
    "dtype": ("dtype", _STR), "train_samples": ("train_samples", _INT),
    "threads": ("num_threads", _COUNT), "log_every": ("log_every", _INT),
    "elbo_samples": ("elbo_samples", _INT), "iwae_samples": ("iwae_samples", _INT),
    "label": ("label", _STR), "s_min": ("s_min", _FLOAT), "softclip_min": ("softclip_min", _FLOAT),
    "nll_eps": ("nll_eps", _FLOAT), "beta_nll": ("beta_nll", _FLOAT),
}
_KEY_OF_FIELD = {f: k for k, (f, _) in FIELD.items()}


def _convert(key: str, value: Any) -> Any:
    """The TrainConfig value of spec ``key`` written as ``value`` (a TOML scalar)."""
    kind = FIELD[key][1]
    if kind == _COUNT and value == "all":
        return None
    if kind in (_COUNT, _INT):
        if isinstance(value, bool) or not isinstance(value, int):
            extra = " or 'all'" if kind == _COUNT else ""
            raise InvalidArgumentError(key, f"must be an integer{extra}, got {value!r}")
        return value
    if kind == _FLOAT:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidArgumentError(key, f"must be a number, got {value!r}")
        return float(value)
    if kind == _BOOL_OR_STR:
        if not isinstance(value, bool | str):
            raise InvalidArgumentError(key, f"must be true, false or a word, got {value!r}")
        return value
    if kind in (_BOOL, _OPT_BOOL):
        if not isinstance(value, bool):
            raise InvalidArgumentError(key, f"must be true or false, got {value!r}")
        return value
    if not isinstance(value, str):
        raise InvalidArgumentError(key, f"must be a string, got {value!r}")
    return value


def _check_key(table: str, key: str) -> None:
    if key not in FIELD:
        hint = {"json": "the sweep writes DIR/runs/<id>.json itself", "plot": "the sweep draws "
                "DIR/figures itself", "progress": "use the sweep's --progress"}.get(key)
        raise InvalidArgumentError(
            f"{table}.{key}", "is not an option of vaeproofs train" + (f" ({hint})" if hint else "")
            + f"; known: {', '.join(sorted(FIELD))}")


def run_id(config_values: dict[str, Any]) -> str:
    """Stable id of a run: the first 16 hex digits of the SHA-256 of its full configuration
    (every TrainConfig field, defaults included) as canonical JSON (sorted keys, no spaces)."""
    text = json.dumps(config_values, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class SweepSpec:
    """A parsed spec: ``fixed`` key -> value and ``grid`` key -> values, as written."""

    fixed: dict[str, Any]
    grid: dict[str, list[Any]]
    description: str = ""
    source: str = field(default="", compare=False)

    @property
    def size(self) -> int:
        """Number of runs: the product of the grid lists' lengths."""
        n = 1
        for values in self.grid.values():
            n *= len(values)
        return n

    def combinations(self) -> list[dict[str, Any]]:
        """Every run's spec values (fixed and grid keys, as written), in grid order."""
        keys = list(self.grid)
        return [{**self.fixed, **dict(zip(keys, combo, strict=True))}
                for combo in itertools.product(*(self.grid[k] for k in keys))]

    def configs(self, *, check_data: bool = True, memory_budget_gb: float | None = None) -> list[Any]:
        """Every run's :class:`~vaeproofs.numeric.training.TrainConfig`, in grid order.

        Builds each configuration (which runs train's own checks) and, with
        ``check_data``, loads each distinct data set once, cuts every run's subsets and
        estimates each run's memory against ``memory_budget_gb`` (default: train's), so that a run that
        would fail on its data or its size fails here, before anything runs.
        """
        from vaeproofs.numeric.training import TrainConfig, load_dataset, prepare_data
        from vaeproofs.numeric.training.budget import check_memory

        configs = []
        for values in self.combinations():
            try:
                configs.append(TrainConfig(**{FIELD[k][0]: _convert(k, v) for k, v in values.items()}))
            except InvalidArgumentError as exc:
                raise _in_run(exc, values, self.grid) from exc
        if check_data:
            datasets: dict[tuple[Any, ...], Any] = {}
            for config, values in zip(configs, self.combinations(), strict=True):
                key = (config.data, config.test_fraction, config.data_seed, config.dequantize,
                       config.binarized, config.manifold_dim, config.data_dim)
                try:
                    if key not in datasets:
                        datasets[key] = load_dataset(config)
                    ds, train_np, test_np = prepare_data(config, datasets[key])
                    # train's own memory check, with the budget every run will get
                    check_memory(config, dim=ds.dim, n_train=train_np.shape[0],
                                 n_test=test_np.shape[0], budget_gb=memory_budget_gb)
                except InvalidArgumentError as exc:
                    raise _in_run(exc, values, self.grid) from exc
        return configs


def _in_run(exc: InvalidArgumentError, values: dict[str, Any], grid: dict[str, list[Any]]
            ) -> InvalidArgumentError:
    """Re-raise train's error under the spec's key, naming the grid cell it came from."""
    key = _KEY_OF_FIELD.get(exc.argument, exc.argument)
    cell = ", ".join(f"{k}={values[k]!r}" for k in grid)
    return InvalidArgumentError(key, f"{exc.problem} (in the run {cell})" if cell else exc.problem)


def parse_spec(text: str, *, source: str = "SPEC") -> SweepSpec:
    """Parse and check the tables of a spec (not yet the combinations: see :meth:`SweepSpec.configs`)."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidArgumentError(source, f"is not valid TOML: {exc}") from None
    unknown = sorted(set(doc) - {"fixed", "grid", "description"})
    if unknown:
        raise InvalidArgumentError(
            source, f"unknown top-level key(s) {', '.join(unknown)}; allowed: [fixed], [grid], description")
    description = doc.get("description", "")
    if not isinstance(description, str):
        raise InvalidArgumentError("description", f"must be a string, got {description!r}")
    fixed, grid = doc.get("fixed", {}), doc.get("grid")
    if not isinstance(fixed, dict):
        raise InvalidArgumentError("fixed", "must be a table: [fixed]")
    if not isinstance(grid, dict) or not grid:
        raise InvalidArgumentError(
            "grid", "must be a non-empty table: [grid] with at least one key = [values]")
    for key, value in fixed.items():
        _check_key("fixed", key)
        _convert(key, value)
    for key, values in grid.items():
        _check_key("grid", key)
        if key in fixed:
            raise InvalidArgumentError(f"grid.{key}", "is also in [fixed]; give it in one table only")
        if not isinstance(values, list) or not values:
            raise InvalidArgumentError(f"grid.{key}", f"must be a non-empty list, got {values!r}")
        for value in values:
            _convert(key, value)
        if len({json.dumps(v) for v in values}) != len(values):
            raise InvalidArgumentError(f"grid.{key}", f"lists a value twice: {values!r}")
    return SweepSpec(dict(fixed), {k: list(v) for k, v in grid.items()}, description, source)


def load_spec(path: str | Path) -> SweepSpec:
    """Read and parse the spec file ``path``."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidArgumentError("SPEC", f"cannot read {str(path)!r}: {exc}") from None
    return parse_spec(text, source=str(path))


def preset_names() -> list[str]:
    """The presets shipped inside the package (``vaeproofs/presets/*.toml``)."""
    folder = resources.files("vaeproofs").joinpath("presets")
    return sorted(p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml"))


def load_preset(name: str) -> SweepSpec:
    """The shipped preset ``name`` (see :func:`preset_names`)."""
    names = preset_names()
    if name not in names:
        raise InvalidArgumentError("--preset", f"must be one of {', '.join(names)}, got {name!r}")
    text = resources.files("vaeproofs").joinpath("presets", f"{name}.toml").read_text(encoding="utf-8")
    return parse_spec(text, source=f"preset {name}")
