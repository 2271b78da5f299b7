"""vaeproofs: is the Gaussian VAE objective well-posed when the decoder learns its variance?

The package is layered (see README):

- :mod:`vaeproofs.symbolic` — sympy derivations (never imports torch);
- :mod:`vaeproofs.linear` — numpy float64 API for the linear-Gaussian VAE;
- :mod:`vaeproofs.constructions` — explicit divergent parameter sequences (mpmath),
  with torch networks in :mod:`vaeproofs.constructions.networks`;
- :mod:`vaeproofs.numeric` — torch VAEs trained on real data;
- :mod:`vaeproofs.strategies` and :mod:`vaeproofs.testing` — hypothesis strategies
  and a checker for users' own VAE losses;
- :mod:`vaeproofs.claims`, :mod:`vaeproofs.report`, :mod:`vaeproofs.cli` — the verdicts,
  the report and the command line, which only compose the layers below.
"""

from importlib.metadata import PackageNotFoundError, version

from vaeproofs.errors import EvidenceConflictError, InvalidArgumentError, VaeproofsError

try:  # one source: the version in pyproject.toml, as installed
    __version__: str = version("vaeproofs")
except PackageNotFoundError:  # pragma: no cover - imported from a source tree never installed
    __version__ = "0+unknown"

__all__ = ["EvidenceConflictError", "InvalidArgumentError", "VaeproofsError", "__version__"]
