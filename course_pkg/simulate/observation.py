"""Simulators for the catalogue's rows about how the outcome or a predictor is observed (chapter 3).

Each one draws grouped data from the model brms fits for one addition term, so that a fit can be
checked against the values used:

- :func:`simulate_censored`: ``y | cens(censored) ~ x + (1 | g)``, ``family = lognormal``, right
  censoring at a fixed follow-up time.
- :func:`simulate_truncated`: ``count | trunc(ub = 10) ~ x * z + (1 | g)``, ``family = poisson``
  (rows outside the bounds never enter the data).
- :func:`simulate_measurement_error`: ``y ~ me(x, sdx) + (1 | g)``, ``x`` observed with known
  error.
- :func:`simulate_missing`: ``bf(y ~ mi(x) + z + (1 | g)) + bf(x | mi() ~ z + (1 | g))``, ``x``
  missing completely at random.

Every function takes keyword arguments and a ``seed`` and returns ``(data, truth)``: the table, and
a dict of the values used under the names the catalogue's fits give them (Bambi's where the row is
fitted with Bambi). The same seed gives the same data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from course_pkg.simulate import _checks as check
from course_pkg.simulate.catalogue import _groups  # rows spread over groups at random

__all__ = ["simulate_censored", "simulate_measurement_error", "simulate_missing",
           "simulate_truncated"]


def _grouping(rng, n_obs, n_groups, sd_group, name="sd_group"):
    """Rows spread over groups at random (the catalogue's ``_groups``), and their SD checked."""
    sd_group = check.sd(sd_group, name)
    n_obs, _, g, g_cat = _groups(rng, n_obs, n_groups)
    return n_obs, g, g_cat, sd_group


def simulate_censored(*, seed, n_obs: int = 150, n_groups: int = 8, intercept: float = 1.0,
                      slope: float = 0.5, sd_group: float = 0.3, sigma: float = 0.5,
                      cutoff: float = 4.0) -> tuple[pd.DataFrame, dict]:
    """Lognormal event times right-censored at ``cutoff``: brms's ``cens()`` with ``lognormal``.

    ``log T = intercept + slope * x + u_g + e`` with ``u_g ~ N(0, sd_group)``,
    ``e ~ N(0, sigma)``; the observed time is ``min(T, cutoff)``, censored when ``T > cutoff``
    (follow-up ends at ``cutoff``). Fitting ``censored(log_y, status) ~ x + (1 | g)`` in Bambi
    (Gaussian on the log scale) is the same model as brms's
    ``y | cens(censored) ~ x + (1 | g), family = lognormal``.

    Parameters
    ----------
    seed : int or numpy.random.Generator
    n_obs, n_groups : int
        Rows, and groups they are spread over at random (at least 2 groups).
    intercept, slope : float
        Coefficients on the log scale.
    sd_group, sigma : float
        SD of the group intercepts (>= 0) and residual SD on the log scale (> 0).
    cutoff : float
        End of follow-up (> 0, on the time scale).

    Returns
    -------
    data : pandas.DataFrame
        Columns ``y`` (observed time), ``log_y``, ``status`` (Bambi's strings ``"none"`` /
        ``"right"``), ``censored`` (brms's 0/1), ``x``, ``g`` (categorical).
    truth : dict
        ``Intercept``, ``x``, ``1|g_sigma``, ``1|g`` (per group), ``sigma``; also ``cutoff`` and
        ``log_time`` (the uncensored log times).

    Raises
    ------
    TypeError
        A non-numeric argument or a bad ``seed``.
    ValueError
        Fewer than 2 groups, a negative ``sd_group``, or ``sigma`` or ``cutoff`` not > 0.
    """
    rng = check.rng_from(seed)
    n_obs, g, g_cat, sd_group = _grouping(rng, n_obs, n_groups, sd_group)
    intercept, slope = check.real(intercept, "intercept"), check.real(slope, "slope")
    sigma = check.sd(sigma, "sigma", positive=True)
    cutoff = check.sd(cutoff, "cutoff", positive=True)
    x = rng.standard_normal(n_obs)
    u = rng.normal(0.0, sd_group, g_cat.categories.size)
    log_time = intercept + slope * x + u[g] + rng.normal(0.0, sigma, n_obs)
    is_right = log_time > np.log(cutoff)
    y = np.minimum(np.exp(log_time), cutoff)
    data = pd.DataFrame({"y": y, "log_y": np.log(y),
                         "status": np.where(is_right, "right", "none"),
                         "censored": is_right.astype(int), "x": x, "g": g_cat})
    truth = {"Intercept": intercept, "x": slope, "1|g_sigma": sd_group, "1|g": u,
             "sigma": sigma, "cutoff": cutoff, "log_time": log_time}
    return data, truth


def simulate_truncated(*, seed, n_obs: int = 200, n_groups: int = 8, intercept: float = 1.5,
                       b_x: float = 0.3, b_z: float = -0.2, b_xz: float = 0.1,
                       sd_group: float = 0.3, lb: int | None = None,
                       ub: int | None = 10) -> tuple[pd.DataFrame, dict]:
    """Truncated Poisson counts: brms's ``count | trunc(lb, ub) ~ x * z + (1 | g)``.

    ``count ~ Poisson(exp(intercept + b_x x + b_z z + b_xz x z + u_g))``, ``u_g ~ N(0,
    sd_group)``; ``n_obs`` rows are drawn and those outside ``[lb, ub]`` are dropped (they never
    enter the data, which is what truncation means), so the data have at most ``n_obs`` rows.
    Bambi's ``truncated(count, ub=10) ~ x * z + (1 | g)`` with ``family="poisson"`` fits it.

    Parameters
    ----------
    seed : int or numpy.random.Generator
    n_obs, n_groups : int
        Rows drawn before truncation; groups (at least 2).
    intercept, b_x, b_z, b_xz : float
        Coefficients on the log scale (``b_xz`` of the product ``x z``).
    sd_group : float
        SD of the group intercepts (>= 0).
    lb, ub : int or None
        Inclusive bounds on the count; ``None`` for no bound (at least one must be given).

    Returns
    -------
    data : pandas.DataFrame
        Columns ``count``, ``x``, ``z``, ``g`` (categorical); index 0 .. rows kept - 1.
    truth : dict
        ``Intercept``, ``x``, ``z``, ``x:z``, ``1|g_sigma``, ``1|g`` (Bambi's names); also
        ``lb``, ``ub`` and ``n_dropped`` (rows drawn outside the bounds).

    Raises
    ------
    TypeError
        A non-numeric argument, a non-int bound, or a bad ``seed``.
    ValueError
        Fewer than 2 groups, a negative ``sd_group``, both bounds ``None``, or ``lb > ub``.
    """
    rng = check.rng_from(seed)
    n_obs, g, g_cat, sd_group = _grouping(rng, n_obs, n_groups, sd_group)
    beta = [check.real(v, name) for v, name in
            ((intercept, "intercept"), (b_x, "b_x"), (b_z, "b_z"), (b_xz, "b_xz"))]
    if lb is None and ub is None:
        raise ValueError("lb and ub are both None: give at least one bound")
    lb = None if lb is None else check.count(lb, "lb", minimum=0)
    ub = None if ub is None else check.count(ub, "ub", minimum=0)
    if lb is not None and ub is not None and lb > ub:
        raise ValueError(f"lb must be <= ub, got lb={lb}, ub={ub}")
    x, z = rng.standard_normal(n_obs), rng.standard_normal(n_obs)
    u = rng.normal(0.0, sd_group, g_cat.categories.size)
    eta = beta[0] + beta[1] * x + beta[2] * z + beta[3] * x * z + u[g]
    count = rng.poisson(np.exp(eta))
    keep = np.ones(n_obs, dtype=bool)
    if lb is not None:
        keep &= count >= lb
    if ub is not None:
        keep &= count <= ub
    data = pd.DataFrame({"count": count, "x": x, "z": z, "g": g_cat})[keep]
    truth = {"Intercept": beta[0], "x": beta[1], "z": beta[2], "x:z": beta[3],
             "1|g_sigma": sd_group, "1|g": u, "lb": lb, "ub": ub,
             "n_dropped": int((~keep).sum())}
    return data.reset_index(drop=True), truth


def simulate_measurement_error(*, seed, n_obs: int = 120, n_groups: int = 8,
                               intercept: float = 0.5, slope: float = 1.0,
                               sd_group: float = 0.4, sigma: float = 0.7, mean_x: float = 0.0,
                               sd_x: float = 1.0, sdx: float = 0.5) -> tuple[pd.DataFrame, dict]:
    """A predictor observed with known error: brms's ``y ~ me(x, sdx) + (1 | g)``.

    The true predictor is ``x_true ~ N(mean_x, sd_x)`` (brms's ``meanme``, ``sdme``); the data
    hold ``x = x_true + N(0, sdx)`` and the known ``sdx``;
    ``y = intercept + slope x_true + u_g + N(0, sigma)``. Least squares on the observed ``x``
    attenuates the slope by the reliability ``sd_x^2 / (sd_x^2 + sdx^2)`` (0.8 by default).

    Parameters
    ----------
    seed : int or numpy.random.Generator
    n_obs, n_groups : int
        Rows; groups (at least 2).
    intercept, slope : float
        Coefficients of the true ``x``.
    sd_group, sigma : float
        SD of the group intercepts (>= 0) and residual SD (> 0).
    mean_x, sd_x : float
        Mean and SD (> 0) of the true predictor.
    sdx : float
        Known measurement-error SD (>= 0), the same for every row.

    Returns
    -------
    data : pandas.DataFrame
        Columns ``y``, ``x`` (observed), ``sdx``, ``g`` (categorical).
    truth : dict
        ``Intercept``, ``x`` (slope), ``1|g_sigma``, ``1|g``, ``sigma``, ``meanme``, ``sdme``,
        ``x_true`` (per row), ``reliability``.

    Raises
    ------
    TypeError
        A non-numeric argument or a bad ``seed``.
    ValueError
        Fewer than 2 groups, a negative SD, or ``sigma`` or ``sd_x`` not > 0.
    """
    rng = check.rng_from(seed)
    n_obs, g, g_cat, sd_group = _grouping(rng, n_obs, n_groups, sd_group)
    intercept, slope = check.real(intercept, "intercept"), check.real(slope, "slope")
    sigma = check.sd(sigma, "sigma", positive=True)
    mean_x = check.real(mean_x, "mean_x")
    sd_x = check.sd(sd_x, "sd_x", positive=True)
    sdx = check.sd(sdx, "sdx")
    x_true = rng.normal(mean_x, sd_x, n_obs)
    x_obs = x_true + rng.normal(0.0, sdx, n_obs)
    u = rng.normal(0.0, sd_group, g_cat.categories.size)
    y = intercept + slope * x_true + u[g] + rng.normal(0.0, sigma, n_obs)
    data = pd.DataFrame({"y": y, "x": x_obs, "sdx": np.full(n_obs, sdx), "g": g_cat})
    truth = {"Intercept": intercept, "x": slope, "1|g_sigma": sd_group, "1|g": u,
             "sigma": sigma, "meanme": mean_x, "sdme": sd_x, "x_true": x_true,
             "reliability": sd_x**2 / (sd_x**2 + sdx**2)}
    return data, truth


def simulate_missing(*, seed, n_obs: int = 150, n_groups: int = 8, intercept: float = 1.0,
                     b_x: float = 0.7, b_z: float = -0.3, sd_group: float = 0.4,
                     sigma: float = 0.5, x_intercept: float = 0.0, x_z: float = 0.8,
                     x_sd_group: float = 0.5, x_sigma: float = 0.6,
                     p_missing: float = 0.2) -> tuple[pd.DataFrame, dict]:
    """A predictor with missing values and its own mixed model: brms's ``mi()``.

    ``x = x_intercept + x_z z + v_g + N(0, x_sigma)`` (brms's ``x | mi() ~ z + (1 | g)``) and
    ``y = intercept + b_x x + b_z z + u_g + N(0, sigma)`` (``y ~ mi(x) + z + (1 | g)``), with
    independent group intercepts ``v_g ~ N(0, x_sd_group)``, ``u_g ~ N(0, sd_group)``; each
    ``x`` is then missing with probability ``p_missing``, independently of everything
    (missing completely at random).

    Parameters
    ----------
    seed : int or numpy.random.Generator
    n_obs, n_groups : int
        Rows; groups (at least 2).
    intercept, b_x, b_z, sd_group, sigma : float
        The outcome model (SDs >= 0, ``sigma`` > 0).
    x_intercept, x_z, x_sd_group, x_sigma : float
        The model for ``x`` (SDs >= 0, ``x_sigma`` > 0).
    p_missing : float
        Probability that a row's ``x`` is missing, in [0, 1).

    Returns
    -------
    data : pandas.DataFrame
        Columns ``y``, ``x`` (``NaN`` where missing), ``z``, ``g`` (categorical).
    truth : dict
        Outcome model: ``Intercept``, ``b_x``, ``b_z``, ``1|g_sigma``, ``1|g``, ``sigma``;
        model for ``x``: ``x_Intercept``, ``x_z``, ``x_1|g_sigma``, ``x_1|g``, ``x_sigma``; also
        ``x_full`` (x before deletion) and ``missing`` (bool per row).

    Raises
    ------
    TypeError
        A non-numeric argument or a bad ``seed``.
    ValueError
        Fewer than 2 groups, a negative SD, ``sigma`` or ``x_sigma`` not > 0, or
        ``p_missing`` outside [0, 1).
    """
    rng = check.rng_from(seed)
    n_obs, g, g_cat, sd_group = _grouping(rng, n_obs, n_groups, sd_group)
    x_sd_group = check.sd(x_sd_group, "x_sd_group")
    a, bx, bz = (check.real(v, n) for v, n in
                 ((intercept, "intercept"), (b_x, "b_x"), (b_z, "b_z")))
    xa, xz = check.real(x_intercept, "x_intercept"), check.real(x_z, "x_z")
    sigma = check.sd(sigma, "sigma", positive=True)
    x_sigma = check.sd(x_sigma, "x_sigma", positive=True)
    p_missing = check.real(p_missing, "p_missing")
    if not 0 <= p_missing < 1:
        raise ValueError(f"p_missing is a probability in [0, 1), got {p_missing}")
    k = g_cat.categories.size
    z = rng.standard_normal(n_obs)
    v = rng.normal(0.0, x_sd_group, k)
    x_full = xa + xz * z + v[g] + rng.normal(0.0, x_sigma, n_obs)
    u = rng.normal(0.0, sd_group, k)
    y = a + bx * x_full + bz * z + u[g] + rng.normal(0.0, sigma, n_obs)
    missing = rng.uniform(size=n_obs) < p_missing
    data = pd.DataFrame({"y": y, "x": np.where(missing, np.nan, x_full), "z": z, "g": g_cat})
    truth = {"Intercept": a, "b_x": bx, "b_z": bz, "1|g_sigma": sd_group, "1|g": u,
             "sigma": sigma, "x_Intercept": xa, "x_z": xz, "x_1|g_sigma": x_sd_group,
             "x_1|g": v, "x_sigma": x_sigma, "x_full": x_full, "missing": missing}
    return data, truth
