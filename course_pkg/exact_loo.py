"""Exact leave-one-out for the no-pooling normal model, by one-dimensional quadrature.

Chapter 2's no-pooling model m1 is ``y_i ~ Normal(a_[g_i], sigma)`` with independent priors
``a_g ~ Normal(prior_mean, prior_sd)`` and ``sigma ~ Exponential(sigma_rate)``. Given ``sigma``
the person means are conjugate, so they integrate out in closed form and leave-one-out needs only
a one-dimensional integral over ``sigma``:

``p(y_i | y_-i) = integral of p(y_i | sigma, other ratings of i's person) p(sigma | y_-i) dsigma``

where both factors are normal-normal results. This gives the exact leave-one-out log predictive
density of every rating without refitting and without Monte Carlo error (the integral is a sum on
a fine grid of ``log sigma``), which PSIS-LOO and refits of flagged ratings (``reloo``) only
approximate: PSIS is unreliable where Pareto k is large, and ``reloo`` refits only the ratings
whose *estimated* k crossed the threshold in that run, a set that changes from one run of the
sampler to the next.

Written by hand: ArviZ, arviz-stats and PyMC compute LOO from posterior draws only. The
functions here apply to this model only (normal likelihood, one independent mean per group,
known prior); anything else needs refits.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import logsumexp

__all__ = ["exact_loo_no_pooling"]

_LOG_2PI = np.log(2 * np.pi)


def _block_loglik(n, total, sumsq, sigma, prior_mean, prior_sd):
    """log p(ratings of one group | sigma), the group mean integrated out.

    ``n``, ``total`` and ``sumsq`` (sum and sum of squares of the group's ratings) broadcast
    against ``sigma``; ``n == 0`` gives 0.
    """
    n = np.asarray(n, dtype=float)
    var, tau2 = sigma**2, prior_sd**2
    safe_n = np.where(n > 0, n, 1.0)
    mean = total / safe_n
    within = np.maximum(sumsq - n * mean**2, 0.0)
    value = (-0.5 * n * _LOG_2PI - (n - 1) * np.log(sigma) - 0.5 * np.log(var + n * tau2)
             - within / (2 * var) - n * (mean - prior_mean) ** 2 / (2 * (var + n * tau2)))
    return np.where(n > 0, value, 0.0)


def _predictive_logpdf(y, n, total, sigma, prior_mean, prior_sd):
    """log p(y | sigma, n other ratings of the group summing to ``total``)."""
    precision = 1 / prior_sd**2 + n / sigma**2
    centre = (prior_mean / prior_sd**2 + total / sigma**2) / precision
    var = 1 / precision + sigma**2
    return -0.5 * (_LOG_2PI + np.log(var) + (y - centre) ** 2 / var)


def exact_loo_no_pooling(y, groups, *, prior_mean: float = 0.0, prior_sd: float,
                         sigma_rate: float, grid_size: int = 4000) -> pd.DataFrame:
    """Exact LOO log predictive density of each observation under the no-pooling normal model.

    Model: ``y_i ~ Normal(a_[g_i], sigma)``, ``a_g ~ Normal(prior_mean, prior_sd)`` independently,
    ``sigma ~ Exponential(sigma_rate)``; Bambi's ``y ~ 0 + g`` with those priors (chapter 2's
    m1). Each group mean is integrated out analytically given ``sigma``, and ``sigma`` by a sum on
    ``grid_size`` points of ``log sigma`` spanning the region where the full-data posterior of
    ``sigma`` has mass (a check raises if the grid's ends carry mass).

    Parameters
    ----------
    y : array-like of float
        Observations (finite).
    groups : array-like
        Group label of each observation, same length as ``y``.
    prior_mean, prior_sd : float
        Prior of every group mean; ``prior_sd > 0``.
    sigma_rate : float
        Rate of the exponential prior on ``sigma`` (> 0).
    grid_size : int
        Points of the quadrature grid (>= 200).

    Returns
    -------
    pandas.DataFrame
        One row per observation, in input order: ``group``, ``n_group`` (observations of its
        group) and ``elpd_loo`` (``log p(y_i | y_-i)``). ``attrs`` hold ``elpd_loo`` (the sum) and
        ``se`` (``sqrt(n) * sd`` of the pointwise values, as ``loo`` reports it).

    Examples
    --------
    >>> out = exact_loo_no_pooling([0.1, 0.3, -0.2, 0.0], ["a", "a", "b", "b"],
    ...                            prior_sd=1.5, sigma_rate=1)
    >>> out["elpd_loo"].round(2).tolist()
    [-0.25, -0.26, -0.26, -0.25]
    """
    y = np.asarray(y, dtype=float)
    if y.ndim != 1 or len(y) < 2:
        raise ValueError(f"y must be one-dimensional with at least 2 values, got shape {y.shape}")
    if not np.all(np.isfinite(y)):
        raise ValueError("y must be finite (no NaN or inf)")
    groups = pd.Series(np.asarray(groups))
    if len(groups) != len(y):
        raise ValueError(f"groups has {len(groups)} labels for {len(y)} values of y")
    if groups.isna().any():
        raise ValueError("groups must not contain missing labels")
    for name, value in (("prior_sd", prior_sd), ("sigma_rate", sigma_rate)):
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > 0:
            raise ValueError(f"{name} must be a positive number, got {value!r}")
    if not isinstance(grid_size, int) or isinstance(grid_size, bool) or grid_size < 200:
        raise ValueError(f"grid_size must be an int >= 200, got {grid_size!r}")

    codes, labels = pd.factorize(groups)
    n_g = np.bincount(codes).astype(float)
    sum_g = np.bincount(codes, weights=y)
    sq_g = np.bincount(codes, weights=y**2)
    if np.all(n_g == 1):
        raise ValueError("every group has one observation: sigma is identified by the prior only")

    # Grid on log sigma: a coarse pass over a wide range finds where the full-data posterior of
    # sigma has mass (within e^-60 of its peak); the fine grid covers that range with a margin,
    # and a check below makes sure every leave-one-out posterior vanishes at its ends.
    within = np.sqrt(max(np.sum(sq_g - sum_g**2 / n_g) / max(len(y) - len(n_g), 1), 1e-12))
    coarse = np.linspace(np.log(within) - 12, np.log(60 / sigma_rate), 3000)

    def log_posterior(log_s):
        s = np.exp(log_s)
        lik = _block_loglik(n_g[:, None], sum_g[:, None], sq_g[:, None], s[None, :],
                            prior_mean, prior_sd).sum(axis=0)
        return np.log(sigma_rate) - sigma_rate * s + log_s + lik  # prior, Jacobian, likelihood

    mass = coarse[log_posterior(coarse) > log_posterior(coarse).max() - 60]
    margin = 0.1 * (mass[-1] - mass[0]) + 2 * (coarse[1] - coarse[0])
    log_sigma = np.linspace(mass[0] - margin, mass[-1] + margin, grid_size)
    sigma = np.exp(log_sigma)
    # log prior of sigma plus the Jacobian of the log scale; the grid spacing is constant
    log_prior = np.log(sigma_rate) - sigma_rate * sigma + log_sigma

    block = _block_loglik(n_g[:, None], sum_g[:, None], sq_g[:, None], sigma[None, :],
                          prior_mean, prior_sd)                       # groups x grid
    total = block.sum(axis=0)
    n_i, sum_i, sq_i = n_g[codes] - 1, sum_g[codes] - y, sq_g[codes] - y**2
    without = _block_loglik(n_i[:, None], sum_i[:, None], sq_i[:, None], sigma[None, :],
                            prior_mean, prior_sd)                     # obs x grid
    log_post = log_prior + total - block[codes] + without             # p(sigma | y_-i), up to c
    log_post -= logsumexp(log_post, axis=1, keepdims=True)
    ends = np.exp(np.maximum(log_post[:, :5].max(), log_post[:, -5:].max()))
    if ends > 1e-12:
        raise RuntimeError("the sigma grid does not cover the posterior; report this with the data")
    pred = _predictive_logpdf(y[:, None], n_i[:, None], sum_i[:, None], sigma[None, :],
                              prior_mean, prior_sd)
    elpd_i = logsumexp(log_post + pred, axis=1)

    out = pd.DataFrame({"group": labels[codes], "n_group": n_g[codes].astype(int),
                        "elpd_loo": elpd_i})
    out.attrs.update(elpd_loo=float(elpd_i.sum()),
                     se=float(np.sqrt(len(y)) * np.std(elpd_i, ddof=1)))
    return out
