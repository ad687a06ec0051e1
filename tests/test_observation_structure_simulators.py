"""Tests of the simulators in course_pkg.simulate.observation and course_pkg.simulate.structures:
reproducible draws, the columns and truth keys the catalogue relies on, data that follow the
truth (checked on large samples), and clear errors for bad input."""

import numpy as np
import pandas as pd
import pytest
from scipy import special, stats

from course_pkg.simulate import observation as obs
from course_pkg.simulate import structures as st

COLUMNS = {
    obs.simulate_censored: ["y", "log_y", "status", "censored", "x", "g"],
    obs.simulate_truncated: ["count", "x", "z", "g"],
    obs.simulate_measurement_error: ["y", "x", "sdx", "g"],
    obs.simulate_missing: ["y", "x", "z", "g"],
    st.simulate_distributional: ["y", "x", "z", "g"],
    st.simulate_multi_membership: ["y", "x", "g1", "g2"],
    st.simulate_smooth: ["y", "x", "g"],
    st.simulate_sratio: ["y", "x", "g"],
    st.simulate_zi_shared: ["y", "x", "z", "g"],
    st.simulate_growth_mixture: ["y", "time", "z", "g"],
}
SIMULATORS = list(COLUMNS)
ROWS = {obs.simulate_censored: 150, obs.simulate_measurement_error: 120,
        obs.simulate_missing: 150, st.simulate_distributional: 160,
        st.simulate_multi_membership: 150, st.simulate_smooth: 150, st.simulate_sratio: 150,
        st.simulate_zi_shared: 300, st.simulate_growth_mixture: 240}


@pytest.mark.parametrize("simulator", SIMULATORS, ids=lambda f: f.__name__)
def test_same_seed_same_data_and_columns(simulator):
    a, truth = simulator(seed=5)
    b, _ = simulator(seed=5)
    c, _ = simulator(seed=6)
    pd.testing.assert_frame_equal(a, b)
    assert list(a.columns) == COLUMNS[simulator]
    outcome = a.columns[0]
    assert not a[outcome].equals(c[outcome])
    assert isinstance(truth, dict)
    if simulator in ROWS:  # the notebook's sizes are the defaults
        assert len(a) == ROWS[simulator]
    # An int seed and a Generator built from it give the same data.
    d, _ = simulator(seed=np.random.default_rng(5))
    pd.testing.assert_frame_equal(a, d)


@pytest.mark.parametrize("simulator", SIMULATORS, ids=lambda f: f.__name__)
def test_bad_seed_and_sizes(simulator):
    with pytest.raises(TypeError, match="seed"):
        simulator(seed="one")
    with pytest.raises(ValueError, match="n_groups"):
        simulator(seed=1, n_groups=1)
    with pytest.raises(TypeError, match="n_groups"):
        simulator(seed=1, n_groups=2.5)


# ---- observation ------------------------------------------------------------------------------

def test_censored_flags_and_parameters():
    data, truth = obs.simulate_censored(seed=1, n_obs=100_000, sd_group=0.0)
    right = truth["log_time"] > np.log(truth["cutoff"])
    np.testing.assert_array_equal(data["status"] == "right", right)
    np.testing.assert_array_equal(data["censored"], right.astype(int))
    assert (data["y"] <= truth["cutoff"]).all()
    np.testing.assert_allclose(data.loc[right, "y"], truth["cutoff"])
    np.testing.assert_allclose(data.loc[~right, "log_y"], truth["log_time"][~right])
    np.testing.assert_allclose(data["log_y"], np.log(data["y"]))
    fit = stats.linregress(data["x"], truth["log_time"])
    assert fit.intercept == pytest.approx(truth["Intercept"], abs=0.01)
    assert fit.slope == pytest.approx(truth["x"], abs=0.01)
    assert np.std(truth["log_time"] - fit.intercept - fit.slope * data["x"]) == pytest.approx(
        truth["sigma"], rel=0.02)
    # The share censored is the normal tail beyond log(cutoff).
    sd_total = np.hypot(truth["x"], truth["sigma"])
    expected = stats.norm.sf(np.log(4.0), truth["Intercept"], sd_total)
    assert right.mean() == pytest.approx(expected, abs=0.01)


