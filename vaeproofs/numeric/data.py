"""Data sets for the numeric experiments: sklearn's digits, a known manifold, users' arrays.

Every loader returns a :class:`Dataset`: a float64 train/test split of shape (N, D),
made with a seeded numpy generator, so the same ``seed`` always gives the same split.

Scales (decided by the lead, stated once here):

- digits (8 x 8 images, D = 64, integer values 0..16, shipped inside scikit-learn, no
  download): ``x / 16`` in [0, 1]; **dequantised**: ``(x + u) / 17`` with
  u ~ U(0, 1) drawn once per pixel of every image (static dequantisation: the noise is
  part of the data set, not redrawn during training), which makes the data continuous
  in (0, 1) and removes the constant pixels; **fresh dequantisation**: the training
  split holds the bins' lower corners ``x / 17`` and the trainer adds ``u / 17`` with u
  redrawn at every step (Theis, van den Oord & Bethge, ICLR 2016, section 3.1), the test
  split is dequantised once as above; **binarised**: ``1[x / 16 > 0.5]``.
- faces (optional extra ``vaeproofs[faces]``): the 100 face images of scikit-image's
  bundled LFW subset (25 x 25 greyscale, D = 625, values in [0, 1], resized from LFW so
  they are already continuous; shipped inside the scikit-image wheel, no download),
  close to the Frey faces of Mattei & Frellsen's experiment; used as they are.
- manifold: ``x = 1/2 + 0.4 sin(A u + b)`` with latent coordinates u ~ U(-1, 1)^r and a
  fixed random A (D x r), b (D): points lie exactly on an r-dimensional smooth manifold
  in (0.1, 0.9)^D.
"""

from __future__ import annotations

import functools
import gzip
import importlib.util
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike, NDArray

from vaeproofs.errors import InvalidArgumentError
from vaeproofs.validation import (
    as_float_array,
    as_real,
    check_int_range,
    check_memory,
    check_real_dtype,
)

__all__ = [
    "DIGITS_LEVELS",
    "Dataset",
    "binarize",
    "constant_pixels",
    "digits_dataset",
    "faces_dataset",
    "from_array",
    "load_npy",
    "manifold_dataset",
    "split",
]

#: The digits pixels take the integer values 0..DIGITS_LEVELS - 1.
DIGITS_LEVELS = 17


@dataclass(frozen=True)
class Dataset:
    """A train/test split; ``train`` and ``test`` are float64 arrays of shape (N, D)."""

    name: str
    train: NDArray[np.float64]
    test: NDArray[np.float64]
    description: str = ""

    @property
    def dim(self) -> int:
        """D, the number of pixels (features) per point."""
        return int(self.train.shape[1])


