"""The claims of THEORY.md section 2, each with the computations that decide it.

After the thread's claims, a block of eight claims beyond the thread (the population
objective, dequantisation and the remedies practitioners write; docs/theory.md section 6).

Statements are the project's own paraphrases.  Ids are exactly those of THEORY.md.
The order follows the discussion: the question, the three answers and the comment,
then the remedies.
"""

from __future__ import annotations

from vaeproofs.claims import construction_evidence as hp
from vaeproofs.claims import numeric_evidence as num
from vaeproofs.claims import remedy_construction_evidence as rhp
from vaeproofs.claims import remedy_symbolic_evidence as rsym
from vaeproofs.claims import symbolic_evidence as sym
from vaeproofs.claims import training_evidence as tr
from vaeproofs.claims.claim import Claim
from vaeproofs.claims.conditions import Condition

__all__ = ["CLAIMS", "claim_ids"]

SEED = "public Q&A thread on the ill-posedness of Gaussian VAEs (shared/seed)"

CLAIMS: tuple[Claim, ...] = (
    Claim(
        id="question.ill-posed",
        statement="If the decoder learns its variance, a decoder that reproduces one training "
        "point exactly can let that point's variance go to zero; the likelihood and the ELBO then "
        "have no upper bound, so, as for Gaussian-mixture maximum likelihood, no maximiser exists.",
        source=f"the question of the {SEED}, on the Gaussian decoder of Kingma & Welling "
        "(arXiv 1312.6114, appendix C.2)",
        scope=Condition.FLEXIBLE_LEARNED_VARIANCE,
        gatherers=(hp.likelihood_diverges, hp.elbo_diverges, tr.memorisation_passes_floor_cap,
                   rsym.mixture_analogy, rhp.gmm_diverges),
    ),
    Claim(
        id="question.mse-is-fixed-variance",
        statement="The usual decoder that outputs only a mean and is trained with squared error "
        "is the Gaussian decoder with its covariance fixed to the identity.",
        source=f"the question of the {SEED}",
        scope=Condition.MEAN_ONLY_SQUARED_ERROR,
        gatherers=(sym.squared_error_is_fixed_gaussian, num.squared_error_losses),
    ),
    Claim(
        id="answer1.likelihood-unbounded",
        statement="Maximum likelihood is ill-posed for deep latent variable models with Gaussian "
        "outputs: on a fixed finite data set the likelihood has no upper bound.",
        source=f"first answer of the {SEED}, citing Mattei & Frellsen, NeurIPS 2018 "
        "(arXiv 1802.04826), section 2.1",
        scope=Condition.FLEXIBLE_LEARNED_VARIANCE,
        gatherers=(hp.likelihood_diverges, tr.memorisation_passes_floor_cap),
    ),
    Claim(
        id="answer1.eigenvalue-floor-bounds",
        statement="Requiring every eigenvalue of the decoder covariance to be at least xi > 0 "
        "makes the objective bounded.",
        source=f"first answer of the {SEED}, citing Mattei & Frellsen 2018, section 2.1",
        scope=Condition.FLOORED,
        gatherers=(sym.floor_cap, hp.floored_bounded, tr.floor_stays_under_cap),
    ),
    Claim(
        id="answer1.discrete-well-posed",
        statement="For discrete data, for example binary data with a Bernoulli decoder, the "
        "objective is bounded, so the problem is well-posed.",
        source=f"first answer of the {SEED}, citing Mattei & Frellsen 2018, section 2.1",
        scope=Condition.BERNOULLI,
        gatherers=(sym.bernoulli_cap, hp.bernoulli_bounded, tr.bernoulli_stays_under),
    ),
    Claim(
        id="answer1.elbo-unbounded",
        statement="The KL term does not rescue the objective: the VAE's ELBO itself is "
        "unbounded above.",
        source=f"first answer of the {SEED}, citing Dai, Wang, Aston, Hua & Wipf, JMLR 19(41), "
        "2018, Theorem 5",
        scope=Condition.FLEXIBLE_LEARNED_VARIANCE,
        gatherers=(hp.elbo_diverges, tr.memorisation_passes_floor_cap),
    ),
    Claim(
        id="answer2.kl-keeps-well-posed",
        statement="The KL term acts as a coding cost that makes very narrow posteriors expensive, "
        "and this keeps the problem well-defined.",
        source=f"second answer of the {SEED}",
        scope=Condition.FLEXIBLE_LEARNED_VARIANCE,
        gatherers=(sym.answer2_identity_mean_bounded, sym.answer2_learnable_mean_unbounded,
                   hp.elbo_bounded_claim_refuted),
    ),
    Claim(
        id="answer2.critical-point",
        statement="In the answer's 1-D example (one point x = 0, prior N(0, 1), posterior "
        "N(0, s^2), identity decoder mean, decoder precision proportional to lambda) the best "
        "posterior scale is s* = (2 lambda')^(-1/2) with lambda' = lambda - 1/2, for lambda > 1/2.",
        source=f"second answer of the {SEED}",
        scope=Condition.ANSWER2_EXAMPLE,
        gatherers=(sym.answer2_critical_point, sym.answer2_sign_slip),
    ),
    Claim(
        id="comment.fixed-sigma-large-lambda-unbounded",
        statement="In that 1-D example, holding the posterior scale fixed and letting lambda grow "
        "without limit makes the objective unbounded.",
        source=f"comment on the second answer of the {SEED}",
        scope=Condition.ANSWER2_EXAMPLE,
        gatherers=(sym.comment_fixed_s_limit,),
    ),
    Claim(
        id="answer3.variance-shrinkage",
        statement="Training the decoder's mean and variance jointly drives the variance toward "
        "zero, and the KL term cannot prevent it.",
        source=f"third answer of the {SEED}, citing Akrami, Joshi, Aydore & Leahy 2020 "
        "(arXiv 2010.09042)",
        scope=Condition.PER_PIXEL_TRAINED,
        gatherers=(tr.variance_shrinks, hp.elbo_diverges),
    ),
    Claim(
        id="remedy.shared-variance-bounded",
        statement="A single learned variance shared by every pixel and every data point makes the "
        "objective bounded, even for a flexible decoder.",
        source="a remedy used in practice (e.g. the sigma-VAE of Rybkin, Daniilidis & Levine "
        "2021); THEORY.md section 2",
        scope=Condition.SHARED_FLEXIBLE,
        gatherers=(sym.shared_variance_profile, hp.shared_variance_diverges,
                   tr.shared_variance_training),
    ),
    Claim(
        id="remedy.shared-variance-linear",
        statement="With a linear decoder and one shared learned variance, the ELBO is bounded "
        "exactly when the data covariance has rank greater than the latent dimension k.",
        source="Tipping & Bishop 1999 (pPCA); Lucas, Tucker, Grosse & Norouzi, NeurIPS 2019; "
        "Dai & Wipf, ICLR 2019; THEORY.md section 2",
        scope=Condition.LINEAR_SHARED,
        gatherers=(sym.ppca_attained, sym.ppca_degenerate, hp.linear_degenerate,
                   num.ppca_bounded_when_rank_exceeds_k),
    ),
    Claim(
        id="remedy.student-t-bounded",
        statement="Replacing the Gaussian decoder by a Student-t decoder with a learned scale "
        "makes the objective bounded.",
        source="a remedy proposed in the literature (Takahashi et al., IJCAI 2018); THEORY.md "
        "section 2",
        scope=Condition.STUDENT_T,
        gatherers=(hp.student_t, tr.student_t_training),
    ),
    Claim(
        id="remedy.fixed-variance-is-beta-vae",
        statement="Fixing the decoder variance to s0^2 turns the VAE into a beta-VAE on squared "
        "error with beta = 2 s0^2.",
        source="THEORY.md section 2 (standard equivalence; Higgins et al., ICLR 2017 for beta-VAE)",
        scope=Condition.FIXED_VARIANCE,
        gatherers=(sym.fixed_variance_beta, num.beta_vae_losses, tr.fixed_stays_under),
    ),
    # -- beyond the thread: the population objective and the remedies practitioners write --
    Claim(
        id="population.density-bounded",
        statement="When the objective is the expectation over a data distribution with a "
        "density and finite differential entropy (not a finite sample), the ELBO is bounded "
        "above for every decoder family, a per-pixel learned variance included.",
        source="Gibbs' inequality (Cover & Thomas 2006, theorem 2.6.3); used for dequantised "
        "data by Theis, van den Oord & Bethge, ICLR 2016, section 3.1",
        scope=Condition.POPULATION_DENSITY,
        gatherers=(rsym.population_gibbs, rhp.population_fresh_noise),
    ),
    Claim(
        id="remedy.fresh-dequantisation-bounded",
        statement="Dequantising integer-valued data with uniform noise drawn afresh at every "
        "step bounds the expected objective (by D log(1/Delta) - log n per point for n distinct "
        "grid points of spacing Delta in D dimensions), while noise drawn once and kept does not.",
        source="Theis, van den Oord & Bethge, 'A note on the evaluation of generative models', "
        "ICLR 2016, section 3.1",
        scope=Condition.FRESH_DEQUANTISATION,
        gatherers=(rsym.dequantisation_bound, rhp.fresh_against_static),
    ),
    Claim(
        id="remedy.discretised-likelihood-bounded",
        statement="A decoder that gives each pixel a probability mass function (categorical, "
        "discretised logistic, a Gaussian integrated over the quantisation bins) has an "
        "objective <= 0, whatever its learned scale.",
        source="Salimans, Karpathy, Chen & Kingma, PixelCNN++, ICLR 2017, section 2.1 "
        "(discretised logistic); Mattei & Frellsen, NeurIPS 2018, section 2.1 (discrete outputs)",
        scope=Condition.PMF_DECODER,
        gatherers=(rsym.discretised_cap, rhp.discretised_pmf_bounded),
    ),
    Claim(
        id="remedy.continuous-bernoulli-bounded",
        statement="A continuous Bernoulli decoder on data in [0, 1] has a bounded objective.",
        source="a belief about Loaiza-Ganem & Cunningham, 'The continuous Bernoulli: fixing a "
        "pervasive error in variational autoencoders', NeurIPS 2019 (the paper fixes the "
        "normalisation, it does not claim boundedness)",
        scope=Condition.CONTINUOUS_BERNOULLI_ENDPOINTS,
        gatherers=(rsym.continuous_bernoulli_normaliser, rhp.continuous_bernoulli_diverges),
    ),
    Claim(
        id="remedy.gaussian-nll-eps-floors-variance",
        statement="PyTorch's GaussianNLLLoss(eps=...) puts a floor under the decoder's variance.",
        source="PyTorch documentation, torch.nn.GaussianNLLLoss (the clamp is described as for "
        "stability, with gradients unaffected)",
        scope=Condition.GAUSSIAN_NLL_EPS_VARIANCE,
        gatherers=(rsym.gaussian_nll_eps_gradient, rhp.gaussian_nll_eps_loss_and_variance),
    ),
    Claim(
        id="remedy.softclip-bounded",
        statement="Soft-clipping log sigma from below, as the sigma-VAE code does "
        "(log sigma -> -6 + softplus(log sigma + 6)), bounds the objective.",
        source="Rybkin, Daniilidis & Levine, sigma-VAE, ICML 2021; reference code "
        "orybkin/sigma-vae-pytorch, model.py",
        scope=Condition.SOFTCLIP,
        gatherers=(rsym.softclip_cap, rhp.softclip_bounded),
    ),
    Claim(
        id="remedy.beta-nll-bounds",
        statement="beta-NLL (each point's Gaussian NLL multiplied by stopgrad(sigma^(2 beta))) "
        "prevents the variance collapse.",
        source="a belief about Seitzer, Tavakoli, Antic & Martius, ICLR 2022 (the paper targets "
        "under-fitted means, not the collapse)",
        scope=Condition.BETA_NLL,
        gatherers=(rsym.beta_nll_fixed_point, rhp.beta_nll_memorising),
    ),
    Claim(
        id="remedy.student-t-floored-bounded",
        statement="A Student-t decoder whose scale is floored (scale >= s_min > 0) has a "
        "bounded objective, for any degrees of freedom.",
        source="Takahashi, Iwata, Yamanaka, Yamada & Yagi, IJCAI 2018 (the decoder family); "
        "floors as in MIWAE and TensorFlow Probability examples",
        scope=Condition.STUDENT_T_FLOORED,
        gatherers=(rsym.student_t_floored_cap, rhp.student_t_floored_bounded),
    ),
)


def claim_ids() -> list[str]:
    """The ids of every claim, in order."""
    return [c.id for c in CLAIMS]
