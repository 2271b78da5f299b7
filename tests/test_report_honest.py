"""What the verify table and report say about themselves: how each verdict was decided,
this setting against other settings, times that add up, the command line, the discussion,
and a readable constructions panel whatever its range."""

from __future__ import annotations

import time
from types import SimpleNamespace

from vaeproofs.claims.claim import Claim, evaluate_claim
from vaeproofs.claims.conditions import Condition
from vaeproofs.claims.context import EvidenceContext
from vaeproofs.claims.verdict import Evidence, decided_by, tally
from vaeproofs.report import ReportDocument, render_html, render_markdown
from vaeproofs.report.document import DISCUSSION_URL

SCOPE = Condition.FLOORED
OTHER = Condition.BERNOULLI


def _evidence() -> list[Evidence]:
    return [Evidence("symbolic", "a proof", True, SCOPE),
            Evidence("high-precision", "a construction", True, SCOPE),
            Evidence("numeric", "a run", None, SCOPE),
            Evidence("numeric", "elsewhere", False, OTHER),
            Evidence("numeric", "elsewhere too", False, OTHER, method="training run")]


def test_decided_by_names_only_the_votes_in_the_claims_setting_strongest_first() -> None:
    ev = _evidence()
    assert decided_by(SCOPE, ev) == ["symbolic proof", "high-precision construction"]
    # The informative run and the other setting's votes do not decide.
    assert decided_by(OTHER, ev) == ["numeric check", "training run"]
    assert decided_by(SCOPE, ev[2:3]) == []


def test_tally_separates_this_setting_from_other_settings() -> None:
    counts = tally(SCOPE, _evidence())
    assert counts == {"this setting": (2, 0, 1), "other settings": (0, 2, 0)}


class _Context(EvidenceContext):
    """A context whose one shared source takes a known time to compute."""

    def slow_source(self) -> int:
        return self._cached("slow", lambda: (time.sleep(0.3), 7)[1])


def test_a_claims_own_time_excludes_the_shared_work_it_waited_for() -> None:
    ctx = _Context()

    def gather(c: EvidenceContext) -> list[Evidence]:
        assert isinstance(c, _Context)
        return [Evidence("symbolic", f"value {c.slow_source()}", True, SCOPE)]

    claim = Claim("test.own-time", "s", "src", SCOPE, (gather,))
    start = time.perf_counter()
    first = evaluate_claim(claim, ctx)
    second = evaluate_claim(claim, ctx)
    wall = time.perf_counter() - start
    shared = ctx.timings["slow"]
    assert shared >= 0.3
    # The 0.3 s the first claim waited for is in the shared time, not in its own time.
    assert first.elapsed_s < shared and second.elapsed_s < shared
    # Own times plus the shared time never exceed the wall time of this serial run (the
    # rest is the bookkeeping outside the two calls): nothing is counted twice.
    assert shared <= first.elapsed_s + second.elapsed_s + shared <= wall


def test_numeric_evidence_read_from_a_training_suite_is_marked_a_training_run() -> None:
    ctx = EvidenceContext()
    ctx._cache["training"] = {}  # an already computed (empty) suite

    def from_suite(c: EvidenceContext) -> list[Evidence]:
        c.training()
        return [Evidence("numeric", "a trained run", True, SCOPE),
                Evidence("symbolic", "a proof", True, SCOPE)]

    def plain(c: EvidenceContext) -> list[Evidence]:
        return [Evidence("numeric", "a set-weight network", True, SCOPE)]

    result = evaluate_claim(Claim("test.method", "s", "src", SCOPE, (from_suite, plain)), ctx)
    assert [e.how for e in result.evidence] == ["training run", "symbolic proof", "numeric check"]
    assert result.decided_by == ["symbolic proof", "numeric check", "training run"]


def test_report_says_how_it_was_made_and_how_to_audit_your_own_model() -> None:
    claim = Claim("test.report", "a statement", "a source", SCOPE, (lambda c: _evidence(),))
    result = evaluate_claim(claim, EvidenceContext())
    doc = ReportDocument(results=[result], elapsed_s=1.0, timings={"constructions": 0.5},
                         command="vaeproofs verify --quick --report out")
    for page in (render_markdown(doc), render_html(doc)):
        assert "vaeproofs verify --quick --report out" in page
        assert DISCUSSION_URL in page
        assert "vaeproofs audit" in page and "audit_objective" in page
        assert "symbolic proof, high-precision construction" in page
        assert "2 for, 0 against, 1 informative" in page  # this setting
        assert "0 for, 2 against" in page  # other settings, which never vote
        assert "timed once each" in page


def _row(values: list[float], cap: float | None) -> SimpleNamespace:
    eps = [10.0 ** -k for k in range(1, len(values) + 1)]
    return SimpleNamespace(name="row", parameter="epsilon", parameter_values=eps, values=values,
                           asymptote=values, torch_float64=[None] * len(values), cap=cap,
                           bounded=cap is not None, objective="ELBO", rate="r")


def test_constructions_panel_uses_a_log_scale_only_when_a_linear_axis_would_be_unreadable() -> None:
    from vaeproofs.constructions.figure import constructions_figure

    fig = constructions_figure([_row([1.0, 5.0, 9.0], 10.0), _row([1.0, -1e46, -1e296], 9.7)])
    moderate, huge = fig.axes[:2]
    assert moderate.get_yscale() == "linear"
    assert huge.get_yscale() == "symlog"
    ticks = huge.get_yticks()
    assert min(ticks) <= -1e200 and 0.0 in ticks and len(ticks) <= 8
    low, high = huge.get_ylim()
    assert low <= -1e296 and 9.7 < high < 1e3  # the cap is on the axis; no empty upper decades
