"""The sweep spec: parsing, validation against train's own checks, run ids, presets."""

from __future__ import annotations

import dataclasses

import pytest

from vaeproofs.cli import build_parser
from vaeproofs.errors import InvalidArgumentError
from vaeproofs.numeric.training import TrainConfig
from vaeproofs.sweep.spec import FIELD, load_preset, parse_spec, preset_names, run_id

GOOD = """
description = "a test"
[fixed]
steps = 30
lr = 1
[grid]
likelihood = ["per-pixel", "floor", "shared"]
n_train = [16, "all"]
"""


def test_combinations_follow_the_grid_order_with_fixed_options_and_train_defaults() -> None:
    spec = parse_spec(GOOD)
    configs = spec.configs()
    assert spec.size == len(configs) == 6
    assert [(c.likelihood, c.n_train) for c in configs] == [
        ("per-pixel", 16), ("per-pixel", None), ("floor", 16), ("floor", None),
        ("shared", 16), ("shared", None)]
    # fixed options apply to every run; an integer given for a real option becomes a float,
    # so `lr = 1` and `lr = 1.0` are the same run; the rest are train's defaults
    assert all(c.steps == 30 and c.lr == 1.0 and isinstance(c.lr, float) for c in configs)
    assert configs[0] == TrainConfig(likelihood="per-pixel", n_train=16, steps=30, lr=1.0)


def test_spec_keys_are_exactly_train_options_with_underscores() -> None:
    train = build_parser(["train"])._subparsers._group_actions[0].choices["train"]  # type: ignore[union-attr]
    options = {a.option_strings[0][2:].replace("-", "_") for a in train._actions
               if a.option_strings and a.option_strings[0].startswith("--")}
    # --memory-budget-gb is a resource limit of one process, not part of a run's configuration.
    assert set(FIELD) == options - {"help", "json", "plot", "progress", "memory_budget_gb"}
    assert {name for name, _ in FIELD.values()} == {f.name for f in dataclasses.fields(TrainConfig)}


def test_run_id_is_a_stable_hash_of_the_full_configuration() -> None:
    a = TrainConfig(likelihood="floor", n_train=64).to_dict()
    assert run_id(a) == run_id(dict(reversed(list(a.items()))))  # key order does not matter
    assert len(run_id(a)) == 16 and int(run_id(a), 16) >= 0
    assert run_id(a) != run_id({**a, "seed": 1})
    ids = [run_id(c.to_dict()) for c in parse_spec(GOOD).configs()]
    assert len(set(ids)) == len(ids)


@pytest.mark.parametrize(("text", "key"), [
    ("[grid]\nlikelihood = ['per-pixel']\nwidth = [1]", "grid.width"),
    ("[fixed]\njson = 'x.json'\n[grid]\nseed = [0]", "fixed.json"),
    ("[grid]\n", "grid"),
    ("[fixed]\nsteps = 3\n", "grid"),
    ("[grid]\nseed = []", "grid.seed"),
    ("[grid]\nseed = 3", "grid.seed"),
    ("[grid]\nseed = [0, 0]", "grid.seed"),
    ("[fixed]\nseed = 0\n[grid]\nseed = [1]", "grid.seed"),
    ("[grid]\nsteps = [10, 2.5]", "steps"),
    ("[grid]\nn_train = [16, 'some']", "n_train"),
    ("[grid]\ndequantize = ['yes']", "dequantize"),
    ("[grid]\nseed = [0]\n[other]\nx = 1", "SPEC"),
    ("[grid\nseed = [0]", "SPEC"),
])
def test_malformed_specs_name_the_key(text: str, key: str) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        parse_spec(text).configs()
    assert info.value.argument == key


@pytest.mark.parametrize(("text", "key", "fragment"), [
    # train's own checks, under the spec's key and naming the grid cell
    ("[grid]\nlikelihood = ['per-pixel', 'laplace']", "likelihood", "likelihood='laplace'"),
    ("[grid]\nfloor = [1e-3, -1.0]", "floor", "floor=-1.0"),
    ("[fixed]\ndata = 'manifold'\n[grid]\ndequantize = [true]", "dequantize", "dequantize=True"),
    # the data: n_train larger than the training split of digits (1437 points)
    ("[grid]\nn_train = [16, 5000]", "n_train", "n_train=5000"),
    ("[grid]\ndata = ['digits', 'missing-file.npy']", "data", "missing-file.npy"),
])
def test_every_combination_is_checked_by_train_before_anything_runs(text: str, key: str,
                                                                    fragment: str) -> None:
    spec = parse_spec(text)
    with pytest.raises(InvalidArgumentError) as info:
        spec.configs()
    assert info.value.argument == key
    assert fragment in str(info.value) and "\n" not in str(info.value)


def test_every_shipped_preset_is_valid() -> None:
    assert {"smoke", "onset"} <= set(preset_names())
    for name in preset_names():
        spec = load_preset(name)
        assert spec.description
        assert len(spec.configs()) == spec.size > 0


def test_the_onset_preset_is_the_study_the_docs_describe() -> None:
    spec = load_preset("onset")
    assert spec.grid["likelihood"] == ["per-pixel", "floor", "shared"]
    assert spec.grid["n_train"] == [16, 64, 256, 1024, "all"]
    assert len(spec.grid["hidden"]) == 2 and len(spec.grid["seed"]) == 3
    configs = spec.configs()
    assert all(c.data == "digits" and c.dequantize for c in configs)


def test_an_unknown_preset_is_refused() -> None:
    with pytest.raises(InvalidArgumentError, match="--preset"):
        load_preset("nope")
