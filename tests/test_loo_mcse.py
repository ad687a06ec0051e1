"""Tests of the empirical PSIS Monte Carlo error (course_pkg.loo.psis_mcse, psis_blocks) and of
the refit checks of course_pkg.loo.BambiRefit (priors read from the model, text grouping
columns, a refit that differs from the fitted model)."""

import bambi as bmb
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from course_pkg.loo import PSIS_STATISTICS, BambiRefit, psis_blocks, psis_mcse, psis_summary


def _normal_fit(seed, n_obs=40, chains=4, draws=1000):
    """Exact posterior draws of a normal mean (sigma 1, flat prior) and their log-likelihood."""
    rng = np.random.default_rng(seed)
    y = np.random.default_rng(0).normal(0.0, 1.0, n_obs)  # the same data in every fit
    mu = rng.normal(y.mean(), 1 / np.sqrt(n_obs), (chains, draws))
    log_lik = -0.5 * (y[None, None, :] - mu[..., None]) ** 2 - 0.5 * np.log(2 * np.pi)
    return xr.DataTree.from_dict({
        "posterior": xr.Dataset({"mu": (("chain", "draw"), mu)}),
        "log_likelihood": xr.Dataset({"y": (("chain", "draw", "obs"), log_lik)})})


def test_psis_blocks_and_mcse_shapes():
    table, pointwise = psis_blocks(_normal_fit(1), blocks_per_chain=2)
    assert list(table.columns) == list(PSIS_STATISTICS) and len(table) == 8
    assert pointwise.shape == (8, 40)
    np.testing.assert_allclose(table["elpd_loo"], pointwise.sum(axis=1))
    np.testing.assert_allclose(table["looic"], -2 * table["elpd_loo"])
    mc = psis_mcse(_normal_fit(1), _normal_fit(2))
    assert list(mc.index) == [*PSIS_STATISTICS, "elpd_diff", "se_diff"]
    assert mc.attrs["blocks"] == 8 and (mc > 0).all()
    assert mc["looic"] == pytest.approx(2 * mc["elpd_loo"])


def test_psis_mcse_matches_the_spread_of_independent_runs():
    """For a well-behaved model, the block estimate is of the size of the actual spread of
    PSIS-LOO over independent reruns (loose: the block SD rests on 8 values)."""
    import arviz_stats as azs

    reruns = [float(azs.loo(_normal_fit(seed)).elpd) for seed in range(10, 40)]
    actual = np.std(reruns, ddof=1)
    estimates = [psis_mcse(_normal_fit(seed))["elpd_loo"] for seed in range(10, 14)]
    assert 0.4 * actual < np.median(estimates) < 2.5 * actual


def test_psis_mcse_bad_input():
    with pytest.raises(TypeError, match="idata must be an xarray.DataTree"):
        psis_mcse({"log_likelihood": 1})
    with pytest.raises(ValueError, match="no log_likelihood group"):
        psis_mcse(xr.DataTree())
    with pytest.raises(TypeError, match="blocks_per_chain must be an int"):
        psis_mcse(_normal_fit(1), blocks_per_chain=True)
    with pytest.raises(ValueError, match="too short"):
        psis_mcse(_normal_fit(1), blocks_per_chain=20)
    with pytest.raises(ValueError, match="at least two blocks"):
        psis_mcse(_normal_fit(1, chains=1), blocks_per_chain=1)
    with pytest.raises(ValueError, match="var_name='z'"):
        psis_mcse(_normal_fit(1), var_name="z")
    with pytest.raises(ValueError, match="must match"):
        psis_mcse(_normal_fit(1), _normal_fit(2, n_obs=30))


def _tree(n_obs):
    log_lik = xr.Dataset({"y": (("chain", "draw", "__obs__"), np.zeros((1, 2, n_obs)))})
    return xr.DataTree.from_dict({"posterior": xr.Dataset(), "log_likelihood": log_lik})


def test_refit_reads_default_priors_from_the_model():
    data = pd.DataFrame({"y": [0.1, 0.2, 0.3, 0.5], "g": ["a", "b", "b", "c"]})
    model = bmb.Model("y ~ 1 + (1 | g)", data)
    model.build()
    wrapper = BambiRefit(model, _tree(4), random_seed=1)
    assert set(wrapper.priors) == {"Intercept", "1|g", "sigma"}
    assert str(wrapper.priors["Intercept"]) == str(model.parameters["mu"].terms["Intercept"].prior)


def test_refit_keeps_the_levels_of_a_text_column():
    data = pd.DataFrame({"y": [0.1, 0.2, 0.3, 0.5], "g": ["b", "a", "a", "c"]})
    wrapper = BambiRefit(bmb.Model("y ~ 0 + g", data), _tree(4), random_seed=1)
    kept, left_out = wrapper.sel_observations(3)  # c's only row
    assert list(kept["g"].cat.categories) == ["a", "b", "c"]
    assert left_out["g"].iloc[0] == "c"


def test_refit_that_differs_from_the_fitted_model_raises():
    data = pd.DataFrame({"y": [0.1, 0.2, 0.3, 0.5], "g": pd.Categorical(["a", "b", "b", "c"])})
    priors = {"g": bmb.Prior("Normal", mu=0, sigma=1.5), "sigma": bmb.Prior("Exponential", lam=1)}
    model = bmb.Model("y ~ 0 + g", data, priors=priors)
    model.build()
    wrong = dict(priors, g=bmb.Prior("Normal", mu=0, sigma=2))
    wrapper = BambiRefit(model, _tree(4), priors=wrong, random_seed=1)
    kept, _ = wrapper.sel_observations(0)
    with pytest.raises(ValueError, match=r"priors differ for \['g'\]"):
        wrapper.sample(kept)  # raises after building, before sampling
    with pytest.raises(TypeError, match="model must be a bambi.Model"):
        BambiRefit.model_priors("y ~ g")


def test_psis_summary_matches_arviz_and_bad_input():
    import arviz_stats as azs

    fit_a, fit_b = _normal_fit(1), _normal_fit(2)
    summary = psis_summary(fit_a, fit_b)
    a, b = azs.loo(fit_a), azs.loo(fit_b)
    assert summary["elpd_loo"] == pytest.approx(a.elpd)
    assert summary["se_elpd_loo"] == pytest.approx(a.se)
    assert summary["p_loo"] == pytest.approx(a.p)
    assert summary["elpd_diff"] == pytest.approx(a.elpd - b.elpd)
    assert summary["looic"] == pytest.approx(-2 * a.elpd)
    with pytest.raises(TypeError, match="other must be an xarray.DataTree"):
        psis_summary(fit_a, "m2")
    with pytest.raises(ValueError, match="log_likelihood and posterior"):
        psis_summary(xr.DataTree())
