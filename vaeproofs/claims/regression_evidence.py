"""Evidence for the heteroscedastic-regression analogue of the collapse.

Claim ``regression.heteroscedastic-unbounded`` (docs/theory.md section 6).  Sources: the
derivation "heteroscedastic" (:mod:`vaeproofs.symbolic.heteroscedastic`), the mpmath
sequences of :mod:`vaeproofs.constructions.regression_sequences`, and float64 torch runs
on scikit-learn's diabetes data (:mod:`vaeproofs.numeric.regression`): one free (mu, v) per
distinct input maximised by L-BFGS, and small MLP regressors trained by Adam.  As for the
VAE runs, a run that stays under a proven cap votes (passing it would refute the cap); a
finite run that passes a cap is informative only (``supports=None``).
"""

from __future__ import annotations

import math
from typing import Any

from vaeproofs.claims.conditions import Condition
from vaeproofs.claims.context import EvidenceContext
from vaeproofs.claims.verdict import Evidence
from vaeproofs.symbolic.heteroscedastic import HeteroscedasticFacts

__all__ = ["FLOOR", "regression_derived", "regression_fits", "regression_grouped",
           "regression_runs", "regression_sequences_evidence", "regression_training"]

#: The floor of the floored runs, relative to the standardised target's variance 1.
FLOOR = 1e-2


def regression_derived(ctx: EvidenceContext) -> list[Evidence]:
    """The per-input supremum, +oo iff some input has no spread; methods; the floor's cap."""
    f = HeteroscedasticFacts.of(ctx.derivation("heteroscedastic"))
    return [Evidence(
        "symbolic",
        f"Per distinct input with m targets (S = sum of squared deviations): the only critical "
        f"point is (ybar, S/m) ({f.group_max_is_mean_and_variance}), the global maximum "
        f"({f.group_max_is_global}) of value {f.group_max}, derivation mixture's single-"
        f"Gaussian maximum ({f.group_max_matches_single_gaussian}); with S = 0 the value -> "
        f"{f.degenerate_limit} as v -> 0, so n distinct inputs have supremum "
        f"{f.distinct_inputs_sup}, while targets (1, 2, 4), (0, 3) at two inputs give "
        f"{f.replicated_example_sup}. Mean-first, beta-NLL and faithful training have the "
        f"NLL's stationary point ({f.methods_share_stationary_point}) and still send v -> 0 "
        f"when S = 0 ({f.methods_collapse_when_degenerate}). A floor: maximiser v = max(xi, "
        f"S/m) ({f.floor_argmax_clipped}), cap {f.floor_cap_per_point} per point "
        f"({f.floor_cap_xi_1e2:.4f} for xi = 1e-2).",
        f.holds, Condition.REGRESSION_FLEXIBLE,
        data={"distinct_inputs_sup": f.distinct_inputs_sup, "group_max": f.group_max})]


def regression_sequences_evidence(ctx: EvidenceContext) -> list[Evidence]:
    """mpmath: one target diverges by (1/2) log 10 per decade; spread and floor stay capped."""
    from vaeproofs.constructions.regression_sequences import regression_sequences

    r = regression_sequences()
    return [Evidence(
        "high-precision",
        f"mpmath at {r.dps} digits: one target, mu = y, v = 10^-k, k = 0..24: the log-likelihood "
        f"rises by (1/2) log 10 per decade (each increment within 10^-{r.dps - 5}: "
        f"{r.single_target_diverges}) to {float(r.single_target_values[-1]):.4f}; targets "
        f"(1, 2, 4) approached from eight directions never exceed the supremum "
        f"{float(r.spread_sup):.6f} (largest excess {float(r.spread_max_excess):.1e}) and reach "
        f"it within {float(r.spread_last_gap):.1e}; with v = xi + 10^-k, xi = 1e-2, the values "
        f"stay <= -(1/2) log(2 pi xi) = {float(r.floor_cap):.6f} ({r.floored_capped}).",
        r.holds, Condition.REGRESSION_FLEXIBLE,
        data={"spread_sup": r.spread_sup, "floor_cap": r.floor_cap})]


