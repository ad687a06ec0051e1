"""Tests for the PyMC virus-load model builder (chapter 1)."""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytest

from course_pkg.diagnostics import check_convergence
from course_pkg.sampling import sample_pymc
from course_pkg.simulate import mu_closed_form, simulate_virus_load
from course_pkg.virus import (
    DEFAULT_PRIORS,
    FITTING_PRIORS,
    MODEL_NAMES,
    TEXT_PRIORS,
    build_virus_model,
    population_estimates,
)


@pytest.fixture(scope="module")
def small():
    return simulate_virus_load("m3", seed=7)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_structure(small, name):
    data, _ = small
    model = build_virus_model(data, name)
    assert list(model.coords["id"]) == list(range(1, 25))
    assert len(model.coords["obs_id"]) == len(data)
    free = {rv.name for rv in model.free_RVs}
    assert ({"sigma"} if name == "m5" else {"sigma", "a1", "b1"}) <= free
    expected = {
        "m1": {"a0", "b0"},
        "m2": {"mu_a", "mu_b", "a0", "b0"},
        "m2a": {"a0", "b0"},
        "m3": {"a0", "b0"},
        "m4": {"mu_a", "mu_b", "sigma_a", "sigma_b", "a0", "b0"},
        "m4a": {"mu_a", "mu_b", "sigma_a", "sigma_b", "z_a", "z_b"},
        "m5": {"a0", "b0"},
    }[name]
    assert expected <= free
    assert model.named_vars_to_dims["mu"] == ("obs_id",)
    assert {"time", "dose_adj", "id_idx"} <= set(model.named_vars)


def test_mu_is_the_closed_form(small):
    data, _ = small
    model = build_virus_model(data, "m3")
    point = {"a0": np.linspace(2.8, 3.2, 24), "b0": np.linspace(0.9, 1.1, 24),
             "a1": 0.1, "b1": -0.1, "sigma_log__": 0.0}
    (mu_graph,) = model.replace_rvs_by_values([model["mu"]])
    mu = model.compile_fn(mu_graph, inputs=model.value_vars, on_unused_input="ignore")(point)
    idx = data["id"].to_numpy() - 1
    alpha = point["a0"][idx] + 0.1 * data["dose_adj"].to_numpy()
    beta = point["b0"][idx] - 0.1 * data["dose_adj"].to_numpy()
    np.testing.assert_allclose(mu, mu_closed_form(alpha, beta, data["time"].to_numpy()))


def test_options(small):
    data, _ = small
    no_dose = build_virus_model(data, "m4", dose_effect=False)
    assert "a1" not in no_dose.named_vars
    noncentred = build_virus_model(data, "m4", noncentered=True)
    assert {"z_a", "z_b"} <= {rv.name for rv in noncentred.free_RVs}
    assert "a0" in noncentred.named_vars and "a0" not in {rv.name for rv in noncentred.free_RVs}
    tight = build_virus_model(data, "m4", priors={"sigma_a_scale": 0.05})
    with tight:
        draws = pm.draw(tight["sigma_a"], draws=2000, random_seed=1)
    assert np.median(draws) == pytest.approx(0.05, rel=0.15)  # HalfCauchy median = scale
    assert DEFAULT_PRIORS is TEXT_PRIORS
    assert DEFAULT_PRIORS["m1"]["sigma_a"] == 10.0
    assert DEFAULT_PRIORS["m2"]["sigma_b"] == 0.001


def _prior_of(model, name):
    """(distribution name, its parameters as floats) of a free variable of a PyMC model."""
    rv = model[name]
    params = [float(np.unique(p.eval())[0]) for p in rv.owner.inputs[2:]]
    return rv.owner.op.name, params


def test_fitting_priors_are_the_source_script_s(small):
    """The builder's default priors are those of the source's part-2 fitting script."""
    data, _ = small
    assert FITTING_PRIORS["m2"]["sigma_a"] == 0.0001
    m1 = build_virus_model(data, "m1")
    assert _prior_of(m1, "a1") == ("normal", [0.3, 1.0])
    assert _prior_of(m1, "b1") == ("normal", [-0.3, 1.0])
    assert _prior_of(m1, "a0") == ("normal", [2.0, 10.0])
    assert _prior_of(m1, "b0") == ("normal", [0.5, 10.0])
    assert _prior_of(build_virus_model(data, "m3"), "a0") == ("normal", [2.0, 1.0])
    m2a = build_virus_model(data, "m2a")
    assert _prior_of(m2a, "a0") == ("normal", [2.0, 0.1])
    assert _prior_of(m2a, "b0") == ("normal", [0.5, 0.1])
    m4 = build_virus_model(data, "m4")
    assert _prior_of(m4, "mu_a") == ("normal", [2.0, 1.0])
    assert _prior_of(m4, "mu_b") == ("normal", [0.5, 1.0])
    assert _prior_of(m4, "sigma_a")[0] == "halfcauchy"
    m5 = build_virus_model(data, "m5")
    assert "a1" not in m5.named_vars
    assert _prior_of(m5, "a0") == ("normal", [2.0, 10.0])
    text = build_virus_model(data, "m1", prior_set="text")
    assert _prior_of(text, "a1") == ("normal", [0.1, 0.1])
    assert _prior_of(text, "a0") == ("normal", [3.0, 10.0])


