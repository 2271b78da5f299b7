"""Outputs as people return them: one test per form (vaeproofs.audit.model_outputs), the data
forms (vaeproofs.audit.batches), and the misuse a reading must refuse with a useful message."""

from __future__ import annotations

import collections
import dataclasses

import numpy as np
import pytest
import torch
import torch.distributions as td

from vaeproofs.audit.batches import collect, first_array, n_rows
from vaeproofs.audit.model_outputs import (
    check_kind_against_values,
    describe,
    normalise_outputs,
    select_path,
    variance_selector,
)
from vaeproofs.errors import InvalidArgumentError

X = torch.linspace(0.1, 1.0, 12).reshape(2, 6)
Z = torch.linspace(-1.0, 1.0, 4).reshape(2, 2)
SHAPE = (2, 6)

NT = collections.namedtuple("NT", "x_hat logvar mu_z logvar_z")


@dataclasses.dataclass
class DC:
    recon: torch.Tensor
    std: torch.Tensor
    posterior: td.Distribution


class DiagonalGaussian:
    """diffusers' DiagonalGaussianDistribution: mean/logvar from parameters, std and var derived."""

    def __init__(self, parameters: torch.Tensor) -> None:
        self.parameters = parameters
        self.mean, self.logvar = torch.chunk(parameters, 2, dim=1)
        self.std = torch.exp(0.5 * self.logvar)
        self.var = torch.exp(self.logvar)


def _q() -> td.Normal:
    return td.Normal(Z, torch.exp(Z))


# output -> (kind, the tensor that must be selected, has a posterior)
CASES = {
    "tuple": (lambda: (X, 2 * X, Z, Z), "logvar", "logvar", lambda o: o[1], True),
    "list": (lambda: [X, 2 * X, Z, Z], "var", "var", lambda o: o[1], True),
    "regressor pair": (lambda: (X, 2 * X), "std", "std", lambda o: o[1], False),
    "dict": (lambda: {"mu": X, "log_var": 2 * X, "mu_z": Z, "logvar_z": Z}, None, "logvar",
             lambda o: o["log_var"], True),
    "dict, generic posterior names": (lambda: {"x_hat": X, "var": 2 * X, "mu": Z, "logvar": Z}, None,
                                      "var", lambda o: o["var"], True),
    "namedtuple": (lambda: NT(X, 2 * X, Z, Z), None, "logvar", lambda o: o.logvar, True),
    "dataclass": (lambda: DC(X, 2 * X, _q()), None, "std", lambda o: o.std, True),
    "Normal": (lambda: (td.Normal(X, 2 * X), _q()), None, "std", lambda o: o[0].scale, True),
    "Independent(Normal)": (lambda: (td.Independent(td.Normal(X, 2 * X), 1), Z, Z), None, "std",
                            lambda o: o[0].base_dist.scale, True),
    "LowRankMultivariateNormal": (lambda: td.LowRankMultivariateNormal(X, torch.ones(2, 6, 1), 2 * X),
                                  None, "var", lambda o: o.cov_diag, False),
    "StudentT": (lambda: td.StudentT(3.0, X, 2 * X), None, "std", lambda o: o.scale, False),
    "diffusers DiagonalGaussian": (lambda: (DiagonalGaussian(torch.cat([X, 2 * X], 1)), _q()), None,
                                   "logvar", lambda o: o[0].logvar, True),
    "dict with a decoder distribution": (lambda: {"px": td.Normal(X, 2 * X), "qz": _q()}, None, "std",
                                         lambda o: o["px"].scale, True),
}


@pytest.mark.parametrize("name", list(CASES))
def test_each_output_form_is_read(name: str) -> None:
    make, given, kind, expected, posterior = CASES[name]
    out = make()
    read = normalise_outputs(out, variance=given, data_shape=SHAPE)
    assert read.kind == kind
    assert read.var_like is expected(out)
    assert torch.equal(read.mean, X)
    assert (read.mu_z is not None) is posterior
    if posterior:
        assert torch.allclose(read.mu_z, Z) and read.logvar_z.shape == Z.shape
    # The recorded path picks the same tensor out of a fresh output of the same form.
    again = make()
    assert select_path(again, read.path) is expected(again)
    assert variance_selector(read.path)(again) is expected(again)


def test_posterior_of_a_normal_is_its_log_variance() -> None:
    read = normalise_outputs((td.Normal(X, 2 * X), _q()), data_shape=SHAPE)
    assert torch.allclose(read.logvar_z, 2 * Z, rtol=1e-6)  # log(exp(Z)^2)


