"""Numeric evidence for the remedies used in practice (docs/theory.md section 6).

Two sources: the remedy training suite (:func:`vaeproofs.numeric.remedy_suite`, VAEs
trained side by side on the confirming experiment's 16 digits), measured by
:mod:`vaeproofs.numeric.remedy_runs`, and small float64 torch computations of each head's
own formula (a gradient, a normalisation, a sequence of parameters) in
:mod:`vaeproofs.numeric.remedy_checks`.  The gatherers here only read those records'
fields and decisions and write them as evidence.

One evidence standard for every family (as in :mod:`vaeproofs.claims.training_evidence`):
a run that stays under a *proven* cap is consistent with the bounded claim
(``supports=True``; passing it would be a conflict), and a finite run that passes, or
fails to pass, some cap is informative only (``supports=None``), since a finite run
proves no unboundedness.  A computation that exhibits the fact a claim denies -- a
variance below the "floor" eps, a density value above any given number -- votes against.

Caps are reported in nats per pixel and relative to the data's per-pixel variance
(:func:`vaeproofs.numeric.heads.cap_relative_to_data`: the equivalent Gaussian variance
floor exp(-2 c)/(2 pi) of a cap of c nats per pixel, divided by the mean over pixels of
the training data's per-pixel variance).

:data:`REMEDY_TRAINING_GATHERERS` maps each claim id to its gatherers.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from vaeproofs.claims.conditions import Condition
from vaeproofs.claims.context import EvidenceContext
from vaeproofs.claims.verdict import Evidence

if TYPE_CHECKING:
    from vaeproofs.numeric.remedy_runs import CappedRun

__all__ = ["REMEDY_TRAINING_GATHERERS"]

_FIG = ("remedy-training",)


def _runs(ctx: EvidenceContext, likelihood: str) -> list[Any]:
    return [r for r in ctx.remedy_training().values() if r.config.likelihood == likelihood]


def _label(result: Any) -> str:
    c = result.config
    return f"{c.label or c.likelihood} ({result.n_train} points, {c.steps} steps, seed {c.seed})"


def _short(value: float) -> str:
    """A round parameter as written by hand: 0.1, 1e-3, 1e-7 (no exponent padding)."""
    if value >= 0.1:
        return f"{value:g}"
    mantissa, exponent = f"{value:.0e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def _cap_text(rec: CappedRun) -> str:
    return (f"cap {rec.cap:.2f} nats per point = {rec.cap_per_pixel:.3f} nats per pixel, i.e. a "
            f"variance floor {rec.equivalent_floor:.3g} = {rec.floor_relative_to_data:.3g} x the "
            f"data's mean per-pixel variance {rec.data_variance:.3g}")


def _under_own_cap(ctx: EvidenceContext, likelihood: str, condition: Condition
                   ) -> list[Evidence]:
    """A head with a proven, data-independent cap: the best per-point training ELBO stays under it."""
    from vaeproofs.numeric.remedy_runs import capped_run

    out = []
    for r in _runs(ctx, likelihood):
        rec = capped_run(r)
        out.append(Evidence(
            "numeric",
            f"{_label(r)}: best per-point training ELBO over all logged steps {rec.best:.2f} "
            f"nats, under the family's {_cap_text(rec)}: {rec.under_cap}.",
            rec.under_cap, condition, figures=_FIG,
            data={"max_train_elbo": rec.best, "cap": rec.cap, "cap_per_pixel": rec.cap_per_pixel,
                  "data_variance": rec.data_variance}))
    return out


# -- dequantisation ------------------------------------------------------------------
def fresh_dequantisation_under_bound(ctx: EvidenceContext) -> list[Evidence]:
    """Fresh noise: the mean per-point training ELBO against D log(1/Delta) - log n, a bound on
    the average over the n points of the expectation over the noise (informative)."""
    from vaeproofs.numeric.remedy_runs import dequantisation_bound

    out = []
    for r in ctx.remedy_training().values():
        mode = r.config.dequantization
        if mode is None or r.config.likelihood != "per-pixel":
            continue
        b = dequantisation_bound(r)
        text = (f"{_label(r)}: best mean per-point training ELBO {b.best_mean:.1f} nats (max "
                f"{b.best_max:.1f}); the bound on the expected objective under fresh noise, "
                f"D log(1/Delta) - log n = {b.dim} log {b.levels} - log {b.n_distinct} = "
                f"{b.value:.1f}, is ")
        if mode == "fresh":
            # The bound is on the expectation over the noise; this mean uses one noise draw per
            # point and the best of the logged steps, so it neither confirms nor refutes it.
            out.append(Evidence(
                "numeric", text + f"{'respected' if b.respected else 'exceeded'} by this estimate "
                "(informative only: the bound is on the expectation over the noise, and the mean "
                "here is one noise draw per point at the best logged step).", None,
                Condition.FRESH_DEQUANTISATION, figures=_FIG,
                data={"bound": b.value, "n_distinct": b.n_distinct, "best_mean": b.best_mean}))
        else:
            out.append(Evidence(
                "numeric", text + f"{'not passed' if b.respected else 'passed'} by the "
                "mean within this finite run (informative: the static noise makes the data a "
                "fixed finite set, for which no finite run decides boundedness).", None,
                Condition.STATIC_DEQUANTISATION, figures=_FIG,
                data={"bound": b.value, "n_distinct": b.n_distinct, "best_mean": b.best_mean,
                      "best_max": b.best_max}))
    return out


# -- discretised likelihoods ---------------------------------------------------------
def discretised_under_zero(ctx: EvidenceContext) -> list[Evidence]:
    """Discretised heads on the integer digits: the training ELBO stays <= 0."""
    from vaeproofs.numeric.remedy_runs import capped_run, mass_cap_as_density

    out = []
    for name in ("discretised-gaussian", "discretised-logistic"):
        for r in _runs(ctx, name):
            rec = capped_run(r, cap=0.0)
            density = mass_cap_as_density(r.dim)
            out.append(Evidence(
                "numeric",
                f"{_label(r)}: best per-point training ELBO {rec.best:.2f} nats <= 0: "
                f"{rec.under_cap}; the mass cap 0 equals a density cap of {density.dim} log "
                f"{density.bins} = {density.value:.1f} nats on bins of width 1/{density.bins}.",
                rec.under_cap, Condition.PMF_DECODER, figures=_FIG,
                data={"max_train_elbo": rec.best}))
    return out


def discretised_masses_sum_to_one(ctx: EvidenceContext) -> list[Evidence]:
    """The discretised heads' 17 masses sum to 1 for random parameters (float64)."""
    from vaeproofs.numeric.remedy_checks import discretised_mass_normalisation

    m = discretised_mass_normalisation()
    return [Evidence(
        "numeric",
        f"For {m.n_params} random (mu, log s) with log s in [{m.log_scale_range[0]:g}, "
        f"{m.log_scale_range[1]:g}], the {m.levels} masses of "
        f"each discretised head sum to 1 within {m.max_abs_log_total:.1e} in log (float64), and "
        f"no log-mass exceeds 0 (largest {m.max_log_mass:.1e}).", m.normalised,
        Condition.PMF_DECODER,
        data={"max_abs_log_total": m.max_abs_log_total, "max_log_mass": m.max_log_mass})]


