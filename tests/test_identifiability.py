"""Tests for course_pkg.virus_identify and course_pkg.plots.identifiability (chapter 1)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import xarray as xr

from course_pkg.plots import curves_by_person, intercept_slope_pairs
from course_pkg.simulate import simulate_virus_load
from course_pkg.virus_identify import (
    free_intercept_slope_posterior,
    posterior_mean_curves,
    true_person_parameters,
)


@pytest.fixture(scope="module")
def sim():
    return simulate_virus_load("m3", seed=11)


def _fake_fit(n_people, *, per_person=True, dose=True, seed=0):
    rng = np.random.default_rng(seed)
    shape = (2, 50)
    post = {"sigma": (("chain", "draw"), np.abs(rng.normal(1, 0.1, shape)))}
    ids = np.arange(1, n_people + 1)
    if per_person:
        post["a0"] = (("chain", "draw", "id"), rng.normal(3, 0.05, shape + (n_people,)))
        post["b0"] = (("chain", "draw", "id"), rng.normal(1, 0.05, shape + (n_people,)))
    else:
        post["a0"] = (("chain", "draw"), rng.normal(3, 0.05, shape))
        post["b0"] = (("chain", "draw"), rng.normal(1, 0.05, shape))
    if dose:
        post["a1"] = (("chain", "draw"), rng.normal(0.1, 0.01, shape))
        post["b1"] = (("chain", "draw"), rng.normal(-0.1, 0.01, shape))
    ds = xr.Dataset(post, coords={"id": ids} if per_person else None)
    return xr.DataTree.from_dict({"posterior": ds})


def test_true_person_parameters_recovers_the_simulation(sim):
    data, truth = sim
    table = true_person_parameters(data)
    assert list(table.index) == sorted(data["id"].unique())
    assert table["max_residual"].max() < 1e-8
    expected_alpha = truth["a0"] + truth["a1"] * table["dose_adj"].to_numpy()
    np.testing.assert_allclose(table["alpha"], expected_alpha, atol=1e-10)
    expected_beta = truth["b0"] + truth["b1"] * table["dose_adj"].to_numpy()
    np.testing.assert_allclose(table["beta"], expected_beta, atol=1e-10)


def test_true_person_parameters_bad_input(sim):
    data, _ = sim
    with pytest.raises(TypeError, match="DataFrame"):
        true_person_parameters(data.to_dict())
    with pytest.raises(KeyError, match="mu"):
        true_person_parameters(data.drop(columns="mu"))
    with pytest.raises(ValueError, match="two distinct positive times"):
        true_person_parameters(data[data["time"] == 1.0])
    with pytest.raises(ValueError, match="not of the form"):
        true_person_parameters(data.assign(mu=-data["mu"]))


def test_slope_posterior_matches_conjugate_regression():
    dose = np.array([-1.0, -1.0, 0.0, 1.0, 1.0])
    effects = 2.0 + 0.5 * dose
    mean, sd = free_intercept_slope_posterior(effects, dose, slope_mean=0.0, slope_sd=1.0,
                                              intercept_mean=2.0, intercept_sd=0.5)
    precision = 1.0 + 4.0 / 0.25
    assert sd == pytest.approx(precision ** -0.5)
    assert mean == pytest.approx((4 * 0.5 / 0.25) / precision)
    # A flat slope prior and tight intercepts: least squares through the intercept mean.
    mean, _ = free_intercept_slope_posterior(effects, dose, slope_mean=0.0, slope_sd=1e6,
                                             intercept_mean=2.0, intercept_sd=1e-3)
    assert mean == pytest.approx(0.5)
    # Wide intercepts: the slope's posterior is its prior.
    mean, sd = free_intercept_slope_posterior(effects, dose, slope_mean=0.3, slope_sd=1.0,
                                              intercept_mean=2.0, intercept_sd=1e6)
    assert (mean, sd) == pytest.approx((0.3, 1.0))


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"slope_sd": 0.0}, ValueError, "slope_sd must be > 0"),
        ({"intercept_sd": -1.0}, ValueError, "intercept_sd must be > 0"),
        ({"slope_mean": "0"}, TypeError, "slope_mean must be a finite number"),
        ({"intercept_mean": np.nan}, TypeError, "intercept_mean must be a finite number"),
    ],
)
def test_slope_posterior_bad_priors(kwargs, exc, match):
    args = {"slope_mean": 0.0, "slope_sd": 1.0, "intercept_mean": 0.0, "intercept_sd": 1.0}
    with pytest.raises(exc, match=match):
        free_intercept_slope_posterior([1.0, 2.0], [0.0, 1.0], **(args | kwargs))


def test_slope_posterior_bad_arrays():
    args = {"slope_mean": 0.0, "slope_sd": 1.0, "intercept_mean": 0.0, "intercept_sd": 1.0}
    with pytest.raises(ValueError, match="equal length"):
        free_intercept_slope_posterior([1.0, 2.0], [0.0], **args)
    with pytest.raises(ValueError, match="finite"):
        free_intercept_slope_posterior([1.0, np.inf], [0.0, 1.0], **args)


def test_posterior_mean_curves_all_model_shapes(sim):
    data, _ = sim
    n = data["id"].nunique()
    fits = {"free": _fake_fit(n), "pooled": _fake_fit(n, per_person=False),
            "no dose": _fake_fit(n, dose=False)}
    times = np.array([1.0, 5.0, 20.0])
    curves = posterior_mean_curves(fits, data, times)
    assert len(curves) == 3 * n * 3
    assert set(curves.columns) == {"model", "id", "time", "mean", "dose_cat"}
    one = fits["no dose"].posterior
    a, b = np.exp(one["a0"].sel(id=1)).mean().item(), np.exp(one["b0"].sel(id=1)).mean().item()
    got = curves[(curves["model"] == "no dose") & (curves["id"] == 1)]["mean"].to_numpy()
    np.testing.assert_allclose(got, a * np.log(times) - b * times)
    pooled = curves[curves["model"] == "pooled"]
    low = data.loc[data["dose_cat"] == "low", "id"].iloc[0]
    high = data.loc[data["dose_cat"] == "high", "id"].iloc[0]
    assert not np.allclose(pooled[pooled["id"] == low]["mean"],
                           pooled[pooled["id"] == high]["mean"])


def test_posterior_mean_curves_bad_input(sim):
    data, _ = sim
    fit = _fake_fit(data["id"].nunique())
    with pytest.raises(TypeError, match="non-empty mapping"):
        posterior_mean_curves({}, data, [1.0])
    with pytest.raises(KeyError, match="dose_adj"):
        posterior_mean_curves({"m": fit}, data.drop(columns="dose_adj"), [1.0])
    with pytest.raises(ValueError, match="positive times"):
        posterior_mean_curves({"m": fit}, data, [0.0, 1.0])
    with pytest.raises(KeyError, match="lacks"):
        posterior_mean_curves({"m": fit}, data[data["id"] > 3], [1.0])
    no_b0 = xr.DataTree.from_dict({"posterior": fit.posterior.to_dataset().drop_vars("b0")})
    with pytest.raises(KeyError, match="'b0'"):
        posterior_mean_curves({"m": no_b0}, data, [1.0])


def test_intercept_slope_pairs_draws_one_cloud_per_group(sim):
    data, _ = sim
    fit = _fake_fit(data["id"].nunique())
    ax = intercept_slope_pairs(fit, data, intercept="a0", slope="a1", n_draws=20, title="t")
    assert len(ax.collections) == 2 * data["dose_cat"].nunique()  # clouds and legend handles
    assert ax.get_xlabel() == "a1" and ax.get_title() == "t"
    total = sum(len(c.get_offsets()) for c in ax.collections)
    assert total == 20 * data["id"].nunique()
    plt.close("all")


def test_intercept_slope_pairs_bad_input(sim):
    data, _ = sim
    fit = _fake_fit(data["id"].nunique())
    with pytest.raises(KeyError, match="no variable 'c0'"):
        intercept_slope_pairs(fit, data, intercept="c0", slope="a1")
    with pytest.raises(ValueError, match="must be a scalar"):
        intercept_slope_pairs(fit, data, intercept="a0", slope="b0")
    with pytest.raises(ValueError, match="one dimension over the groups"):
        intercept_slope_pairs(fit, data, intercept="a1", slope="b1")
    with pytest.raises(ValueError, match="n_draws"):
        intercept_slope_pairs(fit, data, intercept="a0", slope="a1", n_draws=0)
    with pytest.raises(KeyError, match="hue='nope'"):
        intercept_slope_pairs(fit, data, intercept="a0", slope="a1", hue="nope")
    mixed = data.assign(dose_cat=np.where(data["time"] > 5, "a", "b"))
    with pytest.raises(ValueError, match="constant within"):
        intercept_slope_pairs(fit, mixed, intercept="a0", slope="a1")
    with pytest.raises(KeyError, match="lacks groups"):
        intercept_slope_pairs(fit, data[data["id"] > 2], intercept="a0", slope="a1")


def test_curves_by_person(sim):
    data, _ = sim
    n = data["id"].nunique()
    curves = posterior_mean_curves({"A": _fake_fit(n), "B": _fake_fit(n, seed=1)}, data,
                                   np.array([1.0, 10.0]))
    fig = curves_by_person(curves, data, ncols=5, models=["B", "A"], title="x")
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(visible) == n
    assert [line.get_label() for line in visible[0].lines] == ["B", "A"]
    with pytest.raises(KeyError, match="not in curves"):
        curves_by_person(curves, data, models=["C"])
    with pytest.raises(ValueError, match="ncols"):
        curves_by_person(curves, data, ncols=0)
    with pytest.raises(KeyError, match="data_y"):
        curves_by_person(curves, data, data_y="nope")
    with pytest.raises(TypeError, match="DataFrame"):
        curves_by_person(curves.to_dict(), data)
    plt.close("all")
