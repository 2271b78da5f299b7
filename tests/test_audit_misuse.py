"""Misuse the audit must refuse with a useful message, and advice that follows from its numbers."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from vaeproofs.audit import audit_objective, audit_vae
from vaeproofs.audit.advice import FLOOR_FRACTION, floor_patch, suggested_floor
from vaeproofs.audit.remedies import remedies_json, shipped_table
from vaeproofs.cli import main
from vaeproofs.cli.exit_codes import EXIT_USAGE
from vaeproofs.errors import InvalidArgumentError

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "audit_example.py"
REGRESSOR = ROOT / "examples" / "audit_regressor.py"
LOG_2PI = math.log(2 * math.pi)


@pytest.fixture(scope="module")
def data_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("data") / "x.npy"
    np.save(path, np.random.default_rng(0).uniform(0, 1, size=(30, 64)))
    return path


def _one_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def test_var_kind_on_a_head_with_negative_values_does_not_run(data_file: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    # The example's head emits a raw log-variance (negative numbers): read as "var", every probe step
    # was nan ("from nan to nan ... in 0 steps", exit 0). It must be refused before anything runs.
    rc = main(["audit", f"{EXAMPLE}:make", "--data", str(data_file), "--variance", "var", "--no-progress"])
    assert rc == EXIT_USAGE
    err = _one_line(capsys)
    assert err.startswith("vaeproofs audit: --variance: is 'var'") or "--variance: is 'var'" in err
    assert "negative values" in err and "logvar or logstd" in err and "nan" not in err


def test_a_model_returning_one_tensor_is_told_what_it_returned(tmp_path: Path, data_file: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "ae.py"
    f.write_text("import torch\n\ndef make():\n    torch.manual_seed(0)\n"
                 "    return torch.nn.Sequential(torch.nn.Linear(64, 8), torch.nn.Linear(8, 64))\n")
    rc = main(["audit", f"{f}:make", "--data", str(data_file), "--variance", "logvar", "--no-progress"])
    assert rc == EXIT_USAGE
    err = _one_line(capsys)
    assert "--forward:" not in err  # --forward was never passed
    assert "FACTORY: model(x) returned a single Tensor(16, 64)" in err
    assert "--forward FILE.py:FN" in err and "--objective FILE.py:FN" in err


def test_objective_cannot_be_combined_with_loss(data_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["audit", f"{EXAMPLE}:make", "--data", str(data_file), "--objective", f"{EXAMPLE}:loss",
               "--loss", f"{EXAMPLE}:loss"])
    assert rc == EXIT_USAGE
    assert "--loss: cannot be combined with --objective" in _one_line(capsys)


class DictVAE(nn.Module):
    """Returns a dict; the decoder's log-variance has the data's shape, the encoder's the latent's."""

    def __init__(self, d: int = 8, k: int = 2, xi: float | None = None) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.xi = xi
        self.enc = nn.Linear(d, 2 * k)
        self.dec = nn.Linear(k, 2 * d)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        mu, logvar = self.enc(x).chunk(2, dim=-1)
        mean, raw = self.dec(mu).chunk(2, dim=-1)
        var = F.softplus(raw) + self.xi if self.xi is not None else torch.exp(raw)
        return {"recon": mean, "var_x": var, "mu": mu, "logvar": logvar}


def _rows(n: int = 24, d: int = 8) -> np.ndarray:
    return np.random.default_rng(1).uniform(0.0, 1.0, size=(n, d))


def test_variance_kind_read_from_the_output_and_dataloader_data() -> None:
    x = torch.from_numpy(_rows())
    rep = audit_vae(DictVAE(xi=1e-2), x.numpy(), steps=0)
    assert rep.variance_floor.variance == "var" and rep.variance_floor.floor == 1e-2
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, torch.zeros(len(x))), batch_size=5)
    again = audit_vae(DictVAE(xi=1e-2), loader, steps=0)
    assert again.data["n"] == len(x) and again.variance_floor.floor == 1e-2
    assert again.data["pixel_variance_mean"] == rep.data["pixel_variance_mean"]
    with pytest.raises(InvalidArgumentError, match="DataLoader"):
        audit_vae(DictVAE(), torch.utils.data.TensorDataset(x), steps=0)


def test_floor_advice_is_a_patch_with_its_cap_and_ratio() -> None:
    # Proven NOT bounded (static floor 0 and a witness): the advice patches the expression found.
    import importlib.util

    spec = importlib.util.spec_from_file_location("example_regressor", REGRESSOR)
    reg = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(reg)
    rep = audit_objective(reg.make(), reg.load(), reg.nll, variance="var", progress=False)
    assert rep.decision == "fails"
    v = rep.data["pixel_variance_mean"]
    xi = suggested_floor(v)
    assert xi <= FLOOR_FRACTION * v < 10 * xi  # the largest power of ten at or below v / 10
    (item,) = [a for a in rep.advice if a.topic == "floor"]
    cap = -0.5 * 1 * (LOG_2PI + math.log(xi))
    assert f"xi = {xi:.3g}" in item.text and f"{cap:.6g}" in item.text and f"{xi / v:.3g}" in item.text
    expression = rep.variance_floor.expression
    assert expression.startswith("softplus(")  # already >= 0: the patch adds xi
    assert f"{expression} -> {expression} + {xi:.3g}" in item.text


def test_no_floor_advice_without_a_proof() -> None:
    rep = audit_vae(DictVAE(), _rows(), steps=0)  # floor 0, but no evidence the mean fits
    assert rep.decision == "undecided"
    assert not [a for a in rep.advice if a.topic == "floor"]
    assert [a.topic for a in rep.advice] == ["undecided"]


@pytest.mark.parametrize(("kind", "expression", "expected"), [
    ("logvar", "exp(raw)", "exp(raw) -> softplus(raw) + 0.001"),
    ("var", "softplus(raw)", "softplus(raw) -> softplus(raw) + 0.001"),
    ("var", "raw", "raw -> softplus(raw) + 0.001"),
    ("std", "(softplus(t))^2", "(softplus(t))^2 -> (softplus(t) + 0.0316)^2"),
    ("logstd", "exp(2 * ls)", "exp(2 * ls) -> exp(2 * (-3.454 + softplus(ls - (-3.454))))"),
])
def test_floor_patch_keeps_the_variance_at_least_xi(kind: str, expression: str, expected: str) -> None:
    assert floor_patch(kind, expression, 1e-3).startswith(expected)


def test_gaussian_nll_loss_eps_and_mean_reduction_are_called_out() -> None:
    crit = nn.GaussianNLLLoss()  # eps=1e-6, reduction="mean"

    def loss(x, mu_x, logvar_x, mu_z, logvar_z):
        kl = 0.5 * (mu_z**2 + torch.exp(logvar_z) - 1 - logvar_z).sum(-1).mean()
        return crit(mu_x, x, torch.exp(logvar_x)) + kl

    rep = audit_vae(DictVAE(xi=1e-2), _rows(), loss_fn=loss, steps=0)
    topics = {a.topic: a.text for a in rep.advice}
    assert "eps=1e-06" in topics["gaussian-nll-eps"] and "not floor" not in topics["gaussian-nll-eps"]
    assert "value" in topics["gaussian-nll-eps"] and "no floor" in topics["gaussian-nll-eps"]
    assert "D = 8" in topics["beta-d"]


def test_bounded_advice_says_memorisation_can_still_reach_the_cap() -> None:
    rep = audit_vae(DictVAE(xi=1e-2), _rows(), steps=30, progress=False)
    assert rep.decision == "holds"
    (item,) = [a for a in rep.advice if a.topic == "memorisation"]
    gap = rep.cap_per_point - rep.probe.best_log_density_per_point
    assert f"{rep.cap_per_point:.6g}" in item.text and f"{gap:.4g} below" in item.text


def test_remedies_table_ships_with_the_package() -> None:
    assert shipped_table() == json.loads(remedies_json())["rows"], (
        "vaeproofs/data/remedies.json is stale: run python -m vaeproofs.audit.remedies --out "
        "docs/remedies.md --json vaeproofs/data/remedies.json")


@pytest.fixture(scope="module")
def diabetes_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from sklearn.datasets import load_diabetes

    d = load_diabetes()
    path = tmp_path_factory.mktemp("data") / "diabetes.npz"
    x = (d.data - d.data.mean(0)) / d.data.std(0)
    y = (d.target - d.target.mean()) / d.target.std()
    np.savez(path, x=x.astype(np.float32), y=y.astype(np.float32))
    return path


def test_cli_objective_and_require_bounded(tmp_path: Path, diabetes_file: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    from vaeproofs.cli.exit_codes import EXIT_NOT_BOUNDED, EXIT_OK
    from vaeproofs.schemas import load_schema

    jsonschema = pytest.importorskip("jsonschema")
    out = tmp_path / "a.json"
    base = ["audit", "--data", str(diabetes_file), "--objective", f"{REGRESSOR}:nll", "--variance", "var",
            "--no-progress"]
    rep_dir = tmp_path / "rep"
    assert main([*base[:1], f"{REGRESSOR}:make", *base[1:], "--json", str(out), "--report", str(rep_dir)]) \
        == EXIT_OK
    assert (rep_dir / "figures" / "probe.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "loss lower bound on the batch (static) | -inf" in (rep_dir / "report.md").read_text()
    doc = json.loads(out.read_text())
    jsonschema.Draft202012Validator(load_schema("audit")).validate(doc)
    assert doc["decision"] == "fails" and doc["audited"] == "objective" and doc["loss_lower_bound"] is None
    assert {"path": "loss_lower_bound", "value": "-inf"} in doc["non_finite"]
    assert "advice:" in capsys.readouterr().out
    # For CI: not bounded is a failure with --require-bounded, a proven bound passes.
    assert main([*base[:1], f"{REGRESSOR}:make", *base[1:], "--require-bounded"]) == EXIT_NOT_BOUNDED
    assert "--require-bounded" in capsys.readouterr().err
    assert main([*base[:1], f"{REGRESSOR}:make_floored", *base[1:], "--steps", "20",
                 "--require-bounded"]) == EXIT_OK


def test_a_plain_tuple_without_variance_asks_for_it(data_file: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["audit", f"{EXAMPLE}:make", "--data", str(data_file), "--steps", "0"])
    assert rc == EXIT_USAGE
    err = _one_line(capsys)
    assert "--variance: model(x) returned tuple of 4: (Tensor(16, 64), Tensor(16, 64)" in err
    assert "pass --variance (" in err
