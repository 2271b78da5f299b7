"""The audit's verdict rule, one test per branch (vaeproofs.audit.verdict's docstring).

Bounded only from a static proof; NOT bounded only from floor 0 on a trainable path
together with a probe whose mean fit; a probe passing a proven cap is a conflict;
everything else undecided, with the probe as information and no advice.
"""

from __future__ import annotations

import math
from types import SimpleNamespace

from vaeproofs.audit.floor import VarianceFloor, cap_per_dim
from vaeproofs.audit.loss_bound import LossBound
from vaeproofs.audit.probe import ProbeResult
from vaeproofs.audit.verdict import build_evidence, decide_audit, verdict_paragraph

DIM = 4


def _floor(value: float | None, trainable: tuple[str, ...] = ("dec",)) -> VarianceFloor:
    return VarianceFloor(
        variance="var", floor=value, bounded=None if value is None else value > 0,
        cap_per_dim=None if value is None else cap_per_dim(value), sup=None, expression="v",
        set_by=(), trainable=trainable, frozen=(),
        explanation="Not decidable statically: aten.foo at m.py:3: no rule." if value is None
        else f"variance >= {value}.")


def _probe(*, running_off: bool, passed_cap: bool | None = None, fall: float = 1e4) -> ProbeResult:
    trace = [1.0 / fall ** (i / 19) for i in range(20)]
    return ProbeResult(steps=20, requested_steps=20, n_points=2, best_objective_per_point=5.0,
                       best_log_density_per_point=5.0, min_variance=min(trace),
                       initial_min_variance=1.0, passed_cap=passed_cap,
                       passed_cap_at_step=3 if passed_cap else None, running_off=running_off,
                       stopped="steps", trained_parameters=[], elapsed_s=0.0, dtype="float64",
                       trace_step=list(range(20)), trace_objective=[0.0] * 20,
                       trace_min_variance=trace)


def _loss_bound(lower: float | None) -> LossBound:
    return LossBound(lower=lower, decided=lower is not None, reason="" if lower is not None else
                     "aten.bar at loss.py:9: no rule", unbounded_paths=("addmm of the trainable dec "
                                                                       "at m.py:5",) if lower == -math.inf
                     else (), trainable=("dec",), frozen=(), analysed="the whole objective",
                     expression="")


def _decide(floor: VarianceFloor, probe: ProbeResult | None = None, loss_check=None,
            loss_bound: LossBound | None = None) -> tuple[str, bool | None, str]:
    ev = build_evidence(floor=floor, as_written=None, probe=probe, loss_check=loss_check,
                        loss_error=None, dim=DIM, untrained_on_path=[], loss_bound=loss_bound)
    verdict, bounded = decide_audit(ev)
    text = verdict_paragraph(verdict=verdict, floor=floor, probe=probe, loss_check=loss_check,
                             loss_error=None, dim=DIM, pixel_variance=1.0, untrained_on_path=[],
                             loss_bound=loss_bound)
    return verdict, bounded, text


def test_positive_floor_proves_bounded() -> None:
    verdict, bounded, text = _decide(_floor(1e-3))
    assert (verdict, bounded) == ("holds", True) and text.startswith("Bounded")


def test_finite_loss_bound_proves_bounded_when_the_floor_is_undecided() -> None:
    verdict, bounded, text = _decide(_floor(None), loss_bound=_loss_bound(-12.5))
    assert (verdict, bounded) == ("holds", True) and "-12.5" in text


def test_loss_ignoring_the_variance_proves_bounded() -> None:
    check = SimpleNamespace(fixed_variance=0.25, is_elbo=True, beta=1.0, diagnosis="")
    verdict, bounded, _ = _decide(_floor(0.0), probe=_probe(running_off=True), loss_check=check)
    assert (verdict, bounded) == ("holds", True)


def test_floor_zero_and_a_fitting_mean_prove_not_bounded() -> None:
    verdict, bounded, text = _decide(_floor(0.0), probe=_probe(running_off=True))
    assert (verdict, bounded) == ("fails", False) and text.startswith("NOT bounded")


def test_floor_zero_alone_is_undecided() -> None:
    verdict, bounded, text = _decide(_floor(0.0))
    assert (verdict, bounded) == ("undecided", None)
    assert "Shown: the static floor is 0" in text and "Not shown" in text and "Remedy" not in text


def test_floor_zero_with_a_probe_that_did_not_fit_is_undecided() -> None:
    verdict, _, text = _decide(_floor(0.0), probe=_probe(running_off=False, fall=2.0))
    assert verdict == "undecided" and "did not show it" in text


def test_falling_variance_on_an_undecided_model_is_information_not_a_vote() -> None:
    verdict, bounded, text = _decide(_floor(None), probe=_probe(running_off=True, fall=1e4))
    assert (verdict, bounded) == ("undecided", None)
    assert "information, not a vote" in text and "1e+04-fold" in text
    assert "still falling" in text and "Remedy" not in text


def test_levelled_off_probe_is_reported_as_such() -> None:
    probe = _probe(running_off=False, fall=1e4)
    probe.trace_min_variance[-4:] = [probe.trace_min_variance[-5]] * 4
    _, _, text = _decide(_floor(None), probe=probe)
    assert "levelled off" in text


def test_floor_zero_only_through_the_input_does_not_vote() -> None:
    # no trainable parameter on the path: the floor is 0 only because the input ranges freely
    verdict, _, _ = _decide(_floor(0.0, trainable=()), probe=_probe(running_off=True))
    assert verdict == "undecided"


def test_probe_passing_a_proven_cap_is_a_conflict() -> None:
    verdict, bounded, text = _decide(_floor(0.5), probe=_probe(running_off=True, passed_cap=True))
    assert (verdict, bounded) == ("conflict", None) and text.startswith("CONFLICT")


def test_infinite_loss_bound_alone_does_not_vote() -> None:
    verdict, _, text = _decide(_floor(None), loss_bound=_loss_bound(-math.inf))
    assert verdict == "undecided" and "m.py:5" in text


def test_undecided_loss_bound_says_why() -> None:
    verdict, _, text = _decide(_floor(None), loss_bound=_loss_bound(None))
    assert verdict == "undecided" and "loss.py:9" in text
