"""Exact leave-one-out for chapter 2's normal models, by quadrature instead of refits.

Chapter 2's no-pooling model m1 is ``y_i ~ Normal(a_[g_i], sigma)`` with independent priors
``a_g ~ Normal(prior_mean, prior_sd)`` and ``sigma ~ Exponential(sigma_rate)``; its
partial-pooling model m2 has ``a_g ~ Normal(mu, tau)`` with ``mu``, ``tau`` and ``sigma`` given
priors of their own. In both, the group means (and m2's ``mu``) are conjugate given the scale
parameters, so they integrate out in closed form: every group's ratings are jointly normal, and

``p(y_i | y_-i) = p(y) / p(y_-i)``

needs only integrals over the scales: ``sigma`` alone for m1 (one dimension), and
``(log tau, log sigma)`` for m2 (two). Sums on fine grids compute them. This gives the exact
leave-one-out log predictive density of every observation without refitting and without Monte
Carlo error, which PSIS-LOO and refits of flagged ratings (``reloo``) only approximate: PSIS is
unreliable where Pareto k is large, and ``reloo`` refits only the ratings whose *estimated* k
crossed the threshold in that run, a set that changes from one run of the sampler to the next,
and keeps PSIS (with its own small bias) for all the others.

Written by hand: ArviZ, arviz-stats and PyMC compute LOO from posterior draws only. The
functions here apply to these two models only (normal likelihood, one mean per group, the
priors named in their signatures); anything else needs refits.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.special import logsumexp

__all__ = ["exact_loo_no_pooling", "exact_loo_random_intercept"]

_LOG_2PI = np.log(2 * np.pi)


def _group_terms(n, total, sumsq, tau, sigma):
    """``C_g`` (the group's log density with its mean's Normal(mu, v_g) term split off), ``w_g``
    and ``m_g`` for arrays that broadcast; ``n == 0`` gives zeros (the group drops out)."""
    n = np.asarray(n, dtype=float)
    safe_n = np.where(n > 0, n, 1.0)
    mean = total / safe_n
    within = np.maximum(sumsq - n * mean**2, 0.0)
    var = sigma**2 + n * tau**2
    c = (-0.5 * n * _LOG_2PI - (n - 1) * np.log(sigma) - 0.5 * np.log(var)
         - within / (2 * sigma**2))
    w = safe_n / var
    present = n > 0
    return np.where(present, c, 0.0), np.where(present, w, 0.0), np.where(present, mean, 0.0)


def _block_loglik(n, total, sumsq, sigma, prior_mean, prior_sd):
    """log p(ratings of one group | sigma), the group mean (prior ``Normal(prior_mean,
    prior_sd)``) integrated out: :func:`_group_terms` with the mean's term added back.

    ``n``, ``total`` and ``sumsq`` (sum and sum of squares of the group's ratings) broadcast
    against ``sigma``; ``n == 0`` gives 0.
    """
    c, w, mean = _group_terms(n, total, sumsq, prior_sd, sigma)
    return c - 0.5 * w * (mean - prior_mean) ** 2


def _predictive_logpdf(y, n, total, sigma, prior_mean, prior_sd):
    """log p(y | sigma, n other ratings of the group summing to ``total``)."""
    precision = 1 / prior_sd**2 + n / sigma**2
    centre = (prior_mean / prior_sd**2 + total / sigma**2) / precision
    var = 1 / precision + sigma**2
    return -0.5 * (_LOG_2PI + np.log(var) + (y - centre) ** 2 / var)


def _check_positive(name, value):
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not value > 0:
        raise ValueError(f"{name} must be a positive number, got {value!r}")


def _group_sums(y, groups):
    """Checked ``y`` with group codes, labels and each group's count, sum and sum of squares."""
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
    codes, labels = pd.factorize(groups)
    n_g = np.bincount(codes).astype(float)
    if np.all(n_g == 1):
        raise ValueError("every group has one observation: sigma is identified by the prior only")
    return y, codes, labels, n_g, np.bincount(codes, weights=y), np.bincount(codes, weights=y**2)


def _result(y, codes, labels, n_g, elpd_i):
    """One row per observation (group, its size, elpd_loo); the sum and its SE in ``attrs``."""
    out = pd.DataFrame({"group": labels[codes], "n_group": n_g[codes].astype(int),
                        "elpd_loo": elpd_i})
    out.attrs.update(elpd_loo=float(elpd_i.sum()),
                     se=float(np.sqrt(len(y)) * np.std(elpd_i, ddof=1)))
    return out


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
    y, codes, labels, n_g, sum_g, sq_g = _group_sums(y, groups)
    for name, value in (("prior_sd", prior_sd), ("sigma_rate", sigma_rate)):
        _check_positive(name, value)
    if not isinstance(grid_size, int) or isinstance(grid_size, bool) or grid_size < 200:
        raise ValueError(f"grid_size must be an int >= 200, got {grid_size!r}")

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

    return _result(y, codes, labels, n_g, elpd_i)


def _mean_integrated(c_sum, w_sum, wm_sum, wm2_sum, m0, s0):
    """log p(y | tau, sigma): the group terms ``C_g`` summed, then ``mu`` integrated out.

    Given (tau, sigma), group g's mean ``m_g`` is ``Normal(mu, v_g)`` with
    ``v_g = tau^2 + sigma^2 / n_g`` and weight ``w_g = 1 / v_g``; the sums of ``w_g``,
    ``w_g m_g`` and ``w_g m_g^2`` with the prior ``Normal(m0, s0)`` give the Gaussian integral.
    """
    w = w_sum + 1 / s0**2
    wm = wm_sum + m0 / s0**2
    quad = wm2_sum + m0**2 / s0**2 - wm**2 / w
    return c_sum - 0.5 * np.log(s0**2 * w) - 0.5 * quad


def exact_loo_random_intercept(y, groups, *, mean_prior_mean: float = 0.0, mean_prior_sd: float,
                               tau_rate: float, sigma_rate: float,
                               grid_size: int = 300) -> pd.DataFrame:
    """Exact LOO log predictive density of each observation under the random-intercept model.

    Model: ``y_i ~ Normal(a_[g_i], sigma)``, ``a_g ~ Normal(mu, tau)``,
    ``mu ~ Normal(mean_prior_mean, mean_prior_sd)``, ``tau ~ Exponential(tau_rate)``,
    ``sigma ~ Exponential(sigma_rate)``; Bambi's ``y ~ 1 + (1 | g)`` with those priors
    (chapter 2's m2). Given ``(tau, sigma)`` the group means and ``mu`` are all conjugate, so
    they integrate out in closed form and ``log p(y_i | y_-i)`` is the log ratio of two
    integrals over ``(log tau, log sigma)``, sums on one grid of ``grid_size`` points per axis.
    A coarse pass widens the grid's box until its edges carry no mass (``log tau`` has a long
    lower tail when groups differ little); a check raises if any leave-one-out posterior
    carries mass on the final grid's edges.

    Parameters
    ----------
    y : array-like of float
        Observations (finite).
    groups : array-like
        Group label of each observation, same length as ``y``.
    mean_prior_mean, mean_prior_sd : float
        Prior of ``mu``; ``mean_prior_sd > 0``.
    tau_rate, sigma_rate : float
        Rates of the exponential priors on ``tau`` and ``sigma`` (> 0).
    grid_size : int
        Points per axis (>= 100).

    Returns
    -------
    pandas.DataFrame
        As :func:`exact_loo_no_pooling`; ``attrs`` also hold ``posterior_mean``, the full-data
        posterior means of ``mu``, ``tau`` and ``sigma`` (to set against a fit's estimates).

    Examples
    --------
    >>> out = exact_loo_random_intercept([0.1, 0.3, -0.2, 0.0, 0.2], list("aabbb"),
    ...                                  mean_prior_sd=1.5, tau_rate=1, sigma_rate=1)
    >>> round(out.attrs["elpd_loo"], 2)
    -0.97
    """
    y, codes, labels, n_g, sum_g, sq_g = _group_sums(y, groups)
    for name, value in (("mean_prior_sd", mean_prior_sd), ("tau_rate", tau_rate),
                        ("sigma_rate", sigma_rate)):
        _check_positive(name, value)
    if not isinstance(mean_prior_mean, (int, float)) or isinstance(mean_prior_mean, bool):
        raise ValueError(f"mean_prior_mean must be a number, got {mean_prior_mean!r}")
    if not isinstance(grid_size, int) or isinstance(grid_size, bool) or grid_size < 100:
        raise ValueError(f"grid_size must be an int >= 100, got {grid_size!r}")
    m0, s0 = float(mean_prior_mean), float(mean_prior_sd)

    def joint(log_tau, log_sigma):
        """log p(log tau, log sigma, y) + const, and the group terms, on broadcast arrays."""
        tau, sigma = np.exp(log_tau), np.exp(log_sigma)
        c, w, m = _group_terms(n_g[:, None], sum_g[:, None], sq_g[:, None], tau[None], sigma[None])
        lik = _mean_integrated(c.sum(0), w.sum(0), (w * m).sum(0), (w * m**2).sum(0), m0, s0)
        prior = -tau_rate * tau + log_tau - sigma_rate * sigma + log_sigma  # with Jacobians
        return prior + lik, (c, w, m)

    def mesh(box, size):
        axes = [np.linspace(lo, hi, size) for lo, hi in box]
        return [a.ravel() for a in np.meshgrid(*axes, indexing="ij")]

    # Start from a box around the moment estimates and widen each side whose end still
    # carries mass on a coarse grid.
    means = sum_g / n_g
    within = np.sqrt(max(np.sum(sq_g - sum_g**2 / n_g) / max(len(y) - len(n_g), 1), 1e-12))
    between = max(means.std(), 0.1 * within)
    box = [[np.log(between) - 3, np.log(between) + 3], [np.log(within) - 3, np.log(within) + 3]]
    for _ in range(60):
        values = joint(*mesh(box, 60))[0]
        mass = np.exp(values - logsumexp(values)).reshape(60, 60)
        grown = False
        for axis in range(2):
            slabs = mass.sum(axis=1 - axis)
            span = box[axis][1] - box[axis][0]
            if slabs[0] > 1e-12:
                box[axis][0] -= 0.5 * span
                grown = True
            if slabs[-1] > 1e-12:
                box[axis][1] += 0.5 * span
                grown = True
            # trim ends without mass so the fine grid is spent where the posterior is
            keep = np.flatnonzero(slabs > 1e-16)
            if not grown and len(keep):
                edges = np.linspace(box[axis][0], box[axis][1], 60)
                box[axis] = [edges[max(keep[0] - 3, 0)], edges[min(keep[-1] + 3, 59)]]
        if not grown:
            break
    log_tau, log_sigma = mesh(box, grid_size)
    log_joint, (c, w, m) = joint(log_tau, log_sigma)
    log_full = logsumexp(log_joint)
    weights = np.exp(log_joint - log_full)
    sums = [c.sum(0), w.sum(0), (w * m).sum(0), (w * m**2).sum(0)]
    edge = np.zeros((grid_size, grid_size), dtype=bool)
    edge[[0, -1], :] = edge[:, [0, -1]] = True
    edge = edge.ravel()
    worst_edge = float(weights[edge].sum())
    tau, sigma = np.exp(log_tau), np.exp(log_sigma)
    prior = log_joint - _mean_integrated(*sums, m0, s0)
    elpd_i = np.empty(len(y))
    for i, (g, value) in enumerate(zip(codes, y, strict=True)):
        c_i, w_i, m_i = _group_terms(n_g[g] - 1, sum_g[g] - value, sq_g[g] - value**2, tau, sigma)
        log_without = prior + _mean_integrated(
            sums[0] - c[g] + c_i, sums[1] - w[g] + w_i, sums[2] - w[g] * m[g] + w_i * m_i,
            sums[3] - w[g] * m[g] ** 2 + w_i * m_i**2, m0, s0)
        norm = logsumexp(log_without)
        worst_edge = max(worst_edge, float(np.exp(log_without[edge] - norm).sum()))
        elpd_i[i] = log_full - norm                                    # log p(y) - log p(y_-i)
    if worst_edge > 1e-6:  # a truncation error of at most about 1e-6 in each log density
        raise RuntimeError(f"the grid's edges carry posterior mass {worst_edge:.1e}; "
                           "report this with the data")
    mu_given = (sums[2] + m0 / s0**2) / (sums[1] + 1 / s0**2)        # E[mu | tau, sigma, y]
    out = _result(y, codes, labels, n_g, elpd_i)
    out.attrs["posterior_mean"] = {"mu": float(weights @ mu_given), "tau": float(weights @ tau),
                                   "sigma": float(weights @ sigma)}
    return out
