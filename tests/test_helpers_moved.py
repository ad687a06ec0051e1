"""Tests for the functions that replaced helpers defined inside the chapters: the virus-load
summaries (chapter 1), estimates with parity tolerances (chapter 3), correlation scalars
(chapter 5) and per-level intervals (chapter 5)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from course_pkg.draws import level_intervals
from course_pkg.effects import add_correlations
from course_pkg.parity import estimates_with_tolerance, printed_tolerance
from course_pkg.simulate import simulate_virus_load
from course_pkg.virus import design_summary, person_trajectories, population_estimates


def _tree(**variables):
    """A DataTree whose posterior holds the given (dims, values) variables."""
    return xr.DataTree.from_dict({"posterior": xr.Dataset(variables)})


def _virus_fit(rng, people, pooled=False, spread=0.1):
    c, d = 2, 300
    out = {name: (("chain", "draw"), rng.normal(loc, spread, (c, d)))
           for name, loc in (("a1", 0.1), ("b1", -0.1))}
    out["sigma"] = (("chain", "draw"), np.abs(rng.normal(1.0, 0.05, (c, d))))
    if pooled:
        out["a0"] = (("chain", "draw"), rng.normal(3.0, 0.1, (c, d)))
        out["b0"] = (("chain", "draw"), rng.normal(1.0, 0.1, (c, d)))
    else:
        out["a0"] = (("chain", "draw", "id"), rng.normal(3.0, spread, (c, d, len(people))))
        out["b0"] = (("chain", "draw", "id"), rng.normal(1.0, spread, (c, d, len(people))))
    tree = _tree(**out)
    return tree.posterior.to_dataset().assign_coords(id=people) if not pooled else tree


def test_population_estimates_reads_each_kind_of_model():
    rng = np.random.default_rng(1)
    post = _virus_fit(rng, [1, 2, 3])
    per_person = xr.DataTree.from_dict({"posterior": post})
    est = population_estimates(per_person)
    assert set(est) == {"mu_a", "mu_b", "a1", "b1", "sigma"}
    # no mu_a: the mean over people of a0, draw by draw
    assert est["mu_a"][0] == pytest.approx(float(post["a0"].mean()))
    assert est["mu_a"][1] == pytest.approx(float(post["a0"].mean("id").std()))
    with_mu = xr.DataTree.from_dict({"posterior": post.assign(
        mu_a=(("chain", "draw"), np.full((2, 300), 7.0)))})
    assert population_estimates(with_mu)["mu_a"] == (7.0, 0.0)
    pooled = _virus_fit(rng, [], pooled=True)
    assert population_estimates(pooled)["mu_b"][0] == pytest.approx(
        float(pooled.posterior["b0"].mean()))


def test_population_estimates_bad_input():
    with pytest.raises(TypeError):
        population_estimates({"a0": 1})
    with pytest.raises(KeyError, match="not a virus-model fit"):
        population_estimates(_tree(x=(("chain", "draw"), np.zeros((1, 5)))))


def test_person_trajectories_bands_and_errors():
    data, _ = simulate_virus_load("m3", seed=3)
    people = sorted(data["id"].unique())
    fit = xr.DataTree.from_dict({"posterior": _virus_fit(np.random.default_rng(2), people)})
    times = np.array([0.5, 1.0, 5.0])
    out = person_trajectories(fit, data, times, n_draws=200, seed=1)
    assert len(out) == len(people) * 3
    assert (out["mu_lo"] <= out["mean"]).all() and (out["mean"] <= out["mu_hi"]).all()
    # With the parameters nearly known, the credible band is narrow and the prediction band is
    # the residual noise: about +-1.96 sigma (sigma 1) around the mean.
    sharp = xr.DataTree.from_dict({"posterior": _virus_fit(np.random.default_rng(2), people,
                                                           spread=1e-4)})
    tight = person_trajectories(sharp, data, times, n_draws=300, seed=1)
    assert ((tight["mu_hi"] - tight["mu_lo"]) < 0.05).all()
    np.testing.assert_allclose(tight["y_hi"] - tight["y_lo"], 2 * 1.96, atol=0.6)
    pd.testing.assert_frame_equal(out, person_trajectories(fit, data, times, n_draws=200, seed=1))
    with pytest.raises(ValueError, match="positive times"):
        person_trajectories(fit, data, [0.0, 1.0])
    with pytest.raises(ValueError, match="n_draws"):
        person_trajectories(fit, data, times, n_draws=0)
    with pytest.raises(KeyError, match="dose_adj"):
        person_trajectories(fit, data.drop(columns="dose_adj"), times)
    with pytest.raises(KeyError, match="lacks people"):
        person_trajectories(fit, data[data["id"] != people[0]], times, n_draws=10)
    pooled = _virus_fit(np.random.default_rng(2), [], pooled=True)
    with pytest.raises(ValueError, match="no per-person a0"):
        person_trajectories(pooled, data, times)


def test_design_summary_counts_people_doses_and_times():
    data, _ = simulate_virus_load("m3", seed=1)
    out = design_summary(data)
    people = data.drop_duplicates("id")
    for cat, n in people["dose_cat"].value_counts().items():
        assert out[f"n_{cat}"] == n
    times = sorted(data["time"].unique())
    assert [out[f"time_{k}"] for k in range(len(times))] == times
    with pytest.raises(KeyError, match="dose_cat"):
        design_summary(data.drop(columns="dose_cat"))


def test_estimates_with_tolerance_means_quantiles_and_errors():
    rng = np.random.default_rng(4)
    idata = _tree(a=(("chain", "draw"), rng.normal(2.0, 1.0, (4, 1000))),
                  v=(("chain", "draw", "k"), rng.normal(size=(4, 1000, 2))))
    ours, tol = estimates_with_tolerance(idata, {"alpha": "a"}, 2,
                                         quantiles={"alpha hi": ("a", 0.975)})
    assert ours["alpha"] == pytest.approx(float(idata.posterior["a"].mean()))
    assert ours["alpha hi"] == pytest.approx(np.quantile(idata.posterior["a"].values, 0.975))
    # half a unit of the second decimal plus 3 MCSEs of a difference (sqrt 2 times ours)
    assert 0.005 < tol["alpha"] < printed_tolerance(2, 0.05)
    assert tol["alpha hi"] > tol["alpha"]  # a tail quantile is noisier than the mean
    with pytest.raises(KeyError, match="'b' is not a posterior variable"):
        estimates_with_tolerance(idata, {"beta": "b"}, 2)
    with pytest.raises(ValueError, match="select one element"):
        estimates_with_tolerance(idata, {"v": "v"}, 2)
    with pytest.raises(ValueError, match="probability must be in"):
        estimates_with_tolerance(idata, {"alpha": "a"}, 2, quantiles={"q": ("a", 1.5)})
    with pytest.raises(TypeError, match="names must be"):
        estimates_with_tolerance(idata, ["a"], 2)


def _cor_fit():
    rng = np.random.default_rng(5)
    labels = ["Intercept", "day01", "lag"]
    cor = np.broadcast_to(np.array([[1, 0.3, -0.2], [0.3, 1, 0.5], [-0.2, 0.5, 1.0]]),
                          (2, 10, 3, 3)).copy()
    cor[..., 1, 0] = cor[..., 0, 1] = rng.uniform(0.2, 0.4, (2, 10))
    post = xr.Dataset({"cor_id": (("chain", "draw", "id__coef", "id__coef_bis"), cor)},
                      coords={"id__coef": labels, "id__coef_bis": labels})
    return xr.DataTree.from_dict({"posterior": post}), cor


def test_add_correlations_adds_the_lower_triangle_as_brms_names():
    idata, cor = _cor_fit()
    names = add_correlations(idata, "id")
    assert names == ["cor(Intercept, day01)", "cor(Intercept, lag)", "cor(day01, lag)"]
    np.testing.assert_array_equal(idata.posterior["cor(Intercept, day01)"].values, cor[..., 0, 1])
    np.testing.assert_array_equal(idata.posterior["cor(day01, lag)"].values, cor[..., 1, 2])
    assert idata.posterior["cor(Intercept, lag)"].dims == ("chain", "draw")
    with pytest.raises(KeyError, match="no 'cor_g'.*'cor_id'"):
        add_correlations(idata, "g")
    with pytest.raises(TypeError):
        add_correlations({"cor_id": 1}, "id")


def test_level_intervals_per_level_and_errors():
    rng = np.random.default_rng(6)
    draws = xr.DataArray(rng.normal(size=(2, 500, 3)) + np.array([0.0, 1.0, 5.0]),
                         dims=("chain", "draw", "id__level"),
                         coords={"id__level": ["7", "8", "9"]})
    out = level_intervals(draws, "location", prob=0.9)
    assert list(out.index) == ["7", "8", "9"] and out.index.name == "id__level"
    assert list(out.columns) == ["location", "location_lo", "location_hi"]
    flat = draws.values.reshape(-1, 3)
    np.testing.assert_allclose(out["location_lo"], np.quantile(flat, 0.05, axis=0))
    np.testing.assert_allclose(out["location"], flat.mean(axis=0))
    with pytest.raises(TypeError, match="DataArray"):
        level_intervals(flat, "x")
    with pytest.raises(ValueError, match="dims"):
        level_intervals(draws.isel(id__level=0), "x")
    with pytest.raises(ValueError, match="prob"):
        level_intervals(draws, "x", prob=1.0)
