"""course_pkg.exact_loo: exact LOO of the no-pooling normal model against an independent route."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import integrate, stats

from course_pkg.exact_loo import (
    _block_loglik,
    exact_loo_no_pooling,
    exact_loo_random_intercept,
)


def _data(seed=3, groups=12):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(1, 5, size=groups)
    g = np.repeat(np.arange(groups), sizes)
    y = rng.normal(0.2, 0.06, size=groups)[g] + rng.normal(0, 0.05, size=len(g))
    return y, g


def _log_marginal(y, g, prior_sd, rate):
    """log p(y) by adaptive quadrature over log sigma (scipy), the means integrated out."""
    labels = np.unique(g)
    n = np.array([np.sum(g == k) for k in labels], dtype=float)
    s = np.array([y[g == k].sum() for k in labels])
    q = np.array([(y[g == k] ** 2).sum() for k in labels])

    def h(ls):
        return (np.log(rate) - rate * np.exp(ls) + ls
                + _block_loglik(n, s, q, np.exp(ls), 0.0, prior_sd).sum())

    grid = np.linspace(-12, 3, 3001)
    top = max(h(x) for x in grid)
    peak = grid[np.argmax([h(x) for x in grid])]
    value, _ = integrate.quad(lambda ls: np.exp(h(ls) - top), -12, 3, points=[peak], limit=400)
    return top + np.log(value)


def test_equals_the_ratio_of_marginal_likelihoods():
    """log p(y_i | y_-i) = log p(y) - log p(y_-i), each by scipy's quad: a different route."""
    y, g = _data()
    out = exact_loo_no_pooling(y, g, prior_sd=1.5, sigma_rate=1)
    full = _log_marginal(y, g, 1.5, 1.0)
    singles = np.flatnonzero(out["n_group"].to_numpy() == 1)
    for i in [0, 3, int(singles[0]), len(y) - 1]:
        keep = np.arange(len(y)) != i
        expected = full - _log_marginal(y[keep], g[keep], 1.5, 1.0)
        assert out["elpd_loo"].iloc[i] == pytest.approx(expected, abs=1e-7)
    assert out.attrs["elpd_loo"] == pytest.approx(out["elpd_loo"].sum())


def test_a_lone_observation_is_predicted_by_the_prior_alone():
    """Without its group's other values, y_i ~ Normal(prior_mean, sqrt(prior_sd^2 + sigma^2)):
    with a wide prior that is about the prior's density at y_i."""
    y, g = _data()
    out = exact_loo_no_pooling(y, g, prior_mean=0.0, prior_sd=1.5, sigma_rate=1)
    lone = out["n_group"].to_numpy() == 1
    prior_density = -0.5 * np.log(2 * np.pi * 1.5**2) - y[lone] ** 2 / (2 * 1.5**2)
    np.testing.assert_allclose(out["elpd_loo"].to_numpy()[lone], prior_density, atol=2e-3)


def test_order_of_rows_does_not_matter_and_results_repeat():
    y, g = _data(seed=8)
    first = exact_loo_no_pooling(y, g, prior_sd=1.5, sigma_rate=1)
    order = np.random.default_rng(0).permutation(len(y))
    shuffled = exact_loo_no_pooling(y[order], g[order], prior_sd=1.5, sigma_rate=1)
    np.testing.assert_allclose(shuffled["elpd_loo"].to_numpy(),
                               first["elpd_loo"].to_numpy()[order], rtol=0, atol=1e-10)
    again = exact_loo_no_pooling(y, g, prior_sd=1.5, sigma_rate=1)
    np.testing.assert_array_equal(again["elpd_loo"].to_numpy(), first["elpd_loo"].to_numpy())


@pytest.mark.parametrize("kwargs, match", [
    ({"y": [[1.0, 2.0]], "groups": ["a"]}, "one-dimensional"),
    ({"y": [1.0, np.nan, 2.0], "groups": ["a", "a", "b"]}, "finite"),
    ({"y": [1.0, 2.0, 3.0], "groups": ["a", "b"]}, "2 labels for 3 values"),
    ({"y": [1.0, 2.0, 3.0], "groups": ["a", None, "b"]}, "missing labels"),
    ({"y": [1.0, 2.0, 3.0], "groups": ["a", "b", "c"]}, "every group has one"),
    ({"prior_sd": 0}, "prior_sd must be a positive number"),
    ({"sigma_rate": -1.0}, "sigma_rate must be a positive number"),
    ({"grid_size": 50}, "grid_size must be an int >= 200"),
])
def test_bad_input_is_refused(kwargs, match):
    args = {"y": [0.1, 0.3, -0.2, 0.0], "groups": ["a", "a", "b", "b"], "prior_sd": 1.5,
            "sigma_rate": 1.0} | kwargs
    with pytest.raises(ValueError, match=match):
        exact_loo_no_pooling(args.pop("y"), args.pop("groups"), **args)


