"""Evidence from the high-precision constructions beyond the thread.

Each gatherer reads evaluated construction rows (:func:`vaeproofs.constructions.run_all`,
cached by the context) and states what they show for one claim; no mathematics happens
here.  The row helpers are those of :mod:`vaeproofs.claims.construction_evidence`.
"""

from __future__ import annotations

from decimal import Decimal

from vaeproofs.claims.conditions import Condition
from vaeproofs.claims.construction_evidence import bounded_evidence, describe_row, unbounded_evidence
from vaeproofs.claims.context import EvidenceContext
from vaeproofs.claims.verdict import Evidence

__all__ = [
    "beta_nll_memorising",
    "continuous_bernoulli_diverges",
    "discretised_pmf_bounded",
    "fresh_against_static",
    "gaussian_nll_eps_loss_and_variance",
    "gmm_diverges",
    "population_fresh_noise",
    "softclip_bounded",
    "student_t_floored_bounded",
]


def population_fresh_noise(ctx: EvidenceContext) -> list[Evidence]:
    """A population with a density (fresh noise) stays capped; atomic or curve data diverge."""
    fresh = bounded_evidence(ctx, "fresh_dequantisation_elbo", Condition.POPULATION_DENSITY)
    return [
        Evidence(fresh.kind, "Population = uniform mixture of the grid cells (a density): "
                 + fresh.summary, fresh.supports, fresh.condition, fresh.figures, fresh.data),
        unbounded_evidence(ctx, "static_dequantisation_elbo", Condition.FINITE_SAMPLE,
                   supports_if_unbounded=False),
        unbounded_evidence(ctx, "manifold", Condition.LOWER_DIMENSIONAL_POPULATION,
                   supports_if_unbounded=False),
    ]


def fresh_against_static(ctx: EvidenceContext) -> list[Evidence]:
    """Same cells and decoder: the fresh-noise ELBO stays capped, the static one passes the cap."""
    fresh_row = ctx.construction("fresh_dequantisation_elbo")
    static_row = ctx.construction("static_dequantisation_elbo")
    fresh = bounded_evidence(ctx, "fresh_dequantisation_elbo", Condition.FRESH_DEQUANTISATION)
    text = describe_row(static_row)
    over = static_row.first_value_above(fresh_row.cap) if fresh_row.cap else None
    static_diverges = (not static_row.bounded) and static_row.increasing
    text += (f" It passes the fresh-noise bound n (D log(1/Delta) - log n) = "
             f"{Decimal(fresh_row.cap):.6g} (value {Decimal(over):.6g})." if over else
             " It stays under the fresh-noise bound at the values evaluated.")
    return [fresh, Evidence("high-precision", text, static_diverges and over is not None,
                            Condition.STATIC_DEQUANTISATION, figures=("constructions",),
                            data={"name": static_row.name, "bounded": static_row.bounded,
                                  "exceeds_fresh_bound": over})]


def discretised_pmf_bounded(ctx: EvidenceContext) -> list[Evidence]:
    """A pmf decoder on the memorising cells stays under 0; a density decoder diverges."""
    pmf = bounded_evidence(ctx, "bernoulli_elbo", Condition.PMF_DECODER)
    density = unbounded_evidence(ctx, "memorising_elbo", Condition.DENSITY_ON_DISCRETE,
                         supports_if_unbounded=False)
    return [Evidence(pmf.kind, "A pmf decoder (Bernoulli, the one-bin case of a discretised "
                     "likelihood): " + pmf.summary, pmf.supports, pmf.condition, pmf.figures,
                     pmf.data),
            Evidence(density.kind, "A density decoder on any finite set, discrete data "
                     "included: " + density.summary, density.supports, density.condition,
                     density.figures, density.data)]


def continuous_bernoulli_diverges(ctx: EvidenceContext) -> list[Evidence]:
    """The continuous Bernoulli on exact 0/1 values: the ELBO diverges (supports = bounded)."""
    return [bounded_evidence(ctx, "continuous_bernoulli_elbo", Condition.CONTINUOUS_BERNOULLI_ENDPOINTS)]


def gaussian_nll_eps_loss_and_variance(ctx: EvidenceContext) -> list[Evidence]:
    """The loss is frozen at its cap while PyTorch's gradient keeps pushing the variance down."""
    row = ctx.construction("gaussian_nll_eps")
    text = describe_row(row)
    diag = row.diagnostics
    agree, pushes_down = diag["torch_agrees_with_derived"], diag["gradient_pushes_variance_down"]
    frozen = diag["frozen_below_eps"]
    loss = Evidence("high-precision", text + f" The value is frozen at the cap for every variance "
                    f"below eps: {frozen}.", bool(row.bounded and row.under_cap and frozen),
                    Condition.GAUSSIAN_NLL_EPS_LOSS, figures=("constructions",),
                    data={"name": row.name, "cap": row.cap})
    variance = Evidence(
        "high-precision",
        f"Along the same sequence the variance reaches {row.parameter_values[-1]} while "
        f"dloss/dvariance stays {diag['derived_gradient_in_variance'][-1]} > 0 (derived, "
        f"identity Jacobian through the clamp); PyTorch's own autograd returns the same value "
        f"wherever float64 holds the variance ({agree}), so every descent step lowers it "
        f"further; the model's actual log-likelihood with that variance reaches "
        f"{diag['model_log_likelihood_at_variance'][-1]}.",
        not (pushes_down and agree), Condition.GAUSSIAN_NLL_EPS_VARIANCE,
        figures=("constructions",),
        data={"torch_gradient": diag["torch_gradient_in_variance"],
              "derived_gradient": diag["derived_gradient_in_variance"]})
    return [variance, loss]


def softclip_bounded(ctx: EvidenceContext) -> list[Evidence]:
    """Soft-clipped log sigma on memorised points: under the cap."""
    return [bounded_evidence(ctx, "softclip_likelihood", Condition.SOFTCLIP)]


def beta_nll_memorising(ctx: EvidenceContext) -> list[Evidence]:
    """beta-NLL fits the same Gaussian decoder, whose memorising sequence diverges."""
    ev = unbounded_evidence(ctx, "memorising_elbo", Condition.BETA_NLL, supports_if_unbounded=False)
    return [Evidence(ev.kind, "beta-NLL reweights the gradient of the same Gaussian decoder "
                     "(same stationary points), so the collapse direction is unchanged: "
                     + ev.summary, ev.supports, ev.condition, ev.figures, ev.data)]


def student_t_floored_bounded(ctx: EvidenceContext) -> list[Evidence]:
    """Floored Student-t on memorised points: under c(nu)/s_min per pixel."""
    return [bounded_evidence(ctx, "floored_student_t_likelihood", Condition.STUDENT_T_FLOORED)]


def gmm_diverges(ctx: EvidenceContext) -> list[Evidence]:
    """The two-component mixture diverges; one Gaussian's maximum is finite (no vote)."""
    ev = unbounded_evidence(ctx, "gmm_likelihood", Condition.GAUSSIAN_MIXTURE, supports_if_unbounded=True)
    single = ctx.construction("gmm_likelihood").diagnostics["single_gaussian_max"]
    return [Evidence(ev.kind, ev.summary + f" One Gaussian on the same points is capped by its "
                     f"maximum {single}.", ev.supports, ev.condition, ev.figures, ev.data)]
