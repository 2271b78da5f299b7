"""The audit's data, as people hold it: an array, a tuple of arrays, a dict, or a DataLoader.

A *batch* is either one tensor of shape (n, ...) or a tuple / list / dict of tensors that all
have n rows (e.g. ``(inputs, targets)``); a sub-batch is the same structure indexed by rows.
A ``torch.utils.data.DataLoader`` (or any iterable of such batches) is read batch after
batch, in its own order, until ``limit`` rows are collected, and the batches are
concatenated; a ``Dataset`` must be wrapped in a DataLoader first.  Floating arrays become
tensors of the model's floating dtype; integer arrays (class labels) keep an integer dtype.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import torch

from vaeproofs.errors import InvalidArgumentError

__all__ = ["Batch", "collect", "first_array", "n_rows", "take_rows", "to_dtype"]

Batch = Any  # torch.Tensor | tuple[torch.Tensor, ...] | list[...] | dict[str, torch.Tensor]


def _is_array(value: Any) -> bool:
    return isinstance(value, torch.Tensor | np.ndarray)


def _tensor(value: Any, argument: str, where: str) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        t = value.detach().cpu()
    else:
        try:
            arr = np.asarray(value)
        except Exception as exc:
            raise InvalidArgumentError(argument, f"{where} must be an array of shape (n, ...), got "
                                                 f"{type(value).__name__} ({exc})") from None
        if arr.dtype.kind not in "fiub":
            raise InvalidArgumentError(argument, f"{where} must hold numbers, got dtype {arr.dtype} "
                                                 f"(from a {type(value).__name__})")
        t = torch.from_numpy(np.ascontiguousarray(arr))
    if t.dim() < 1 or t.shape[0] < 1:
        raise InvalidArgumentError(argument, f"{where} must have shape (n, ...) with n >= 1 rows, got "
                                             f"shape {tuple(t.shape)}")
    if t.is_floating_point() and not torch.isfinite(t).all():
        raise InvalidArgumentError(argument, f"{where} must be finite, got nan or inf values")
    return t


def _structure(data: Any, argument: str) -> Batch:
    if isinstance(data, Mapping):
        return {k: _tensor(v, argument, f"[{k!r}]") for k, v in data.items()}
    if isinstance(data, tuple | list) and data and all(_is_array(v) for v in data):
        return type(data)(_tensor(v, argument, f"[{i}]") for i, v in enumerate(data)) \
            if isinstance(data, list) else tuple(_tensor(v, argument, f"[{i}]")
                                                 for i, v in enumerate(data))
    if isinstance(data, tuple) and data:
        return tuple(_tensor(v, argument, f"[{i}]") for i, v in enumerate(data))
    return _tensor(data, argument, "the array")


def _leaves(batch: Batch) -> list[torch.Tensor]:
    if isinstance(batch, torch.Tensor):
        return [batch]
    return list(batch.values()) if isinstance(batch, dict) else list(batch)


def n_rows(batch: Batch, argument: str = "data") -> int:
    """The common number of rows of ``batch`` (every array must have it)."""
    rows = {int(t.shape[0]) for t in _leaves(batch)}
    if len(rows) != 1:
        raise InvalidArgumentError(argument, f"its arrays must have the same number of rows (one per "
                                             f"example), got {sorted(rows)}")
    return rows.pop()


def take_rows(batch: Batch, index: torch.Tensor) -> Batch:
    """The same structure, rows ``index`` of every array."""
    if isinstance(batch, torch.Tensor):
        return batch[index]
    if isinstance(batch, dict):
        return {k: v[index] for k, v in batch.items()}
    return type(batch)(v[index] for v in batch)


def to_dtype(batch: Batch, dtype: torch.dtype, device: torch.device | str = "cpu") -> Batch:
    """Floating arrays cast to ``dtype`` (integer arrays keep theirs), all moved to ``device``."""
    def cast(t: torch.Tensor) -> torch.Tensor:
        return t.to(device=device, dtype=dtype) if t.is_floating_point() else t.to(device)
    if isinstance(batch, torch.Tensor):
        return cast(batch)
    if isinstance(batch, dict):
        return {k: cast(v) for k, v in batch.items()}
    return type(batch)(cast(v) for v in batch)


def _concatenate(parts: list[Batch], argument: str) -> Batch:
    first = parts[0]
    try:
        if isinstance(first, torch.Tensor):
            return torch.cat(parts)
        if isinstance(first, dict):
            return {k: torch.cat([p[k] for p in parts]) for k in first}
        return type(first)(torch.cat([p[i] for p in parts]) for i in range(len(first)))
    except (RuntimeError, KeyError, IndexError, TypeError) as exc:
        raise InvalidArgumentError(argument, f"its batches cannot be concatenated (they differ in "
                                             f"structure or shape: {exc})") from None


def _is_iterable_of_batches(data: Any) -> bool:
    if _is_array(data) or isinstance(data, Mapping | tuple | list | str | bytes):
        return False
    return isinstance(data, Iterable) or isinstance(data, torch.utils.data.DataLoader)


def collect(data: Any, *, limit: int | None = None, argument: str = "data") -> Batch:
    """``data`` as a batch (see the module docstring); an iterable is read up to ``limit`` rows.

    Raises:
        InvalidArgumentError: naming ``argument``, for a Dataset (wrap it in a DataLoader), an
            empty iterable, arrays that are not numbers or differ in their number of rows.
    """
    if isinstance(data, torch.utils.data.Dataset) and not _is_iterable_of_batches(data):
        raise InvalidArgumentError(argument, f"got a {type(data).__name__} (a Dataset): pass "
                                             "DataLoader(dataset, batch_size=...) or an array of "
                                             "shape (n, ...)")
    if not _is_iterable_of_batches(data):
        batch = _structure(data, argument)
        n_rows(batch, argument)
        return batch
    parts: list[Batch] = []
    rows = 0
    for item in data:
        part = _structure(item, argument)
        parts.append(part)
        rows += n_rows(part, argument)
        if limit is not None and rows >= limit:
            break
    if not parts:
        raise InvalidArgumentError(argument, f"the {type(data).__name__} yielded no batches")
    batch = _concatenate(parts, argument)
    if limit is not None and rows > limit:
        batch = take_rows(batch, torch.arange(limit))
    return batch


def first_array(batch: Batch, argument: str = "data") -> torch.Tensor:
    """The inputs of a batch: the tensor itself, or element 0 of a tuple/list ((x, label) pairs)."""
    if isinstance(batch, torch.Tensor):
        return batch
    if isinstance(batch, dict):
        raise InvalidArgumentError(argument, f"must give the inputs as an array, a tuple whose first "
                                             f"element is the inputs, or a DataLoader of those; got a "
                                             f"dict with keys {list(batch)}")
    return batch[0]