# --- the random-intercept model (chapter 2's m2) ------------------------------------------------

RI = {"mean_prior_sd": 1.5, "tau_rate": 1.0, "sigma_rate": 1.0}


def _log_marginal_mvn(y, g, prior_sd, tau_rate, sigma_rate):
    """log p(y) another way: y is multivariate normal given (tau, sigma) with mu integrated out
    too (covariance sigma^2 I + tau^2 [same group] + prior_sd^2), then scipy's dblquad over
    (log tau, log sigma) on a box found by a coarse search."""
    same = (g[:, None] == g[None, :]).astype(float)

    def h(lt, ls):
        cov = np.exp(2 * ls) * np.eye(len(y)) + np.exp(2 * lt) * same + prior_sd**2
        return (stats.multivariate_normal.logpdf(y, np.zeros(len(y)), cov)
                + np.log(tau_rate) - tau_rate * np.exp(lt) + lt
                + np.log(sigma_rate) - sigma_rate * np.exp(ls) + ls)

    lt_grid, ls_grid = np.linspace(-30, 1, 311), np.linspace(-7, 1, 81)
    values = np.array([[h(a, b) for b in ls_grid] for a in lt_grid])
    top = values.max()
    keep = np.argwhere(values > top - 45)
    lo, hi = keep.min(axis=0) - 2, keep.max(axis=0) + 2
    lt_lo, lt_hi = lt_grid[max(lo[0], 0)], lt_grid[min(hi[0], 310)]
    ls_lo, ls_hi = ls_grid[max(lo[1], 0)], ls_grid[min(hi[1], 80)]
    value, _ = integrate.dblquad(lambda ls, lt: np.exp(h(lt, ls) - top), lt_lo, lt_hi,
                                 ls_lo, ls_hi, epsabs=0, epsrel=1e-9)
    return top + np.log(value)


def test_random_intercept_equals_the_ratio_of_marginal_likelihoods():
    """log p(y_i | y_-i) = log p(y) - log p(y_-i) with the likelihood written as one
    multivariate normal and integrated by adaptive quadrature: a different route on every step."""
    y, g = _data(seed=5, groups=8)
    out = exact_loo_random_intercept(y, g, **RI)
    full = _log_marginal_mvn(y, g, 1.5, 1.0, 1.0)
    singles = np.flatnonzero(out["n_group"].to_numpy() == 1)
    for i in [0, int(singles[0])]:
        keep = np.arange(len(y)) != i
        expected = full - _log_marginal_mvn(y[keep], g[keep], 1.5, 1.0, 1.0)
        assert out["elpd_loo"].iloc[i] == pytest.approx(expected, abs=1e-6)
    assert out.attrs["elpd_loo"] == pytest.approx(out["elpd_loo"].sum())


def test_random_intercept_grid_has_converged():
    y, g = _data(seed=2, groups=20)
    coarse = exact_loo_random_intercept(y, g, **RI)
    fine = exact_loo_random_intercept(y, g, grid_size=600, **RI)
    np.testing.assert_allclose(coarse["elpd_loo"], fine["elpd_loo"], rtol=0, atol=1e-6)
    for name, value in fine.attrs["posterior_mean"].items():
        assert coarse.attrs["posterior_mean"][name] == pytest.approx(value, rel=1e-6)


def test_random_intercept_pools_a_lone_observation():
    """Left out, a lone rating is predicted from the other groups (mu, tau), not from the wide
    prior of mu: on average far better than the no-pooling model's prior-only prediction."""
    y, g = _data(seed=3)
    pooled = exact_loo_random_intercept(y, g, **RI)
    alone = exact_loo_no_pooling(y, g, prior_sd=1.5, sigma_rate=1)
    lone = pooled["n_group"].to_numpy() == 1
    gain = pooled["elpd_loo"].to_numpy()[lone] - alone["elpd_loo"].to_numpy()[lone]
    assert gain.mean() > 1, gain


@pytest.mark.parametrize("kwargs, match", [
    ({"y": [1.0, np.inf, 2.0], "groups": ["a", "a", "b"]}, "finite"),
    ({"y": [1.0, 2.0, 3.0], "groups": ["a", "b", "c"]}, "every group has one"),
    ({"mean_prior_sd": -1}, "mean_prior_sd must be a positive number"),
    ({"tau_rate": 0}, "tau_rate must be a positive number"),
    ({"sigma_rate": "1"}, "sigma_rate must be a positive number"),
    ({"mean_prior_mean": None}, "mean_prior_mean must be a number"),
    ({"grid_size": 50}, "grid_size must be an int >= 100"),
])
def test_random_intercept_bad_input_is_refused(kwargs, match):
    args = {"y": [0.1, 0.3, -0.2, 0.0, 0.2], "groups": list("aabbb")} | RI | kwargs
    with pytest.raises(ValueError, match=match):
        exact_loo_random_intercept(args.pop("y"), args.pop("groups"), **args)
