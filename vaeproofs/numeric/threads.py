"""One torch thread for small float64 computations (restored afterwards).

A model of a few thousand parameters gains nothing from intra-op threads, and on a shared
machine extra threads only contend (measured: a 400-step regressor run took 55 s with two
threads under load against about 1 s with one).  ``@one_thread()`` decorates such functions.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

__all__ = ["one_thread"]


@contextmanager
def one_thread() -> Iterator[None]:
    """Run the body (or the decorated function) with ``torch.set_num_threads(1)``."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
