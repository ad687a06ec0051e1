"""gls_coefficients: chapter 5's GLS estimate of m2's population coefficients."""

import numpy as np
import pandas as pd
import pytest

from course_pkg.gls import gls_coefficients
from course_pkg.simulate import simulate_on_rows

SD = [[0.6, 0.3, 0.1], [0.5, 0.2, 0.15]]
COR = np.eye(6) + 0.2 * (np.ones((6, 6)) - np.eye(6))
SETTINGS = {"outcomes": ["a", "b"], "predictors": ["t", "x"], "sd": SD, "correlation": COR,
            "sigma": [0.6, 0.5], "residual_cor": -0.3}


def _data(n_groups=30, seed=0):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(5, 25, n_groups)
    ids = np.repeat(np.arange(n_groups), sizes)
    rows = pd.DataFrame({"id": pd.Categorical(ids), "t": rng.uniform(0, 1, ids.size),
                         "x": rng.normal(0, 1, ids.size)})
    return simulate_on_rows(rows, seed=seed, predictors=["t", "x"], outcomes=("a", "b"),
                            intercept=[0.5, -0.2], coefficients=[[-0.3, 0.2], [0.1, 0.4]],
                            sd=SD, correlation=COR, log_sigma=np.log([0.6, 0.5]).tolist(),
                            residual_cor=-0.3)


def test_agrees_with_the_dense_formula():
    """(sum X'V^-1 X)^-1 sum X'V^-1 y with each group's full covariance matrix V_j."""
    data, _ = _data()
    got = gls_coefficients(data, **SETTINGS)
    g = np.outer(np.ravel(SD), np.ravel(SD)) * COR
    resid = np.array([[0.36, -0.3 * 0.3], [-0.3 * 0.3, 0.25]])
    lhs, rhs = np.zeros((6, 6)), np.zeros(6)
    for _, rows in data.groupby("id", observed=True):
        x = np.column_stack([np.ones(len(rows)), rows[["t", "x"]].to_numpy()])
        big_x = np.kron(np.eye(2), x)  # outcome a's rows, then b's
        v = big_x @ g @ big_x.T + np.kron(resid, np.eye(len(rows)))
        y = np.r_[rows["a"].to_numpy(), rows["b"].to_numpy()]
        lhs += big_x.T @ np.linalg.solve(v, big_x)
        rhs += big_x.T @ np.linalg.solve(v, y)
    np.testing.assert_allclose(got.to_numpy().ravel(), np.linalg.solve(lhs, rhs), rtol=1e-10)
    assert list(got.index) == ["a", "b"] and list(got.columns) == ["Intercept", "t", "x"]


def test_unbiased_when_the_model_is_right():
    """Over 40 simulated data sets the estimates average to the truth (within 4 SEs)."""
    estimates = []
    for seed in range(40):
        data, truth = _data(n_groups=60, seed=seed)
        estimates.append(gls_coefficients(data, **SETTINGS).to_numpy())
    estimates = np.array(estimates)
    expected = np.column_stack([truth["Intercept"], truth["coefficients"]])
    se = estimates.std(0, ddof=1) / np.sqrt(len(estimates))
    assert np.all(np.abs(estimates.mean(0) - expected) < 4 * se)


def test_one_outcome():
    data, _ = _data()
    one = gls_coefficients(data, outcomes="a", predictors=["t", "x"], sd=[SD[0]],
                           correlation=COR[:3, :3], sigma=0.6)
    assert one.shape == (1, 3)


@pytest.mark.parametrize(("kw", "error", "match"), [
    ({"data": [1]}, TypeError, "data must be a pandas DataFrame"),
    ({"predictors": ["z"]}, KeyError, "column 'z' is not in data"),
    ({"outcomes": ["a", "b", "t"]}, ValueError, "one or two columns"),
    ({"sd": [[0.6, 0.3], [0.5, 0.2]]}, ValueError, r"sd must be a 2 x 3 matrix"),
    ({"sd": [[0.6, 0.3, 0.0], [0.5, 0.2, 0.1]]}, ValueError, "SDs > 0"),
    ({"correlation": np.eye(5)}, ValueError, "symmetric 6 x 6"),
    ({"correlation": np.full((6, 6), 1.0)}, ValueError, "not positive definite"),
    ({"sigma": [0.6, -1.0]}, ValueError, "sigma must be > 0"),
    ({"residual_cor": 1.0}, ValueError, r"residual_cor must be in \(-1, 1\)"),
])
def test_bad_input(kw, error, match):
    data, _ = _data()
    args = {"data": data} | SETTINGS | kw
    with pytest.raises(error, match=match):
        gls_coefficients(args.pop("data"), **args)


def test_missing_values_are_refused():
    data, _ = _data()
    data.loc[0, "x"] = np.nan
    with pytest.raises(ValueError, match="drop rows with missing values first"):
        gls_coefficients(data, **SETTINGS)