# -- continuous Bernoulli ------------------------------------------------------------
def continuous_bernoulli_caps(quick: bool) -> dict[str, Any]:
    """The data cap of each continuous Bernoulli run of the remedy suite, by the run's key.

    The cap max_i sum_j M(x_ij) depends on the run's training data only (its configuration),
    not on the training, so it is computed from the configuration; ``best`` is NaN here and
    filled in from the run by :func:`continuous_bernoulli_interior_under_data_cap`.
    """
    from vaeproofs.claims.context import suite_configs, suite_label
    from vaeproofs.numeric.remedy_runs import continuous_bernoulli_data_cap
    from vaeproofs.numeric.training import prepare_data

    return {suite_label(i, c): continuous_bernoulli_data_cap(prepare_data(c)[1], math.nan)
            for i, c in enumerate(suite_configs("remedy-training", quick=quick))
            if c.likelihood == "continuous-bernoulli"}


def continuous_bernoulli_interior_under_data_cap(ctx: EvidenceContext) -> list[Evidence]:
    """CB on data inside (0, 1): the ELBO stays under max_i sum_j M(x_ij); on raw digits: informative."""
    from vaeproofs.numeric.collapse import best_logged

    caps = ctx.source("continuous-bernoulli-caps")
    out = []
    for key, r in ctx.remedy_training().items():
        if r.config.likelihood != "continuous-bernoulli":
            continue
        c = dataclasses.replace(caps[key], best=best_logged(r, "train_elbo_max"))
        if c.cap is not None:
            out.append(Evidence(
                "numeric",
                f"{_label(r)}: best per-point training ELBO {c.best:.2f} nats, under the "
                f"data-dependent cap max_i sum_j M(x_ij) = {c.cap:.2f} (M: the density's "
                f"maximum over the parameter at each value; {c.cap_per_pixel:.3f} nats per "
                f"pixel): {c.under_cap}.", c.under_cap, Condition.CONTINUOUS_BERNOULLI_INTERIOR,
                figures=_FIG, data={"max_train_elbo": c.best, "data_cap": c.cap}))
        else:
            out.append(Evidence(
                "numeric",
                f"{_label(r)}: best per-point training ELBO {c.best:.2f} nats on data with "
                f"{c.n_exact_binary} exact 0/1 values (informative: the divergence there grows "
                "like log log(1/l), far too slowly for a finite run).",
                None, Condition.CONTINUOUS_BERNOULLI_ENDPOINTS, figures=_FIG,
                data={"max_train_elbo": c.best}))
    return out


