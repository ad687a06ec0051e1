"""Tests for the virus-load simulator (chapter 1)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from course_pkg.data import load_dataset
from course_pkg.simulate import (
    DEFAULT_TIMES,
    PRIOR_SETTINGS,
    mu_closed_form,
    simulate_virus_load,
)

COLUMNS = ["id", "dose", "dose_adj", "dose_cat", "time", "mu", "outcome", "model"]


@pytest.fixture(scope="module")
def sim():
    return simulate_virus_load("m3", seed=123)


def test_shape_columns_and_dtypes(sim):
    data, truth = sim
    assert list(data.columns) == COLUMNS
    assert data.shape == (24 * 11, 8)
    assert data["id"].dtype == np.int64
    for col in ("dose", "dose_adj", "time", "mu", "outcome"):
        assert data[col].dtype == np.float64
    assert isinstance(data["dose_cat"].dtype, pd.CategoricalDtype)
    assert data["dose_cat"].cat.ordered
    assert list(data["dose_cat"].cat.categories) == ["low", "medium", "high"]
    assert (data["model"] == "m3").all()
    assert truth["a0"].shape == truth["b0"].shape == (24,)


def test_design_matches_source(sim):
    data, truth = sim
    per_group = data.groupby("dose_cat", observed=True)["id"].nunique()
    assert per_group.tolist() == [7, 8, 9]
    assert sorted(data["time"].unique()) == list(DEFAULT_TIMES)
    assert truth["middle_dose"] == pytest.approx(100.0)
    assert {k: truth[k] for k in ("sigma", "a1", "b1")} == {"sigma": 1.0, "a1": 0.1, "b1": -0.1}
    assert PRIOR_SETTINGS["m1"]["sigma_a"] == 1.0
    assert PRIOR_SETTINGS["m2"]["sigma_b"] == 0.0001
    assert PRIOR_SETTINGS["m3"]["sigma_a"] == 0.1


def test_conventions_match_shared_file(sim):
    """dose is log dose and dose_adj is log dose minus log 100, as in handel_simdat.csv."""
    data, _ = sim
    ref = load_dataset("handel_simdat")
    assert list(ref.columns) == COLUMNS
    for frame in (data, ref):
        by_cat = frame.groupby("dose_cat", observed=True)[["dose", "dose_adj"]].first()
        np.testing.assert_allclose(by_cat["dose"], np.log([10, 100, 1000]))
        np.testing.assert_allclose(by_cat["dose_adj"], np.log([0.1, 1, 10]), atol=1e-12)
    # Same row order: time-major, ids 1..24 within each time.
    pd.testing.assert_frame_equal(data[["id", "time"]], ref[["id", "time"]])


def test_larger_design_scale():
    data, truth = simulate_virus_load("m3", seed=1, scale=10)
    assert data.groupby("dose_cat", observed=True)["id"].nunique().tolist() == [70, 80, 90]
    assert truth["a0"].shape == (240,)


def test_mu_matches_closed_form(sim):
    data, truth = sim
    idx = data["id"].to_numpy() - 1
    alpha = truth["a0"][idx] + truth["a1"] * data["dose_adj"].to_numpy()
    beta = truth["b0"][idx] + truth["b1"] * data["dose_adj"].to_numpy()
    t = data["time"].to_numpy()
    expected = np.exp(alpha) * np.log(t) - np.exp(beta) * t
    np.testing.assert_allclose(data["mu"], expected, rtol=1e-12)
    # and the original (overflow-prone) form agrees where it is finite
    original = np.log(t ** np.exp(alpha) * np.exp(-np.exp(beta) * t))
    ok = np.isfinite(original)
    assert ok.mean() > 0.5
    np.testing.assert_allclose(data["mu"][ok], original[ok], rtol=1e-8)


def test_noise_has_stated_sd():
    data, _ = simulate_virus_load("m3", seed=5, scale=10)
    resid = data["outcome"] - data["mu"]
    assert resid.std() == pytest.approx(1.0, abs=0.05)
    assert abs(resid.mean()) < 0.05


def test_settings_spread_and_sigma_b_used():
    _, t2 = simulate_virus_load("m2", seed=3)
    assert np.std(t2["a0"]) < 0.001 and np.std(t2["b0"]) < 0.001
    # sigma_b (not sigma_a) drives the spread of b0
    _, t = simulate_virus_load("m3", seed=3, scale=10, sigma_a=0.0, sigma_b=0.5)
    assert np.std(t["a0"]) == 0.0
    assert np.std(t["b0"]) == pytest.approx(0.5, rel=0.15)


def test_same_seed_same_frame_and_generator_accepted():
    d1, t1 = simulate_virus_load("m1", seed=42)
    d2, t2 = simulate_virus_load("m1", seed=42)
    pd.testing.assert_frame_equal(d1, d2)
    np.testing.assert_array_equal(t1["a0"], t2["a0"])
    d3, _ = simulate_virus_load("m1", seed=np.random.default_rng(42))
    pd.testing.assert_frame_equal(d1, d3)
    d4, _ = simulate_virus_load("m1", seed=43)
    assert not np.allclose(d1["outcome"], d4["outcome"])


def test_custom_design():
    data, truth = simulate_virus_load(
        "m3", seed=0, times=[1, 2], doses=[1, 10], group_sizes=[2, 3], middle_dose=10
    )
    assert data.shape == (10, 8)
    assert list(data["dose_cat"].cat.categories) == ["1", "10"]
    assert truth["middle_dose"] == pytest.approx(10.0)
    assert data.loc[data["dose_cat"] == "10", "dose_adj"].eq(0).all()


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"times": [0.0, 1.0]}, ValueError, "times must all be > 0"),
        ({"times": [-1.0, 1.0]}, ValueError, "times must all be > 0"),
        ({"doses": [0.0, 10.0, 100.0]}, ValueError, "doses must all be > 0"),
        ({"doses": [-10.0, 10.0, 100.0]}, ValueError, "doses must all be > 0"),
        ({"doses": [100.0, 10.0, 1000.0]}, ValueError, "strictly increasing"),
        ({"group_sizes": [7, 0, 9]}, ValueError, "group size must be >= 1"),
        ({"group_sizes": [7, 8.5, 9]}, TypeError, "group_sizes must hold ints"),
        ({"group_sizes": [7, 8]}, ValueError, "same length"),
        ({"dose_labels": ["a", "b"]}, ValueError, "one label per dose"),
        ({"sigma": -1.0}, ValueError, "sigma is a standard deviation"),
        ({"sigma_a": -0.1}, ValueError, "sigma_a is a standard deviation"),
        ({"sigma_b": -0.1}, ValueError, "sigma_b is a standard deviation"),
        ({"scale": 0}, ValueError, "scale must be >= 1"),
        ({"times": []}, ValueError, "non-empty"),
        ({"times": "0.1, 1"}, TypeError, "times must be a sequence"),
        ({"a1": "big"}, TypeError, "a1 must be a finite real"),
        ({"middle_dose": 0.0}, ValueError, "middle_dose must be > 0"),
    ],
)
def test_bad_input(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        simulate_virus_load("m3", seed=1, **kwargs)


def test_bad_setting_and_seed():
    with pytest.raises(ValueError, match="setting must be one of"):
        simulate_virus_load("m4", seed=1)
    with pytest.raises(TypeError, match="seed must be an int"):
        simulate_virus_load("m3", seed=1.5)
    with pytest.raises(TypeError, match="seed must be an int"):
        simulate_virus_load("m3", seed=None)


def test_mu_closed_form_rejects_nonpositive_time():
    with pytest.raises(ValueError, match="time must be finite and > 0"):
        mu_closed_form(0.0, 0.0, [1.0, 0.0])
