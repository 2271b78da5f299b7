"""The variance heads of docs/theory.md section 7, and the computed remedies table.

Expected floors are the closed forms of that table, written with ``math``; tolerance
16 ulp relative (a few correctly rounded float64 operations, see test_audit_floor_ops).
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from vaeproofs.audit.remedies import HEADS_DIR, head_floors, load_heads, remedies_markdown

REL = 16 * 2.0**-52
ROOT = Path(__file__).resolve().parents[1]

EXPECTED = {  # module -> (floor as written, floor with the optimiser as written or None)
    "plain_exp": (0.0, None),
    "softplus": (0.0, None),
    "softplus_plus_c": (1e-4, None),
    "neural_process": (0.1**2, None),                    # sigma >= 0.1 + 0.9 * 0
    "sigma_vae": (math.exp(-12.0), None),                # log sigma >= -6
    "diffusers_clamp": (math.exp(-30.0), None),
    "nvae": ((math.exp(-5.0) + 0.01) ** 2, None),        # sigma >= exp(-5) + 1e-2
    "miwae": (1e-3**2, None),                            # scale >= 1e-3
    "tfp": (1e-3**2, None),
    "beta_nll": (1e-8, None),
    "gluonts": (0.0, None),
    "two_stage": (0.0, None),
    "stable_diffusion": (0.0, 1.0),                      # logvar stays at its initial 0
    "alibi_fixed": (0.05**2, None),
}


@pytest.fixture(scope="module")
def heads() -> dict[str, object]:
    return {m.__name__.removeprefix("vaeproofs_example_head_"): m for m in load_heads()}


def test_every_head_of_the_table_is_there(heads: dict[str, object]) -> None:
    assert set(heads) == set(EXPECTED)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_head_floor(name: str, heads: dict[str, object]) -> None:
    written, practice = head_floors(heads[name])
    expected, in_practice = EXPECTED[name]
    assert math.isclose(written.floor, expected, rel_tol=REL), (written.floor, expected)
    assert written.bounded is (expected > 0)
    assert (written.cap_per_dim == math.inf) if expected == 0 else math.isclose(
        written.cap_per_dim, -0.5 * math.log(2 * math.pi * expected), rel_tol=1e-12)
    if in_practice is None:
        assert practice is None
    else:
        assert practice is not None and math.isclose(practice.floor, in_practice, rel_tol=REL)


def test_remedies_table_is_up_to_date() -> None:
    committed = (ROOT / "docs" / "remedies.md").read_text(encoding="utf-8")
    assert remedies_markdown(HEADS_DIR) == committed, (
        "docs/remedies.md is stale: run python -m vaeproofs.audit.remedies --out docs/remedies.md")
