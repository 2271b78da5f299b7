"""MLP encoder and decoder, and the VAE that joins them to a likelihood head.

Conventions: natural log; the encoder outputs the mean m(x) and the **log variance**
log s^2(x) of a diagonal Gaussian q(z | x); the prior is N(0, I_k).  Every quantity
returned here is **per point** (summed over pixels and latent dimensions, never
averaged).  Random draws take an explicit :class:`torch.Generator`, so a run is
reproducible without touching torch's global random state.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from vaeproofs.errors import InvalidArgumentError
from vaeproofs.numeric.heads import LikelihoodHead

__all__ = ["ACTIVATIONS", "VAE", "gaussian_kl_standard", "mlp"]

_LOG_2PI = math.log(2.0 * math.pi)

ACTIVATIONS: dict[str, type[nn.Module]] = {"tanh": nn.Tanh, "relu": nn.ReLU, "elu": nn.ELU}


def mlp(in_features: int, out_features: int, *, hidden: int, depth: int,
        activation: str = "tanh") -> nn.Sequential:
    """``depth`` hidden layers of width ``hidden`` (``depth = 0``: one affine map)."""
    if activation not in ACTIVATIONS:
        raise InvalidArgumentError(
            "activation", f"must be one of {', '.join(ACTIVATIONS)}, got {activation!r}")
    layers: list[nn.Module] = []
    width = in_features
    for _ in range(depth):
        layers += [nn.Linear(width, hidden), ACTIVATIONS[activation]()]
        width = hidden
    layers.append(nn.Linear(width, out_features))
    return nn.Sequential(*layers)


def gaussian_kl_standard(mean: Tensor, log_var: Tensor) -> Tensor:
    """KL(N(m, diag s^2) || N(0, I)) = 1/2 sum_j (m_j^2 + s_j^2 - 1 - log s_j^2), per point.

    Kingma & Welling 2014 (arXiv 1312.6114), appendix B.  Sums over the last axis.
    """
    return 0.5 * (mean.square() + torch.exp(log_var) - 1.0 - log_var).sum(-1)


class VAE(nn.Module):
    """A VAE with MLP encoder q(z | x) = N(m(x), diag s^2(x)), MLP decoder and a likelihood head.

    ``data_dim`` is D, ``latent_dim`` is k; ``hidden`` and ``depth`` set the width and the
    number of hidden layers of both networks.
    """

    def __init__(self, data_dim: int, latent_dim: int, head: LikelihoodHead, *,
                 hidden: int = 128, depth: int = 2, activation: str = "tanh") -> None:
        super().__init__()
        self.data_dim = data_dim
        self.latent_dim = latent_dim
        self.head = head
        self.encoder = mlp(data_dim, 2 * latent_dim, hidden=hidden, depth=depth,
                           activation=activation)
        self.decoder = mlp(latent_dim, head.params_per_pixel * data_dim, hidden=hidden,
                           depth=depth, activation=activation)

    def encode(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """Return the posterior mean m(x) and log variance log s^2(x), each (..., k)."""
        mean, log_var = self.encoder(x).chunk(2, dim=-1)
        return mean, log_var

    def elbo_terms(self, x: Tensor, *, samples: int, generator: torch.Generator,
                   objective: bool = False) -> tuple[Tensor, Tensor]:
        """Monte Carlo reconstruction term and analytic KL, per point.

        Returns ``(rec, kl)`` with ``rec`` of shape (samples, n): log p(x | z_s) at
        z_s = m + s * eps_s (reparameterisation, Kingma & Welling 2014, eq. 10), and ``kl``
        of shape (n,).  ELBO(x) is estimated by ``rec.mean(0) - kl``.  With
        ``objective=True`` ``rec`` is the head's training objective instead of log p
        (:meth:`LikelihoodHead.objective`; the same for every head but the loss-style ones).
        """
        mean, log_var = self.encode(x)
        eps = torch.randn((samples, *mean.shape), generator=generator, dtype=mean.dtype,
                          device=mean.device)
        z = mean + torch.exp(0.5 * log_var) * eps
        term = self.head.objective if objective else self.head.log_prob
        rec = term(x, self.decoder(z))
        return rec, gaussian_kl_standard(mean, log_var)

    def elbo(self, x: Tensor, *, samples: int, generator: torch.Generator) -> Tensor:
        """ELBO per point (nats), shape (n,), from ``samples`` reparameterised draws."""
        rec, kl = self.elbo_terms(x, samples=samples, generator=generator)
        return rec.mean(0) - kl

    def objective(self, x: Tensor, *, samples: int, generator: torch.Generator) -> Tensor:
        """The per-point quantity training maximises: the head's objective minus the KL.

        Equal to :meth:`elbo` (same operations, same draws) unless the head's
        :meth:`~LikelihoodHead.objective` differs from its log-density.
        """
        rec, kl = self.elbo_terms(x, samples=samples, generator=generator, objective=True)
        return rec.mean(0) - kl

    def iwae(self, x: Tensor, *, samples: int, generator: torch.Generator) -> Tensor:
        """Importance-weighted bound log (1/K) sum_k p(x | z_k) p(z_k) / q(z_k | x), per point.

        Burda, Grosse & Salakhutdinov 2016 (arXiv 1509.00519), eq. 8, with K = ``samples``
        draws from q(z | x); it is <= log p(x) in expectation and tends to it as K grows.
        """
        mean, log_var = self.encode(x)
        eps = torch.randn((samples, *mean.shape), generator=generator, dtype=mean.dtype,
                          device=mean.device)
        z = mean + torch.exp(0.5 * log_var) * eps
        log_px_z = self.head.log_prob(x, self.decoder(z))
        log_pz = -0.5 * (_LOG_2PI + z.square()).sum(-1)
        log_qz = -0.5 * (_LOG_2PI + log_var + eps.square()).sum(-1)
        return torch.logsumexp(log_px_z + log_pz - log_qz, dim=0) - math.log(samples)

    def decoder_output_at_mean(self, x: Tensor) -> Tensor:
        """Decoder output at z = m(x), the posterior mean (used for variance summaries)."""
        return self.decoder(self.encode(x)[0])