def test_censored_defaults_and_bad_input():
    data, truth = obs.simulate_censored(seed=2)
    assert set(data["status"]) <= {"none", "right"}
    assert {"Intercept", "x", "1|g_sigma", "1|g", "sigma"} <= set(truth)
    assert (truth["Intercept"], truth["x"], truth["1|g_sigma"], truth["sigma"]) == (
        1.0, 0.5, 0.3, 0.5)
    with pytest.raises(ValueError, match="cutoff"):
        obs.simulate_censored(seed=1, cutoff=0.0)
    with pytest.raises(ValueError, match="sigma"):
        obs.simulate_censored(seed=1, sigma=0.0)
    with pytest.raises(ValueError, match="sd_group"):
        obs.simulate_censored(seed=1, sd_group=-0.1)
    with pytest.raises(TypeError, match="slope"):
        obs.simulate_censored(seed=1, slope="half")


def test_truncated_bounds_and_dropped_share():
    data, truth = obs.simulate_truncated(seed=3, n_obs=200_000, b_x=0.0, b_z=0.0, b_xz=0.0,
                                         sd_group=0.0)
    assert data["count"].max() <= 10
    assert len(data) == 200_000 - truth["n_dropped"]
    assert list(data.index) == list(range(len(data)))
    lam = np.exp(truth["Intercept"])
    assert truth["n_dropped"] / 200_000 == pytest.approx(stats.poisson.sf(10, lam), rel=0.15)
    kept_mean = stats.poisson.expect(lambda k: k, (lam,), ub=10) / stats.poisson.cdf(10, lam)
    assert data["count"].mean() == pytest.approx(kept_mean, abs=0.02)
    low, truth_low = obs.simulate_truncated(seed=3, lb=2, ub=None)
    assert low["count"].min() >= 2 and truth_low["ub"] is None


def test_truncated_coefficients_by_poisson_regression():
    data, truth = obs.simulate_truncated(seed=4, n_obs=100_000, sd_group=0.0, ub=1000)
    assert truth["n_dropped"] == 0
    design = np.column_stack([np.ones(len(data)), data["x"], data["z"], data["x"] * data["z"]])
    beta = np.zeros(4)
    for _ in range(25):  # Newton steps of the Poisson log-likelihood
        mu = np.exp(design @ beta)
        beta += np.linalg.solve(design.T @ (design * mu[:, None]),
                                design.T @ (data["count"] - mu))
    expected = [truth[k] for k in ("Intercept", "x", "z", "x:z")]
    np.testing.assert_allclose(beta, expected, atol=0.01)


def test_truncated_bad_input():
    with pytest.raises(ValueError, match="both None"):
        obs.simulate_truncated(seed=1, lb=None, ub=None)
    with pytest.raises(ValueError, match="lb must be <= ub"):
        obs.simulate_truncated(seed=1, lb=5, ub=2)
    with pytest.raises(TypeError, match="ub"):
        obs.simulate_truncated(seed=1, ub=10.5)
    with pytest.raises(ValueError, match="lb"):
        obs.simulate_truncated(seed=1, lb=-1)


def test_measurement_error_attenuation():
    data, truth = obs.simulate_measurement_error(seed=5, n_obs=200_000, sd_group=0.0)
    assert np.std(data["x"] - truth["x_true"]) == pytest.approx(0.5, rel=0.01)
    assert (data["sdx"] == 0.5).all()
    assert np.mean(truth["x_true"]) == pytest.approx(truth["meanme"], abs=0.01)
    assert np.std(truth["x_true"]) == pytest.approx(truth["sdme"], rel=0.01)
    assert stats.linregress(truth["x_true"], data["y"]).slope == pytest.approx(1.0, abs=0.01)
    naive = stats.linregress(data["x"], data["y"]).slope
    assert truth["reliability"] == pytest.approx(0.8)
    assert naive == pytest.approx(truth["x"] * truth["reliability"], abs=0.01)


