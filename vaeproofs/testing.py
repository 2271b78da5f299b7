"""Check a user's own Gaussian-VAE loss: is it the negative ELBO, and if not, what is wrong?

:func:`check_gaussian_vae_loss` takes a loss written as
``loss_fn(x, mu_x, logvar_x, mu_z, logvar_z) -> scalar tensor`` (torch tensors, batch
first; ``mu_x``/``logvar_x`` the decoder's mean and LOG-VARIANCE at one posterior sample,
``mu_z``/``logvar_z`` the encoder's mean and LOG-VARIANCE) and decides whether it is

    loss = scale * [ sum_b ( -log N(x_b | mu_x, diag exp(logvar_x))
                             + beta * KL(N(mu_z, diag exp(logvar_z)) || N(0, I)) ) ]
           + constant

with scale > 0 and beta > 0, i.e. the negative single-sample ELBO of a Gaussian VAE with
a diagonal-Gaussian decoder, up to a positive scale and an additive constant, possibly
KL-weighted (a beta-VAE, Higgins et al., ICLR 2017).  The two pieces are, per point
(natural log; Kingma & Welling 2013, arXiv 1312.6114, appendix B and section C.2)::

    -log N(x | mu, diag v) = 1/2 sum_d [ (x_d - mu_d)^2 / v_d + log v_d + log(2 pi) ]
    KL(N(m, diag s2) || N(0, I)) = 1/2 sum_j [ m_j^2 + s2_j - 1 - log s2_j ]

How it decides.  The loss is evaluated on many designed random inputs at several batch
sizes B, data dimensions D and latent dimensions K.  For each shape (B, D, K) the values
are fitted by least squares, twice:

1. with the ELBO forms only: span{sum[(x-mu)^2/v + log v], sum KL-terms, 1} (learned
   decoder variance) and span{sum (x-mu)^2, sum KL-terms, 1} (a decoder whose variance is
   fixed, i.e. ``logvar_x`` is ignored).  Its residual is what no ELBO form explains; the
   loss is an ELBO (for that shape) when this residual is within the round-off bound below
   and both weights are > 0.
2. with every piece separately plus planted-mistake pieces ((x-mu)^2 exp(-2 logvar_x):
   log-variance used as log-std; (x-mu)^2 exp(-logvar_x / 2): divided by the std;
   (x-mu)^2 exp(+logvar_x): sign error in the exponent; exp(2 logvar_z), exp(logvar_z / 2),
   exp(-logvar_z) in the KL).  The fitted coefficients name the mistake: a missing 1/2
   shows as a 2:1 ratio where the ELBO has 1:1, a sign error as a negative weight.

Sum or mean over the batch (and over pixels or latents) only changes the fitted weights by
a factor B (or D, K) between shapes: the checker reports which reduction it sees for each
term, and whether beta then depends on the batch size or the dimensions (for example
``F.mse_loss(reduction="mean")`` with a KL averaged over the batch gives beta = D).

Round-off bound (derived, not tuned).  The inputs are float32-representable numbers, so a
cast to float32 is exact.  Each loss is a sum of T = B (D + K) element-wise terms, each
computed with at most ``_OPS_PER_TERM`` = 10 floating-point operations, so its computed
value is within gamma_{T+10} * M of the exact one, where gamma_n = n u / (1 - n u), u the
unit round-off of the loss's dtype (float32 when the loss returns float32 or is fed
float32, else float64) and M the sum of the terms' magnitudes (Higham, "Accuracy and
Stability of Numerical Algorithms", 2nd ed. 2002, Lemma 3.1 and eq. (4.4)).  With this
per-evaluation bound t_i, an exact model's least-squares residual r satisfies
||r||_2 <= ||t||_2 (the residual is the projection of the round-off), and each fitted
coefficient c_j lies within sum_i |pinv(F)_ji| t_i of its exact value.  Those bounds decide
"residual is zero", "coefficient is zero", "two coefficients are equal" and "the scale is
positive" (i.e. positive beyond its round-off bound).

A loss that ignores ``logvar_x`` (plain squared error) is the ELBO of a decoder with a FIXED
variance s0^2: a diagonal-Gaussian decoder.  It is reported with ``is_elbo=True``,
``beta=1``, ``fixed_variance=s0^2`` (equivalently a beta-VAE with beta = 2 s0^2 on
(x - mu)^2 / 2; THEORY.md section 2, remedy.fixed-variance-is-beta-vae) and a diagnosis
that says ``logvar_x`` is ignored; :func:`assert_gaussian_vae_loss` rejects it when called
with ``allow_fixed_variance=False``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from vaeproofs.errors import InvalidArgumentError, VaeproofsError

__all__ = [
    "FEATURE_NAMES",
    "LossCheckReport",
    "LossFunctionError",
    "NotAnElboError",
    "assert_gaussian_vae_loss",
    "check_gaussian_vae_loss",
]

_LOG_2PI = math.log(2.0 * math.pi)
#: Assumed most floating-point operations per element-wise term of a user's loss
#: (e.g. (x - mu)**2 * exp(-logvar) * 0.5 is 5 operations; exp counted as one operation
#: with at most a few ulp error).  Part of the round-off bound (module docstring).
_OPS_PER_TERM = 10
#: Least-squares samples per fitted coefficient (over-determination of each fit).
_SAMPLES_PER_FEATURE = 3
#: Most elements B * D of one designed batch (keeps the design's memory < ~100 MB).
_MAX_ELEMENTS = 2 ** 17

LossFn = Callable[[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor], Any]


class LossFunctionError(VaeproofsError):
    """The user's loss function raised, returned a non-scalar, a non-number, a non-finite
    value, or gave different values on the same inputs."""


class NotAnElboError(VaeproofsError, AssertionError):
    """Raised by :func:`assert_gaussian_vae_loss`; the message is the checker's diagnosis."""


