"""Tests for the simulators of chapters 2 to 5 and the catalogue: shapes, truths, seeds, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import special

from course_pkg.simulate import (
    FAMILIES,
    simulate_family,
    simulate_panel,
    simulate_partial_pooling,
    simulate_varying_slopes,
)


def _same(a, b):
    pd.testing.assert_frame_equal(a[0], b[0])
    for key in a[1]:
        np.testing.assert_array_equal(np.asarray(a[1][key]), np.asarray(b[1][key]))


# --- partial pooling -------------------------------------------------------------------------

def test_partial_pooling_design_and_truth():
    data, truth = simulate_partial_pooling(seed=4, n_groups=30, min_size=1, max_size=5,
                                           mean=2.0, tau=0.5, sigma=1.5)
    sizes = data.groupby("group", observed=True).size().to_numpy()
    np.testing.assert_array_equal(sizes, truth["group_size"])
    assert sizes.min() >= 1 and sizes.max() <= 5 and len(sizes) == 30
    np.testing.assert_allclose(truth["group_mean"], 2.0 + truth["u"])
    assert truth["Intercept"] == 2.0 and truth["tau"] == 0.5 and truth["sigma"] == 1.5
    assert isinstance(data["group"].dtype, pd.CategoricalDtype)


def test_partial_pooling_moments_on_a_large_draw():
    data, truth = simulate_partial_pooling(seed=5, group_sizes=[400] * 300, mean=1.0, tau=2.0,
                                           sigma=0.5)
    means = data.groupby("group", observed=True)["y"].mean().to_numpy()
    np.testing.assert_allclose(means, truth["group_mean"], atol=0.1)  # se 0.025
    assert abs(np.std(truth["u"]) - 2.0) < 0.25
    within = data["y"] - truth["group_mean"][data["group"].cat.codes]
    assert abs(within.std() - 0.5) < 0.01


def test_partial_pooling_seeds_and_errors():
    _same(simulate_partial_pooling(seed=1), simulate_partial_pooling(seed=1))
    assert not simulate_partial_pooling(seed=1)[0].equals(simulate_partial_pooling(seed=2)[0])
    with pytest.raises(ValueError, match="max_size"):
        simulate_partial_pooling(seed=1, min_size=5, max_size=2)
    with pytest.raises(ValueError, match="sigma"):
        simulate_partial_pooling(seed=1, sigma=0)
    with pytest.raises(ValueError, match="tau"):
        simulate_partial_pooling(seed=1, tau=-1)
    with pytest.raises(ValueError, match="group_sizes entries"):
        simulate_partial_pooling(seed=1, group_sizes=[3, 0])
    with pytest.raises(TypeError, match="seed"):
        simulate_partial_pooling(seed="one")


# --- varying slopes ---------------------------------------------------------------------------

def test_varying_slopes_default_design():
    data, truth = simulate_varying_slopes(seed=3, n_groups=50)
    assert data.shape == (50 * 6, 3)
    assert list(data.columns) == ["group", "x", "y"]
    assert truth["effects"].shape == (50, 2)
    assert truth["Intercept"] == 2.6 and truth["slope"] == 0.1
    np.testing.assert_allclose(truth["cor"], [[1, -0.1], [-0.1, 1]])


def test_varying_slopes_recovers_its_covariance_on_a_large_draw():
    data, truth = simulate_varying_slopes(seed=7, n_groups=20000, sd_intercept=0.5,
                                          sd_slope=0.2, correlation=0.6, sigma=0.01)
    effects = truth["effects"]
    np.testing.assert_allclose(effects.std(axis=0), [0.5, 0.2], rtol=0.03)
    assert abs(np.corrcoef(effects.T)[0, 1] - 0.6) < 0.02
    first = data[data["group"] == 1]
    expected = (2.6 + effects[0, 0]) + (0.1 + effects[0, 1]) * first["x"]
    np.testing.assert_allclose(first["y"], expected, atol=0.05)


def test_varying_slopes_with_a_design_of_one_hot_rows():
    design = np.repeat(np.eye(4), 2, axis=0)  # four cheeses, each rated twice
    data, truth = simulate_varying_slopes(seed=1, n_groups=10, design=design,
                                          coefficients=[50, 60, 70, 80], sds=[5, 5, 5, 5],
                                          correlation=0.3, sigma=1.0,
                                          names=["A", "B", "C", "D"])
    assert list(data.columns) == ["group", "A", "B", "C", "D", "y"]
    assert len(data) == 80 and truth["cor"].shape == (4, 4)
    with pytest.raises(ValueError, match="coefficients"):
        simulate_varying_slopes(seed=1, design=design)
    with pytest.raises(ValueError, match="4 entries"):
        simulate_varying_slopes(seed=1, design=design, coefficients=[1, 2], sds=[1, 1, 1, 1])
    with pytest.raises(ValueError, match="names"):
        simulate_varying_slopes(seed=1, design=design, coefficients=[1] * 4, sds=[1] * 4,
                                names=["A", "A", "B", "C"])


def test_varying_slopes_bad_correlations():
    with pytest.raises(ValueError, match="strictly between"):
        simulate_varying_slopes(seed=1, correlation=1.0)
    with pytest.raises(ValueError, match="positive definite"):
        simulate_varying_slopes(seed=1, design=np.eye(3), coefficients=[0] * 3, sds=[1] * 3,
                                correlation=[[1, 0.9, -0.9], [0.9, 1, 0.9], [-0.9, 0.9, 1]])
    with pytest.raises(ValueError, match="unit diagonal"):
        simulate_varying_slopes(seed=1, correlation=[[2, 0], [0, 1]])
    with pytest.raises(ValueError, match="go with design"):
        simulate_varying_slopes(seed=1, sds=[1, 1])
    _same(simulate_varying_slopes(seed=9), simulate_varying_slopes(seed=9))


# --- panels --------------------------------------------------------------------------------------

def test_panel_location_scale():
    data, truth = simulate_panel(seed=2, n_people=30, n_days=10)
    assert data.shape == (300, 4)
    assert truth["effect_names"] == ["y_Intercept", "y_day01", "y_sigma_Intercept"]
    assert truth["effects"].shape == (30, 3)
    assert data["day01"].min() == 0 and data["day01"].max() == 1


def test_panel_scale_effects_show_in_the_residual_spread():
    data, truth = simulate_panel(seed=11, n_people=40, n_days=2000, sd_intercept=0.0,
                                 sd_slope=0.0, sd_log_sigma=0.5, log_sigma=0.0, slope=0.0,
                                 correlation=0.0)
    spread = data.groupby("id", observed=True)["y"].std().to_numpy()
    np.testing.assert_allclose(np.log(spread), truth["effects"][:, 2], atol=0.06)


def test_panel_two_outcomes_residual_correlation():
    data, truth = simulate_panel(seed=3, n_people=20, n_days=2000, outcomes=("na", "pa"),
                                 sd_intercept=0.0, sd_slope=0.0, sd_log_sigma=0.0,
                                 correlation=0.0, residual_cor=-0.4)
    assert truth["effect_names"] == ["na_Intercept", "na_day01", "pa_Intercept", "pa_day01"]
    assert abs(np.corrcoef(data["na"], data["pa"])[0, 1] + 0.4) < 0.02
    with pytest.raises(ValueError, match="two outcomes"):
        simulate_panel(seed=1, residual_cor=0.3)
    with pytest.raises(ValueError, match="one or two"):
        simulate_panel(seed=1, outcomes=("a", "b", "c"))
    with pytest.raises(ValueError, match="distinct"):
        simulate_panel(seed=1, outcomes=("a", "a"))
    with pytest.raises(ValueError, match="intercept must have 2"):
        simulate_panel(seed=1, outcomes=("a", "b"), intercept=[0, 1, 2])
    with pytest.raises(ValueError, match="n_days"):
        simulate_panel(seed=1, n_days=1)


# --- families --------------------------------------------------------------------------------

@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_every_family_simulates_with_bambi_names(family):
    data, truth = simulate_family(family, seed=1, n_obs=300)
    assert len(data) == 300 and {"y", "x", "g"} <= set(data.columns)
    assert np.all(truth["x"] == 0.5)
    assert truth["1|g"].shape == ((8, 2) if family == "categorical" else (8,))
    assert set(FAMILIES[family][1]) - {"trials", "categories"} <= set(truth)
    _same(simulate_family(family, seed=1, n_obs=300), (data, truth))


def test_family_means_follow_their_links():
    n = 200_000
    for family, inverse in (("poisson", np.exp), ("bernoulli", special.expit),
                            ("negativebinomial", np.exp), ("gamma", np.exp),
                            ("weibull", np.exp), ("beta", special.expit)):
        data, truth = simulate_family(family, seed=5, n_obs=n, slope=0.0, sd_group=0.0,
                                      intercept=0.3)
        assert abs(data["y"].astype(float).mean() / inverse(0.3) - 1) < 0.02, family


def test_lognormal_and_hurdle_log_means_are_the_linear_predictor():
    for family in ("lognormal", "hurdle_lognormal"):
        data, _ = simulate_family(family, seed=7, n_obs=200_000, intercept=0.5, slope=0.0,
                                  sd_group=0.0, sigma=0.5)
        positive = data["y"][data["y"] > 0]
        assert abs(np.log(positive).mean() - 0.5) < 0.01, family
        assert abs(np.log(positive).std() - 0.5) < 0.01, family


def test_zero_inflation_and_hurdle_share_of_zeros():
    data, _ = simulate_family("zero_inflated_poisson", seed=2, n_obs=100_000, psi=0.6,
                              intercept=3.0, slope=0.0, sd_group=0.0)
    assert abs((data["y"] == 0).mean() - 0.4) < 0.01  # exp(-e^3) of the counts are zero too
    data, _ = simulate_family("hurdle_lognormal", seed=2, n_obs=100_000, psi=0.6)
    assert abs((data["y"] == 0).mean() - 0.4) < 0.01


def test_cumulative_and_categorical():
    data, truth = simulate_family("cumulative", seed=3, n_obs=500)
    assert data["y"].cat.ordered and list(data["y"].cat.categories) == [0, 1, 2, 3]
    assert "Intercept" not in truth and len(truth["threshold"]) == 3
    data, truth = simulate_family("categorical", seed=3, n_obs=500, categories=("x", "y", "z"),
                                  intercept=[0.3, -0.2], slope=[1.0, -1.0])
    assert set(data["y"].unique()) == {"x", "y", "z"}
    assert truth["1|g"].shape == (8, 2) and truth["x"].tolist() == [1.0, -1.0]
    # Multinomial logit: the log odds of each category against the first follow its own slope.
    big, _ = simulate_family("categorical", seed=4, n_obs=200_000, intercept=[0.3, -0.2],
                             slope=[0.0, 0.0], sd_group=0.0)
    share = big["y"].value_counts(normalize=True)
    np.testing.assert_allclose(np.log(share[["b", "c"]] / share["a"]), [0.3, -0.2], atol=0.02)


def test_zero_inflation_probability_can_depend_on_x():
    data, truth = simulate_family("zero_inflated_negativebinomial", seed=6, n_obs=200_000,
                                  intercept=3.0, slope=0.0, sd_group=0.0, psi=(1.0, -1.0))
    assert truth["psi_Intercept"] == 1.0 and truth["psi_x"] == -1.0 and "psi" not in truth
    share_zero = (data["y"] == 0).groupby(data["x"] > 0).mean()
    # zeros come with probability 1 - psi = expit(-1 + x): more of them where x > 0
    expected = [1 - special.expit(1.0 - data["x"][data["x"] <= 0]).mean(),
                1 - special.expit(1.0 - data["x"][data["x"] > 0]).mean()]
    np.testing.assert_allclose(share_zero.values, expected, atol=0.01)


def test_family_errors():
    with pytest.raises(ValueError, match="family must be one of"):
        simulate_family("normal", seed=1)
    with pytest.raises(TypeError, match="auxiliary"):
        simulate_family("poisson", seed=1, sigma=1.0)
    with pytest.raises(ValueError, match="psi"):
        simulate_family("zero_inflated_poisson", seed=1, psi=1.5)
    with pytest.raises(ValueError, match="increasing"):
        simulate_family("cumulative", seed=1, threshold=(1.0, 0.0))
    with pytest.raises(ValueError, match="alpha"):
        simulate_family("gamma", seed=1, alpha=0.0)
    with pytest.raises(ValueError, match="categories"):
        simulate_family("categorical", seed=1, categories=("a",))
    with pytest.raises(ValueError, match="intercept must have 2 entries"):
        simulate_family("categorical", seed=1, intercept=[0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="psi as a model"):
        simulate_family("hurdle_lognormal", seed=1, psi=(1.0, 0.5, 0.2))