def test_measurement_error_bad_input():
    with pytest.raises(ValueError, match="sd_x"):
        obs.simulate_measurement_error(seed=1, sd_x=0.0)
    with pytest.raises(ValueError, match="sdx"):
        obs.simulate_measurement_error(seed=1, sdx=-0.5)
    with pytest.raises(ValueError, match="sigma"):
        obs.simulate_measurement_error(seed=1, sigma=0.0)


def test_missing_rate_and_both_models():
    data, truth = obs.simulate_missing(seed=6, n_obs=200_000, sd_group=0.0, x_sd_group=0.0)
    np.testing.assert_array_equal(data["x"].isna(), truth["missing"])
    assert truth["missing"].mean() == pytest.approx(0.2, abs=0.005)
    seen = ~truth["missing"]
    np.testing.assert_allclose(data.loc[seen, "x"], truth["x_full"][seen])
    x_fit = stats.linregress(data["z"], truth["x_full"])
    assert (x_fit.intercept, x_fit.slope) == pytest.approx((0.0, 0.8), abs=0.01)
    design = np.column_stack([np.ones(len(data)), truth["x_full"], data["z"]])
    coef, *_ = np.linalg.lstsq(design, data["y"], rcond=None)
    np.testing.assert_allclose(coef, [truth["Intercept"], truth["b_x"], truth["b_z"]],
                               atol=0.01)
    none, _ = obs.simulate_missing(seed=6, p_missing=0.0)
    assert not none["x"].isna().any()


def test_missing_bad_input():
    with pytest.raises(ValueError, match="p_missing"):
        obs.simulate_missing(seed=1, p_missing=1.0)
    with pytest.raises(ValueError, match="x_sigma"):
        obs.simulate_missing(seed=1, x_sigma=0.0)
    with pytest.raises(ValueError, match="x_sd_group"):
        obs.simulate_missing(seed=1, x_sd_group=-1.0)


# ---- structures -------------------------------------------------------------------------------

def test_distributional_log_sigma_is_linear_in_x():
    data, truth = st.simulate_distributional(seed=7, n_obs=400_000, sd_group=0.0,
                                             sigma_sd_group=0.0)
    resid = data["y"] - truth["Intercept"] - truth["x"] * data["x"] - truth["z"] * data["z"]
    # E log(e^2) = 2 log sigma + digamma(1/2) + log 2 for normal e.
    fit = stats.linregress(data["x"], np.log(resid**2))
    assert fit.slope / 2 == pytest.approx(truth["sigma_x"], abs=0.01)
    offset = special.digamma(0.5) + np.log(2)
    assert (fit.intercept - offset) / 2 == pytest.approx(truth["sigma_Intercept"], abs=0.01)
    assert {"sigma_1|g_sigma", "sigma_1|g", "1|g_sigma"} <= set(truth)


def test_distributional_group_effects_enter_log_sigma():
    data, truth = st.simulate_distributional(seed=8, n_obs=200_000, n_groups=4, sd_group=0.0,
                                             sigma_x=0.0, sigma_sd_group=1.0)
    resid = data["y"] - truth["Intercept"] - truth["x"] * data["x"] - truth["z"] * data["z"]
    by_group = resid.groupby(data["g"], observed=True).std().to_numpy()
    np.testing.assert_allclose(np.log(by_group),
                               truth["sigma_Intercept"] + truth["sigma_1|g"], atol=0.02)
    with pytest.raises(ValueError, match="sigma_sd_group"):
        st.simulate_distributional(seed=1, sigma_sd_group=-0.3)


def test_multi_membership_effects_by_least_squares():
    data, truth = st.simulate_multi_membership(seed=9, n_obs=100_000)
    k = len(truth["1|mm"])
    weights = np.zeros((len(data), k))
    rows = np.arange(len(data))
    np.add.at(weights, (rows, data["g1"].cat.codes.to_numpy()), truth["weights"][0])
    np.add.at(weights, (rows, data["g2"].cat.codes.to_numpy()), truth["weights"][1])
    design = np.column_stack([data["x"], weights])
    coef, *_ = np.linalg.lstsq(design, data["y"] - truth["Intercept"], rcond=None)
    assert coef[0] == pytest.approx(truth["x"], abs=0.01)
    np.testing.assert_allclose(coef[1:], truth["1|mm"], atol=0.03)
    resid = data["y"] - truth["Intercept"] - design @ np.r_[truth["x"], truth["1|mm"]]
    assert np.std(resid) == pytest.approx(truth["sigma"], rel=0.02)
    assert list(data["g1"].cat.categories) == list(data["g2"].cat.categories)


