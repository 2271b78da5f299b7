"""Evidence from the derivations beyond the thread (population, dequantisation, remedies).

Each gatherer reads a derivation's typed fact record (:mod:`vaeproofs.symbolic.facts`) and
states what it means for one claim; ``supports`` is an expression of those facts, so a
different derivation gives a different verdict.  No mathematics happens here.
"""

from __future__ import annotations

import math

from vaeproofs.claims.conditions import Condition
from vaeproofs.claims.context import EvidenceContext
from vaeproofs.claims.verdict import Evidence
from vaeproofs.symbolic.beta_nll import BetaNllFacts
from vaeproofs.symbolic.continuous_bernoulli import ContinuousBernoulliFacts
from vaeproofs.symbolic.dequantisation import DequantisationFacts
from vaeproofs.symbolic.discretised import DiscretisedFacts
from vaeproofs.symbolic.gaussian_nll_eps import GaussianNllEpsFacts
from vaeproofs.symbolic.mixture import MixtureFacts
from vaeproofs.symbolic.population import PopulationFacts
from vaeproofs.symbolic.softclip import SoftclipFacts
from vaeproofs.symbolic.student_t_floored import StudentTFlooredFacts

__all__ = [
    "beta_nll_fixed_point",
    "continuous_bernoulli_normaliser",
    "dequantisation_bound",
    "discretised_cap",
    "gaussian_nll_eps_gradient",
    "mixture_analogy",
    "population_gibbs",
    "softclip_cap",
    "student_t_floored_cap",
]


def population_gibbs(ctx: EvidenceContext) -> list[Evidence]:
    """Gibbs' inequality bounds the population objective; both hypotheses are needed."""
    f = PopulationFacts.of(ctx.derivation("population"))
    return [
        Evidence("symbolic",
                 f"Gibbs: log t <= t - 1 ({f.log_inequality}) gives E_p[log q] <= -h(p) for every "
                 f"model density q; the ELBO is <= log p_theta(x) (gap = KL >= 0: "
                 f"{f.elbo_gap_nonnegative}, 0 at the exact posterior: "
                 f"{f.elbo_gap_zero_at_posterior}); on p = N(0, 1) the Gaussian family's best "
                 f"E_p[log q] is -h(p) at q = p ({f.gaussian_sup_is_minus_entropy}), and a "
                 f"collapsing variance sends it to {f.density_collapse_limit}.",
                 f.bounded_for_densities, Condition.POPULATION_DENSITY),
        Evidence("symbolic",
                 f"On a finite training set (no density) the same family with the mean at each "
                 f"point has average log-density -> {f.empirical_collapse_limit} as the variance "
                 f"-> 0.", f.empirical_collapse_limit != "oo", Condition.FINITE_SAMPLE),
        Evidence("symbolic",
                 f"Finite entropy is needed: p(x) = 1/(x log^2 x) on (0, 1/e) is a density "
                 f"(mass 1: {f.heavy_density_normalised}) with E_p[log p] = "
                 f"{f.heavy_density_negentropy}, so q = p already has an infinite objective.",
                 f.heavy_density_negentropy != "oo", Condition.INFINITE_NEGENTROPY),
    ]


def dequantisation_bound(ctx: EvidenceContext) -> list[Evidence]:
    """Fresh noise: Gibbs against the uniform-cell population; static noise: a finite set."""
    f = DequantisationFacts.of(ctx.derivation("dequantisation"))
    return [
        Evidence("symbolic",
                 f"Fresh noise makes the data the density p = (1/n) sum_i U(cell_i), with "
                 f"-h(p) = D log(1/Delta) - log n ({f.entropy_matches}); by Gibbs every model "
                 f"has expected objective <= that per point (attained by q = p). A collapsing "
                 f"Gaussian variance sends the expected log-density to {f.collapse_limit_fresh}; "
                 f"the best Gaussian falls {f.best_gaussian_gap_per_pixel:.4f} nats per pixel "
                 f"short. Digits (D = 64, Delta = 1/17, n = 16): {f.digits_bound_per_point:.2f} "
                 f"nats per point ({f.digits_bound_without_log_n:.2f} = 64 log 17 without "
                 f"-log n).",
                 f.entropy_matches and f.collapse_limit_fresh == "-oo",
                 Condition.FRESH_DEQUANTISATION),
        Evidence("symbolic",
                 f"Noise drawn once is a fixed finite set: with the mean at each point the "
                 f"log-density per pixel -> {f.collapse_limit_static} as the variance -> 0, so "
                 f"static dequantisation bounds nothing (as the statement says).",
                 f.collapse_limit_static == "oo", Condition.STATIC_DEQUANTISATION),
    ]


