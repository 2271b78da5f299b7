"""User data (vaeproofs.numeric.data.from_array / load_npy) is refused clearly, never converted.

Each test failed before the fix: complex, string, datetime, object and bool arrays were
converted to float64; a .npy header claiming a huge shape ended in a MemoryError or a
numpy traceback; bad split options raised bare TypeErrors.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from vaeproofs import InvalidArgumentError
from vaeproofs.numeric.data import from_array, load_npy

GOOD = np.random.default_rng(5).normal(size=(10, 3))
BAD = {
    "complex128": GOOD.astype(np.complex128),
    "<U32": GOOD.astype(str),
    "datetime64[s]": np.zeros(GOOD.shape, dtype="datetime64[s]"),
    "object": GOOD.astype(object),
    "bool": GOOD > 0,
}
MESSAGE = "data: must be a real floating or integer array, got dtype {}"


@pytest.mark.parametrize("dtype", sorted(BAD))
def test_from_array_refuses_non_real_dtypes(dtype: str) -> None:
    with pytest.raises(InvalidArgumentError, match=f"^{re.escape(MESSAGE.format(dtype))}$"):
        from_array(BAD[dtype])


@pytest.mark.parametrize("dtype", ["complex128", "<U32", "datetime64[s]", "bool"])
def test_load_npy_refuses_non_real_dtypes_before_loading(tmp_path: Path, dtype: str) -> None:
    path = tmp_path / "bad.npy"
    np.save(path, BAD[dtype])
    with pytest.raises(InvalidArgumentError, match=f"^{re.escape(MESSAGE.format(dtype))}$"):
        load_npy(path)


def test_load_npy_refuses_a_header_claiming_a_huge_shape(tmp_path: Path) -> None:
    path = tmp_path / "huge.npy"
    with path.open("wb") as fh:
        np.lib.format.write_array_header_1_0(
            fh, {"descr": "<f8", "fortran_order": False, "shape": (10**6, 10**6)})
        fh.write(np.zeros(4).tobytes())
    with pytest.raises(InvalidArgumentError, match=r"^data: .*is truncated: its header says "
                                                   r"shape \(1000000, 1000000\)"):
        load_npy(path)


def test_load_npy_checks_memory_before_loading(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "ok.npy"
    np.save(path, GOOD.astype(np.float32))
    ds = load_npy(path, test_fraction=0.3)
    assert ds.train.dtype == np.float64 and ds.train.shape[0] + ds.test.shape[0] == 10
    with pytest.raises(InvalidArgumentError, match=r"^data: needs about .* budget of 100 B"):
        load_npy(path, memory_budget=100)
    monkeypatch.setenv("VAEPROOFS_MEMORY_BUDGET_GB", "1e-7")  # 107 bytes
    with pytest.raises(InvalidArgumentError, match=r"^data: needs about"):
        from_array(GOOD)


def test_load_npy_refuses_wrong_shapes_from_the_header(tmp_path: Path) -> None:
    path = tmp_path / "cube.npy"
    np.save(path, np.zeros((2, 2, 2)))
    with pytest.raises(InvalidArgumentError, match=r"^data: must have shape \(N, D\)"):
        load_npy(path)


@pytest.mark.parametrize(("kwargs", "argument"), [
    ({"test_fraction": "0.2"}, "test_fraction"),
    ({"test_fraction": True}, "test_fraction"),
    ({"test_fraction": float("nan")}, "test_fraction"),
    ({"seed": "abc"}, "seed"),
    ({"seed": -1}, "seed"),
    ({"seed": 1.5}, "seed"),
    ({"binarized": "yes"}, "binarized"),
    ({"name": 3}, "name"),
])
def test_from_array_options_are_checked_by_name(kwargs: dict, argument: str) -> None:
    with pytest.raises(InvalidArgumentError) as exc:
        from_array(GOOD, **kwargs)
    assert exc.value.argument == argument


def test_numpy_scalars_and_real_dtypes_are_accepted() -> None:
    a = from_array(GOOD.astype(np.float32), test_fraction=np.float64(0.3), seed=np.int64(2))
    b = from_array(GOOD.astype(np.float32), test_fraction=0.3, seed=2)
    np.testing.assert_array_equal(a.train, b.train)
    assert from_array(np.arange(12, dtype=np.int16).reshape(6, 2)).train.dtype == np.float64