def test_multi_membership_bad_weights():
    with pytest.raises(ValueError, match="weights"):
        st.simulate_multi_membership(seed=1, weights=(0.7, 0.7))
    with pytest.raises(ValueError, match="weights"):
        st.simulate_multi_membership(seed=1, weights=(1.0,))
    with pytest.raises(ValueError, match="sigma"):
        st.simulate_multi_membership(seed=1, sigma=0.0)


def test_smooth_follows_its_curve():
    data, truth = st.simulate_smooth(seed=10, n_obs=100_000)
    assert data["x"].between(0, 10).all()
    np.testing.assert_allclose(truth["f"], st.sine_trend(data["x"]))
    resid = data["y"] - truth["f"] - truth["1|g"][data["g"].cat.codes]
    assert np.std(resid) == pytest.approx(truth["sigma"], rel=0.02)
    assert truth["f_mean"] == pytest.approx(np.mean(truth["f"]))
    line, truth_line = st.simulate_smooth(seed=10, curve=lambda x: 2 * x, x_range=(-1, 1))
    np.testing.assert_allclose(truth_line["f"], 2 * line["x"])


def test_smooth_bad_input():
    with pytest.raises(TypeError, match="curve"):
        st.simulate_smooth(seed=1, curve=3.0)
    with pytest.raises(ValueError, match="curve"):
        st.simulate_smooth(seed=1, curve=lambda x: 1.0)
    with pytest.raises(ValueError, match="x_range"):
        st.simulate_smooth(seed=1, x_range=(5, 1))
    with pytest.raises(ValueError, match="x_range"):
        st.simulate_smooth(seed=1, x_range=(0, 1, 2))


def test_sratio_stopping_probabilities():
    tau = np.array([0.5, -0.2, 1.0])  # not increasing: allowed in the stopping-ratio model
    data, truth = st.simulate_sratio(seed=11, n_obs=200_000, slope=0.0, sd_group=0.0,
                                     threshold=tau)
    assert data["y"].cat.ordered and list(data["y"].cat.categories) == [0, 1, 2, 3]
    codes = data["y"].cat.codes.to_numpy()
    for k in range(3):
        reached = codes >= k
        assert (codes[reached] == k).mean() == pytest.approx(special.expit(tau[k]), abs=0.01)
    np.testing.assert_array_equal(truth["threshold"], tau)


def test_sratio_slope_shifts_towards_higher_categories():
    data, truth = st.simulate_sratio(seed=12, n_obs=100_000, sd_group=0.0)
    codes = data["y"].cat.codes.to_numpy()
    # P(stop at 0) = expit(tau_0 - slope x): estimate by logistic regression of stop-at-0 on x.
    beta = np.zeros(2)
    design = np.column_stack([np.ones(len(data)), data["x"]])
    stop = (codes == 0).astype(float)
    for _ in range(25):
        p = special.expit(design @ beta)
        beta += np.linalg.solve(design.T @ (design * (p * (1 - p))[:, None]),
                                design.T @ (stop - p))
    np.testing.assert_allclose(beta, [truth["threshold"][0], -truth["x"]], atol=0.03)
    with pytest.raises(ValueError, match="threshold"):
        st.simulate_sratio(seed=1, threshold=())


def test_zi_shared_zeros_and_group_correlation():
    data, truth = st.simulate_zi_shared(seed=13, n_groups=20_000, rows_per_group=5)
    assert (data.loc[truth["extra_zero"], "y"] == 0).all()
    np.testing.assert_allclose(np.corrcoef(truth["r_g"].T), truth["cor_g"], atol=0.03)
    np.testing.assert_allclose(truth["r_g"].std(axis=0), truth["sd_g"], rtol=0.03)
    g = data["g"].cat.codes.to_numpy()
    zi = special.expit(truth["zi_Intercept"] + truth["zi_x"] * data["x"] + truth["r_g"][g, 2])
    assert truth["extra_zero"].mean() == pytest.approx(zi.mean(), abs=0.005)
    log_mu = (truth["Intercept"] + truth["x"] * data["x"] + truth["z"] * data["z"]
              + truth["x:z"] * data["x"] * data["z"] + truth["r_g"][g, 0]
              + truth["r_g"][g, 1] * data["x"])
    kept = ~truth["extra_zero"]
    ratio = data.loc[kept, "y"].sum() / np.exp(log_mu[kept]).sum()
    assert ratio == pytest.approx(1.0, abs=0.01)
    assert "shape" not in truth