# ---------------------------------------------------------------------------------------
# Feature terms: each is a sum over the batch (and pixels or latents) of one element-wise
# expression.  ``e2`` = (x - mu_x)^2, ``lv`` = logvar_x, ``m`` = mu_z, ``lz`` = logvar_z.
# ---------------------------------------------------------------------------------------

_RECON: dict[str, Callable[[NDArray[np.float64], NDArray[np.float64]], NDArray[np.float64]]]
_RECON = {
    "sq_err/var": lambda e2, lv: e2 * np.exp(-lv),          # ELBO
    "logvar_x": lambda e2, lv: lv,                          # ELBO
    "sq_err/var^2": lambda e2, lv: e2 * np.exp(-2.0 * lv),  # logvar used as log-std
    "sq_err/std": lambda e2, lv: e2 * np.exp(-0.5 * lv),    # divided by std, not variance
    "sq_err*var": lambda e2, lv: e2 * np.exp(lv),           # sign error in the exponent
    "sq_err": lambda e2, lv: e2,                            # fixed variance (ELBO form)
}
_KL: dict[str, Callable[[NDArray[np.float64], NDArray[np.float64]], NDArray[np.float64]]]
_KL = {
    "mu_z^2": lambda m, lz: m * m,                          # ELBO
    "var_z": lambda m, lz: np.exp(lz),                      # ELBO
    "logvar_z": lambda m, lz: lz,                           # ELBO
    "var_z^2": lambda m, lz: np.exp(2.0 * lz),              # logvar_z used as log-std
    "std_z": lambda m, lz: np.exp(0.5 * lz),                # std where variance belongs
    "1/var_z": lambda m, lz: np.exp(-lz),                   # precision where variance belongs
}
#: Names of the fitted terms, in the order of :attr:`LossCheckReport.coefficients`.
FEATURE_NAMES: tuple[str, ...] = (*_RECON, *_KL, "const")


@dataclass(frozen=True)
class _Design:
    """Designed inputs for one shape: ``n`` evaluations of batch size B, dims D and K."""

    batch_size: int
    data_shape: tuple[int, ...]
    latent_dim: int
    x: NDArray[np.float64]         # (n, B, D)
    mu_x: NDArray[np.float64]
    logvar_x: NDArray[np.float64]
    mu_z: NDArray[np.float64]      # (n, B, K)
    logvar_z: NDArray[np.float64]

    @property
    def data_dim(self) -> int:
        return int(np.prod(self.data_shape))


def _f32(a: NDArray[np.float64]) -> NDArray[np.float64]:
    """Round to float32-representable values so that a user's cast to float32 is exact."""
    return a.astype(np.float32).astype(np.float64)


def _design(rng: np.random.Generator, n: int, b: int, data_shape: tuple[int, ...],
            k: int) -> _Design:
    """Random inputs whose feature terms vary independently between evaluations.

    Each evaluation draws its own levels (error scale, mean log-variances, latent mean
    scale), so that sums over many elements do not concentrate and the feature columns
    stay linearly independent; all values are bounded (|logvar| <= 2.5).
    """
    d = int(np.prod(data_shape))
    err_scale = np.exp(rng.uniform(-1.0, 1.0, size=(n, 1, 1)))
    x = rng.normal(size=(n, b, d))
    mu_x = x - err_scale * rng.normal(size=(n, b, d))
    logvar_x = rng.uniform(-1.5, 1.5, size=(n, 1, 1)) + rng.uniform(-1.0, 1.0, size=(n, b, d))
    mu_scale = np.exp(rng.uniform(-1.0, 1.0, size=(n, 1, 1)))
    mu_z = mu_scale * rng.normal(size=(n, b, k))
    logvar_z = rng.uniform(-1.5, 1.5, size=(n, 1, 1)) + rng.uniform(-1.0, 1.0, size=(n, b, k))
    return _Design(b, data_shape, k, _f32(x), _f32(mu_x), _f32(logvar_x), _f32(mu_z),
                   _f32(logvar_z))


def _features(des: _Design) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Feature matrix F (n, p) and the matching sums of absolute values A (n, p)."""
    e2 = (des.x - des.mu_x) ** 2
    cols, abs_cols = [], []
    for fn in _RECON.values():
        v = fn(e2, des.logvar_x)
        cols.append(v.sum(axis=(1, 2)))
        abs_cols.append(np.abs(v).sum(axis=(1, 2)))
    for fn in _KL.values():
        v = fn(des.mu_z, des.logvar_z)
        cols.append(v.sum(axis=(1, 2)))
        abs_cols.append(np.abs(v).sum(axis=(1, 2)))
    ones = np.ones(des.x.shape[0])
    return np.column_stack([*cols, ones]), np.column_stack([*abs_cols, ones])


def _call(loss_fn: LossFn, des: _Design, i: int, dtype: torch.dtype
          ) -> tuple[float, torch.dtype]:
    """Evaluate the user's loss on evaluation ``i`` of the design."""
    b = des.batch_size
    x = torch.tensor(des.x[i].reshape(b, *des.data_shape), dtype=dtype)
    mu_x = torch.tensor(des.mu_x[i].reshape(b, *des.data_shape), dtype=dtype)
    logvar_x = torch.tensor(des.logvar_x[i].reshape(b, *des.data_shape), dtype=dtype)
    mu_z = torch.tensor(des.mu_z[i], dtype=dtype)
    logvar_z = torch.tensor(des.logvar_z[i], dtype=dtype)
    shapes = (f"x, mu_x, logvar_x of shape {tuple(x.shape)}, mu_z, logvar_z of shape "
              f"{tuple(mu_z.shape)}, dtype {dtype}")
    try:
        with torch.no_grad():
            out = loss_fn(x, mu_x, logvar_x, mu_z, logvar_z)
    except Exception as exc:  # the user's code may raise anything; report it as such
        raise LossFunctionError(
            f"loss_fn raised {type(exc).__name__}: {exc} (called with {shapes})") from exc
    if isinstance(out, torch.Tensor):
        if out.numel() != 1:
            raise LossFunctionError(
                f"loss_fn must return a scalar, got a tensor of shape {tuple(out.shape)} "
                f"(called with {shapes}); reduce over the batch with .sum() or .mean()")
        out_dtype = out.dtype
        if not out_dtype.is_floating_point:
            raise LossFunctionError(f"loss_fn returned a tensor of dtype {out_dtype}, "
                                    f"expected a floating-point scalar")
        value = float(out.detach().reshape(()).to(torch.float64))
    elif isinstance(out, (float, int, np.floating, np.integer)) and not isinstance(out, bool):
        value, out_dtype = float(out), torch.float64
    else:
        raise LossFunctionError(
            f"loss_fn must return a scalar tensor, got {type(out).__name__} "
            f"(called with {shapes})")
    if not math.isfinite(value):
        raise LossFunctionError(f"loss_fn returned a non-finite value {value} on bounded "
                                f"inputs (|logvar| <= 2.5; called with {shapes})")
    return value, out_dtype