def continuous_bernoulli_density_at_zero_grows(ctx: EvidenceContext) -> list[Evidence]:
    """log CB(0 | eta) >= log|eta| along eta = -10^k: no bound holds on data with exact 0s."""
    from vaeproofs.numeric.remedy_checks import continuous_bernoulli_density_at_zero

    d = continuous_bernoulli_density_at_zero()
    return [Evidence(
        "numeric",
        "The head's log-density at x = 0 along logits eta = -10^k, k = "
        f"{', '.join(map(str, d.ks))}: {', '.join(f'{v:.2f}' for v in d.log_density)} nats, "
        "each >= log|eta| = log(log(1/l)) + o(1) (float64): it exceeds any bound M at "
        "eta = -e^M.",
        False if d.grows else None, Condition.CONTINUOUS_BERNOULLI_ENDPOINTS,
        data={"k": list(d.ks), "log_density": list(d.log_density)})]


# -- torch's GaussianNLLLoss(eps) ----------------------------------------------------
def gaussian_nll_eps_training(ctx: EvidenceContext) -> list[Evidence]:
    """The trained model's variance falls below eps while the reported loss stays floored."""
    from vaeproofs.numeric.remedy_runs import gaussian_nll_eps_run

    out = []
    for r in _runs(ctx, "gaussian-nll-eps"):
        g = gaussian_nll_eps_run(r)
        out.append(Evidence(
            "numeric",
            f"{_label(r)}: the decoder's own variance reaches {g.min_variance:.2e} "
            f"({'below' if g.crossed else 'not below'} eps = {g.eps:g} = "
            f"{g.eps_relative_to_data:.3g} x the data's mean per-pixel variance "
            f"{g.data_variance:.3g}; at most {100 * g.fraction_below_eps:.1f}% of training "
            "pixels under eps at a logged step), where the reported loss no longer depends on "
            "it.", False if g.crossed else None,
            Condition.GAUSSIAN_NLL_EPS_VARIANCE, figures=_FIG,
            data={"eps": g.eps, "min_variance": g.min_variance,
                  "fraction_below_eps": g.fraction_below_eps}))
        out.append(Evidence(
            "numeric",
            f"{_label(r)}: best reported objective (minus the loss, minus KL) "
            f"{g.best_reported:.2f} nats per point <= -(D/2) log(2 pi eps) = {g.cap:.2f}: "
            f"{g.reported_under_cap}; the true ELBO of the same model reaches "
            f"{g.best_true:.2f}.",
            g.reported_under_cap, Condition.GAUSSIAN_NLL_EPS_LOSS, figures=_FIG,
            data={"max_reported_objective": g.best_reported, "cap": g.cap,
                  "max_true_elbo": g.best_true}))
    return out


