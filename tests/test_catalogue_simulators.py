"""Tests of the catalogue simulators (course_pkg.simulate.catalogue): reproducible draws, the
parameterisations they claim (checked on large samples), and clear errors for bad input."""

import numpy as np
import pandas as pd
import pytest

from course_pkg.simulate import catalogue as sim

SIMULATORS = [sim.simulate_crossed, sim.simulate_gr_by, sim.simulate_skew_normal,
              sim.simulate_von_mises, sim.simulate_ar, sim.simulate_mixture, sim.simulate_acat,
              sim.simulate_monotonic, sim.simulate_shared_id]


@pytest.mark.parametrize("simulator", SIMULATORS)
def test_same_seed_same_data(simulator):
    a, truth_a = simulator(seed=5)
    b, _ = simulator(seed=5)
    c, _ = simulator(seed=6)
    pd.testing.assert_frame_equal(a, b)
    column = "y" if "y" in a else "y1"
    assert not a[column].equals(c[column])
    assert isinstance(truth_a, dict) and ("y" in a or "y1" in a)


@pytest.mark.parametrize("simulator", SIMULATORS)
def test_bad_seed_is_a_type_error(simulator):
    with pytest.raises(TypeError, match="seed"):
        simulator(seed="one")


def test_crossed_recovers_slopes_by_least_squares():
    data, truth = sim.simulate_crossed(seed=1, n_obs=20000, sd_intercept=0.0, sd_slope=0.0,
                                       sd_group2=0.0)
    design = np.column_stack([np.ones(len(data)), data["x"], data["z"]])
    coef = np.linalg.lstsq(design, data["y"], rcond=None)[0]
    np.testing.assert_allclose(coef, [truth["Intercept"], *truth["b"]], atol=0.02)
    assert truth["cor_g"][0, 1] == 0.5


def test_crossed_rejects_bad_correlation():
    with pytest.raises(ValueError, match="correlation"):
        sim.simulate_crossed(seed=1, correlation=1.5)


def test_gr_by_nests_groups_and_uses_level_sds():
    data, truth = sim.simulate_gr_by(seed=2, groups_per_level=400, rows_per_group=2)
    assert (data.groupby("g", observed=True)["by"].nunique() == 1).all()
    for k in range(2):
        sd = truth["r_g"][truth["level_of_group"] == k].std()
        assert sd == pytest.approx(truth["sds"][k], rel=0.1)


def test_gr_by_bad_input():
    with pytest.raises(ValueError, match="effects\\[0\\]"):
        sim.simulate_gr_by(seed=1, effects=(0.2, 0.5))
    with pytest.raises(ValueError, match="levels"):
        sim.simulate_gr_by(seed=1, levels=("a", "a"))


def test_skew_normal_mean_and_sd_are_brms_mu_and_sigma():
    data, truth = sim.simulate_skew_normal(seed=3, n_obs=200000, slope=0.0, sd_group=0.0,
                                           sigma=0.8, alpha=4.0)
    assert data["y"].mean() == pytest.approx(truth["Intercept"], abs=0.01)
    assert data["y"].std() == pytest.approx(0.8, rel=0.01)
    assert data["y"].skew() > 0.5


def test_skew_normal_bad_sigma():
    with pytest.raises(ValueError, match="sigma"):
        sim.simulate_skew_normal(seed=1, sigma=0.0)


def test_von_mises_uses_tan_half_link():
    data, truth = sim.simulate_von_mises(seed=4, n_obs=100000, slope=0.0, sd_group=0.0,
                                         intercept=1.5, kappa=20.0)
    mean_direction = np.angle(np.exp(1j * data["y"]).mean())
    assert mean_direction == pytest.approx(2 * np.arctan(1.5), abs=0.01)
    assert data["y"].between(-np.pi, np.pi).all()


def test_ar_starts_from_zero_lagged_residuals():
    data, truth = sim.simulate_ar(seed=5, n_person=3000, n_time=3, sd_intercept=0.0,
                                  sd_slope=0.0, ar=(0.5,), sigma=1.0)
    y = data["y"].to_numpy().reshape(3000, 3)
    e = y - (truth["Intercept"] + truth["time"] * np.arange(3))
    assert e[:, 0].std() == pytest.approx(1.0, rel=0.05)  # sigma, not the stationary SD
    assert np.corrcoef(e[:, 0], e[:, 1])[0, 1] == pytest.approx(0.5 / np.sqrt(1.25), abs=0.05)


def test_ar_bad_input():
    with pytest.raises(TypeError, match="ar"):
        sim.simulate_ar(seed=1, ar="0.5")


def test_mixture_component_shares_and_slopes():
    data, truth = sim.simulate_mixture(seed=6, n_obs=50000, sds_group=(0.0, 0.0))
    comp = truth["component"]
    assert comp.mean() == pytest.approx(0.35, abs=0.01)
    for k in range(2):
        rows = data[comp == k]
        slope = np.polyfit(rows["x"], rows["y"], 1)[0]
        assert slope == pytest.approx(truth["x"][k], abs=0.02)


def test_mixture_bad_input():
    with pytest.raises(ValueError, match="increasing"):
        sim.simulate_mixture(seed=1, intercepts=(3.0, 0.0))
    with pytest.raises(ValueError, match="theta"):
        sim.simulate_mixture(seed=1, theta=(0.5, 0.6))


def test_acat_adjacent_category_odds():
    data, truth = sim.simulate_acat(seed=7, n_obs=200000, sd_group=0.0)
    near_zero = data[data["x"].abs() < 0.05]
    counts = near_zero["y"].value_counts().sort_index().to_numpy()
    log_odds = np.log(counts[1:] / counts[:-1])
    np.testing.assert_allclose(log_odds, -truth["thresholds"], atol=0.1)


def test_acat_bad_input():
    with pytest.raises(ValueError, match="slopes"):
        sim.simulate_acat(seed=1, thresholds=(0.0, 1.0), slopes=(1.0,))


def test_monotonic_effect_steps():
    data, truth = sim.simulate_monotonic(seed=8, n_obs=100000, sd_group=0.0)
    means = data.groupby("x")["y"].mean().to_numpy()
    steps = np.diff(means)
    np.testing.assert_allclose(steps, 3 * truth["b_mo"] * truth["simplex"], atol=0.02)


def test_monotonic_bad_simplex():
    with pytest.raises(ValueError, match="simplex"):
        sim.simulate_monotonic(seed=1, simplex=(0.5, 0.6))



def test_shared_id_correlates_intercepts_across_outcomes():
    data, truth = sim.simulate_shared_id(seed=9, n_groups=4000, rows_per_group=2)
    r = truth["r_g"]
    assert np.corrcoef(r[:, 0], r[:, 1])[0, 1] == pytest.approx(0.6, abs=0.05)
    assert r.std(axis=0) == pytest.approx(truth["sd_g"], rel=0.05)
    resid = data[["y1", "y2"]].to_numpy() - (truth["Intercept"] + np.outer(data["x"],
                                                                           truth["x"]))
    resid -= r[data["g"].cat.codes.to_numpy()]
    assert resid.std(axis=0) == pytest.approx(truth["sigma"], rel=0.05)


def test_shared_id_bad_input():
    with pytest.raises(ValueError, match="sigmas"):
        sim.simulate_shared_id(seed=1, sigmas=(0.5, 0.0))
    with pytest.raises(ValueError, match="residual_cor"):
        sim.simulate_shared_id(seed=1, residual_cor=1.0)