def discretised_cap(ctx: EvidenceContext) -> list[Evidence]:
    """A pmf per pixel: log P <= 0, sup -n log n for the marginal of n distinct points."""
    f = DiscretisedFacts.of(ctx.derivation("discretised"))
    return [Evidence(
        "symbolic",
        f"log P <= 0 for a mass P in (0, 1] ({f.pmf_log_nonpositive}), so the ELBO <= "
        f"log p(x) <= 0 whatever the scale; a bin-integrated Gaussian's own-bin mass tends to "
        f"{f.gaussian_bin_mass_limit} as its scale -> 0 and stays < 1 "
        f"({f.gaussian_bin_mass_below_one}); the discretised logistic's tends to "
        f"{f.logistic_bin_mass_limit}. Sharper, the marginal over n distinct points is a pmf: "
        f"sum_i log p(x_i) <= {f.marginal_sup_total} (p_i = 1/n: "
        f"{f.marginal_optimum_equal_masses}; {f.marginal_sup_n16:.2f} nats for n = 16), a "
        f"supremum that sigmoid, softmax or positive-scale bins never attain. Bounded does "
        f"not mean a maximiser exists: the supremum is approached at memorised points (the "
        f"NPMLE value of Mattei & Frellsen 2018, section 2.2), so the collapse direction "
        f"remains; what stalls it in practice is that a bin-integrated Gaussian's gradient "
        f"along it vanishes like exp(-Delta^2/(8 s^2)) (log|gradient| / (Delta^2/(8 s^2)) -> "
        f"{f.gaussian_bin_gradient_exponent}).",
        f.bounded_by_zero, Condition.PMF_DECODER)]


def continuous_bernoulli_normaliser(ctx: EvidenceContext) -> list[Evidence]:
    """C(l), the density at 0 diverging like log log(1/l), the interior cap, torch's clamp."""
    f = ContinuousBernoulliFacts.of(ctx.derivation("continuous-bernoulli"))
    return [
        Evidence("symbolic",
                 f"C(l) = 2 artanh(1 - 2l)/(1 - 2l) re-derived by integration "
                 f"({f.normaliser_matches_paper}), C(1/2) = {f.normaliser_at_half}. At an exact "
                 f"0, log p(0 | l) = log C(l) + log(1 - l) -> {f.density_at_zero_limit} as "
                 f"l -> 0, like log log(1/l) (remainder -> {f.rate_remainder_limit}).",
                 not f.unbounded_on_exact_endpoints, Condition.CONTINUOUS_BERNOULLI_ENDPOINTS),
        Evidence("symbolic",
                 f"On [delta, 1 - delta] the log-density is linear in x and -> -oo at both "
                 f"ends of l ({f.interior_limits_minus_infinity}); for delta = 1/512 its "
                 f"supremum is {f.interior_sup_per_pixel:.4f} nats per pixel, at "
                 f"l = {f.interior_argmax:.3g} (below float64's smallest normal when delta is "
                 f"this small).",
                 f.interior_limits_minus_infinity, Condition.CONTINUOUS_BERNOULLI_INTERIOR),
        Evidence("symbolic",
                 f"PyTorch's ContinuousBernoulli clamps probs at finfo.eps in the normaliser, "
                 f"so its log_prob is capped at log C(eps) = {f.torch_cap_float32:.4f} "
                 f"(float32) or {f.torch_cap_float64:.4f} (float64) nats per pixel: bounded as "
                 f"implemented, not as a model.",
                 math.isfinite(f.torch_cap_float32) and math.isfinite(f.torch_cap_float64),
                 Condition.TORCH_CONTINUOUS_BERNOULLI),
    ]


def gaussian_nll_eps_gradient(ctx: EvidenceContext) -> list[Evidence]:
    """The clamp under no_grad floors the loss value; the gradient still lowers the variance."""
    f = GaussianNllEpsFacts.of(ctx.derivation("gaussian-nll-eps"))
    return [
        Evidence("symbolic",
                 f"PyTorch clamps a clone of the variance under no_grad, so dloss/dv below eps "
                 f"is {f.gradient_below_eps} (Jacobian 1), positive whenever r^2 < eps "
                 f"({f.gradient_below_eps_positive}); stationary points in (0, eps): "
                 f"{f.stationary_points_below_eps}. A log-variance head follows "
                 f"v(t) = 1/(1/v0 + g t) ({f.log_variance_flow_solves}) -> "
                 f"{f.log_variance_flow_limit}; a raw variance head hits 0 at t = "
                 f"{f.raw_variance_zero_time}.",
                 f.variance_floored, Condition.GAUSSIAN_NLL_EPS_VARIANCE),
        Evidence("symbolic",
                 f"The value is floored: loss >= {f.loss_floor_per_element} per element "
                 f"({f.loss_floor_eps_1e6:.4f} for eps = 1e-6, full=False).",
                 math.isfinite(f.loss_floor_eps_1e6), Condition.GAUSSIAN_NLL_EPS_LOSS),
    ]


def softclip_cap(ctx: EvidenceContext) -> list[Evidence]:
    """The soft clip keeps log sigma above -6: cap 6 - log(2 pi)/2 per pixel."""
    f = SoftclipFacts.of(ctx.derivation("softclip"))
    return [Evidence(
        "symbolic",
        f"-6 + softplus(t + 6) > -6 for every raw t ({f.clipped_above_min}), so the variance is "
        f"> {f.floor_variance:.3g} and each pixel's log-density < {f.cap_per_pixel:.4f} nats, "
        f"approached ({f.cap_approached}) but not attained ({not f.cap_attained}); the clip's "
        f"slope -> {f.clip_gradient_limit}, so the collapse stalls. Relative to data of "
        f"per-pixel variance 1 the cap is {f.cap_above_gaussian_fit_unit_variance:.2f} nats per "
        f"pixel above the best Gaussian fit (the floor is absolute: on data scaled to "
        f"variance s2 the margin is (1/2) log(s2 e^12) + 1/2).",
        f.bounded, Condition.SOFTCLIP)]


