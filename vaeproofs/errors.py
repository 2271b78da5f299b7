"""The package's exception types.

Every error vaeproofs raises on purpose derives from :class:`VaeproofsError`, so
callers can catch the whole family with one ``except``.  Bad arguments raise
:class:`InvalidArgumentError`, which is also a :class:`ValueError` and carries the
offending argument's name in :attr:`InvalidArgumentError.argument`.
"""

from __future__ import annotations


class VaeproofsError(Exception):
    """Base class of every error raised by vaeproofs."""


class InvalidArgumentError(VaeproofsError, ValueError):
    """An argument is outside its valid range, has the wrong shape, or is not finite.

    The message always starts with the argument's name, e.g.
    ``"sigma2: must be > 0, got -1.0"``.
    """

    def __init__(self, argument: str, problem: str) -> None:
        self.argument = argument
        self.problem = problem
        super().__init__(f"{argument}: {problem}")

    def __reduce__(self) -> tuple[type[InvalidArgumentError], tuple[str, str]]:
        # Pickle by the constructor's arguments: the default (by ``args``, the one joined
        # message) cannot rebuild it, and a worker process's error must reach the parent.
        return (type(self), (self.argument, self.problem))


class EvidenceConflictError(VaeproofsError):
    """Two pieces of evidence for the same claim contradict each other."""
