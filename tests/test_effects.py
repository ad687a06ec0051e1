"""Tests for course_pkg.effects: prior tables and brms-style accessors on real small fits."""

from __future__ import annotations

import bambi as bmb
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from course_pkg.effects import fixef, prior_table, ranef, varcorr
from course_pkg.sampling import fit_bambi


@pytest.fixture(scope="module")
def sim_data() -> pd.DataFrame:
    """12 groups x 10 observations, random intercepts and slopes with known sds."""
    rng = np.random.default_rng(42)
    n_groups, n_per = 12, 10
    g = np.repeat(np.arange(n_groups), n_per)
    x = np.tile(np.linspace(-1, 1, n_per), n_groups)
    u0 = rng.normal(0, 1.0, n_groups)
    u1 = rng.normal(0, 0.3, n_groups)
    y = 2.0 + u0[g] + (0.5 + u1[g]) * x + rng.normal(0, 0.3, g.size)
    return pd.DataFrame({"y": y, "x": x, "g": pd.Categorical([f"g{i:02d}" for i in g])})


@pytest.fixture(scope="module")
def model(sim_data):
    return bmb.Model("y ~ x + (1 + x | g)", sim_data,
                     priors={"x": bmb.Prior("Normal", mu=0, sigma=1)})


@pytest.fixture(scope="module")
def idata(model):
    return fit_bambi(model, random_seed=7, draws=300, tune=400, chains=2, log_likelihood=False)


def _fake_idata(**variables) -> xr.DataTree:
    """Posterior with given arrays (shape chain x draw x ...), for exact-value tests."""
    data_vars = {}
    for name, (values, dims, coords) in variables.items():
        data_vars[name] = xr.DataArray(values, dims=("chain", "draw", *dims), coords=coords)
    return xr.DataTree.from_dict({"posterior": xr.Dataset(data_vars)})


# ---------------------------------------------------------------- prior_table


def test_prior_table_lists_every_parameter_with_source(model):
    table = prior_table(model)
    assert list(table.columns) == ["parameter", "class", "component", "prior", "source"]
    by_name = table.set_index("parameter")
    assert set(by_name.index) == {"Intercept", "x", "1|g_sigma", "1|g", "x|g_sigma", "x|g",
                                  "sigma"}
    assert by_name.loc["x", "source"] == "user"
    assert by_name.loc["x", "class"] == "b"
    assert "Normal" in by_name.loc["x", "prior"]
    assert by_name.loc["Intercept", "class"] == "Intercept"
    assert by_name.loc["Intercept", "source"] == "default (auto-scaled)"
    assert by_name.loc["1|g_sigma", "class"] == "sd"
    assert by_name.loc["1|g", "source"] == "hierarchical"
    assert by_name.loc["sigma", "source"] == "default"


def test_prior_table_user_sigma_and_no_autoscale(sim_data):
    m = bmb.Model("y ~ x + (1 | g)", sim_data, auto_scale=False,
                  priors={"sigma": bmb.Prior("HalfNormal", sigma=2)})
    by_name = prior_table(m).set_index("parameter")
    assert by_name.loc["sigma", "source"] == "user"
    assert "HalfNormal" in by_name.loc["sigma", "prior"]
    assert by_name.loc["x", "source"] == "default"
    assert "Flat" in by_name.loc["x", "prior"]


def test_prior_table_rejects_non_model():
    with pytest.raises(TypeError, match="bambi.Model"):
        prior_table("y ~ x")


# ---------------------------------------------------------------- fixef


@pytest.mark.slow
def test_fixef_from_bambi_model(idata, model):
    table = fixef(idata, model)
    assert list(table.index) == ["Intercept", "x"]
    assert list(table.columns) == ["Estimate", "Est.Error", "Q2.5", "Q97.5"]
    post = idata.posterior["x"].values.ravel()
    assert table.loc["x", "Estimate"] == pytest.approx(post.mean())
    assert table.loc["x", "Q2.5"] == pytest.approx(np.quantile(post, 0.025))
    # The simulated slope is 0.5; the fit should find it.
    assert table.loc["x", "Q2.5"] < 0.5 < table.loc["x", "Q97.5"]


def test_fixef_exact_values_and_prob():
    values = np.arange(2 * 5, dtype=float).reshape(2, 5)
    idata = _fake_idata(b=(values, (), {}))
    table = fixef(idata, var_names=["b"], prob=0.5)
    assert list(table.columns) == ["Estimate", "Est.Error", "Q25", "Q75"]
    assert table.loc["b", "Estimate"] == pytest.approx(4.5)
    assert table.loc["b", "Est.Error"] == pytest.approx(values.std(ddof=1))
    assert table.loc["b", "Q25"] == pytest.approx(np.quantile(values, 0.25))


def test_fixef_vector_term_gets_one_row_per_level():
    values = np.zeros((2, 4, 3))
    idata = _fake_idata(b=(values, ("level",), {"level": ["a", "b", "c"]}))
    assert list(fixef(idata, var_names="b").index) == ["b[a]", "b[b]", "b[c]"]


