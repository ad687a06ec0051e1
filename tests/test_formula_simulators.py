"""Tests of course_pkg.simulate.formulas: reproducible draws, data that follow the truth
(checked on large samples) and clear errors for bad input."""

import numpy as np
import pandas as pd
import pytest
from scipy import special

from course_pkg.simulate import formulas as nl


@pytest.mark.parametrize("simulator", [nl.simulate_nl_rate, nl.simulate_nested],
                         ids=lambda f: f.__name__)
def test_same_seed_same_data(simulator):
    a, truth = simulator(seed=5)
    b, _ = simulator(seed=5)
    c, _ = simulator(seed=6)
    pd.testing.assert_frame_equal(a, b)
    assert not a["y"].equals(c["y"])
    d, _ = simulator(seed=np.random.default_rng(5))
    pd.testing.assert_frame_equal(a, d)
    assert isinstance(truth, dict)


def test_nl_rate_curve_and_group_effects():
    data, truth = nl.simulate_nl_rate(seed=3, n_groups=4000, sds=(0.5, 0.1))
    assert list(data.columns) == ["y", "x", "g"]
    g, x = data["g"].cat.codes.to_numpy(), data["x"].to_numpy()
    r = truth["r_g"]
    eta = truth["b_a2_Intercept"] + r[g, 0] + (truth["b_a2_x"] + r[g, 1]) * x
    resid = data["y"] - (truth["b_a1_Intercept"] - special.expit(eta) ** x)
    assert np.std(resid) == pytest.approx(truth["sigma"], rel=0.02)
    np.testing.assert_allclose(r.std(axis=0), [0.5, 0.1], rtol=0.05)
    assert np.corrcoef(r.T)[0, 1] == pytest.approx(truth["cor_g__a2_Intercept__a2_x"], abs=0.04)
    # at x = 0 the curve is a1 - 1 for every group
    assert data.loc[x == 0, "y"].mean() == pytest.approx(truth["b_a1_Intercept"] - 1, abs=0.02)


def test_nested_levels_and_effects():
    data, truth = nl.simulate_nested(seed=4, n_groups=400, n_sub=5, rows_per_sub=3)
    assert list(data.columns) == ["y", "x", "z", "g", "g2"]
    assert len(data) == 400 * 5 * 3
    pairs = data.groupby(["g", "g2"], observed=True).size()
    assert len(pairs) == 2000 and (pairs == 3).all()
    g, g2 = data["g"].cat.codes.to_numpy(), data["g2"].cat.codes.to_numpy()
    mu = (truth["Intercept"] + truth["r_g"][g] + truth["r_sub"][g, g2]
          + truth["x"] * data["x"] + truth["z"] * data["z"])
    assert np.std(data["y"] - mu) == pytest.approx(truth["sigma"], rel=0.03)
    assert truth["r_sub"].std() == pytest.approx(truth["1|g:g2_sigma"], rel=0.05)


def test_nl_rate_bad_input():
    with pytest.raises(TypeError, match="seed"):
        nl.simulate_nl_rate(seed="one")
    with pytest.raises(ValueError, match="n_groups"):
        nl.simulate_nl_rate(seed=1, n_groups=1)
    with pytest.raises(TypeError, match="n_x"):
        nl.simulate_nl_rate(seed=1, n_x=2.5)
    with pytest.raises(ValueError, match="x_max"):
        nl.simulate_nl_rate(seed=1, x_max=0.0)
    with pytest.raises(ValueError, match="sds"):
        nl.simulate_nl_rate(seed=1, sds=(0.5, -0.1))
    with pytest.raises(ValueError, match="correlation"):
        nl.simulate_nl_rate(seed=1, correlation=1.0)
    with pytest.raises(ValueError, match="sigma"):
        nl.simulate_nl_rate(seed=1, sigma=0.0)
    with pytest.raises(TypeError, match="a1"):
        nl.simulate_nl_rate(seed=1, a1="3")


def test_nested_bad_input():
    with pytest.raises(TypeError, match="seed"):
        nl.simulate_nested(seed="one")
    with pytest.raises(ValueError, match="n_sub"):
        nl.simulate_nested(seed=1, n_sub=1)
    with pytest.raises(TypeError, match="rows_per_sub"):
        nl.simulate_nested(seed=1, rows_per_sub=1.5)
    with pytest.raises(ValueError, match="sd_sub"):
        nl.simulate_nested(seed=1, sd_sub=-0.5)
    with pytest.raises(ValueError, match="sigma"):
        nl.simulate_nested(seed=1, sigma=0.0)
    with pytest.raises(TypeError, match="b_x"):
        nl.simulate_nested(seed=1, b_x=None)
