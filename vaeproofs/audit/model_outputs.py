"""What a model returns, as people write it: the decoder mean, its variance-like output, the posterior.

:func:`normalise_outputs` reads ``model(x)`` (or ``forward(model, x)``) in any of these forms:

- a tuple or list of tensors ``(mu_x, var_like_x, mu_z, logvar_z)`` (the kind given by
  ``variance=``), or ``(mean, var_like)`` for a model without a latent (a regressor);
- a dict (also a ``ModelOutput``), a namedtuple, a dataclass or any object with attributes,
  read by name: decoder mean ``mu``/``mean``/``loc``/``x_hat``/``recon``...; variance-like
  ``logvar``/``log_var`` (log sigma^2), ``var``/``variance`` (sigma^2), ``std``/``scale``/``sigma``
  (sigma), ``log_sigma``/``logstd``/``log_scale`` (log sigma); posterior ``mu_z``/``z_mean``... and
  ``logvar_z``/``z_logvar``..., or a posterior distribution ``posterior``/``qz``/``latent_dist``;
  a generic name (``mu``, ``logvar``) belongs to the decoder when its shape is the data's and to
  the posterior otherwise (the PyTorch example VAE returns ``recon, mu, logvar`` of the encoder);
- ``torch.distributions`` objects: ``Normal`` (scale = sigma), ``Independent(Normal)``,
  ``LowRankMultivariateNormal`` (variance = cov_diag + the squared row norms of cov_factor,
  so the floor is cov_diag's: the low-rank part only adds), ``StudentT`` (its variance
  df/(df-2) scale^2 exists only for df > 2; the density at the centre is c(df)/scale, so the
  audit floors scale^2, the *scale* floor, and says so), any other distribution through its
  ``mean`` and ``variance``; objects with ``mean`` and ``logvar``/``var``/``std`` attributes
  (diffusers' ``DiagonalGaussianDistribution``).

The variance-like output is found along a *path* (indices, keys, attributes) recorded on
the eager call; :func:`select_path` replays it on any later output, so that a tracer can
pick the same tensor (:func:`variance_selector`).  Conventions: natural log; the variance
is sigma^2 per element.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch

from vaeproofs.audit.kinds import KIND_WORDS as _KIND_WORDS
from vaeproofs.audit.kinds import VARIANCE_KINDS, check_kind, check_kind_against_values
from vaeproofs.errors import InvalidArgumentError

__all__ = ["ModelOutputs", "check_kind_against_values", "describe", "normalise_outputs", "select_path",
           "variance_selector"]

# check_kind_against_values lives with the kinds; re-exported here for the readers of outputs.

#: Names of the decoder mean (exact match, lower case).
MEAN_NAMES = ("mu_x", "x_mu", "x_mean", "mean_x", "x_hat", "xhat", "recon", "recon_x", "x_recon",
              "reconstruction", "mu", "mean", "loc", "prediction", "pred", "y_hat", "mean_pred")
#: Names of the variance-like output, by kind.
KIND_NAMES: dict[str, tuple[str, ...]] = {
    "logvar": ("logvar_x", "x_logvar", "log_var_x", "logvar", "log_var", "log_variance", "log_sigma2",
               "log_sigma_sq"),
    "var": ("var_x", "x_var", "variance_x", "var", "variance", "sigma2", "sigma_sq"),
    "std": ("std_x", "x_std", "sigma_x", "x_sigma", "scale_x", "std", "stddev", "scale", "sigma"),
    "logstd": ("logstd_x", "log_sigma_x", "x_log_sigma", "log_sigma", "logstd", "log_std",
               "log_scale"),
}
#: Names that are the posterior's whatever their shape.
POSTERIOR_MEAN_NAMES = ("mu_z", "z_mu", "z_mean", "mean_z", "mu_q", "q_mu", "qz_mean", "z_loc")
POSTERIOR_LOGVAR_NAMES = ("logvar_z", "z_logvar", "z_log_var", "log_var_z", "logvar_q", "q_logvar",
                          "qz_logvar")
POSTERIOR_DIST_NAMES = ("posterior", "qz", "q_z", "latent_dist", "z_dist", "q")
DECODER_DIST_NAMES = ("px", "p_x", "px_z", "likelihood", "decoder_dist", "x_dist", "recon_dist",
                      "output_dist", "dist", "pred_dist")
#: Names that always mean the decoder's output (never the posterior's).
_DECODER_ONLY = {n for names in KIND_NAMES.values() for n in names if n.endswith("_x") or
                 n.startswith("x_")} | {"mu_x", "x_mu", "x_mean", "mean_x", "x_hat", "xhat", "recon",
                                        "recon_x", "x_recon", "reconstruction", "prediction", "pred",
                                        "y_hat", "mean_pred"}

Path = tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class ModelOutputs:
    """One model call, read (see the module docstring).

    Attributes:
        mean: the decoder mean (or a regressor's prediction).
        var_like: the variance-like output; its meaning is ``kind``.
        kind: ``logvar`` (log sigma^2), ``var`` (sigma^2), ``std`` (sigma) or ``logstd`` (log sigma).
        mu_z, logvar_z: the posterior's mean and log-variance; None for a model without one.
        path: where ``var_like`` sits in the output (replayed by :func:`select_path`).
        source: how it was found, in words (e.g. "Normal.scale (a standard deviation)").
        note: a caveat that travels with the floor (StudentT, LowRankMultivariateNormal).
    """

    mean: torch.Tensor
    var_like: torch.Tensor
    kind: str
    mu_z: torch.Tensor | None
    logvar_z: torch.Tensor | None
    path: Path
    source: str
    note: str = ""


def _shape(t: Any) -> str:
    return "(" + ", ".join(str(int(s)) for s in t.shape) + ")"


def describe(out: Any, depth: int = 0) -> str:
    """What ``out`` is, with types and tensor shapes, in one line (for error messages)."""
    if isinstance(out, torch.Tensor):
        return f"Tensor{_shape(out)}"
    if depth > 2:
        return type(out).__name__
    if isinstance(out, torch.distributions.Distribution):
        parts = [f"{k} {_shape(v)}" for k, v in vars(out).items()
                 if isinstance(v, torch.Tensor) and not k.startswith("_")]
        base = getattr(out, "base_dist", None)
        if base is not None:
            parts.insert(0, describe(base, depth + 1))
        return f"{type(out).__name__}({', '.join(parts)})"
    if isinstance(out, tuple) and hasattr(out, "_fields"):
        return f"{type(out).__name__}(" + ", ".join(
            f"{k}={describe(v, depth + 1)}" for k, v in zip(out._fields, out, strict=False)) + ")"
    if isinstance(out, tuple | list):
        return f"{type(out).__name__} of {len(out)}: (" + ", ".join(
            describe(v, depth + 1) for v in out[:6]) + (", ..." if len(out) > 6 else "") + ")"
    items = _named_items(out)
    if items is not None:
        return f"{type(out).__name__}{{" + ", ".join(
            f"{k!r}: {describe(v, depth + 1)}" for k, v in list(items.items())[:8]) + "}"
    return type(out).__name__


def _named_items(out: Any) -> dict[str, Any] | None:
    """Named members of a dict, namedtuple, dataclass or plain object (None for other values)."""
    if isinstance(out, Mapping):
        return {str(k): v for k, v in out.items()}
    if isinstance(out, tuple) and hasattr(out, "_fields"):
        return dict(zip(out._fields, out, strict=False))
    if dataclasses.is_dataclass(out) and not isinstance(out, type):
        return {f.name: getattr(out, f.name) for f in dataclasses.fields(out)}
    if isinstance(out, torch.Tensor | tuple | list | str | bytes | int | float) or out is None:
        return None
    attrs = {k: v for k, v in vars(out).items() if not k.startswith("_")} \
        if hasattr(out, "__dict__") else {}
    for name in ("mean", "logvar", "var", "std", "variance", "scale", "loc", "latent_dist"):
        if name not in attrs:  # properties (diffusers' DiagonalGaussianDistribution.mean is one)
            try:
                value = getattr(out, name)
            except Exception:
                continue
            if isinstance(value, torch.Tensor | torch.distributions.Distribution) or \
                    hasattr(value, "mean"):
                attrs[name] = value
    return attrs or None


def _step(obj: Any, step: tuple[str, Any]) -> Any:
    how, key = step
    if how == "index":
        return obj[key]
    if how == "key":
        return obj[key]
    return getattr(obj, key)


def select_path(out: Any, path: Path) -> torch.Tensor:
    """The tensor at ``path`` in ``out`` (indices, keys and attributes, as recorded)."""
    for step in path:
        out = _step(out, step)
    return out


def variance_selector(path: Path) -> Callable[[Any], torch.Tensor]:
    """A function picking the variance-like tensor from any output of the same form."""
    def select(out: Any) -> torch.Tensor:
        return select_path(out, path)
    return select


@dataclass
class _Found:
    mean: tuple[torch.Tensor, Path, str] | None = None
    var: tuple[torch.Tensor, Path, str, str, str] | None = None  # tensor, path, kind, source, note
    mu_z: torch.Tensor | None = None
    logvar_z: torch.Tensor | None = None


def _from_distribution(dist: Any, path: Path, label: str) -> tuple[
        torch.Tensor, torch.Tensor, Path, str, str, str]:
    """(mean, var_like, path, kind, source, note) of a decoder distribution."""
    td = torch.distributions
    if isinstance(dist, td.Independent):
        return _from_distribution(dist.base_dist, (*path, ("attr", "base_dist")),
                                  f"{label}.base_dist")
    name = type(dist).__name__
    if isinstance(dist, td.Normal):
        return (dist.loc, dist.scale, (*path, ("attr", "scale")), "std",
                f"{label} is a Normal: its scale is a standard deviation", "")
    if isinstance(dist, td.LowRankMultivariateNormal):
        return (dist.loc, dist.cov_diag, (*path, ("attr", "cov_diag")), "var",
                f"{label} is a LowRankMultivariateNormal: the floor is cov_diag's",
                "LowRankMultivariateNormal: the variance is cov_diag plus the squared row norms of "
                "cov_factor, so cov_diag's floor is a floor of the variance (the low-rank part only "
                "adds); it is the floor of the covariance's eigenvalues.")
    if isinstance(dist, td.StudentT):
        return (dist.loc, dist.scale, (*path, ("attr", "scale")), "std",
                f"{label} is a StudentT: the floor is that of scale^2",
                "StudentT: the variance df/(df-2) scale^2 exists only for df > 2; the floor given is "
                "that of scale^2 (the scale floor), which caps the density at its centre, c(df)/scale, "
                "for every df (c(df) increases to 1/sqrt(2 pi)).")
    try:
        mean, var = dist.mean, dist.variance
    except Exception:
        raise InvalidArgumentError("model", f"{label} is a {name}, which has no mean and variance the "
                                            "audit can read (it audits Gaussian-type decoders)") from None
    return (mean, var, (*path, ("attr", "variance")), "var",
            f"{label} is a {name}: its variance property", "")


def _posterior_from(obj: Any) -> tuple[torch.Tensor, torch.Tensor] | None:
    """(mu_z, logvar_z) of a posterior given as a distribution or a diffusers-like object."""
    td = torch.distributions
    if isinstance(obj, td.Independent):
        return _posterior_from(obj.base_dist)
    if isinstance(obj, td.Normal):
        return obj.loc, 2.0 * torch.log(obj.scale)
    mean = getattr(obj, "mean", None)
    for attr, to_logvar in (("logvar", lambda t: t), ("var", torch.log),
                            ("std", lambda t: 2.0 * torch.log(t))):
        value = getattr(obj, attr, None)
        if isinstance(mean, torch.Tensor) and isinstance(value, torch.Tensor):
            return mean, to_logvar(value)
    return None


def _is_decoder_shape(t: torch.Tensor, data_shape: tuple[int, ...] | None) -> bool:
    if data_shape is None:
        return True
    try:
        return torch.broadcast_shapes(t.shape, data_shape) == torch.Size(data_shape) and (
            t.dim() == len(data_shape) or t.numel() == 1)
    except RuntimeError:
        return False


def _read_named(items: dict[str, Any], how: str, base: Path, kind: str | None,
                data_shape: tuple[int, ...] | None, found: _Found) -> None:
    lower = {k.lower(): k for k in items}
    for key in lower:
        value = items[lower[key]]
        if isinstance(value, torch.distributions.Distribution) and key in DECODER_DIST_NAMES \
                and found.var is None:
            mean, var, path, k, source, note = _from_distribution(
                value, (*base, (how, lower[key])), f"{lower[key]!r}")
            found.mean, found.var = (mean, path, source), (var, path, k, source, note)
        if key in POSTERIOR_DIST_NAMES or (key not in DECODER_DIST_NAMES and isinstance(
                value, torch.distributions.Distribution) and found.var is not None):
            post = _posterior_from(value)
            if post is not None:
                found.mu_z, found.logvar_z = post
    tensors = {k: items[lower[k]] for k in lower if isinstance(items[lower[k]], torch.Tensor)}
    for key, value in tensors.items():
        if key in POSTERIOR_MEAN_NAMES:
            found.mu_z = value
        elif key in POSTERIOR_LOGVAR_NAMES:
            found.logvar_z = value
    decoder = {k: v for k, v in tensors.items() if k in _DECODER_ONLY or _is_decoder_shape(v, data_shape)}
    if found.mean is None:
        for name in MEAN_NAMES:
            if name in decoder:
                found.mean = (decoder[name], (*base, (how, lower[name])), lower[name])
                break
    if found.var is None:
        kinds = [kind] if kind is not None else list(VARIANCE_KINDS)
        for k in kinds:
            for name in KIND_NAMES[k]:
                if name in decoder:
                    found.var = (decoder[name], (*base, (how, lower[name])), k,
                                 f"{how} {lower[name]!r} (a {_KIND_WORDS[k]})", "")
                    break
            if found.var is not None:
                break
        if found.var is None and kind is not None:  # the user's word over the name
            named = [n for ks in KIND_NAMES.values() for n in ks if n in decoder]
            if len(named) == 1:
                found.var = (decoder[named[0]], (*base, (how, lower[named[0]])), kind,
                             f"{how} {lower[named[0]]!r}, read as {kind} (variance={kind!r})", "")
    # A generic mu/logvar pair the decoder did not claim (latent shape) is the posterior.
    rest = {k: v for k, v in tensors.items() if k not in decoder}
    if found.mu_z is None:
        found.mu_z = next((rest[n] for n in ("mu", "mean", "loc") if n in rest), None)
    if found.logvar_z is None:
        found.logvar_z = next((rest[n] for n in KIND_NAMES["logvar"] if n in rest), None)


def _adapt(what: str) -> str:
    return (f"pass variance= (logvar, var, std or logstd) when {what} returns (mu_x, var_like_x, "
            "mu_z, logvar_z), forward=fn(model, x) returning that tuple, or audit the loss you train "
            "with audit_objective(model, X, objective)")


def normalise_outputs(out: Any, *, variance: str | None = None, data_shape: tuple[int, ...] | None = None,
                      what: str = "model(x)", argument: str = "model") -> ModelOutputs:
    """Read ``out`` (see the module docstring); ``variance`` names the kind when the form does not.

    Args:
        out: what ``model(x)`` (or ``forward(model, x)``) returned.
        variance: the kind of the variance-like output, needed for a plain tuple of tensors;
            for a named output it picks the entry of that kind.
        data_shape: the shape of ``x`` (tells the decoder's generic ``mu``/``logvar`` from the
            posterior's, and checks the decoder's shapes).
        what: how the call is named in messages; argument: the argument named in errors.

    Raises:
        InvalidArgumentError: naming ``argument`` (or ``variance``), with what was returned (types
            and shapes) and how to adapt, when the output is not of a readable form or ambiguous.
    """
    kind = None if variance is None else check_kind(variance)
    got = describe(out)
    if isinstance(out, torch.Tensor):
        raise InvalidArgumentError(argument, f"{what} returned a single {got}: no decoder variance to "
                                             f"audit; {_adapt(what)}")
    found = _Found()
    if isinstance(out, torch.distributions.Distribution):
        mean, var, path, k, source, note = _from_distribution(out, (), what)
        found.mean, found.var = (mean, path, source), (var, path, k, source, note)
    elif isinstance(out, tuple | list) and not hasattr(out, "_fields"):
        _read_sequence(out, kind, data_shape, found, what, got)
    else:
        items = _named_items(out)
        if items is None:
            raise InvalidArgumentError(argument, f"{what} returned {got}, not a form the audit reads; "
                                                 f"{_adapt(what)}")
        how = "key" if isinstance(out, Mapping) else "attr"
        _read_named(items, how, (), kind, data_shape, found)
    if found.var is None or found.mean is None:
        missing = "a variance-like output" if found.var is None else "a decoder mean"
        if data_shape is not None:
            missing += f" of the data's shape {tuple(data_shape)}"
        raise InvalidArgumentError("variance" if found.var is None and found.mean is not None and
                                   kind is None and isinstance(out, tuple | list) else argument,
                                   f"cannot tell {missing} in what {what} returned: {got}; "
                                   f"{_adapt(what)}")
    var, path, k, source, note = found.var
    if kind is not None and k != kind and not source.endswith(f"(variance={kind!r})"):
        if isinstance(out, torch.distributions.Distribution) or "is a" in source:
            raise InvalidArgumentError("variance", f"is {kind!r}, but {source} ({k}); drop variance= "
                                                   "or pass forward= returning what you mean")
    return ModelOutputs(mean=found.mean[0], var_like=var, kind=k, mu_z=found.mu_z,
                        logvar_z=found.logvar_z, path=path, source=source, note=note)


def _mean_of(obj: Any) -> Any:
    td = torch.distributions
    while isinstance(obj, td.Independent):
        obj = obj.base_dist
    return getattr(obj, "loc", None) if isinstance(obj, td.Distribution) else getattr(obj, "mean", None)


def _read_sequence(out: tuple | list, kind: str | None, data_shape: tuple[int, ...] | None,
                   found: _Found, what: str, got: str) -> None:
    objects = [i for i, v in enumerate(out) if not isinstance(v, torch.Tensor) and (
        isinstance(v, torch.distributions.Distribution) or _named_items(v) is not None)]
    if objects:  # (p_x, q_z), (p_x, mu_z, logvar_z), (DiagonalGaussian, Normal)...
        shaped = [i for i in objects if isinstance(_mean_of(out[i]), torch.Tensor)
                  and _is_decoder_shape(_mean_of(out[i]), data_shape)]
        i = (shaped or objects)[0]
        if isinstance(out[i], torch.distributions.Distribution):
            mean, var, path, k, source, note = _from_distribution(out[i], (("index", i),),
                                                                   f"element {i}")
            found.mean, found.var = (mean, path, source), (var, path, k, source, note)
        else:
            items = _named_items(out[i]) or {}
            _read_named(items, "attr", (("index", i),), kind, data_shape, found)
        for j in objects:
            post = _posterior_from(out[j]) if j != i else None
            if post is not None:
                found.mu_z, found.logvar_z = post
                return
        tensors = [v for j, v in enumerate(out) if j > i and isinstance(v, torch.Tensor)]
        if len(tensors) >= 2:
            found.mu_z, found.logvar_z = tensors[-2], tensors[-1]
        return
    if len(out) not in (2, 4) or not all(isinstance(t, torch.Tensor) for t in out):
        raise InvalidArgumentError("model", f"{what} returned {got}: expected (mu_x, var_like_x, "
                                            f"mu_z, logvar_z) or (mean, var_like) tensors; {_adapt(what)}")
    if kind is None:
        raise InvalidArgumentError("variance", f"{what} returned {got}: a tuple of tensors does not say "
                                               "what its second element is; pass variance= (logvar, var, "
                                               "std or logstd), or return a dict with a key such as "
                                               "'logvar'")
    found.mean = (out[0], (("index", 0),), "element 0")
    found.var = (out[1], (("index", 1),), kind, f"element 1, read as {kind} (variance={kind!r})", "")
    if len(out) >= 4:
        found.mu_z, found.logvar_z = out[2], out[3]
