"""The ``forkserver`` that ``vaeproofs verify``'s worker processes are forked from.

A worker forked from a server that has already imported the heavy layers costs a fork, not
a fresh import of torch and sympy (about 2 s of one core each).  The server imports them
once, when it starts; :func:`start` starts it early, before the calling process imports its
own layers, so that the two imports run side by side on two cores instead of one after the
other (the server is a separate process, so its start does not wait for its imports; the
first worker asked of it does).

This module is deliberately light (the standard library only): it is imported before
anything heavy.
"""

from __future__ import annotations

import multiprocessing
from multiprocessing.context import BaseContext

__all__ = ["PRELOAD", "context", "start"]

#: What the server imports once for every worker: the prefetch tasks, the constructions,
#: the training machinery, and ``torch._dynamo``, which a fused Adam's first step imports
#: (about 2 s of one core).
PRELOAD = ("vaeproofs.claims.prefetch", "vaeproofs.constructions", "vaeproofs.numeric.training",
           "torch._dynamo")


def context() -> BaseContext:
    """The ``forkserver`` multiprocessing context, with :data:`PRELOAD` set."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload(list(PRELOAD))
    return ctx


def start() -> None:
    """Start the server now (if it is not running), without waiting for its imports.

    Has no effect where the platform has no ``forkserver`` (the pool then fails as it
    would without this call).
    """
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return
    context()
    from multiprocessing import forkserver

    forkserver.ensure_running()