def gaussian_nll_eps_autograd(ctx: EvidenceContext) -> list[Evidence]:
    """Below eps the loss value is flat in var, yet var gets the gradient at eps; Adam lowers it."""
    from vaeproofs.numeric.remedy_checks import gaussian_nll_eps_gradient as measure

    g = measure()
    low, high = g.variances[0], g.variances[-1]
    return [Evidence(
        "numeric",
        f"torch.nn.GaussianNLLLoss(eps={g.eps:g}, full=True) at x = mu: the loss is "
        f"{g.loss_values[0]:.6f} at var = {_short(low)} and {g.loss_values[-1]:.6f} at var = {_short(high)} "
        f"(flat: {g.flat}), yet d loss / d var = {g.grads[0]:.6g} at both, the gradient at eps, "
        f"(1/2)(1/eps - r^2/eps^2) = {g.expected_grad:.6g}; {g.adam_steps} Adam steps "
        f"(lr {_short(g.lr)}) "
        f"on log var from var = {_short(g.adam_start)} end at var = {g.final_variance:.2e}: the "
        "variance keeps falling below eps.",
        False if g.pushes_below_eps else None, Condition.GAUSSIAN_NLL_EPS_VARIANCE,
        data={"loss_values": list(g.loss_values), "grads": list(g.grads),
              "expected_grad": g.expected_grad, "final_variance": g.final_variance})]


# -- soft clip, floored Student-t ----------------------------------------------------
def softclip_under_cap(ctx: EvidenceContext) -> list[Evidence]:
    """Soft-clipped log sigma: the training ELBO stays under D (-(1/2) log 2 pi - m)."""
    return _under_own_cap(ctx, "softclip", Condition.SOFTCLIP)


def student_t_floored_under_cap(ctx: EvidenceContext) -> list[Evidence]:
    """Floored Student-t: the training ELBO stays under D (log c(nu) - log s_min)."""
    return _under_own_cap(ctx, "student-t-floored", Condition.STUDENT_T_FLOORED)


# -- beta-NLL ------------------------------------------------------------------------
def beta_nll_training(ctx: EvidenceContext) -> list[Evidence]:
    """beta-NLL run: how far the variance falls (informative: a finite run)."""
    from vaeproofs.numeric.collapse import best_logged
    from vaeproofs.numeric.remedy_runs import variance_fall

    out = []
    for r in _runs(ctx, "beta-nll"):
        f = variance_fall(r)
        out.append(Evidence(
            "numeric",
            f"{_label(r)}: minimum decoder variance {f.first:.2e} at step 0 -> {f.lowest:.2e} "
            f"({f.decades:.1f} decades); best true per-point training ELBO "
            f"{best_logged(r, 'train_elbo_max'):.1f} nats (informative: a finite run).", None,
            Condition.BETA_NLL, figures=_FIG,
            data={"first": f.first, "min": f.lowest, "decades": f.decades}))
    return out