def test_caveats_travel_with_the_floor() -> None:
    t = normalise_outputs(td.StudentT(3.0, X, 2 * X), data_shape=SHAPE)
    assert "df > 2" in t.note and "scale" in t.note
    low = normalise_outputs(td.LowRankMultivariateNormal(X, torch.ones(2, 6, 1), 2 * X), data_shape=SHAPE)
    assert "cov_diag" in low.note and "row norms" in low.note


def test_single_tensor_says_what_was_returned_and_how_to_adapt() -> None:
    with pytest.raises(InvalidArgumentError) as info:
        normalise_outputs(X, data_shape=SHAPE)
    msg = str(info.value)
    assert info.value.argument == "model" and "--forward" not in msg
    assert "single Tensor(2, 6)" in msg and "forward=" in msg and "audit_objective" in msg


def test_plain_tuple_without_variance_is_ambiguous() -> None:
    with pytest.raises(InvalidArgumentError) as info:
        normalise_outputs((X, X, Z, Z), data_shape=SHAPE)
    assert info.value.argument == "variance"
    assert "tuple of 4: (Tensor(2, 6), Tensor(2, 6), Tensor(2, 2), Tensor(2, 2))" in str(info.value)


def test_encoder_mu_logvar_are_not_taken_for_the_decoder_variance() -> None:
    # The PyTorch example VAE: (recon, mu, logvar) of the encoder; no decoder variance at all.
    with pytest.raises(InvalidArgumentError, match=r"variance-like output of the data's shape \(2, 6\)"):
        normalise_outputs({"recon": X, "mu": Z, "logvar": Z}, data_shape=SHAPE)


def test_variance_contradicting_a_distribution_is_refused() -> None:
    with pytest.raises(InvalidArgumentError) as info:
        normalise_outputs((td.Normal(X, 2 * X), _q()), variance="logvar", data_shape=SHAPE)
    assert info.value.argument == "variance" and "std" in str(info.value)


@pytest.mark.parametrize("kind", ["var", "std"])
def test_negative_values_for_var_or_std_are_refused(kind: str) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        check_kind_against_values(kind, torch.tensor([-2.0, 0.5]))
    msg = str(info.value)
    assert "negative" in msg and "-2" in msg and "logvar or logstd" in msg


def test_log_kinds_accept_negative_values() -> None:
    for kind in ("logvar", "logstd"):
        check_kind_against_values(kind, torch.tensor([-2.0, 0.5]))
    check_kind_against_values("var", torch.tensor([0.0, 0.5]))


def test_describe_names_types_and_shapes() -> None:
    assert describe({"a": X, "b": (Z,)}) == "dict{'a': Tensor(2, 6), 'b': tuple of 1: (Tensor(2, 2))}"
    assert describe(td.Normal(X, X)).startswith("Normal(loc (2, 6), scale (2, 6)")


def test_data_forms() -> None:
    arr = np.arange(24.0).reshape(6, 4)
    assert torch.equal(collect(arr), torch.from_numpy(arr))
    pair = collect((arr, np.arange(6)))
    assert isinstance(pair, tuple) and pair[1].dtype == torch.int64 and n_rows(pair) == 6
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.from_numpy(arr),
                                                                        torch.arange(6)), batch_size=4)
    got = collect(loader, limit=5)
    assert torch.equal(got[0], torch.from_numpy(arr[:5])) and torch.equal(got[1], torch.arange(5))
    assert torch.equal(first_array(got), got[0])
    with pytest.raises(InvalidArgumentError, match="DataLoader"):
        collect(torch.utils.data.TensorDataset(torch.zeros(3, 2)))
    with pytest.raises(InvalidArgumentError, match="same number of rows"):
        collect((arr, np.arange(5)))
    with pytest.raises(InvalidArgumentError, match="no batches"):
        collect(iter([]))


def test_a_studentt_decoder_says_its_floor_is_the_scale_floor() -> None:
    from torch import nn

    from vaeproofs.audit import audit_vae

    class TVAE(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            torch.manual_seed(0)
            self.enc = nn.Linear(6, 4)
            self.dec = nn.Linear(2, 12)

        def forward(self, x: torch.Tensor) -> tuple[td.Distribution, td.Normal]:
            mu, logvar = self.enc(x).chunk(2, dim=-1)
            loc, raw = self.dec(mu).chunk(2, dim=-1)
            scale = torch.nn.functional.softplus(raw) + 0.1
            return td.StudentT(4.0, loc, scale), td.Normal(mu, torch.exp(logvar))

    rep = audit_vae(TVAE(), np.random.default_rng(0).uniform(size=(12, 6)), steps=0)
    assert rep.variance_floor.variance == "std"
    assert rep.variance_floor.floor == pytest.approx(0.1**2, rel=16 * 2.0**-52)
    assert rep.advice[0].topic == "output" and "df > 2" in rep.advice[0].text
    assert "StudentT" in rep.data["model_output"]
