"""Naming the mistake: tables of rows, each a predicate on the fitted weights and a message.

A row's predicate reads the full fit's coefficients through :class:`Coefs`, which compares
them within their round-off bounds (a coefficient is "nonzero" only beyond its bound, two
are "in ratio r" only within theirs).  A part's table is a sequence of :class:`Stage` s:
in a stage either every matching row speaks (independent mistakes, e.g. a term that
should not be there) or only the first (mutually exclusive readings of one pattern, e.g.
a wrong sign versus a wrong ratio).  A row may require that no earlier stage of its part
spoke (``clean``), and a stage may end the part.

Reference forms (natural log; Kingma & Welling 2013, arXiv 1312.6114, appendix B):
-log N(x | mu, v) = 1/2 [(x - mu)^2 / v + log v + log 2 pi];
KL(N(m, s2) || N(0, 1)) = 1/2 [m^2 + s2 - 1 - log s2];
-log Bernoulli(x | p) = -x log p - (1 - x) log(1 - p).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

__all__ = ["BERNOULLI_RECON_TABLE", "GAUSSIAN_RECON_TABLE", "KL_TABLE", "Coefs", "Row",
           "Stage", "family_sign", "run_table"]


class Coefs:
    """Comparisons of fitted coefficients within their round-off bounds."""

    def __init__(self, coef: Mapping[str, float], bound: Mapping[str, float]) -> None:
        self.c, self.b = coef, bound

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


def family_sign(q: Coefs, weights: Mapping[str, float]) -> int:
    """+1 or -1 when the coefficients of ``weights``' terms are c * weights with c > 0 or
    c < 0 (c beyond its bound), else 0."""
    names = list(weights)
    first = names[0]
    if not q.nz(first):
        return 0
    if not all(q.ratio_is(nm, first, weights[nm] / weights[first]) for nm in names[1:]):
        return 0
    return 1 if q.c[first] / weights[first] > 0 else -1


Predicate = Callable[[Coefs, bool], bool]


@dataclass(frozen=True)
class Row:
    """One named mistake: ``when(q, clean)`` decides, ``message`` (or ``message(q)``) says."""

    name: str
    when: Predicate
    message: str | Callable[[Coefs], str]

    def text(self, q: Coefs) -> str:
        return self.message if isinstance(self.message, str) else self.message(q)


@dataclass(frozen=True)
class Stage:
    """Rows checked together: all that match speak, or only the first (``first_only``)."""

    rows: tuple[Row, ...]
    first_only: bool = False
    only_if_silent: bool = False   # skip when an earlier stage of the part spoke
    final: bool = False            # a match here ends the part


def run_table(table: Sequence[Stage], q: Coefs) -> list[str]:
    """The messages of the rows that match, stage by stage."""
    out: list[str] = []
    for stage in table:
        if stage.only_if_silent and out:
            continue
        clean = not out
        matched = False
        for row in stage.rows:
            if row.when(q, clean):
                out.append(row.text(q))
                matched = True
                if stage.first_only:
                    break
        if matched and stage.final:
            break
    return out


# ----------------------------------------------------------------- Gaussian reconstruction
_SQ, _LV, _SQ0 = "sq_err/var", "logvar_x", "sq_err"


def _both(q: Coefs) -> bool:
    return q.nz(_SQ) and q.nz(_LV)


GAUSSIAN_RECON_TABLE: tuple[Stage, ...] = (
    Stage((  # terms that should not be there
        Row("logvar_as_log_std", lambda q, c: q.nz("sq_err/var^2"),
            "logvar_x used as a log standard deviation: the squared error is divided by "
            "exp(2*logvar_x); the variance is exp(logvar_x), the std exp(logvar_x / 2)"),
        Row("divided_by_std", lambda q, c: q.nz("sq_err/std"),
            "the squared error is divided by the standard deviation exp(logvar_x / 2) "
            "instead of the variance exp(logvar_x)"),
        Row("exponent_sign", lambda q, c: q.nz("sq_err*var"),
            "the squared error is multiplied by exp(logvar_x): sign error in the exponent "
            "(it must be divided by the variance, times exp(-logvar_x))"),
        Row("partly_undivided", lambda q, c: q.nz(_SQ0) and (q.nz(_LV) or q.nz(_SQ)),
            "part of the squared error is not divided by the variance although logvar_x "
            "enters the loss"),
    )),
    Stage((  # the pattern of the two ELBO terms: one reading
        Row("nll_sign", lambda q, c: _both(q) and q.neg(_SQ) and q.neg(_LV),
            "sign error: the Gaussian negative log-likelihood enters with a minus sign (the "
            "loss rewards reconstruction error)"),
        Row("logvar_sign", lambda q, c: _both(q) and q.pos(_SQ) and q.neg(_LV),
            "sign error on the log-variance term: -log N has +1/2 logvar_x"),
        Row("sq_err_sign", lambda q, c: _both(q) and q.neg(_SQ) and q.pos(_LV),
            "sign error on the squared-error term: -log N has +1/2 (x - mu)^2 / var"),
        Row("missing_half_sq_err", lambda q, c: _both(q) and q.ratio_is(_SQ, _LV, 2.0),
            "missing 1/2: the squared-error term (x - mu)^2 / var has twice the weight of "
            "the log-variance term; -log N = 1/2 (x - mu)^2 / var + 1/2 logvar + const"),
        Row("missing_half_logvar",
            lambda q, c: _both(q) and c and q.ratio_is(_SQ, _LV, 0.5),
            "missing 1/2 on the log-variance term: it has twice the weight of "
            "(x - mu)^2 / var (log sigma = logvar / 2, not logvar)"),
        Row("recon_ratio", lambda q, c: _both(q) and c and not q.ratio_is(_SQ, _LV, 1.0),
            lambda q: f"the squared-error and log-variance terms are weighted "
                      f"{q.ratio(_SQ, _LV):.4g}:1; -log N weights them 1:1"),
        Row("logvar_missing", lambda q, c: c and q.nz(_SQ) and not q.nz(_LV),
            "the log-variance term 1/2 logvar_x is missing: without it the loss decreases "
            "without bound as logvar_x -> +infinity"),
        Row("sq_err_missing",
            lambda q, c: c and q.nz(_LV) and not q.nz(_SQ) and not q.nz(_SQ0),
            "the squared-error term is missing: only logvar_x enters the reconstruction"),
        Row("recon_missing",
            lambda q, c: c and not q.nz(_SQ) and not q.nz(_LV) and not q.nz(_SQ0),
            "the reconstruction term is missing: the loss does not depend on x and mu_x"),
        Row("fixed_sign", lambda q, c: c and not _both(q) and q.neg(_SQ0),
            "sign error: the squared error enters with a minus sign"),
    ), first_only=True),
)

# ---------------------------------------------------------------- Bernoulli reconstruction
_POS, _NEG = "-x log p", "-(1-x) log(1-p)"


def _both_b(q: Coefs) -> bool:
    return q.nz(_POS) and q.nz(_NEG)


BERNOULLI_RECON_TABLE: tuple[Stage, ...] = (
    Stage((
        Row("double_sigmoid", lambda q, c: q.nz("bce_logits(p)"),
            "binary_cross_entropy_with_logits is applied to probabilities: sigmoid is "
            "applied twice (pass the logits, or use binary_cross_entropy on probabilities)"),
        Row("squared_error_on_p", lambda q, c: q.nz("(x-p)^2"),
            "a squared error on the probabilities (x - p)^2 enters: that is a Gaussian "
            "decoder's reconstruction, not the Bernoulli likelihood"),
    )),
    Stage((
        Row("bce_sign", lambda q, c: _both_b(q) and q.neg(_POS) and q.neg(_NEG),
            "sign error: the binary cross-entropy enters with a minus sign (the loss "
            "rewards reconstruction error)"),
        Row("bce_term_sign", lambda q, c: _both_b(q) and (q.neg(_POS) or q.neg(_NEG)),
            "sign error on one of the two terms of the binary cross-entropy: -log p(x) = "
            "-x log p - (1 - x) log(1 - p)"),
        Row("bce_ratio", lambda q, c: _both_b(q) and c and not q.ratio_is(_POS, _NEG, 1.0),
            lambda q: f"-x log p and -(1 - x) log(1 - p) are weighted "
                      f"{q.ratio(_POS, _NEG):.4g}:1; the binary cross-entropy weights "
                      f"them 1:1"),
        Row("negative_class_missing", lambda q, c: c and q.nz(_POS) and not q.nz(_NEG),
            "the -(1 - x) log(1 - p) term is missing: only the 1-pixels are scored"),
        Row("positive_class_missing", lambda q, c: c and q.nz(_NEG) and not q.nz(_POS),
            "the -x log p term is missing: only the 0-pixels are scored"),
        Row("recon_missing", lambda q, c: c and not q.nz(_POS) and not q.nz(_NEG),
            "the reconstruction term is missing: the loss does not depend on x and p"),
    ), first_only=True),
)

# ------------------------------------------------------------------------------------- KL
_M2, _V, _LZ = "mu_z^2", "var_z", "logvar_z"

KL_TABLE: tuple[Stage, ...] = (
    Stage((
        Row("kl_logvar_as_log_std", lambda q, c: q.nz("var_z^2"),
            "logvar_z used as a log standard deviation in the KL: exp(2*logvar_z) where the "
            "variance is exp(logvar_z)"),
        Row("kl_std_for_variance", lambda q, c: q.nz("std_z"),
            "the KL uses the standard deviation exp(logvar_z / 2) where the variance "
            "exp(logvar_z) belongs"),
        Row("kl_exponent_sign", lambda q, c: q.nz("1/var_z"),
            "the KL uses exp(-logvar_z) where the variance exp(logvar_z) belongs (sign "
            "error in the exponent)"),
    )),
    Stage((
        Row("kl_missing", lambda q, c: c and not (q.nz(_M2) or q.nz(_V) or q.nz(_LZ)),
            "the KL term is missing (beta = 0): an autoencoder loss, not an ELBO"),
        Row("kl_sign", lambda q, c: (q.neg(_M2) and q.neg(_V) and q.pos(_LZ)
                                     and q.ratio_is(_M2, _V, 1.0)
                                     and q.ratio_is(_LZ, _V, -1.0)),
            "sign error in the KL: the loss subtracts KL(q || p) instead of adding it (e.g. "
            "0.5*sum(1 + logvar - mu^2 - exp(logvar)) without the leading minus)"),
    ), first_only=True, final=True),
    Stage((
        Row("mu_z_missing", lambda q, c: not q.nz(_M2), "the mu_z^2 term of the KL is missing"),
        Row("mu_z_sign", lambda q, c: q.neg(_M2),
            "sign error on mu_z^2 in the KL: KL has +1/2 mu^2"),
        Row("var_z_missing", lambda q, c: not q.nz(_V),
            "the exp(logvar_z) term of the KL is missing"),
        Row("var_z_sign", lambda q, c: q.neg(_V),
            "sign error on exp(logvar_z) in the KL: KL has +1/2 exp(logvar)"),
        Row("logvar_z_missing", lambda q, c: not q.nz(_LZ),
            "the logvar_z term of the KL is missing: without it the KL is minimised by a "
            "collapsing posterior variance"),
        Row("logvar_z_sign", lambda q, c: q.pos(_LZ),
            "sign error on logvar_z in the KL: KL has -1/2 logvar"),
    ), only_if_silent=True),
    Stage((
        Row("kl_mu_ratio", lambda q, c: not q.ratio_is(_M2, _V, 1.0),
            lambda q: f"the KL's mu_z^2 and exp(logvar_z) terms are weighted "
                      f"{q.ratio(_M2, _V):.4g}:1; KL(N(m, s2) || N(0, 1)) weights them 1:1"),
        Row("kl_missing_half_logvar", lambda q, c: q.ratio_is(_LZ, _V, -2.0),
            "missing 1/2 on logvar_z in the KL: it has twice the weight of exp(logvar_z) "
            "(log s = logvar / 2)"),
        Row("kl_logvar_ratio",
            lambda q, c: not q.ratio_is(_LZ, _V, -1.0) and not q.ratio_is(_LZ, _V, -2.0),
            lambda q: f"the KL's logvar_z and exp(logvar_z) terms are weighted "
                      f"{-q.ratio(_LZ, _V):.4g}:1; the KL weights them 1:1"),
    ), only_if_silent=True),
)