def test_population_estimates_skips_absent_parameters():
    import xarray as xr

    rng = np.random.default_rng(0)
    post = xr.Dataset({"a0": (("chain", "draw", "id"), rng.normal(size=(2, 10, 3))),
                       "b0": (("chain", "draw", "id"), rng.normal(size=(2, 10, 3))),
                       "sigma": (("chain", "draw"), np.abs(rng.normal(size=(2, 10))))})
    est = population_estimates(xr.DataTree.from_dict({"posterior": post}))
    assert list(est) == ["mu_a", "mu_b", "sigma"]
    with pytest.raises(KeyError, match="sigma"):
        population_estimates(xr.DataTree.from_dict({"posterior": post.drop_vars("sigma")}))


@pytest.mark.parametrize(
    ("args", "kwargs", "exc", "match"),
    [
        ((), {"model": "m6"}, ValueError, "model must be one of"),
        ((), {"prior_set": "part3"}, ValueError, "prior_set must be one of"),
        ((), {"prior_set": 1}, TypeError, "prior_set must be a str"),
        ((), {"model": "m5", "prior_set": "text"}, ValueError, "has no priors in prior_set"),
        ((), {"priors": {"sigma_a_scale": 0.1}, "model": "m1"}, ValueError, "does not use"),
        ((), {"priors": {"sigma_a_scale": -1.0}}, ValueError, "must be > 0"),
        ((), {"priors": {"mu_a_mu": "3"}}, TypeError, "finite number"),
        ((), {"priors": [("mu_a_mu", 3.0)]}, TypeError, "priors must be a mapping"),
    ],
)
def test_bad_arguments(small, args, kwargs, exc, match):
    data, _ = small
    with pytest.raises(exc, match=match):
        build_virus_model(data, *args, **kwargs)


def test_bad_data(small):
    data, _ = small
    with pytest.raises(TypeError, match="DataFrame"):
        build_virus_model(data.to_dict(), "m4")
    with pytest.raises(ValueError, match="lacks required columns"):
        build_virus_model(data.drop(columns="time"), "m4")
    with pytest.raises(ValueError, match="time'\\] must be > 0"):
        build_virus_model(data.assign(time=0.0), "m4")
    with pytest.raises(ValueError, match="missing or infinite"):
        build_virus_model(data.assign(outcome=np.nan), "m4")
    with pytest.raises(ValueError, match="single dose_adj"):
        build_virus_model(data.assign(dose_adj=np.arange(len(data), dtype=float)), "m4")
    with pytest.raises(ValueError, match="no rows"):
        build_virus_model(data.iloc[:0], "m4")
    with pytest.raises(TypeError, match="numeric"):
        build_virus_model(data.assign(time=data["time"].astype(str)), "m4")
    # The control: the unchanged data builds, so each error above came from its one change.
    assert isinstance(build_virus_model(data, "m4"), pm.Model)


@pytest.mark.slow
def test_model4_recovers_truth_on_larger_design():
    """Model 4 on 48 simulated people: passes the gate; 95% intervals cover the truth."""
    data, truth = simulate_virus_load("m3", seed=2024, group_sizes=[14, 16, 18])
    # Low-rank mass matrix as in chapter 1. At nutpie 0.16.11's default target acceptance (0.8)
    # one of the four chains stuck with this seed (1000 divergences); at 0.9 none diverges.
    idata = sample_pymc(build_virus_model(data, "m4"), random_seed=3, target_accept=0.9,
                        nuts={"adaptation": "low_rank"})
    names = ["mu_a", "mu_b", "sigma_a", "sigma_b", "a0", "b0", "a1", "b1", "sigma"]
    check_convergence(idata, var_names=names)
    post = idata.posterior
    for name in ("a1", "b1", "mu_a", "mu_b", "sigma"):
        lo, hi = np.quantile(post[name].values, [0.025, 0.975])
        assert lo <= truth[name] <= hi, f"{name}: truth {truth[name]} outside [{lo:.3f}, {hi:.3f}]"
