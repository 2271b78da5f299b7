"""``vaeproofs audit``: outputs valid against the schema, the report, bad input, Ctrl-C."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from vaeproofs.cli import main
from vaeproofs.cli.exit_codes import EXIT_INTERRUPTED, EXIT_OK, EXIT_UNDECIDED, EXIT_USAGE
from vaeproofs.schemas import load_schema

jsonschema = pytest.importorskip("jsonschema", reason="the test extra (jsonschema) validates JSON")

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "audit_example.py"


@pytest.fixture()
def data(tmp_path: Path) -> Path:
    path = tmp_path / "x.npy"
    np.save(path, np.random.default_rng(0).uniform(0, 1, size=(30, 64)))
    return path


def _validate(doc: dict) -> None:
    jsonschema.Draft202012Validator(load_schema("audit")).validate(doc)


def test_json_and_report(tmp_path: Path, data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out, rep = tmp_path / "a.json", tmp_path / "rep"
    rc = main(["audit", f"{EXAMPLE}:make", "--data", str(data), "--variance", "logvar",
               "--loss", f"{EXAMPLE}:loss", "--steps", "20", "--json", str(out),
               "--report", str(rep), "--no-progress"])
    # floor 0 is proven, but 20 probe steps do not show the mean reproducing a point: undecided
    assert rc == EXIT_UNDECIDED
    doc = json.loads(out.read_text())
    _validate(doc)
    assert doc["bounded"] is None and doc["cap_per_point"] is None
    assert doc["variance_floor"]["floor"] == 0.0
    assert {"path": "cap_per_point", "value": "+inf"} in doc["non_finite"]
    assert "no cap" in doc["notes"]["cap_per_point"]
    assert doc["loss_check"]["is_elbo"] is True
    html = (rep / "report.html").read_text()
    assert "data:image/png;base64," in html and "http://" not in html and "https://" not in html
    assert "figures/probe.png" in (rep / "report.md").read_text()
    assert (rep / "figures" / "probe.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Undecided. Shown: the static floor is 0" in capsys.readouterr().out
    # the probe's smallest variance per pixel, whose minimum is the smallest variance exactly;
    # flat (n, 64) data and no --image-shape: no per-pixel map
    probe = doc["probe"]
    assert len(probe["pixel_min_variance"]) == 64
    assert min(probe["pixel_min_variance"]) == probe["min_variance"]
    assert not (rep / "figures" / "pixels.png").exists()
    assert "pixels.png" not in (rep / "report.md").read_text()


def test_floored_model_is_bounded(tmp_path: Path, data: Path) -> None:
    out = tmp_path / "b.json"
    rc = main(["audit", f"{EXAMPLE}:make_floored", "--data", str(data), "--variance", "logvar",
               "--steps", "10", "--json", str(out), "--no-progress"])
    doc = json.loads(out.read_text())
    _validate(doc)
    assert rc == EXIT_OK and doc["bounded"] is True
    assert doc["variance_floor"]["floor"] == pytest.approx(1e-3, rel=1e-15)


def _one_line_error(capsys: pytest.CaptureFixture[str], word: str) -> None:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and word in err, err


@pytest.mark.parametrize(("spec", "word"), [
    ("missing.py:make", "does not exist"),
    (f"{EXAMPLE}:nope", "no callable"),
    (f"{EXAMPLE}", "FILE.py:NAME"),
])
def test_bad_factory(spec: str, word: str, data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", spec, "--data", str(data), "--variance", "logvar"]) == EXIT_USAGE
    _one_line_error(capsys, word)


def test_factory_that_raises(tmp_path: Path, data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "bad.py"
    f.write_text("def make():\n    raise RuntimeError('no GPU here')\n")
    assert main(["audit", f"{f}:make", "--data", str(data), "--variance", "logvar"]) == EXIT_USAGE
    _one_line_error(capsys, "no GPU here")


def test_wrong_data_shape(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.npy"
    np.save(bad, np.zeros((10, 7)))
    assert main(["audit", f"{EXAMPLE}:make", "--data", str(bad), "--variance", "logvar"]) == EXIT_USAGE
    _one_line_error(capsys, "shape")


def test_missing_data(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["audit", f"{EXAMPLE}:make", "--data", str(tmp_path / "none.npy"), "--variance", "var"])
    assert rc == EXIT_USAGE
    _one_line_error(capsys, "--data")


def test_data_that_is_a_folder_is_named_as_such(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    # A folder (like a FIFO or device) exists but is no .npy file: say that, not "missing".
    rc = main(["audit", f"{EXAMPLE}:make", "--data", str(tmp_path), "--variance", "var"])
    assert rc == EXIT_USAGE
    _one_line_error(capsys, "is not a regular file")


def test_a_failing_user_loss_names_the_loss_option(tmp_path: Path, data: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "loss.py"
    f.write_text("def loss(x, mu_x, logvar_x, mu_z, logvar_z):\n    return 1 / 0\n")
    rc = main(["audit", f"{EXAMPLE}:make", "--data", str(data), "--variance", "logvar",
               "--loss", f"{f}:loss", "--steps", "3", "--no-progress"])
    assert rc == EXIT_USAGE
    _one_line_error(capsys, "--loss: raised ZeroDivisionError")


def test_unknown_variance_kind(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["audit", f"{EXAMPLE}:make", "--data", str(data), "--variance", "sigma"])
    assert info.value.code == EXIT_USAGE
    _one_line_error(capsys, "--variance")


def test_interrupt_writes_the_record(tmp_path: Path, data: Path) -> None:
    f = tmp_path / "fwd.py"
    f.write_text(
        "import torch\n"
        "calls = [0]\n"
        "def forward(model, x):\n"
        "    if isinstance(x, torch.Tensor) and not isinstance(x, torch.fx.Proxy):\n"
        "        calls[0] += 1\n"
        "        if calls[0] == 5:\n"
        "            raise KeyboardInterrupt\n"
        "    return model(x)\n")
    out = tmp_path / "i.json"
    rc = main(["audit", f"{EXAMPLE}:make", "--data", str(data), "--variance", "logvar",
               "--forward", f"{f}:forward", "--steps", "50", "--json", str(out), "--no-progress"])
    assert rc == EXIT_INTERRUPTED
    doc = json.loads(out.read_text())
    _validate(doc)
    assert doc["outcome"] == "interrupted" and doc["probe"]["stopped"] == "interrupted"
    # calls 1: the shape check, 2: the static trace (it runs forward on real tensors), 3-4: probe
    assert doc["probe"]["steps"] == 2


def test_factory_returning_model_and_optimizer(tmp_path: Path, data: Path) -> None:
    out = tmp_path / "o.json"
    rc = main(["audit", f"{EXAMPLE}:make_with_optimizer", "--data", str(data), "--variance",
               "logvar", "--steps", "0", "--json", str(out)])
    doc = json.loads(out.read_text())
    _validate(doc)
    # the example's head has floor 0; with no probe nothing shows the mean fitting: undecided
    assert rc == EXIT_UNDECIDED and doc["untrained_parameters"] == [] and doc["probe"] is None


def test_image_shape_draws_the_per_pixel_map_in_the_report(tmp_path: Path, data: Path) -> None:
    rep = tmp_path / "rep"
    assert main(["audit", f"{EXAMPLE}:make", "--data", str(data), "--variance", "logvar",
                 "--steps", "20", "--report", str(rep), "--image-shape", "8x8",
                 "--no-progress"]) in (EXIT_OK, EXIT_UNDECIDED)
    assert (rep / "figures" / "pixels.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "figures/pixels.png" in (rep / "report.md").read_text()
    html = (rep / "report.html").read_text()
    assert html.count("data:image/png;base64,") == 2 and 'id="fig-pixels"' in html


@pytest.mark.parametrize("spec", ["7x9", "8", "8x-8", "axb"])
def test_a_bad_image_shape_is_one_line_exit_2_before_any_work(
        spec: str, tmp_path: Path, data: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    import vaeproofs.cli.audit as cli_audit

    monkeypatch.setattr(cli_audit, "load_callable", lambda *a: pytest.fail("work started"))
    assert main(["audit", f"{EXAMPLE}:make", "--data", str(data), "--image-shape", spec,
                 "--no-progress"]) == EXIT_USAGE
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--image-shape" in err[0] and spec in err[0]


def test_image_shaped_data_gives_its_own_shape() -> None:
    from vaeproofs.cli.audit import _image_shape

    assert _image_shape(None, np.zeros((5, 8, 8))) == (8, 8)
    assert _image_shape(None, np.zeros((5, 1, 4, 6))) == (4, 6)
    assert _image_shape(None, np.zeros((5, 64))) is None
    assert _image_shape(None, np.zeros((5, 3, 8, 8))) is None  # colour: no single map
    assert _image_shape("4x16", np.zeros((5, 64))) == (4, 16)


def test_a_map_shape_that_does_not_hold_the_models_outputs_is_named() -> None:
    import importlib.util

    from vaeproofs.audit import audit_vae
    from vaeproofs.audit.report import pixel_figure
    from vaeproofs.errors import InvalidArgumentError

    spec = importlib.util.spec_from_file_location("audit_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    x = np.random.default_rng(0).uniform(0, 1, size=(20, 64))
    report = audit_vae(example.make(), x, variance="logvar", steps=5)
    assert pixel_figure(report, (8, 8))[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(InvalidArgumentError, match=r"image_shape.*64"):
        pixel_figure(report, (4, 4))
