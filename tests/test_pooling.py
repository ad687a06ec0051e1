"""Tests of the pooling figures (course_pkg.plots.pooling) and the LOO refit wrapper."""

import bambi as bmb
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
import xarray as xr

from course_pkg import plots
from course_pkg.loo import BambiRefit


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


@pytest.fixture
def people():
    rng = np.random.default_rng(1)
    n = np.repeat([1, 2, 3, 4], 5)
    return pd.DataFrame({"n": n, "factor": 0.4 / n + rng.normal(0, 0.01, n.size),
                         "none": rng.normal(0.2, 0.06, n.size)}).assign(
                             partial=lambda t: 0.7 * t["none"] + 0.3 * 0.2)


def test_shrinkage_by_size_draws_points_and_theory(people):
    theory = pd.Series(0.4 / np.arange(1, 5), index=np.arange(1, 5))
    ax = plots.shrinkage_by_size(people, size="n", factor="factor", theory=theory)
    assert len(ax.collections[0].get_offsets()) == len(people)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), theory.to_numpy())
    assert list(ax.get_xticks()) == [1, 2, 3, 4]


def test_shrinkage_by_size_bad_input(people):
    with pytest.raises(KeyError, match="factor='nope'"):
        plots.shrinkage_by_size(people, size="n", factor="nope")
    with pytest.raises(ValueError, match="positive group sizes"):
        plots.shrinkage_by_size(people.assign(n=0), size="n", factor="factor")
    with pytest.raises(TypeError, match="theory must be a pandas.Series"):
        plots.shrinkage_by_size(people, size="n", factor="factor", theory=[0.4, 0.2])
    with pytest.raises(ValueError, match="jitter"):
        plots.shrinkage_by_size(people, size="n", factor="factor", jitter=-1)
    with pytest.raises(TypeError, match="pandas.DataFrame"):
        plots.shrinkage_by_size(people.to_dict(), size="n", factor="factor")


def test_pooling_overlay_orders_and_draws_three_estimates(people):
    ax = plots.pooling_overlay(people, no_pooling="none", partial_pooling="partial",
                               complete_pooling=0.2, order="none")
    none_y = ax.collections[0].get_offsets()[:, 1]
    assert np.all(np.diff(none_y) >= 0)  # sorted by the no-pooling estimate
    assert ax.lines[0].get_ydata()[0] == pytest.approx(0.2)
    assert len(ax.collections) == 2


def test_pooling_overlay_bad_input(people):
    with pytest.raises(KeyError, match="partial_pooling='x'"):
        plots.pooling_overlay(people, no_pooling="none", partial_pooling="x",
                              complete_pooling=0.2)
    with pytest.raises(TypeError, match="complete_pooling must be a number"):
        plots.pooling_overlay(people, no_pooling="none", partial_pooling="partial",
                              complete_pooling="0.2")


@pytest.fixture
def draws():
    rng = np.random.default_rng(2)
    return pd.DataFrame({"id": np.repeat(["a", "b", "c"], 400),
                         "value": np.concatenate([rng.normal(m, 0.1, 400) for m in (0, 1, 2)])})


def test_halfeye_intervals_match_quantiles(draws):
    ax = plots.halfeye(draws, value="value", group="id", order=["c", "a"], reference=0.5)
    segments = ax.collections[1].get_segments()  # first interval: group "c"
    low, high = np.quantile(draws.loc[draws["id"] == "c", "value"], [0.025, 0.975])
    assert segments[0][:, 1] == pytest.approx([low, high])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["c", "a"]


def test_halfeye_bad_input(draws):
    with pytest.raises(KeyError, match="order names groups"):
        plots.halfeye(draws, value="value", group="id", order=["z"])
    with pytest.raises(ValueError, match="level"):
        plots.halfeye(draws, value="value", group="id", level=95)
    with pytest.raises(ValueError, match="fewer than two draws"):
        plots.halfeye(draws.iloc[[0, 400, 401]], value="value", group="id")


