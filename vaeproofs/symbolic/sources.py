"""The papers the symbolic derivations reproduce, cited once for every module.

Each constant is the citation printed in a derivation's ``Sources`` list; the
section named is the one whose formula is re-derived.
"""

from __future__ import annotations

KINGMA_WELLING_KL = ("Kingma & Welling, 'Auto-Encoding Variational Bayes', arXiv 1312.6114 "
                     "(2013), appendix B (Gaussian KL in closed form)")
KINGMA_WELLING_DECODER = ("Kingma & Welling, 'Auto-Encoding Variational Bayes', arXiv 1312.6114 "
                          "(2013), appendix C.2 (Gaussian decoder)")
MATTEI_FRELLSEN = ("Mattei & Frellsen, 'Leveraging the exact likelihood of deep latent "
                   "variable models', NeurIPS 2018 (arXiv 1802.04826), section 2.1")
RYBKIN = ("Rybkin, Daniilidis & Levine, 'Simple and effective VAE training with calibrated "
          "decoders' (sigma-VAE), ICML 2021 (arXiv 2006.13202), section 3")
HIGGINS = ("Higgins et al., 'beta-VAE: learning basic visual concepts with a constrained "
           "variational framework', ICLR 2017 (beta-weighted KL)")
BOWMAN = ("Bowman, Vilnis, Vinyals, Dai, Jozefowicz & Bengio, 'Generating sentences from a "
          "continuous space', CoNLL 2016 (arXiv 1511.06349), section 3.1 (KL cost annealing: "
          "the KL weight rises from 0 to 1 during training)")
TIPPING_BISHOP = ("Tipping & Bishop, 'Probabilistic principal component analysis', "
                  "JRSS-B 61(3), 611-622 (1999), section 3.2")
LUCAS = ("Lucas, Tucker, Grosse & Norouzi, 'Don't blame the ELBO! A linear VAE perspective "
         "on posterior collapse', NeurIPS 2019, section 4")
DAI_WIPF = "Dai & Wipf, 'Diagnosing and enhancing VAE models', ICLR 2019"
ANSWER2 = ("The public Cross Validated question on whether the Gaussian VAE objective with "
           "a learned decoder variance is ill-posed: its second answer (a 1-D argument, citing "
           "no paper) and the comment under it (docs/theory.md section 2)")


def theory(where: str) -> str:
    """The citation of a part of ``docs/theory.md``, e.g. ``theory("section 3.6")``."""
    return f"vaeproofs docs/theory.md, {where}"
THEIS = ("Theis, van den Oord & Bethge, 'A note on the evaluation of generative models', "
         "ICLR 2016 (arXiv 1511.01844), section 3.1 (dequantisation and the bound)")
COVER_THOMAS = ("Cover & Thomas, 'Elements of Information Theory', 2nd ed. (2006), "
                "theorem 2.6.3 (Gibbs' inequality) and chapter 8 (differential entropy)")
MCLACHLAN_PEEL = ("McLachlan & Peel, 'Finite Mixture Models' (2000), section 3.8 "
                  "(unbounded mixture likelihood); Bishop, PRML (2006), section 9.2.1")
SALIMANS = ("Salimans, Karpathy, Chen & Kingma, 'PixelCNN++', ICLR 2017 (arXiv 1701.05517), "
            "section 2.1 (discretised logistic likelihood)")
LOAIZA_GANEM = ("Loaiza-Ganem & Cunningham, 'The continuous Bernoulli: fixing a pervasive error "
                "in variational autoencoders', NeurIPS 2019 (arXiv 1907.06845), section 3")
PYTORCH_GAUSSIAN_NLL = ("PyTorch documentation, torch.nn.GaussianNLLLoss and "
                        "torch.nn.functional.gaussian_nll_loss (var.clone(); clamp_(min=eps) "
                        "under torch.no_grad())")
RYBKIN_CODE = ("Rybkin, Daniilidis & Levine, sigma-VAE reference code (orybkin/sigma-vae-pytorch, "
               "model.py: softclip(tensor, min) = min + softplus(tensor - min), min = -6)")
SEITZER = ("Seitzer, Tavakoli, Antic & Martius, 'On the pitfalls of heteroscedastic uncertainty "
           "estimation with probabilistic neural networks', ICLR 2022 (arXiv 2203.09168), "
           "section 3 (beta-NLL)")
TAKAHASHI = ("Takahashi, Iwata, Yamanaka, Yamada & Yagi, 'Student-t variational autoencoder for "
             "robust density estimation', IJCAI 2018")
NIX_WEIGEND = ("Nix & Weigend, 'Estimating the mean and variance of the target probability "
               "distribution', IEEE ICNN 1994 (mean network trained first, then the variance)")
SKAFTE = ("Skafte, Jorgensen & Hauberg, 'Reliable training and estimation of variance networks', "
          "NeurIPS 2019 (arXiv 1906.03260), section 3 (mean-variance split training)")
STIRN = ("Stirn, Wessels, Schertzer, Pereira, Sanjana & Knowles, 'Faithful heteroscedastic "
         "regression with neural networks', AISTATS 2023 (arXiv 2212.09184): the mean's update "
         "is that of squared error, the variance's that of the NLL")
MIXTURE_DEGENERACY = ("Kiefer & Wolfowitz, 'Consistency of the maximum likelihood estimator in the "
                      "presence of infinitely many incidental parameters', Ann. Math. Statist. 27 "
                      "(1956) (unbounded normal-mixture likelihood); Day, 'Estimating the components "
                      "of a mixture of normal distributions', Biometrika 56 (1969) (the "
                      "singularities); Hathaway, 'A constrained formulation of maximum-likelihood "
                      "estimation for normal mixture distributions', Ann. Statist. 13 (1985) "
                      "(bounded under min sigma_k/sigma_l >= c > 0)")
