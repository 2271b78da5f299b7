"""Caps on the ELBO of random torch decoders (vaeproofs.numeric).

- Floored Gaussian head, variance xi + softplus(rho) with xi > 0: every reachable variance
  is >= xi, so log p(x | z) <= -(D/2) log(2 pi xi) per point (the Gaussian density cap,
  docs/theory.md section 3; Mattei & Frellsen 2018, section 2.1); with KL >= 0 the ELBO, and
  every single-sample estimate of it, is below the same cap.  The fixed-variance head is
  the same with xi = s0^2.
- Bernoulli head: every term x l - softplus(l) <= 0, so the ELBO <= 0.

Random VAEs (float64, seeded torch initialisation, random width and depth) are pushed
towards the cap: optionally the decoder memorises one data point (its mean output is that
point for every z, the encoder outputs q = prior so KL = 0) and the rho/logit outputs
are shifted by a drawn amount (down to -60, where softplus(rho) ~ 1e-26 and the variance
is xi to float64 precision).  The per-pixel head without a floor, under the same
construction, exceeds the floor cap: the cap is not vacuous.

Tolerance: the ELBO is a float64 sum of D per-pixel terms of size |log 2 pi| + |log xi|
(each computed with a few operations), compared with a cap computed in one expression:
(D + 8) u (D (|log 2 pi| + |log xi|) + |cap|) is a bound on both round-offs (Higham 2002,
eq. (4.4)), u = 2^-53.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from vaeproofs.numeric import heads, networks
from vaeproofs.strategies import bounded_floats, decoder_families, point_sets

U64 = 2.0 ** -53
LOG_2PI = math.log(2 * math.pi)


def _head(family):
    opts = heads.HeadOptions(
        xi=family.params.get("xi", 1e-3),
        fixed_std=math.sqrt(family.params.get("s0_squared", 0.01)),
    )
    return heads.make_head(family.name, opts)


def _random_vae(head, data_dim: int, latent_dim: int, seed: int, hidden: int, depth: int):
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        vae = networks.VAE(data_dim, latent_dim, head, hidden=hidden, depth=depth)
    return vae.double()


def _memorise(vae, point: np.ndarray, shift: float, head) -> None:
    """Decoder outputs (point, shift) for every z; encoder outputs q = N(0, I)."""
    d = vae.data_dim
    last_dec, last_enc = vae.decoder[-1], vae.encoder[-1]
    with torch.no_grad():
        last_dec.weight.zero_()
        last_enc.weight.zero_()
        last_enc.bias.zero_()
        p = torch.as_tensor(point, dtype=torch.float64)
        if head.name == "bernoulli":
            # logits of magnitude |shift| with the sign of the binary point
            last_dec.bias.copy_((2 * p - 1) * abs(shift))
        else:
            last_dec.bias[:d] = p
            if head.params_per_pixel == 2:
                last_dec.bias[d:] = shift


def _tolerance(d: int, xi: float, cap: float) -> float:
    return (d + 8) * U64 * (d * (LOG_2PI + abs(math.log(xi))) + abs(cap))


@given(decoder_families(("floor", "fixed", "bernoulli")),
       point_sets(st.integers(1, 5), st.integers(1, 6)),
       st.integers(0, 2**31 - 1), st.integers(1, 3), st.integers(2, 16), st.integers(0, 2),
       st.booleans(), bounded_floats(-60.0, 5.0))
def test_elbo_stays_below_the_cap(family, x, seed, latent_dim, hidden, depth, memorise, shift):
    head = _head(family)
    d = x.shape[1]
    data = (x > np.median(x)).astype(np.float64) if family.name == "bernoulli" else x
    vae = _random_vae(head, d, latent_dim, seed, hidden, depth)
    if memorise:
        _memorise(vae, data[0], shift, head)
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        rec, kl = vae.elbo_terms(torch.as_tensor(data), samples=8, generator=gen)
    cap = head.cap(d)
    assert cap is not None
    if family.name == "bernoulli":
        assert cap == 0.0
        assert torch.all(rec <= 0.0) and torch.all(kl >= 0.0)
        assert torch.all(rec.mean(0) - kl <= 0.0)
    else:
        xi = family.params["xi"] if family.name == "floor" else family.params["s0_squared"]
        # reference: the Gaussian density cap -(D/2) log(2 pi xi), docs/theory.md section 3
        assert cap == pytest.approx(-0.5 * d * math.log(2 * math.pi * xi), rel=1e-14)
        tol = _tolerance(d, xi, cap)
        assert torch.all(kl >= 0.0)
        assert torch.all(rec <= cap + tol)                 # every single-sample term
        assert torch.all(rec.mean(0) - kl <= cap + tol)    # and the ELBO estimate


def test_memorising_floored_decoder_reaches_the_cap_and_the_unfloored_one_exceeds_it():
    x = np.array([[0.3, -1.2, 2.0], [1.0, 0.5, -0.7]])
    xi, d = 1e-3, 3
    data = torch.as_tensor(x)
    gen = torch.Generator().manual_seed(0)
    floored = heads.make_head("floor", heads.HeadOptions(xi=xi))
    vae = _random_vae(floored, d, 2, 0, 8, 1)
    _memorise(vae, x[0], -60.0, floored)
    with torch.no_grad():
        elbo = vae.elbo(data, samples=4, generator=gen)
    cap = floored.cap(d)
    # The memorised point attains the cap up to round-off (variance = xi, error = 0).
    assert abs(float(elbo[0]) - cap) <= _tolerance(d, xi, cap)
    per_pixel = heads.make_head("per-pixel")
    vae = _random_vae(per_pixel, d, 2, 0, 8, 1)
    _memorise(vae, x[0], -30.0, per_pixel)                # log-variance -30: no floor
    with torch.no_grad():
        elbo = vae.elbo(data, samples=4, generator=gen)
    # -(D/2)(log 2 pi - 30) = D (30 - log 2 pi) / 2 > cap = -(D/2) log(2 pi 1e-3)
    assert float(elbo[0]) > cap + 10