def _tree():
    log_lik = xr.Dataset({"y": (("chain", "draw", "__obs__"), np.zeros((1, 2, 3)))})
    return xr.DataTree.from_dict({"posterior": xr.Dataset(), "log_likelihood": log_lik})


@pytest.fixture
def model():
    data = pd.DataFrame({"y": [0.1, 0.2, 0.3], "g": pd.Categorical(["a", "b", "b"])})
    return bmb.Model("y ~ 0 + g", data)


def test_bambi_refit_splits_rows_and_keeps_levels(model):
    wrapper = BambiRefit(model, _tree(), random_seed=1)
    kept, left_out = wrapper.sel_observations(0)
    assert list(kept.index) == [1, 2] and list(left_out.index) == [0]
    assert list(kept["g"].cat.categories) == ["a", "b"] and kept["g"].cat.ordered
    assert "observation" in wrapper.idata_orig["log_likelihood"].dims


def test_bambi_refit_bad_input(model):
    with pytest.raises(TypeError, match="model must be a bambi.Model"):
        BambiRefit("y ~ g", _tree(), random_seed=1)
    with pytest.raises(TypeError, match="random_seed must be an int"):
        BambiRefit(model, _tree(), random_seed=1.5)
    with pytest.raises(TypeError, match="priors must be a mapping"):
        BambiRefit(model, _tree(), priors=[1], random_seed=1)
    with pytest.raises(ValueError, match="log_likelihood group"):
        BambiRefit(model, xr.DataTree(), random_seed=1)
    wrapper = BambiRefit(model, _tree(), random_seed=1)
    with pytest.raises(IndexError, match="outside"):
        wrapper.sel_observations(3)
    with pytest.raises(TypeError, match="idx must be an int"):
        wrapper.sel_observations("0")
    with pytest.raises(RuntimeError, match="call sample"):
        wrapper.log_likelihood__i(None, None)


@pytest.mark.slow
def test_bambi_refit_left_out_level_falls_back_on_its_prior():
    """Leaving out a group's only row: the refit keeps the group's coefficient at its prior,
    so the held-out log density is that of the prior predictive (checked against the normal
    density with the prior's and sigma's variances added)."""
    rng = np.random.default_rng(3)
    data = pd.DataFrame({"y": np.r_[rng.normal(0.0, 0.5, 12), 0.7],
                         "g": pd.Categorical(["a"] * 6 + ["b"] * 6 + ["c"])})
    priors = {"g": bmb.Prior("Normal", mu=0, sigma=1.5),
              "sigma": bmb.Prior("Exponential", lam=1)}
    model = bmb.Model("y ~ 0 + g", data, priors=priors)
    log_lik = xr.Dataset({"y": (("chain", "draw", "__obs__"), np.zeros((4, 1000, 13)))})
    tree = xr.DataTree.from_dict({"posterior": xr.Dataset(), "log_likelihood": log_lik})
    wrapper = BambiRefit(model, tree, priors=priors, random_seed=1)
    kept, left_out = wrapper.sel_observations(12)
    refit = wrapper.sample(kept)
    assert "c" in refit.posterior["g_dim"].values  # the level without rows keeps its coefficient
    values = wrapper.log_likelihood__i(left_out, refit)
    assert set(values.dims) == {"chain", "draw", "observation"}
    sigma = refit.posterior["sigma"].to_numpy().ravel()
    scale = np.sqrt(1.5**2 + sigma**2)
    expected = np.log(np.mean(np.exp(-0.5 * (0.7 / scale) ** 2) / (scale * np.sqrt(2 * np.pi))))
    got = np.log(np.mean(np.exp(values.to_numpy())))
    assert got == pytest.approx(expected, abs=0.1)
    assert len(wrapper.refits) == 1 and wrapper.refits[0]["row"] == [12]
    # the Monte Carlo error of the held-out log density: about sd / (sqrt(n) mean) of the
    # density over the draws (near-independent draws here)
    density = np.exp(values.to_numpy().ravel())
    naive = density.std() / (np.sqrt(density.size) * density.mean())
    assert wrapper.refits[0]["elpd_mcse"] == pytest.approx(naive, rel=0.5)