def _gamma(n: int, u: float) -> float:
    """Higham's gamma_n = n u / (1 - n u) (Accuracy and Stability, Lemma 3.1)."""
    nu = n * u
    if nu >= 0.5:
        raise VaeproofsError(f"round-off bound is vacuous for {n} terms at unit round-off {u}")
    return nu / (1.0 - nu)


@dataclass(frozen=True)
class _Fit:
    """The two least-squares fits of one shape."""

    shape: tuple[int, int, int]           # (B, D, K)
    coef: dict[str, float]                # full fit, per feature
    coef_bound: dict[str, float]          # round-off bound on each coefficient
    family: str                           # "learned" or "fixed" (better ELBO-form fit)
    recon_weight: float                   # coefficient of the ELBO reconstruction term
    kl_weight: float                      # coefficient of sum(m^2 + s2 - log s2)
    recon_bound: float
    kl_bound: float
    const: float
    residual: float                       # ||r_elbo||_2 / ||y - mean y||_2
    tolerance: float                      # ||t||_2 / ||y - mean y||_2
    full_residual: float                  # the same for the full fit


def _lstsq_with_bounds(F: NDArray[np.float64], y: NDArray[np.float64], t: NDArray[np.float64]
                       ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Least squares with column scaling; returns (coef, coef round-off bound, residual)."""
    norms = np.linalg.norm(F, axis=0)
    norms[norms == 0.0] = 1.0
    Fs = F / norms
    pinv = np.linalg.pinv(Fs)
    cond = np.linalg.cond(Fs)
    if not cond < 1e8:
        raise VaeproofsError(f"internal: the designed feature matrix is ill-conditioned "
                             f"(condition number {cond:.3g}); report this as a bug")
    cs = pinv @ y
    coef = cs / norms
    bound = (np.abs(pinv) @ t) / norms
    resid = y - Fs @ cs
    return coef, bound, resid


def _fit_shape(loss_fn: LossFn, des: _Design, dtype: torch.dtype) -> _Fit:
    n = des.x.shape[0]
    calls = [_call(loss_fn, des, i, dtype) for i in range(n)]
    y = np.array([v for v, _ in calls])
    again, _ = _call(loss_fn, des, 0, dtype)
    if again != y[0]:
        raise LossFunctionError(
            f"loss_fn is not deterministic: two calls on the same inputs gave {y[0]!r} and "
            f"{again!r}; pass a loss of fixed decoder/encoder outputs (no sampling inside)")
    F, A = _features(des)
    low_precision = dtype != torch.float64 or any(d != torch.float64 for _, d in calls)
    u_user = (torch.finfo(torch.float32).eps if low_precision
              else torch.finfo(torch.float64).eps) / 2.0
    u64 = np.finfo(np.float64).eps / 2.0
    b, d, k = des.batch_size, des.data_dim, des.latent_dim
    n_terms = b * (d + k) + _OPS_PER_TERM
    # First pass without bounds for the coefficients that size the terms' magnitudes.
    coef0, _, _ = _lstsq_with_bounds(F, y, np.zeros(n))
    magnitude = np.maximum(np.abs(y), A @ np.abs(coef0))
    # Round-off of the user's loss plus that of our own float64 feature sums.
    t = (_gamma(n_terms, u_user) + _gamma(n_terms, u64)) * magnitude
    coef, bound, resid_full = _lstsq_with_bounds(F, y, t)
    names = FEATURE_NAMES
    c = dict(zip(names, coef.tolist(), strict=True))
    cb = dict(zip(names, bound.tolist(), strict=True))

    idx = {nm: j for j, nm in enumerate(names)}
    kl_col = F[:, idx["mu_z^2"]] + F[:, idx["var_z"]] - F[:, idx["logvar_z"]]
    ones = F[:, idx["const"]]
    fits = {}
    for family, rec in (("learned", F[:, idx["sq_err/var"]] + F[:, idx["logvar_x"]]),
                        ("fixed", F[:, idx["sq_err"]])):
        G = np.column_stack([rec, kl_col, ones])
        gcoef, gbound, gres = _lstsq_with_bounds(G, y, t)
        fits[family] = (gcoef, gbound, float(np.linalg.norm(gres)))
    family = min(fits, key=lambda f: fits[f][2])
    gcoef, gbound, gres_norm = fits[family]
    spread = float(np.linalg.norm(y - y.mean()))
    spread = spread if spread > 0.0 else 1.0
    # Residual-computation round-off of the fit itself (backward-stable SVD solve).
    ls_slack = 4 * n * len(names) * u64 * float(np.linalg.norm(F @ np.abs(coef)))
    tol = float(np.linalg.norm(t)) + ls_slack
    return _Fit(shape=(b, d, k), coef=c, coef_bound=cb, family=family,
                recon_weight=float(gcoef[0]), kl_weight=float(gcoef[1]),
                recon_bound=float(gbound[0]), kl_bound=float(gbound[1]),
                const=float(gcoef[2]), residual=gres_norm / spread, tolerance=tol / spread,
                full_residual=float(np.linalg.norm(resid_full)) / spread)


# ---------------------------------------------------------------------------------------
# Diagnosis from the full fit's coefficients.
# ---------------------------------------------------------------------------------------

class _Coefs:
    """Comparisons of fitted coefficients within their round-off bounds."""

    def __init__(self, fit: _Fit) -> None:
        self.c, self.b = fit.coef, fit.coef_bound

    def nz(self, name: str) -> bool:
        return abs(self.c[name]) > self.b[name]

    def pos(self, name: str) -> bool:
        return self.c[name] > self.b[name]

    def neg(self, name: str) -> bool:
        return self.c[name] < -self.b[name]

    def ratio_is(self, a: str, b: str, r: float) -> bool:
        """c_a == r * c_b within bounds (and c_b nonzero)."""
        return self.nz(b) and abs(self.c[a] - r * self.c[b]) <= self.b[a] + abs(r) * self.b[b]

    def ratio(self, a: str, b: str) -> float:
        return self.c[a] / self.c[b]


def _diagnose_recon(q: _Coefs) -> list[str]:
    out: list[str] = []
    sq, lv = "sq_err/var", "logvar_x"
    if q.nz("sq_err/var^2"):
        out.append("logvar_x used as a log standard deviation: the squared error is divided "
                   "by exp(2*logvar_x); the variance is exp(logvar_x), the std "
                   "exp(logvar_x / 2)")
    if q.nz("sq_err/std"):
        out.append("the squared error is divided by the standard deviation exp(logvar_x / 2) "
                   "instead of the variance exp(logvar_x)")
    if q.nz("sq_err*var"):
        out.append("the squared error is multiplied by exp(logvar_x): sign error in the "
                   "exponent (it must be divided by the variance, times exp(-logvar_x))")
    if q.nz("sq_err") and (q.nz(lv) or q.nz(sq)):
        out.append("part of the squared error is not divided by the variance although "
                   "logvar_x enters the loss")
    mistakes = bool(out)
    if q.nz(sq) and q.nz(lv):
        if q.neg(sq) and q.neg(lv):
            out.append("sign error: the Gaussian negative log-likelihood enters with a minus "
                       "sign (the loss rewards reconstruction error)")
        elif q.pos(sq) and q.neg(lv):
            out.append("sign error on the log-variance term: -log N has +1/2 logvar_x")
        elif q.neg(sq) and q.pos(lv):
            out.append("sign error on the squared-error term: -log N has "
                       "+1/2 (x - mu)^2 / var")
        elif q.ratio_is(sq, lv, 2.0):
            out.append("missing 1/2: the squared-error term (x - mu)^2 / var has twice the "
                       "weight of the log-variance term; -log N = 1/2 (x - mu)^2 / var "
                       "+ 1/2 logvar + const")
        elif q.ratio_is(sq, lv, 0.5) and not mistakes:
            out.append("missing 1/2 on the log-variance term: it has twice the weight of "
                       "(x - mu)^2 / var (log sigma = logvar / 2, not logvar)")
        elif not q.ratio_is(sq, lv, 1.0) and not mistakes:
            out.append(f"the squared-error and log-variance terms are weighted "
                       f"{q.ratio(sq, lv):.4g}:1; -log N weights them 1:1")
    elif q.nz(sq) and not mistakes:
        out.append("the log-variance term 1/2 logvar_x is missing: without it the loss "
                   "decreases without bound as logvar_x -> +infinity")
    elif q.nz(lv) and not mistakes and not q.nz("sq_err"):
        out.append("the squared-error term is missing: only logvar_x enters the "
                   "reconstruction")
    elif not mistakes and not q.nz("sq_err"):
        out.append("the reconstruction term is missing: the loss does not depend on x "
                   "and mu_x")
    elif q.neg("sq_err") and not mistakes:
        out.append("sign error: the squared error enters with a minus sign")
    return out


def _diagnose_kl(q: _Coefs) -> list[str]:
    out: list[str] = []
    m2, v, lz = "mu_z^2", "var_z", "logvar_z"
    if q.nz("var_z^2"):
        out.append("logvar_z used as a log standard deviation in the KL: exp(2*logvar_z) "
                   "where the variance is exp(logvar_z)")
    if q.nz("std_z"):
        out.append("the KL uses the standard deviation exp(logvar_z / 2) where the variance "
                   "exp(logvar_z) belongs")
    if q.nz("1/var_z"):
        out.append("the KL uses exp(-logvar_z) where the variance exp(logvar_z) belongs "
                   "(sign error in the exponent)")
    mistakes = bool(out)
    present = [nm for nm in (m2, v, lz) if q.nz(nm)]
    if not present and not mistakes:
        return ["the KL term is missing (beta = 0): an autoencoder loss, not an ELBO"]
    if (q.neg(m2) and q.neg(v) and q.pos(lz) and q.ratio_is(m2, v, 1.0)
            and q.ratio_is(lz, v, -1.0)):
        return [*out, "sign error in the KL: the loss subtracts KL(q || p) instead of adding "
                      "it (e.g. 0.5*sum(1 + logvar - mu^2 - exp(logvar)) without the leading "
                      "minus)"]
    if mistakes:
        return out
    if not q.nz(m2):
        out.append("the mu_z^2 term of the KL is missing")
    elif q.neg(m2):
        out.append("sign error on mu_z^2 in the KL: KL has +1/2 mu^2")
    if not q.nz(v):
        out.append("the exp(logvar_z) term of the KL is missing")
    elif q.neg(v):
        out.append("sign error on exp(logvar_z) in the KL: KL has +1/2 exp(logvar)")
    if not q.nz(lz):
        out.append("the logvar_z term of the KL is missing: without it the KL is minimised "
                   "by a collapsing posterior variance")
    elif q.pos(lz):
        out.append("sign error on logvar_z in the KL: KL has -1/2 logvar")
    if out:
        return out
    if not q.ratio_is(m2, v, 1.0):
        out.append(f"the KL's mu_z^2 and exp(logvar_z) terms are weighted "
                   f"{q.ratio(m2, v):.4g}:1; KL(N(m, s2) || N(0, 1)) weights them 1:1")
    if not q.ratio_is(lz, v, -1.0):
        if q.ratio_is(lz, v, -2.0):
            out.append("missing 1/2 on logvar_z in the KL: it has twice the weight of "
                       "exp(logvar_z) (log s = logvar / 2)")
        else:
            out.append(f"the KL's logvar_z and exp(logvar_z) terms are weighted "
                       f"{-q.ratio(lz, v):.4g}:1; the KL weights them 1:1")
    return out


# ---------------------------------------------------------------------------------------
# Reductions: how each weight scales with B, D, K across the tested shapes.
# ---------------------------------------------------------------------------------------

_AXES = ("batch", "pixels", "latents")
_AXIS_PARAM = ("batch_size", "data_dim", "latent_dim")


def _exponents(shapes: Sequence[tuple[int, int, int]], weights: Sequence[float],
               bounds: Sequence[float]) -> dict[int, int | None]:
    """Integer power of B, D, K in which a nonzero weight scales across shapes.

    Returns axis -> exponent (None: not a power law).  Axes not varied are left out, and
    so is everything when some weight is zero within its bound.
    """
    arr = np.array(shapes, dtype=float)
    varied = [j for j in range(3) if len(set(arr[:, j])) > 1]
    w = np.abs(np.array(weights))
    if not varied or np.any(w <= np.array(bounds)):
        return {}
    logs = np.log(w)
    X = np.column_stack([np.ones(len(shapes)), np.log(arr[:, varied])])
    sol, *_ = np.linalg.lstsq(X, logs, rcond=None)
    expo = np.round(sol[1:])
    offset = logs - X[:, 1:] @ expo
    # |d log w| <= bound / |w|: the offsets of a power law agree within twice that.
    rel = np.array(bounds) / w
    consistent = float(np.ptp(offset)) <= 2.0 * float(rel.max()) + 1e-12
    return {j: (int(e) if consistent else None) for j, e in zip(varied, expo, strict=True)}


def _reduction_text(expo: Mapping[int, int | None], term: str, own_axes: tuple[int, ...]
                    ) -> str:
    """Describe the exponents; axes other than ``own_axes`` are named only when nonzero."""
    if not expo:
        return f"{term}: reduction not identified"
    parts = []
    for j, e in sorted(expo.items()):
        if e is None:
            return f"{term}: scales irregularly with the shape"
        if e == 0 and j in own_axes:
            parts.append(f"sum over {_AXES[j]}")
        elif e == -1 and j in own_axes:
            parts.append(f"mean over {_AXES[j]}")
        elif e != 0:
            parts.append(f"x {_AXIS_PARAM[j]}^{e}")
    return f"{term}: " + ", ".join(parts)


def _leading(fit: _Fit, names: Sequence[str]) -> str | None:
    """The term among ``names`` fitted farthest from zero, relative to its bound."""
    score = {nm: abs(fit.coef[nm]) / fit.coef_bound[nm] if fit.coef_bound[nm] > 0 else 0.0
             for nm in names}
    best = max(score, key=lambda nm: score[nm])
    return best if score[best] > 1.0 else None


# ---------------------------------------------------------------------------------------
# The report and the public entry points.
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LossCheckReport:
    """What :func:`check_gaussian_vae_loss` found.

    Attributes:
        is_elbo: the loss equals scale * (negative beta-ELBO) + constant with scale > 0
            and beta > 0 at every tested shape (a fixed-variance decoder counts, see
            ``fixed_variance``).  ``beta`` says whether it is the plain ELBO (1) or a
            KL-weighted one.
        beta: weight of the KL relative to the Gaussian negative log-likelihood at the
            reference shape (1.0 for a true ELBO; 0 when the KL is missing; negative for a
            sign error in the KL; nan when the parts do not have the ELBO pattern).  For a
            fixed-variance decoder beta = 1 and the weight goes into ``fixed_variance``.
        beta_bound: round-off bound of ``beta`` (from the coefficients' bounds).
        scale: the loss's multiple of the negative ELBO (summed over the batch, with all
            constants, natural log) at the reference shape.
        constant: the additive constant at the reference shape (loss minus scale times the
            full negative beta-ELBO, including log(2 pi) and the KL's -1/2 per latent).
        residual: size of what no ELBO form explains, relative: ||r||_2 / ||y - mean y||_2
            of the ELBO-form fit, worst over the tested shapes.
        tolerance: the round-off bound on ``residual`` at that shape (module docstring).
        diagnosis: a short text naming the likely mistake, or describing the ELBO found.
        reduction: how the reconstruction and the KL are reduced over batch, pixels and
            latents (sum or mean), as seen from the weights' scaling across shapes.
        beta_depends_on: the shape parameters ("batch_size", "data_dim", "latent_dim") that
            beta (or the fixed variance) changes with; empty when it is a constant.
        fixed_variance: s0^2 of a loss that ignores ``logvar_x`` (plain squared error),
            at the reference shape; ``None`` when the loss uses ``logvar_x``.
        reference_shape: (batch size, data dimension D, latent dimension K) at which
            ``beta``, ``scale``, ``constant``, ``fixed_variance`` and ``coefficients``
            are reported.
        coefficients: the fitted weight of every term in :data:`FEATURE_NAMES` (sums over
            batch and elements of the term) at the reference shape.
        coefficient_bounds: the round-off bound of each of those weights.
    """

    is_elbo: bool
    beta: float
    beta_bound: float
    scale: float
    constant: float
    residual: float
    tolerance: float
    diagnosis: str
    reduction: str
    beta_depends_on: tuple[str, ...]
    fixed_variance: float | None
    reference_shape: tuple[int, int, int]
    coefficients: Mapping[str, float] = field(repr=False)
    coefficient_bounds: Mapping[str, float] = field(repr=False)

    def __str__(self) -> str:
        verdict = "negative ELBO" if self.is_elbo else "NOT a negative ELBO"
        return (f"{verdict} (beta = {self.beta:.6g}, scale = {self.scale:.6g}, residual "
                f"{self.residual:.3g} vs tolerance {self.tolerance:.3g}); {self.diagnosis}; "
                f"{self.reduction}")


def _check_shape_arg(data_shape: int | Sequence[int] | None) -> tuple[int, ...] | None:
    if data_shape is None:
        return None
    shape = (data_shape,) if isinstance(data_shape, (int, np.integer)) else tuple(data_shape)
    if not shape or any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 1
                        for s in shape):
        raise InvalidArgumentError("data_shape", f"must be a positive int or a tuple of "
                                                 f"positive ints, got {data_shape!r}")
    if int(np.prod(shape)) > 100_000:
        raise InvalidArgumentError("data_shape", f"must have at most 100000 elements, got "
                                                 f"{int(np.prod(shape))}")
    return tuple(int(s) for s in shape)


def _check_dim(name: str, value: int | None, high: int) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not (
            1 <= value <= high):
        raise InvalidArgumentError(name, f"must be an integer in [1, {high}], got {value!r}")
    return int(value)


def check_gaussian_vae_loss(loss_fn: LossFn, *, data_shape: int | Sequence[int] | None = None,
                            latent_dim: int | None = None, batch_size: int | None = None,
                            dtype: torch.dtype = torch.float64, seed: int = 0
                            ) -> LossCheckReport:
    """Decide whether ``loss_fn`` is the negative ELBO of a Gaussian VAE (see module doc).

    Args:
        loss_fn: ``loss_fn(x, mu_x, logvar_x, mu_z, logvar_z) -> scalar tensor``; ``x``,
            ``mu_x``, ``logvar_x`` have shape (B, *data_shape), ``mu_z``, ``logvar_z``
            shape (B, K); log-variances, natural log.  It must be deterministic.
        data_shape: the shape of one data point your loss expects (e.g. ``(1, 28, 28)``);
            by default flat vectors of two sizes (4 and 7) are tried, which also reveals
            whether beta depends on D.  Pass it to get ``beta`` for your data.
        latent_dim: K your loss expects; by default 2 and 3 are tried.
        batch_size: the reference batch size at which beta etc. are reported (default
            5); a second batch size is always tried to tell sum from mean.
        dtype: the dtype of the tensors passed (float64 or float32).  Inputs are
            float32-representable either way; a loss returning float32 is judged with the
            float32 round-off bound.
        seed: seed of the designed random inputs.

    Returns:
        a :class:`LossCheckReport`.

    Raises:
        InvalidArgumentError: for a bad argument of this function.
        LossFunctionError: when ``loss_fn`` raises, returns a non-scalar, a non-number or
            a non-finite value, or is not deterministic.
    """
    if not callable(loss_fn):
        raise InvalidArgumentError("loss_fn", f"must be callable, got {type(loss_fn).__name__}")
    shape = _check_shape_arg(data_shape)
    k_ref = _check_dim("latent_dim", latent_dim, 10_000)
    b_ref = _check_dim("batch_size", batch_size, 10_000)
    if dtype not in (torch.float64, torch.float32):
        raise InvalidArgumentError("dtype", f"must be torch.float64 or torch.float32, "
                                            f"got {dtype}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InvalidArgumentError("seed", f"must be a non-negative integer, got {seed!r}")

    b0 = b_ref if b_ref is not None else 5
    elements = b0 * (int(np.prod(shape)) if shape is not None else 7)
    if elements > _MAX_ELEMENTS:
        raise InvalidArgumentError("batch_size", f"batch_size * prod(data_shape) must be <= "
                                                 f"{_MAX_ELEMENTS} (memory of the "
                                                 f"{_SAMPLES_PER_FEATURE * len(FEATURE_NAMES) + 1}"
                                                 f" designed batches), got {elements}")
    b1 = 2 if b0 != 2 else 3
    d0 = shape if shape is not None else (4,)
    d1 = (7,) if shape is None else None
    k0 = k_ref if k_ref is not None else 2
    k1 = 3 if k_ref is None else None
    shapes: list[tuple[int, tuple[int, ...], int]] = [(b0, d0, k0), (b1, d0, k0)]
    if d1 is not None:
        shapes.append((b0, d1, k0))
    if k1 is not None:
        shapes.append((b0, d0, k1))
    if d1 is not None and k1 is not None:
        shapes.append((b1, d1, k1))

    rng = np.random.default_rng(seed)
    n = _SAMPLES_PER_FEATURE * len(FEATURE_NAMES) + 1
    fits = [_fit_shape(loss_fn, _design(rng, n, b, d, k), dtype) for b, d, k in shapes]
    return _report(fits)


def _report(fits: Sequence[_Fit]) -> LossCheckReport:
    ref = fits[0]
    b, d, k = ref.shape
    worst = max(fits, key=lambda f: f.residual / f.tolerance)
    weights_positive = all(f.recon_weight > f.recon_bound and f.kl_weight > f.kl_bound
                           for f in fits)
    same_family = len({f.family for f in fits}) == 1
    is_elbo = all(f.residual <= f.tolerance for f in fits) and weights_positive and same_family

    # Weights of the two parts at the reference shape.  ELBO: from the ELBO-form fit;
    # otherwise from the full fit, and only where that part alone has the ELBO pattern
    # (possibly with the wrong sign), else nan.
    #   loss = c_R sum[(x-mu)^2/v + log v] + c_K sum[m^2 + s2 - log s2] + c0  (learned)
    #   loss = c_R sum (x-mu)^2 + c_K sum[m^2 + s2 - log s2] + c0             (fixed)
    q = _Coefs(ref)
    fixed = ref.family == "fixed"
    if is_elbo:
        c_r, c_k, c_r_bd, c_k_bd, c0 = (ref.recon_weight, ref.kl_weight, ref.recon_bound,
                                        ref.kl_bound, ref.const)
    elif ref.full_residual > ref.tolerance:
        # No Gaussian-VAE term explains the loss: its weights mean nothing.
        c_r = c_k = c_r_bd = c_k_bd = math.nan
        c0 = ref.coef["const"]
    else:
        c0 = ref.coef["const"]
        others = [nm for nm in _RECON if nm not in ("sq_err/var", "logvar_x", "sq_err")]
        clean_recon = not any(q.nz(nm) for nm in others)
        if clean_recon and q.ratio_is("sq_err/var", "logvar_x", 1.0) and not q.nz("sq_err"):
            fixed, c_r, c_r_bd = False, ref.coef["logvar_x"], ref.coef_bound["logvar_x"]
        elif clean_recon and q.nz("sq_err") and not q.nz("sq_err/var") and not q.nz("logvar_x"):
            fixed, c_r, c_r_bd = True, ref.coef["sq_err"], ref.coef_bound["sq_err"]
        elif clean_recon and not any(q.nz(nm) for nm in ("sq_err/var", "logvar_x", "sq_err")):
            c_r, c_r_bd = 0.0, 0.0
        else:
            c_r, c_r_bd = math.nan, math.nan
        clean_kl = not any(q.nz(nm) for nm in ("var_z^2", "std_z", "1/var_z"))
        if clean_kl and q.ratio_is("mu_z^2", "var_z", 1.0) and q.ratio_is("logvar_z", "var_z",
                                                                          -1.0):
            c_k, c_k_bd = ref.coef["mu_z^2"], ref.coef_bound["mu_z^2"]
        elif clean_kl and not any(q.nz(nm) for nm in ("mu_z^2", "var_z", "logvar_z")):
            c_k, c_k_bd = 0.0, 0.0
        else:
            c_k, c_k_bd = math.nan, math.nan
    fixed_variance: float | None = None
    if fixed:
        # Fixed variance s0^2, beta = 1: c_R = scale / (2 s0^2), c_K = scale / 2.
        scale = 2.0 * c_k
        beta = (1.0 if c_k != 0.0 else 0.0) if math.isfinite(c_k) else math.nan
        beta_bound = 0.0
        if c_k != 0.0 and math.isfinite(c_k) and c_r != 0.0:
            fixed_variance = c_k / c_r
        recon_const = (0.5 * b * d * math.log(2.0 * math.pi * fixed_variance)
                       if fixed_variance is not None and fixed_variance > 0 else math.nan)
    else:
        # Learned variance: scale = 2 c_R, beta = c_K / c_R.
        scale = 2.0 * c_r
        beta = c_k / c_r if c_r != 0.0 else math.nan
        beta_bound = (abs(beta) * (c_r_bd / abs(c_r) + (c_k_bd / abs(c_k) if c_k else 0.0))
                      if c_r != 0.0 else math.nan)
        recon_const = 0.5 * b * d * _LOG_2PI
    constant = c0 - scale * (recon_const - 0.5 * b * k * beta)

    # Reductions: how the leading term of each part scales across the shapes.
    shapes = [f.shape for f in fits]
    recon_name = _leading(ref, list(_RECON))
    kl_name = _leading(ref, list(_KL))
    recon_expo = ({} if recon_name is None else
                  _exponents(shapes, [f.coef[recon_name] for f in fits],
                             [f.coef_bound[recon_name] for f in fits]))
    kl_expo = ({} if kl_name is None else
               _exponents(shapes, [f.coef[kl_name] for f in fits],
                          [f.coef_bound[kl_name] for f in fits]))
    reduction = "; ".join([_reduction_text(recon_expo, "reconstruction", (0, 1)),
                           _reduction_text(kl_expo, "KL", (0, 2))])
    depends = tuple(_AXIS_PARAM[j] for j in sorted(set(recon_expo) & set(kl_expo))
                    if recon_expo[j] is None or kl_expo[j] is None
                    or recon_expo[j] != kl_expo[j])

    if is_elbo:
        diagnosis = _describe_elbo(beta, beta_bound, fixed_variance, depends)
    else:
        diagnosis = _describe_failure(worst, weights_positive, same_family)
    return LossCheckReport(
        is_elbo=is_elbo, beta=beta, beta_bound=beta_bound, scale=scale, constant=constant,
        residual=worst.residual, tolerance=worst.tolerance, diagnosis=diagnosis,
        reduction=reduction, beta_depends_on=depends, fixed_variance=fixed_variance,
        reference_shape=ref.shape, coefficients=MappingProxyType(dict(ref.coef)),
        coefficient_bounds=MappingProxyType(dict(ref.coef_bound)))


def _describe_elbo(beta: float, beta_bound: float, fixed_variance: float | None,
                   depends: tuple[str, ...]) -> str:
    if fixed_variance is not None:
        text = (f"fixed-variance decoder: logvar_x is ignored; the loss is the negative ELBO "
                f"of N(mu_x, s0^2 I) with s0^2 = {fixed_variance:.6g} (equivalently a "
                f"beta-VAE on (x - mu)^2 / 2 with beta = {2.0 * fixed_variance:.6g})")
        what = "the implied variance s0^2"
    elif abs(beta - 1.0) <= beta_bound:
        text = "negative ELBO of a Gaussian VAE with a learned diagonal decoder variance"
        what = "beta"
    else:
        text = (f"beta-VAE: the KL is weighted by beta = {beta:.6g} relative to the "
                f"reconstruction term")
        what = "beta"
        if abs(beta - 2.0) <= beta_bound:
            text += (" (if a plain VAE was meant: beta = 2 is what a KL missing its 1/2 "
                     "gives)")
        elif abs(beta - 0.5) <= beta_bound:
            text += (" (if a plain VAE was meant: beta = 1/2 is what a Gaussian negative "
                     "log-likelihood missing its 1/2 gives)")
    if depends:
        text += (f"; {what} changes with {', '.join(depends)} because the reconstruction "
                 f"and the KL are reduced differently (see reduction)")
    return text


def _describe_failure(worst: _Fit, weights_positive: bool, same_family: bool) -> str:
    if worst.full_residual > worst.tolerance:
        return (f"{worst.full_residual:.3g} of the loss's variation (relative) is explained "
                f"by no Gaussian-VAE term at shape (B, D, K) = {worst.shape}: not a Gaussian "
                f"negative log-likelihood with variance exp(logvar_x) (e.g. an L1, Laplace or "
                f"Bernoulli loss, or a variance such as softplus(logvar_x)) plus the "
                f"Gaussian KL")
    q = _Coefs(worst)
    if (q.neg("sq_err/var") and q.ratio_is("sq_err/var", "logvar_x", 1.0)
            and q.neg("mu_z^2") and q.ratio_is("mu_z^2", "var_z", 1.0)
            and q.ratio_is("logvar_z", "var_z", -1.0)):
        return ("sign error: the loss is +ELBO (scale < 0); minimising it maximises the "
                "negative ELBO; return the negative ELBO")
    issues = _diagnose_recon(q) + _diagnose_kl(q)
    if not issues and not same_family:
        issues.append("the loss uses logvar_x at some shapes and ignores it at others")
    if not issues and not weights_positive:
        issues.append("a term's weight is not positive")
    if not issues:
        issues.append(f"residual {worst.residual:.3g} exceeds the round-off bound "
                      f"{worst.tolerance:.3g} at shape (B, D, K) = {worst.shape}")
    return "; ".join(issues)


def assert_gaussian_vae_loss(loss_fn: LossFn, *, beta: float | None = None,
                             allow_fixed_variance: bool = True,
                             **check_kwargs: Any) -> LossCheckReport:
    """Raise :class:`NotAnElboError` with the diagnosis unless ``loss_fn`` is a negative ELBO.

    Args:
        loss_fn: as for :func:`check_gaussian_vae_loss`.
        beta: if given, also require this KL weight (e.g. ``beta=1.0`` for a plain VAE),
            to within the round-off bound of the fitted weights.  By default any beta > 0
            passes: a beta-VAE is not a bug.
        allow_fixed_variance: accept a loss that ignores ``logvar_x`` (a fixed-variance
            decoder); set False when your decoder's variance is meant to be learned.
        **check_kwargs: ``data_shape``, ``latent_dim``, ``batch_size``, ``dtype``, ``seed``.

    Returns:
        the :class:`LossCheckReport`, when the loss passes.
    """
    if beta is not None and not (isinstance(beta, (int, float)) and math.isfinite(beta)
                                 and beta > 0):
        raise InvalidArgumentError("beta", f"must be a finite number > 0 or None, got {beta!r}")
    report = check_gaussian_vae_loss(loss_fn, **check_kwargs)
    if not report.is_elbo:
        raise NotAnElboError(f"not a Gaussian-VAE negative ELBO: {report.diagnosis}")
    if report.fixed_variance is not None and not allow_fixed_variance:
        raise NotAnElboError(f"the decoder variance is not learned: {report.diagnosis}")
    if beta is not None:
        if report.beta_depends_on:
            raise NotAnElboError(f"beta is not a constant ({report.diagnosis}); "
                                 f"{report.reduction}")
        if report.fixed_variance is None:
            if abs(report.beta - beta) > report.beta_bound:
                raise NotAnElboError(f"beta = {report.beta:.6g}, expected {beta:.6g}: "
                                     f"{report.diagnosis}")
        elif beta != 1.0:
            raise NotAnElboError(f"a fixed-variance decoder has beta = 1 with s0^2 = "
                                 f"{report.fixed_variance:.6g}; expected beta = {beta}")
    return report
