"""Ctrl-C during ``vaeproofs train``: one line, exit code 130, and the record so far is kept.

A real interpreter runs the command; SIGINT is sent once the first row has been logged
(the child says so on standard output), so no sleep decides the outcome.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from vaeproofs.schemas import load_schema

# Runs `vaeproofs train` with a marker line printed after each logged row.
_CHILD = r"""
import sys
import vaeproofs.numeric.training.loop as loop
from vaeproofs.cli import main

logged = loop._log
def log_and_say(result, row):
    ok = logged(result, row)
    print("logged step", row.step, flush=True)
    return ok
loop._log = log_and_say
sys.exit(main(sys.argv[1:]))
"""


def _sigint_as_python_expects() -> None:
    """Run in the child before exec: SIGINT's default action, so Python installs its handler.

    A process started with SIGINT ignored (pytest run as a background job of a
    non-interactive shell, as some CI runners do) passes that on, and the child would then
    ignore the very Ctrl-C this test sends.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.slow
def test_sigint_writes_the_record_so_far_and_exits_130(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    argv = ["train", "--n-train", "8", "--steps", "1000000", "--hidden", "8", "--latent-dim",
            "1", "--n-test", "8", "--iwae-samples", "2", "--elbo-samples", "1",
            "--log-every", "1", "--no-progress", "--json", str(out)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-c", _CHILD, *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env,
                            preexec_fn=_sigint_as_python_expects)
    try:
        first = proc.stdout.readline()  # type: ignore[union-attr]
        assert first == "logged step 0\n", proc.stderr.read()  # type: ignore[union-attr]
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("vaeproofs train: interrupted after logged step ")
    doc = json.loads(out.read_text())
    jsonschema.Draft202012Validator(load_schema("train")).validate(doc)
    assert doc["outcome"] == "interrupted" and doc["diverged_at_step"] is None
    assert len(doc["history"]) >= 1 and doc["history"][0]["step"] == 0
    assert doc["final"] == doc["history"][-1]