def test_fixef_bad_input(idata, model):
    with pytest.raises(ValueError, match="exactly one"):
        fixef(idata)
    with pytest.raises(ValueError, match="exactly one"):
        fixef(idata, model, var_names=["x"])
    with pytest.raises(ValueError, match="not in the posterior"):
        fixef(idata, var_names=["nope"])
    with pytest.raises(TypeError, match="bambi.Model"):
        fixef(idata, "model")
    with pytest.raises(TypeError, match="DataTree"):
        fixef({"x": 1}, var_names=["x"])
    with pytest.raises(ValueError, match="prob"):
        fixef(idata, model, prob=1.5)


# ---------------------------------------------------------------- ranef


@pytest.mark.slow
def test_ranef_tidy_table(idata, sim_data):
    table = ranef(idata)
    assert list(table.columns) == ["group_var", "effect", "group", "value", "se", "lower_2.5",
                                   "upper_97.5"]
    assert len(table) == 2 * sim_data["g"].nunique()
    assert set(table["effect"]) == {"Intercept", "x"}
    assert set(table["group_var"]) == {"g"}
    first = table.iloc[0]
    draws = idata.posterior["1|g"].sel(g__factor_dim=first["group"]).values.ravel()
    assert first["value"] == pytest.approx(draws.mean())
    assert first["se"] == pytest.approx(draws.std(ddof=1))
    assert (table["lower_2.5"] <= table["value"]).all()
    assert (table["value"] <= table["upper_97.5"]).all()


def test_ranef_selects_and_labels():
    values = np.ones((2, 3, 2))
    idata = _fake_idata(**{
        "1|school": (values, ("school__factor_dim",), {"school__factor_dim": ["a", "b"]}),
        "1|school_sigma": (np.ones((2, 3)), (), {}),
        "x|school": (2 * values, ("school__factor_dim",), {"school__factor_dim": ["a", "b"]}),
    })
    table = ranef(idata, "x|school", prob=0.9)
    assert list(table["effect"]) == ["x", "x"]
    assert list(table["group"]) == ["a", "b"]
    assert "lower_5" in table.columns and "upper_95" in table.columns
    assert np.allclose(table["value"], 2.0)


def test_ranef_bad_input():
    idata = _fake_idata(b=(np.zeros((2, 3)), (), {}))
    with pytest.raises(ValueError, match="no group-specific effects"):
        ranef(idata)
    two_dims = _fake_idata(**{"1|g": (np.zeros((2, 3, 2, 2)), ("g_dim", "cat"), {})})
    with pytest.raises(ValueError, match="one"):
        ranef(two_dims)
    with pytest.raises(ValueError, match="not group-specific"):
        ranef(two_dims, var_names=["b"])
    with pytest.raises(TypeError, match="DataTree"):
        ranef(None)


# ---------------------------------------------------------------- varcorr


@pytest.mark.slow
def test_varcorr_bambi(idata):
    table = varcorr(idata)
    assert list(table["term"]) == ["sd(Intercept)", "sd(x)", "sigma"]
    assert list(table["group_var"]) == ["g", "g", "Residual"]
    assert table.loc[2, "Estimate"] == pytest.approx(float(idata.posterior["sigma"].mean()))
    # Simulated residual sd is 0.3.
    assert table.loc[2, "Q2.5"] < 0.3 < table.loc[2, "Q97.5"]


def test_varcorr_reads_correlations_and_orders_them():
    rng = np.random.default_rng(1)
    idata = _fake_idata(**{
        "cor(Intercept,x)|g": (rng.uniform(-0.5, 0.5, (2, 50)), (), {}),
        "1|g_sigma": (rng.uniform(1, 2, (2, 50)), (), {}),
        "x|g_sigma": (rng.uniform(0, 1, (2, 50)), (), {}),
        "sigma": (rng.uniform(0, 1, (2, 50)), (), {}),
    })
    table = varcorr(idata, residual=None)
    assert list(table["term"]) == ["sd(Intercept)", "sd(x)", "cor(Intercept,x)"]
    assert "Residual" not in set(table["group_var"])


def test_varcorr_bad_input():
    with pytest.raises(ValueError, match="no group-level standard deviations"):
        varcorr(_fake_idata(sigma=(np.ones((2, 3)), (), {})))
    with pytest.raises(ValueError, match="prob"):
        varcorr(_fake_idata(sigma=(np.ones((2, 3)), (), {})), prob=0)
    vector_sd = _fake_idata(**{"1|g_sigma": (np.ones((2, 3, 2)), ("k",), {})})
    with pytest.raises(ValueError, match="scalar"):
        varcorr(vector_sd)


def test_prior_table_after_set_priors_is_honest(sim_data):
    m = bmb.Model("y ~ x + (1 | g)", sim_data)
    m.set_priors(priors={"x": bmb.Prior("Normal", mu=0, sigma=0.5)})
    by_name = prior_table(m).set_index("parameter")
    assert by_name.loc["x", "source"] == "user"
    assert by_name.loc["Intercept", "source"].startswith("unknown")
    assert by_name.loc["sigma", "source"].startswith("unknown")


def test_prior_table_common_key_also_sets_intercept(sim_data):
    m = bmb.Model("y ~ x", sim_data, priors={"common": bmb.Prior("Normal", mu=0, sigma=0.5)})
    by_name = prior_table(m).set_index("parameter")
    assert by_name.loc["Intercept", "prior"] == by_name.loc["x", "prior"]
    assert by_name.loc["Intercept", "source"] == "user"