def beta_nll_fixed_point(ctx: EvidenceContext) -> list[Evidence]:
    """beta-NLL keeps the NLL's stationary variance r^2; with r = 0 the flow goes to 0."""
    f = BetaNllFacts.of(ctx.derivation("beta-nll"))
    return [Evidence(
        "symbolic",
        f"The stop-gradient weight v^beta rescales the gradient by a positive factor: the "
        f"stationary variance is v* = {f.stationary_variance}, the NLL's for every beta "
        f"({f.same_as_nll}). With a memorised mean the gradient is positive for all v "
        f"({f.memorised_gradient_positive}) and the flow v(t) = (v0^-beta + beta t/2)^(-1/beta) "
        f"({f.flow_solves}) -> {f.flow_limit}: under plain gradient descent a power law instead of "
        f"an exponential, slowed not stopped (Adam, nearly blind to the factor v^beta, keeps it "
        f"falling about linearly: see the measured dynamics). The model's log-likelihood -> "
        f"{f.loglik_limit} while the reported "
        f"beta-NLL value -> {f.weighted_loss_limit}.",
        f.prevents_collapse, Condition.BETA_NLL)]


def student_t_floored_cap(ctx: EvidenceContext) -> list[Evidence]:
    """Floored scale: cap log c(nu) - log s_min, uniform in nu."""
    f = StudentTFlooredFacts.of(ctx.derivation("student-t-floored"))
    return [
        Evidence("symbolic",
                 f"The Student-t log-density peaks at its centre ({f.argmax_is_centre}) at "
                 f"log c(nu) - log s, decreasing in s ({f.max_decreasing_in_scale}); c(nu) -> "
                 f"{f.c_limit} = 1/sqrt(2 pi) and increases in nu (grid check: "
                 f"{f.c_increasing_on_grid}), so s >= s_min caps every nu at "
                 f"-log(2 pi)/2 - log s_min ({f.cap_any_nu_scale_1e3:.4f} nats per pixel for "
                 f"s_min = 1e-3; nu = 3: {f.cap_nu3_scale_1e3:.4f}; nu = 3, s^2 >= 1e-3, D = 64: "
                 f"{f.cap_nu3_scale2_1e3_d64:.1f} per point).",
                 f.bounded, Condition.STUDENT_T_FLOORED),
        Evidence("symbolic",
                 f"Without the floor the same peak -> {f.unfloored_limit} as s -> 0.",
                 f.unfloored_limit != "oo", Condition.STUDENT_T),
    ]


def mixture_analogy(ctx: EvidenceContext) -> list[Evidence]:
    """The question's Gaussian-mixture analogy, derived (does not vote on the question)."""
    f = MixtureFacts.of(ctx.derivation("mixture"))
    return [
        Evidence("symbolic",
                 f"A two-component mixture with one component on a data point and variance "
                 f"eps has log-likelihood >= (1/2) log(1/eps) + const (rate {f.mixture_rate}, "
                 f"limit {f.mixture_limit}). A VAE's marginal is a continuous mixture: a "
                 f"decoder constant on z < 0 and z >= 0 is this mixture with weights "
                 f"{f.step_decoder_weights}.",
                 f.mixture_limit == "oo", Condition.GAUSSIAN_MIXTURE),
        Evidence("symbolic",
                 f"One Gaussian on n >= 2 distinct points is bounded: its only critical point "
                 f"is the sample mean and spread ({f.mle_is_mean_and_spread}), a maximum "
                 f"({f.mle_is_maximum}), of value {f.single_gaussian_max}; the collapse gives "
                 f"{f.single_gaussian_collapse_limit}.",
                 None, Condition.SINGLE_GAUSSIAN),
        Evidence("symbolic",
                 f"K components with one shared variance on n distinct points: bounded iff n > K. "
                 f"For K < n some point is >= delta/2 from every mean (pigeonhole), so the "
                 f"log-likelihood is <= -(n/2) log(2 pi v) - delta^2/(8 v), whose maximum over v is "
                 f"{f.shared_k_below_n_max} (finite: {f.shared_k_below_n_bounded}); for K = n the "
                 f"lower bound n(-log n - log(2 pi)/2 + log(1/v)/2) -> {f.shared_k_equals_n_limit} "
                 f"(K = n = 3 on x = (0, 1, 3): {f.shared_k_equals_n_values} at v = "
                 f"1e-10, 1e-100, 1e-1000, mpmath). A VAE is an infinite mixture, K > n.",
                 f.shared_bounded_iff_n_above_k, Condition.SHARED_VARIANCE_MIXTURE),
    ]
