"""The heteroscedastic-regression analogue of the collapse ("heteroscedastic").

A mean-variance regressor predicts N(y; mu(x), v(x)) and is fitted by the Gaussian NLL on
pairs (x_i, y_i) (Nix & Weigend 1994).  A *flexible* regressor can give each distinct input
its own (mu, v), so the supremum of the total log-likelihood splits over the distinct
inputs; for one input with targets y_1..y_m (mean ybar, S = sum_j (y_j - ybar)^2 = m s^2):

- l(mu, v) = -(m/2) log(2 pi v) - (S + m (mu - ybar)^2)/(2 v) has its only critical point at
  mu = ybar, v = s^2 when S > 0, a global maximum of value -(m/2)(log(2 pi s^2) + 1) (the
  single-Gaussian maximum of derivation "mixture"); when S = 0 (one target, or all equal)
  l(ybar, v) = -(m/2) log(2 pi v) -> +oo as v -> 0;
- so the supremum is +oo iff some distinct input has all its targets equal, always for
  distinct inputs (m = 1 each), and finite iff every distinct input has >= 2 distinct
  targets;
- a floor v >= xi moves the maximiser to v = max(xi, s^2) and caps the log-likelihood at
  -(1/2) log(2 pi xi) per point;
- the training methods proposed against the collapse -- mean first (Nix & Weigend 1994;
  Skafte, Jorgensen & Hauberg, NeurIPS 2019), beta-NLL (Seitzer et al., ICLR 2022), and
  "faithful" training (Stirn et al., AISTATS 2023: the mean's update that of squared error,
  the variance's that of the NLL) -- follow other update fields whose zeros are the
  same (ybar, s^2), and which, like the NLL's, push v -> 0 when S = 0: they change the
  path, not the supremum (a property of the model's likelihood, which none of them alters).

Conventions: natural log; v, s^2, xi are VARIANCES; S is a sum of squares, s^2 = S/m the
1/m empirical variance; log-likelihoods are totals over a group unless "per point".
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from vaeproofs.symbolic.derivation import Derivation, DerivationBuilder, equation
from vaeproofs.symbolic.facts import FactRecord
from vaeproofs.symbolic.mixture import single_gaussian_max
from vaeproofs.symbolic.sources import NIX_WEIGEND, SEITZER, SKAFTE, STIRN

__all__ = ["HeteroscedasticFacts", "derive_heteroscedastic", "group_sup"]


def group_sup(m: int | sp.Expr, spread: sp.Expr, xi: sp.Expr = sp.S.Zero) -> sp.Expr:
    """sup over mu and v >= xi of one input's log-likelihood (S = ``spread``, m targets).

    ``-(m/2)(log(2 pi S/m) + 1)`` when S/m >= xi and S > 0; ``-(m/2)(log(2 pi xi) + S/(m xi))``
    when S/m < xi; ``oo`` when S = 0 and xi = 0 (derived in :func:`derive_heteroscedastic`).
    """
    m, spread, xi = sp.sympify(m), sp.sympify(spread), sp.sympify(xi)
    if spread == 0 and xi == 0:
        return sp.oo
    if xi != 0 and spread / m < xi:
        return -m / 2 * (sp.log(2 * sp.pi * xi) + spread / (m * xi))
    return single_gaussian_max(m, spread)


@dataclass(frozen=True)
class HeteroscedasticFacts(FactRecord):
    """Facts of :func:`derive_heteroscedastic`.

    Attributes:
        group_max_is_mean_and_variance: the only critical point is mu = ybar, v = S/m.
        group_max_is_global: the Hessian there is negative definite and l -> -oo as v -> 0
            and as v -> oo (S > 0), so the critical point is the global maximum.
        group_max: the maximum, as text.
        group_max_matches_single_gaussian: it equals derivation "mixture"'s single-Gaussian
            maximum -(m/2)(log(2 pi S/m) + 1).
        degenerate_limit: l(ybar, v) as v -> 0 when S = 0 ("oo").
        distinct_inputs_sup: the supremum of n distinct inputs' total ("oo").
        replicated_example_sup: two inputs with targets (1, 2, 4) and (0, 3), as text.
        floor_argmax_clipped: on v >= xi the maximiser is v = max(xi, S/m) (dl/dv < 0 above S/m).
        floor_cap_per_point: the floored supremum's bound per point, as text.
        floor_cap_xi_1e2: -(1/2) log(2 pi 1e-2), nats per point.
        methods_share_stationary_point: the update fields of mean-first, beta-NLL and faithful
            training vanish exactly at (ybar, S/m) when S > 0.
        methods_collapse_when_degenerate: with S = 0 every field has no zero with v > 0 and
            moves v down at mu = ybar.
    """

    group_max_is_mean_and_variance: bool
    group_max_is_global: bool
    group_max: str
    group_max_matches_single_gaussian: bool
    degenerate_limit: str
    distinct_inputs_sup: str
    replicated_example_sup: str
    floor_argmax_clipped: bool
    floor_cap_per_point: str
    floor_cap_xi_1e2: float
    methods_share_stationary_point: bool
    methods_collapse_when_degenerate: bool

    @property
    def holds(self) -> bool:
        """Finite iff every input has spread; +oo for distinct inputs; methods change the path;
        a floor caps it."""
        return (self.group_max_is_mean_and_variance and self.group_max_is_global
                and self.group_max_matches_single_gaussian and self.degenerate_limit == "oo"
                and self.distinct_inputs_sup == "oo" and self.replicated_example_sup != "oo"
                and self.floor_argmax_clipped and self.methods_share_stationary_point
                and self.methods_collapse_when_degenerate)


def _methods(d: DerivationBuilder, ll: sp.Expr, mu: sp.Symbol, v: sp.Symbol, m: sp.Symbol,
             S: sp.Symbol, ybar: sp.Symbol) -> tuple[bool, bool]:
    """The update fields (ascent directions in (mu, v)) of each training method."""
    beta = sp.Symbol("beta", positive=True)
    grad = (sp.diff(ll, mu), sp.diff(ll, v))
    mse_mu = m * (ybar - mu)                       # -d/dmu of (1/2) sum_j (y_j - mu)^2
    fields = {
        "NLL": grad,
        "beta-NLL (weight stopgrad(v^beta))": (v**beta * grad[0], v**beta * grad[1]),
        "mean first, then NLL (phase 1: squared error)": (mse_mu, sp.S.Zero),
        "faithful (mean: squared error; variance: NLL)": (mse_mu, grad[1]),
    }
    shared = True
    for name, (f_mu, f_v) in fields.items():
        # zeros with v > 0: the mean's field first (each moves the mean alone), then the
        # variance's at that mean (sympy's solve also offers v = 0**(...), outside v > 0)
        mus = sp.solve(f_mu, mu)
        if f_v == 0:
            sols = [sp.Tuple(x) for x in mus]
            target = [sp.Tuple(ybar)]
        else:
            sols = [sp.Tuple(x, root) for x in mus for root in sp.solve(sp.factor(f_v.subs(mu, x)), v)
                    if root.is_positive]
            target = [sp.Tuple(ybar, S / m)]
        shared = shared and sols == target
        d.step(f"{name}: the field's zeros with v > 0", equation(sp.Symbol("zeros"), sp.Tuple(*sols)))
    # S = 0: the v-fields at mu = ybar, and their zeros with v > 0.
    collapse = True
    for _f_mu, f_v in fields.values():
        if f_v == 0:
            continue
        at = sp.simplify(f_v.subs({S: 0, mu: ybar}))
        collapse = collapse and bool(at.is_negative)   # negative for every v > 0: no zero
    d.step("With S = 0 every variance field at μ = ȳ is negative with no zero for v > 0 (the "
           "NLL's: −m/(2v)): every method still sends v to 0; beta-NLL rescales its speed.")
    return shared, collapse


def derive_heteroscedastic() -> Derivation:
    """Derive the per-input supremum, when it is infinite, the floor's cap, and the methods.

    results: ``group_loglik``, ``group_max``.  facts: :class:`HeteroscedasticFacts`.
    """
    m = sp.Symbol("m", positive=True, integer=True)
    S, v, xi = sp.symbols("S v xi", positive=True)
    mu, ybar = sp.symbols("mu ybar", real=True)
    d = DerivationBuilder(name="heteroscedastic", title="Heteroscedastic regression: sup of the "
                          "Gaussian log-likelihood, per distinct input", sources=[
                              NIX_WEIGEND, SKAFTE, SEITZER, STIRN])
    ll = -m / 2 * sp.log(2 * sp.pi * v) - (S + m * (mu - ybar)**2) / (2 * v)
    d.step("One distinct input with targets y_1..y_m (mean ȳ, S = Σ(y_j − ȳ)²); a flexible "
           "regressor sets its (μ, v) freely:", equation(sp.Symbol("ℓ(μ, v)"), ll))
    crit = sp.solve([sp.diff(ll, mu), sp.diff(ll, v)], [mu, v], dict=True)
    point = {mu: ybar, v: S / m}
    hess = sp.simplify(sp.hessian(ll, (mu, v)).subs(point))
    neg_def = bool(hess[0, 0].is_negative) and bool(sp.simplify(hess.det()).is_positive)
    ends = (sp.limit(ll.subs(mu, ybar), v, 0, "+"), sp.limit(ll.subs(mu, ybar), v, sp.oo))
    best = sp.simplify(ll.subs(point))
    d.step("S > 0: the only critical point is μ = ȳ, v = S/m (Hessian there), and ℓ → −∞ at "
           "both ends of v, so it is the global maximum:",
           sp.Tuple(equation(sp.Symbol("H"), hess), equation(sp.Symbol("max ℓ"), best)))
    matches = sp.simplify(sp.expand_log(best - single_gaussian_max(m, S), force=True)) == 0
    degenerate = sp.limit(ll.subs({S: 0, mu: ybar}), v, 0, "+")
    d.step("S = 0 (one target, or all equal): with μ = ȳ the variance collapses",
           equation(sp.Limit(sp.Symbol("ℓ(ȳ, v)"), v, 0, "+"), degenerate))
    n = sp.Symbol("n", positive=True, integer=True)
    distinct = sp.limit(n * ll.subs({m: 1, S: 0, mu: ybar}), v, 0, "+")
    example = group_sup(3, sp.Rational(14, 3)) + group_sup(2, sp.Rational(9, 2))
    d.step("The supremum is the sum over distinct inputs: +∞ iff some input has S = 0. For n "
           "distinct inputs (m = 1 each) it is +∞; for targets (1, 2, 4) and (0, 3) at two "
           "inputs it is finite:", sp.Tuple(equation(sp.Symbol("sup, distinct"), distinct),
                                            equation(sp.Symbol("sup, example"), example)))
    dv = sp.factor(sp.diff(ll.subs(mu, ybar), v))
    above = sp.factor(dv.subs(v, S / m + sp.Symbol("e", positive=True)))
    clipped = bool(above.is_negative)
    capped = -m / 2 * (sp.log(2 * sp.pi * xi) + S / (m * xi))
    d.step("A floor v ≥ ξ: dℓ/dv < 0 for v > S/m, so the maximiser is v = max(ξ, S/m); when "
           "S/m < ξ the value is the first expression, ≤ −(m/2) log(2πξ); per point:",
           sp.Tuple(equation(sp.Symbol("dℓ/dv"), dv), equation(sp.Symbol("sup ℓ, S/m < ξ"), capped),
                    equation(sp.Symbol("cap per point"), -sp.log(2 * sp.pi * xi) / 2)))
    cap = -sp.log(2 * sp.pi * sp.Rational(1, 100)) / 2
    shared, collapse = _methods(d, ll, mu, v, m, S, ybar)
    d.results.update(group_loglik=ll, group_max=best)
    facts = HeteroscedasticFacts(
        group_max_is_mean_and_variance=crit == [point],
        group_max_is_global=neg_def and ends == (-sp.oo, -sp.oo),
        group_max=sp.sstr(best),
        group_max_matches_single_gaussian=bool(matches),
        degenerate_limit=sp.sstr(degenerate),
        distinct_inputs_sup=sp.sstr(distinct),
        replicated_example_sup=sp.sstr(sp.nsimplify(example) if example.is_finite else example),
        floor_argmax_clipped=clipped,
        floor_cap_per_point=sp.sstr(-sp.log(2 * sp.pi * xi) / 2),
        floor_cap_xi_1e2=float(cap),
        methods_share_stationary_point=bool(shared),
        methods_collapse_when_degenerate=bool(collapse),
    )
    return d.build(facts)