def split(x: NDArray[np.float64], *, test_fraction: float, seed: int
          ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Shuffle the rows with ``numpy.random.default_rng(seed)`` and split off a test part.

    The test part has ``max(1, round(test_fraction * N))`` rows; at least one row is
    left for training.  ``0 < test_fraction < 1``.
    """
    if not 0.0 < test_fraction < 1.0:
        raise InvalidArgumentError("test_fraction", f"must be in (0, 1), got {test_fraction}")
    n = x.shape[0]
    if n < 2:
        raise InvalidArgumentError("data", f"needs at least 2 points to split, got {n}")
    n_test = min(max(1, round(test_fraction * n)), n - 1)
    order = np.random.default_rng(seed).permutation(n)
    return x[order[n_test:]], x[order[:n_test]]


def binarize(x: NDArray[np.float64], threshold: float = 0.5) -> NDArray[np.float64]:
    """``1.0`` where ``x > threshold``, else ``0.0``."""
    return (x > threshold).astype(np.float64)


def constant_pixels(x: NDArray[np.float64]) -> NDArray[np.bool_]:
    """Mask of the pixels that take one single value across the rows of ``x``."""
    return np.all(x == x[:1], axis=0)


@functools.lru_cache(maxsize=1)
def _digits_pixels() -> NDArray[np.float64]:
    """The 1797 x 64 digits pixels (integers 0..16), read once per process.

    scikit-learn ships them as ``sklearn/datasets/data/digits.csv.gz`` (64 pixel
    columns and the label).  Reading that file directly avoids importing
    ``sklearn.datasets`` (about 1.7 s); if the file is not where this version keeps
    it, :func:`sklearn.datasets.load_digits` is used.  The array is read-only.
    """
    spec = importlib.util.find_spec("sklearn")
    path = (Path(spec.origin).parent / "datasets" / "data" / "digits.csv.gz"
            if spec is not None and spec.origin else None)
    pixels: NDArray[np.float64] | None = None
    if path is not None and path.is_file():
        with gzip.open(path, "rt") as fh:
            table = np.loadtxt(fh, delimiter=",", dtype=np.float64)
        if table.shape == (1797, 65):
            pixels = table[:, :64]
    if pixels is None:
        from sklearn.datasets import load_digits

        pixels = np.asarray(load_digits().data, dtype=np.float64)
    pixels = np.ascontiguousarray(pixels)
    pixels.setflags(write=False)
    return pixels


def digits_dataset(*, test_fraction: float = 0.2, dequantize: bool | str = False,
                   binarized: bool = False, seed: int = 0) -> Dataset:
    """sklearn's digits (1797 points, D = 64) scaled as stated in the module docstring.

    ``dequantize``: ``False``; ``True`` or ``"static"``; ``"fresh"`` (training split
    without noise, for a trainer that adds it).  The split and the dequantisation noise
    both come from ``seed``.
    """
    if dequantize not in (False, True, "static", "fresh"):
        raise InvalidArgumentError(
            "dequantize", f"must be false, true, 'static' or 'fresh', got {dequantize!r}")
    if dequantize and binarized:
        raise InvalidArgumentError("binarize", "cannot be combined with dequantize")
    raw = _digits_pixels()
    rng = np.random.default_rng([seed, 1])
    if dequantize:
        x = (raw + rng.random(raw.shape)) / DIGITS_LEVELS
        how = "(x + u)/17, u ~ U(0,1) (static dequantisation)"
    else:
        x = raw / (DIGITS_LEVELS - 1)
        how = "x/16"
    if binarized:
        x = binarize(x)
        how = "1[x/16 > 0.5]"
    train, test = split(x, test_fraction=test_fraction, seed=seed)
    if dequantize == "fresh":
        train, _ = split(raw / DIGITS_LEVELS, test_fraction=test_fraction, seed=seed)
        how = "(x + u)/17, u ~ U(0,1) redrawn at every step (fresh dequantisation)"
    return Dataset("digits", train, test, f"sklearn digits, 8x8, scaled {how}")


#: Images of scikit-image's LFW subset used by :func:`faces_dataset`: the first 100 are faces.
FACES_COUNT = 100


@functools.lru_cache(maxsize=1)
def _faces_pixels() -> NDArray[np.float64]:
    """The 100 face images of ``skimage.data.lfw_subset()`` as a read-only (100, 625) array."""
    try:
        from skimage.data import lfw_subset
    except ImportError:
        raise InvalidArgumentError(
            "data", "'faces' needs scikit-image (pip install 'vaeproofs[faces]')") from None
    images = np.asarray(lfw_subset(), dtype=np.float64)[:FACES_COUNT]
    pixels = np.ascontiguousarray(images.reshape(images.shape[0], -1))
    pixels.setflags(write=False)
    return pixels


def faces_dataset(*, test_fraction: float = 0.2, binarized: bool = False, seed: int = 0
                  ) -> Dataset:
    """The 100 faces of scikit-image's LFW subset (D = 625), split with ``seed``."""
    x = _faces_pixels()
    how = "in [0, 1]"
    if binarized:
        x = binarize(x)
        how = "binarised at 0.5"
    train, test = split(x, test_fraction=test_fraction, seed=seed)
    return Dataset("faces", train, test, f"LFW faces (scikit-image subset), 25x25, {how}")


def manifold_dataset(*, n_points: int = 2000, data_dim: int = 64, manifold_dim: int = 2,
                     test_fraction: float = 0.2, seed: int = 0) -> Dataset:
    """Points on a known smooth r-dimensional manifold in R^D (see the module docstring)."""
    check_int_range("n_points", n_points, low=2, high=10**7)
    check_int_range("data_dim", data_dim, low=1, high=10**5)
    check_int_range("manifold_dim", manifold_dim, low=1, high=data_dim)
    rng = np.random.default_rng([seed, 2])
    a = rng.normal(0.0, 2.0, size=(data_dim, manifold_dim))
    b = rng.uniform(0.0, 2.0 * np.pi, size=data_dim)
    u = rng.uniform(-1.0, 1.0, size=(n_points, manifold_dim))
    x = 0.5 + 0.4 * np.sin(u @ a.T + b)
    train, test = split(x, test_fraction=test_fraction, seed=seed)
    return Dataset("manifold", train, test,
                   f"{manifold_dim}-dimensional manifold x = 1/2 + 0.4 sin(A u + b) in "
                   f"R^{data_dim}")


def _check_split_options(test_fraction: object, seed: object) -> float:
    tf = as_real("test_fraction", test_fraction)
    if not 0.0 < tf < 1.0:
        raise InvalidArgumentError("test_fraction", f"must be in (0, 1), got {tf}")
    check_int_range("seed", seed, low=0, high=2**63 - 1)  # type: ignore[arg-type]
    return tf


def _check_flag(name: str, value: object) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise InvalidArgumentError(name, f"must be True or False, got {value!r}")
    return bool(value)


def _check_matrix_shape(shape: tuple[int, ...]) -> None:
    if len(shape) != 2 or shape[0] < 2 or shape[1] < 1:
        raise InvalidArgumentError(
            "data", f"must have shape (N, D) with N >= 2 and D >= 1, got {shape}")


def _data_bytes(n_elements: int, itemsize: int, *, converted: bool) -> int:
    """Peak extra memory of :func:`from_array`: the float64 copy when the dtype is not
    float64 already, the train/test copies (one more float64 array) and a finiteness
    mask (one byte per entry); a ``.npy`` load adds the array as stored."""
    return n_elements * (8 * (2 if converted else 1) + 1) + n_elements * itemsize


def from_array(x: ArrayLike, *, test_fraction: float = 0.2, seed: int = 0,
               name: str = "array", binarized: bool = False,
               memory_budget: float | None = None) -> Dataset:
    """A user's array of shape (N, D), N >= 2, finite, split into train and test.

    The array must have a real floating or integer dtype (bool, complex, string,
    datetime and object arrays are refused, not converted).  The memory the float64
    copies need is checked against the budget first (``memory_budget`` in bytes; see
    :func:`vaeproofs.validation.check_memory`).  A torch tensor is detached (and moved
    to the CPU) first, so one that requires gradients is read as its values.
    """
    if hasattr(x, "detach") and hasattr(x, "requires_grad"):
        x = x.detach().cpu()
    tf = _check_split_options(test_fraction, seed)
    binarized = _check_flag("binarized", binarized)
    if not isinstance(name, str):
        raise InvalidArgumentError("name", f"must be a string, got {name!r}")
    if isinstance(x, (str, bytes)):
        raise InvalidArgumentError("data", f"must be an array, got the string {x!r:.60}")
    try:
        raw = np.asarray(x)
    except (TypeError, ValueError, RuntimeError) as exc:
        raise InvalidArgumentError("data", f"must be a real array, got {type(x).__name__}"
                                   ) from exc
    check_real_dtype("data", raw.dtype)
    _check_matrix_shape(raw.shape)
    check_memory("data", _data_bytes(raw.size, 0, converted=raw.dtype != np.float64),
                 memory_budget, what=f"a float64 copy of a {raw.shape} array and its split")
    arr = as_float_array("data", raw)
    if binarized:
        arr = binarize(arr)
    train, test = split(arr, test_fraction=tf, seed=seed)
    return Dataset(name, train, test, f"user array {arr.shape}")


def _npy_header(p: Path) -> tuple[tuple[int, ...], np.dtype, int]:
    """(shape, dtype, bytes of array data after the header) read without loading."""
    with p.open("rb") as fh:
        version = np.lib.format.read_magic(fh)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(fh)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(fh)
        else:  # newer formats: let numpy parse the header through a memory map
            mapped = np.load(p, mmap_mode="r", allow_pickle=False)
            return tuple(mapped.shape), mapped.dtype, mapped.nbytes
        available = p.stat().st_size - fh.tell()
    return tuple(shape), np.dtype(dtype), available


def load_npy(path: str | Path, *, test_fraction: float = 0.2, seed: int = 0,
             binarized: bool = False, memory_budget: float | None = None) -> Dataset:
    """Load an (N, D) array from a ``.npy`` file (no pickles) and split it.

    The header is read first (``numpy.lib.format``): the dtype must be real floating or
    integer, the shape (N, D), the file long enough for that shape, and the memory for
    loading and copying within the budget (``memory_budget`` in bytes; see
    :func:`vaeproofs.validation.check_memory`), before any data is read.
    """
    if not isinstance(path, (str, Path)):
        raise InvalidArgumentError("data", f"must be a path to a .npy file, got {path!r:.60}")
    p = Path(path)
    if p.suffix != ".npy":
        raise InvalidArgumentError(
            "data", f"must be 'digits', 'manifold' or a path to a .npy file, got {str(path)!r}")
    _check_split_options(test_fraction, seed)
    try:
        shape, dtype, available = _npy_header(p)
    except (OSError, ValueError) as exc:
        raise InvalidArgumentError("data", f"cannot read {str(p)!r}: {exc}") from exc
    check_real_dtype("data", dtype)
    _check_matrix_shape(shape)
    n_elements = math.prod(shape)
    if available < n_elements * dtype.itemsize:
        raise InvalidArgumentError(
            "data", f"{str(p)!r} is truncated: its header says shape {shape} of {dtype} "
                    f"({n_elements * dtype.itemsize} bytes) but {available} bytes follow")
    check_memory("data", _data_bytes(n_elements, dtype.itemsize,
                                     converted=dtype != np.float64),
                 memory_budget, what=f"loading a {shape} {dtype} array and its float64 split")
    try:
        arr = np.load(p, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise InvalidArgumentError("data", f"cannot read {str(p)!r}: {exc}") from exc
    return from_array(arr, test_fraction=test_fraction, seed=seed, name=p.name,
                      binarized=binarized, memory_budget=memory_budget)
