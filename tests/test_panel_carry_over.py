"""simulate_panel's carry-over option: autoregressive outcomes for chapter 5's m2 recovery."""

import numpy as np
import pytest

from course_pkg.lags import lag_within
from course_pkg.simulate import simulate_panel

PHI = [[0.3, -0.1], [-0.05, 0.2]]


def _two(seed=5, **kw):
    settings = {"n_people": 30, "n_days": 40, "outcomes": ("na", "pa"), "residual_cor": -0.2,
                "sd_log_sigma": 0.0, "correlation": 0.1, "carry_over": PHI,
                "sd_carry_over": 0.05, "lag_names": ["na_prev", "pa_prev"]}
    return simulate_panel(seed=seed, **settings | kw)


def test_names_and_shapes():
    data, truth = _two()
    assert truth["effect_names"] == [
        "na_Intercept", "na_day01", "na_na_prev", "na_pa_prev",
        "pa_Intercept", "pa_day01", "pa_na_prev", "pa_pa_prev"]
    assert truth["effects"].shape == (30, 8)
    assert truth["person_means"].shape == (30, 2)
    np.testing.assert_array_equal(truth["carry_over"], PHI)
    assert list(data.columns) == ["id", "day", "day01", "na", "pa"]


def test_the_fitted_equation_holds_exactly_with_lag_within():
    """Residuals of m2's mean (lag_within's person-centred lags) are the simulated noise."""
    data, truth = _two(n_days=60)
    lagged = lag_within(data, {"na": "na_prev", "pa": "pa_prev"}).dropna()
    people = lagged["id"].cat.codes.to_numpy()
    sigma = np.exp(truth["log_sigma"])
    for o, name in enumerate(("na", "pa")):
        u = truth["effects"][people, 4 * o:4 * o + 4]
        mu = (truth["Intercept"][o] + u[:, 0]
              + (truth["slope"][o] + u[:, 1]) * lagged["day01"].to_numpy()
              + (truth["carry_over"][o, 0] + u[:, 2]) * lagged["na_prev"].to_numpy()
              + (truth["carry_over"][o, 1] + u[:, 3]) * lagged["pa_prev"].to_numpy())
        z = (lagged[name].to_numpy() - mu) / sigma[o]
        assert abs(z.mean()) < 0.05 and abs(z.std() - 1) < 0.05
    means = data.groupby("id", observed=True)[["na", "pa"]].mean().to_numpy()
    np.testing.assert_allclose(means, truth["person_means"], atol=1e-10)


def test_carry_over_shows_in_the_autocorrelation():
    data, _ = simulate_panel(seed=2, n_people=10, n_days=3000, sd_intercept=0.0,
                             sd_slope=0.0, sd_log_sigma=0.0, slope=0.0, carry_over=0.5)
    y = data["y"].to_numpy().reshape(10, 3000)
    r = np.mean([np.corrcoef(row[1:], row[:-1])[0, 1] for row in y])
    assert abs(r - 0.5) < 0.03


def test_fixed_lag_slopes_draw_no_effects_and_old_options_are_unchanged():
    _, truth = _two(sd_carry_over=0.0)
    assert truth["effect_names"] == ["na_Intercept", "na_day01", "pa_Intercept", "pa_day01"]
    plain, plain_truth = simulate_panel(seed=9, n_people=5, n_days=6)
    assert "carry_over" not in plain_truth
    again, _ = simulate_panel(seed=9, n_people=5, n_days=6, carry_over=None)
    assert plain.equals(again)


def test_same_seed_same_panel():
    a, ta = _two(seed=4)
    b, tb = _two(seed=4)
    assert a.equals(b)
    np.testing.assert_array_equal(ta["effects"], tb["effects"])


def test_bad_input():
    with pytest.raises(ValueError, match="carry_over must be a finite 2 x 2"):
        _two(carry_over=[0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match="sd_carry_over"):
        _two(sd_carry_over=-0.1)
    with pytest.raises(TypeError, match="lag_names must be a sequence of str"):
        _two(lag_names="na_prev")
    with pytest.raises(ValueError, match="distinct new names"):
        _two(lag_names=["na", "pa_prev"])
    with pytest.raises(ValueError, match="need carry_over"):
        simulate_panel(seed=1, lag_names=["y_prev"])
    with pytest.raises(ValueError, match="explode"):
        _two(carry_over=[[1.2, 0.0], [0.0, 0.2]])


def _centred_lag_noise_correlation(n_days):
    data, truth = simulate_panel(seed=3, n_people=400, n_days=n_days, sd_log_sigma=0.0,
                                 carry_over=0.3)
    lagged = lag_within(data, {"y": "y_prev"}).dropna()
    people = lagged["id"].cat.codes.to_numpy()
    u = truth["effects"][people]
    mu = (truth["Intercept"][0] + u[:, 0]
          + (truth["slope"][0] + u[:, 1]) * lagged["day01"].to_numpy())
    centred = lagged["y_prev"].to_numpy()
    noise = lagged["y"].to_numpy() - mu - 0.3 * centred
    return np.corrcoef(centred, noise)[0, 1]


def test_centred_lag_shares_noise_with_the_outcome():
    """The mean equation holds, but the person-centred lag is not exogenous (module docstring).

    Its centring value averages all of a person's days, day t included, so it is correlated
    (negatively) with day t's noise, by an amount that shrinks as the series grow longer.
    """
    short, long = _centred_lag_noise_correlation(10), _centred_lag_noise_correlation(40)
    assert short < -0.05
    assert short < long < 0 and abs(long) < 0.5 * abs(short)