def beta_nll_stationary_point(ctx: EvidenceContext) -> list[Evidence]:
    """The beta-NLL gradient in var vanishes exactly where the NLL's does: var = (x - mu)^2."""
    from vaeproofs.numeric.remedy_checks import beta_nll_stationary_point as measure

    s = measure()
    return [Evidence(
        "numeric",
        f"beta-NLL (beta = {', '.join(f'{b:g}' for b in s.betas)}): the gradient of the "
        f"objective in log var is {s.max_abs_grad_at_stationary:.1e} at var = (x - mu)^2 for "
        f"|x - mu| = {', '.join(map(_short, s.residuals))} and points back towards it "
        "from above; so, as for the NLL, a mean that memorises (x - mu -> 0) drives the "
        "stationary variance to 0: the weighting does not prevent the collapse.",
        False if s.same_as_nll else None, Condition.BETA_NLL,
        data={"max_abs_grad_at_stationary": s.max_abs_grad_at_stationary,
              "max_grad_above": s.max_grad_above})]


def beta_nll_dynamics_runs(quick: bool) -> list[Any]:
    """The memorised-point paths of :func:`beta_nll_adam_dynamics` (the same with ``--quick``)."""
    from vaeproofs.numeric.beta_nll_dynamics import memorised_dynamics

    return [memorised_dynamics(b) for b in (0.0, 0.5, 1.0)]


def beta_nll_adam_dynamics(ctx: EvidenceContext) -> list[Evidence]:
    """At a memorised point: plain gradient descent slows to a power law, Adam does not
    (informative: it is about the speed of the collapse, not whether it happens)."""
    runs = ctx.source("beta-nll-dynamics")
    marks = ", ".join(f"{t:g}" for t in runs[0].checkpoints)

    def path(values: tuple[float, ...]) -> str:
        return ", ".join(f"{v:.2f}" for v in values)

    parts = [f"beta = {r.beta:g}: SGD {path(r.sgd)} (gradient flow {path(r.sgd_flow)}); Adam "
             f"{path(r.adam)}" + ("" if r.adam_saturation is None else
                                  f" (Adam's eps reached near s = {r.adam_saturation:.1f})")
             for r in runs]
    text = (f"Log-variance s at a memorised point (r = 0, s = 0 at the start, lr "
            f"{runs[0].lr:g}) after {marks} steps: " + "; ".join(parts) + ". Plain gradient descent "
            "slows to s ~ -(1/beta) log(steps) for beta > 0; Adam, which divides by the gradient's "
            "running scale, keeps s falling about linearly until v^beta/2 reaches its eps (1e-8), "
            "as for the NLL (beta = 0: linear under both). 'Slowed to a power law' holds for plain "
            "gradient descent only.")
    return [Evidence("numeric", text, None, Condition.BETA_NLL, figures=(),
                     data={f"beta={r.beta:g}": {"sgd": list(r.sgd), "adam": list(r.adam)} for r in runs})]


REMEDY_TRAINING_GATHERERS: dict[str, tuple[Callable[[EvidenceContext], list[Evidence]], ...]] = {
    "remedy.fresh-dequantisation-bounded": (fresh_dequantisation_under_bound,),
    "remedy.discretised-likelihood-bounded": (discretised_under_zero,
                                              discretised_masses_sum_to_one),
    "remedy.continuous-bernoulli-bounded": (continuous_bernoulli_interior_under_data_cap,
                                            continuous_bernoulli_density_at_zero_grows),
    "remedy.gaussian-nll-eps-floors-variance": (gaussian_nll_eps_training,
                                                gaussian_nll_eps_autograd),
    "remedy.softclip-bounded": (softclip_under_cap,),
    "remedy.beta-nll-bounds": (beta_nll_training, beta_nll_stationary_point, beta_nll_adam_dynamics),
    "remedy.student-t-floored-bounded": (student_t_floored_under_cap,),
}