def test_zi_shared_negative_binomial_shape():
    data, truth = st.simulate_zi_shared(seed=14, family="negbinomial", n_groups=20_000,
                                        rows_per_group=5, sds=(0.0, 0.0, 0.0), b_x=0.0,
                                        b_z=0.0, b_xz=0.0, zi_intercept=-30.0, zi_x=0.0,
                                        shape=2.0)
    mu = np.exp(truth["Intercept"])
    assert data["y"].mean() == pytest.approx(mu, rel=0.02)
    assert data["y"].var() == pytest.approx(mu + mu**2 / truth["shape"], rel=0.05)


def test_zi_shared_bad_input():
    with pytest.raises(ValueError, match="family"):
        st.simulate_zi_shared(seed=1, family="binomial")
    with pytest.raises(ValueError, match="correlation"):
        st.simulate_zi_shared(seed=1, correlation=np.eye(2))
    with pytest.raises(ValueError, match="positive definite"):
        st.simulate_zi_shared(seed=1, correlation=[[1, .9, -.9], [.9, 1, .9], [-.9, .9, 1]])
    with pytest.raises(ValueError, match="sds"):
        st.simulate_zi_shared(seed=1, sds=(0.5, -0.3, 0.6))
    with pytest.raises(ValueError, match="shape"):
        st.simulate_zi_shared(seed=1, family="negbinomial", shape=0.0)


def test_growth_mixture_observation_and_group_classes():
    data, truth = st.simulate_growth_mixture(seed=15, n_groups=5000)
    comp = truth["component"]
    assert comp.mean() == pytest.approx(truth["theta"][1], abs=0.01)
    g = data["g"].cat.codes.to_numpy()
    assert (pd.Series(comp).groupby(g).nunique() > 1).mean() > 0.5  # rows mix components
    r = truth["r_g"]
    mu = (truth["Intercept"][comp] + truth["time"][comp] * data["time"]
          + truth["z"][comp] * data["z"] + r[g, comp, 0] + r[g, comp, 1] * data["time"])
    resid = (data["y"] - mu) / truth["sigma"][comp]
    assert np.std(resid) == pytest.approx(1.0, abs=0.02)
    for k in range(2):
        np.testing.assert_allclose(r[:, k].std(axis=0), truth["sd_g"][k], rtol=0.05)
        assert np.corrcoef(r[:, k].T)[0, 1] == pytest.approx(truth["cor_g"][k], abs=0.04)
    _, by_group = st.simulate_growth_mixture(seed=15, n_groups=2000, classes="group")
    g2 = np.repeat(np.arange(2000), 6)
    assert (pd.Series(by_group["component"]).groupby(g2).nunique() == 1).all()


def test_growth_mixture_bad_input():
    with pytest.raises(ValueError, match="classes"):
        st.simulate_growth_mixture(seed=1, classes="person")
    with pytest.raises(ValueError, match="intercepts"):
        st.simulate_growth_mixture(seed=1, intercepts=(3.0, 0.0))
    with pytest.raises(ValueError, match="theta"):
        st.simulate_growth_mixture(seed=1, theta=(0.5, 0.6))
    with pytest.raises(ValueError, match="correlations"):
        st.simulate_growth_mixture(seed=1, correlations=(0.3, 1.0))
    with pytest.raises(ValueError, match="sigmas"):
        st.simulate_growth_mixture(seed=1, sigmas=(0.5, 0.0))
    with pytest.raises(ValueError, match="n_time"):
        st.simulate_growth_mixture(seed=1, n_time=1)