def regression_fits(quick: bool) -> dict[str, Any]:
    """Free (mu, v) per distinct input on diabetes, by L-BFGS: the inputs of the evidence.

    The two inputs whose closed form is +inf are fitted in the full run only (they are
    informative, and cost about as much as the rest together)."""
    import numpy as np

    from vaeproofs.numeric.regression import diabetes, group_targets, grouped_fit

    x, y = diabetes()
    age = x[:, :1]
    ages, counts = np.unique(age, return_counts=True)
    keep = np.isin(age[:, 0], ages[counts >= 2])
    fits: dict[str, Any] = {
        "sex": grouped_fit(group_targets(x[:, 1:2], y)),
        "age, ages with >= 2 patients": grouped_fit(group_targets(age[keep], y[keep])),
        "all ten features, floor 1e-2": grouped_fit(group_targets(x, y), xi=FLOOR),
        "single-patient ages": [float(a) for a in ages[counts == 1]],
    }
    if not quick:   # +inf closed forms: a short run only illustrates (no vote)
        fits["age"] = grouped_fit(group_targets(age, y), max_iter=100)
        fits["all ten features"] = grouped_fit(group_targets(x, y), max_iter=100)
    return fits


def regression_grouped(ctx: EvidenceContext) -> list[Evidence]:
    """Finite closed forms are reached and never exceeded; infinite ones are passed (no vote)."""
    fits = dict(ctx.source("regression-fits"))
    singles = ", ".join(f"{a:g}" for a in fits.pop("single-patient ages"))
    finite, infinite = [], []
    for name, f in fits.items():
        text = (f"{name} ({f.groups} distinct inputs, {f.points} patients): L-BFGS reaches "
                f"{f.value:.6f} nats per point")
        if f.reaches or f.xi > 0:
            finite.append((f, text + f", closed form {f.closed_form:.6f} (reached: {f.reaches}, "
                                     f"never exceeded: {f.never_exceeds})"))
        else:
            infinite.append(text + f" when it stops ({f.iterations} evaluations); closed form "
                                   f"{f.closed_form}")
    out = [Evidence(
        "numeric",
        "Diabetes (scikit-learn, targets standardised), one free (mu, v) per distinct input: "
        + "; ".join(t for _, t in finite) + ".",
        all(f.reaches and f.never_exceeds for f, _ in finite), Condition.REGRESSION_FLEXIBLE,
        data={name: {"value": f.value, "closed_form": f.closed_form} for name, f in fits.items()})]
    if infinite:
        out.append(Evidence(
            "numeric",
            f"Where the closed form is +inf (ages {singles} have one patient each; all ten "
            f"features are distinct for every patient): " + "; ".join(infinite) + " (informative: "
            "a finite run proves no divergence).", None, Condition.REGRESSION_FLEXIBLE))
    return out


def regression_runs(quick: bool) -> list[Any]:
    """The MLP runs of :func:`regression_training`: the full run only (about 2 s of CPU, over
    ``--quick``'s budget); ``--quick`` relies on the derivation, the mpmath sequences and the
    grouped fits."""
    from vaeproofs.numeric.regression import train_regressor

    if quick:
        return []
    return [train_regressor(xi=FLOOR), train_regressor(mean_first_steps=200),
            train_regressor(n=128, steps=1500)]


def regression_training(ctx: EvidenceContext) -> list[Evidence]:
    """A floored MLP stays under -(1/2) log(2 pi xi); unfloored ones are informative."""
    out = []
    for r in ctx.source("regression-runs"):
        how = (f"mean first ({r.mean_first_steps} steps of squared error), then the NLL"
               if r.mean_first_steps else "the NLL")
        label = (f"MLP regressor on {r.n} diabetes patients (distinct inputs), {r.steps} Adam "
                 f"steps of {how}, seed {r.seed}")
        if r.xi > 0:
            out.append(Evidence(
                "numeric",
                f"{label}, variance floor xi = {r.xi:g}: best training log-likelihood "
                f"{r.best_loglik:.4f} nats per point, under the cap -(1/2) log(2 pi xi) = "
                f"{r.cap:.4f}: {r.under_cap}.", r.under_cap, Condition.REGRESSION_FLEXIBLE,
                data={"best": r.best_loglik, "cap": r.cap}))
        else:
            cap = -0.5 * math.log(2 * math.pi * FLOOR)
            passes = r.best_loglik > cap
            out.append(Evidence(
                "numeric",
                f"{label}, no floor: best training log-likelihood {r.best_loglik:.4f} nats per "
                f"point ({'passes' if passes else 'stays under'} the floored cap {cap:.4f}), "
                f"smallest variance {r.min_variance:.2e} (informative: a finite run).", None,
                Condition.REGRESSION_FLEXIBLE,
                data={"best": r.best_loglik, "min_variance": r.min_variance}))
    return out
