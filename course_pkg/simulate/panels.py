"""Simulated intensive longitudinal panels (chapter 5): a location-scale model (MELSM) for one
outcome, and two outcomes with correlated person effects and a residual correlation.

Each person i on day t (``day01`` = t scaled to [0, 1]) and outcome o:

.. math::

    y_{oit} \\sim \\mathrm{Normal}(\\mu_{oit}, \\sigma_{oit}), \\quad
    \\mu_{oit} = (b_{o0} + u_{oi0}) + (b_{o1} + u_{oi1})\\,\\mathrm{day01}_t, \\quad
    \\log \\sigma_{oit} = s_{o0} + v_{oi},

with every person effect (u and, when the scale varies, v) of every outcome drawn together from
one multivariate normal, and for two outcomes a residual correlation between y_1 and y_2 on the
same day.

With ``carry_over`` the outcomes are autoregressive within a person (a vector autoregression of
order 1, chapter 5's m2): from the second day on, the mean gains
:math:`\\sum_k (\\phi_{ok} + w_{oki})(y_{k,i,t-1} - \\bar y_{ki})`, where :math:`\\bar y_{ki}` is
person i's mean of outcome k over all their days, exactly the person-centred previous-day value
that :func:`course_pkg.lags.lag_within` computes from the simulated table. Because that mean
depends on the series itself, the series is affine in it and the mean is solved for exactly (a
2 x 2 or 1 x 1 linear system per person). The first day has no previous one (its carry-over term
is zero). The lag slopes' person effects w join the same multivariate normal, so the mean
equation of a model with the lag predictors, all of its slopes varying by person in one
correlated block, holds exactly in the simulated data.

Its likelihood does not. The centring value :math:`\\bar y_{ki}` averages all of person i's days,
day t and later ones included, so the lag predictor of day t shares noise with the outcome it
predicts: it is not exogenous. The density of a simulated series is therefore not a product of
normal densities of each day given its lag predictors; solving the system adds the Jacobian of
the map from noise to series, which depends on the lag slopes. A model that treats the
person-centred lags as fixed predictors (chapter 5's m2) is misspecified for these data, as it
is for real data centred the same way. Its own-lag slopes come out too small (Nickell's bias):
for chapter 5's design, generalised least squares with the true variance parameters
(:func:`course_pkg.gls.gls_coefficients`) puts them about (1 + phi) / (T - 1) low, close to
what m2 itself gives. A per-person least-squares (within) estimate is biased the same way with
raw lags too, because removing each person's level removes any constant from their lags, and
about twice as much when each person's trend is removed as well. A multilevel model with raw,
uncentred lags and random intercepts and trends is much less biased at that design, but its lag
slopes then also carry differences between people's levels. One latent person mean, a model
parameter serving both as the person's intercept and as the centring value, with the first day
modelled too (as dynamic structural equation models do), avoids both problems.

Written with NumPy (no library ships this simulator).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from course_pkg.simulate import _checks as check

__all__ = ["simulate_on_rows", "simulate_panel"]


def _per_outcome(value, name: str, n: int, *, is_sd: bool = False) -> np.ndarray:
    if np.ndim(value) == 0:
        value = [value] * n
    return check.sds(value, name, length=n) if is_sd else check.vector(value, name, length=n)


def simulate_panel(
    *,
    seed,
    n_people: int = 60,
    n_days: int = 30,
    outcomes: tuple[str, ...] = ("y",),
    intercept=0.0,
    slope=-0.2,
    log_sigma=-0.5,
    sd_intercept=0.5,
    sd_slope=0.3,
    sd_log_sigma=0.3,
    correlation=0.3,
    residual_cor: float = 0.0,
    carry_over=None,
    sd_carry_over=0.0,
    lag_names=None,
) -> tuple[pd.DataFrame, dict]:
    """A daily panel with person-varying means, trends and (optionally) residual SDs.

    Parameters
    ----------
    seed : int or numpy.random.Generator
    n_people, n_days : int
        People, and days per person (every person every day).
    outcomes : tuple of str
        One name (a location-scale model) or two (a two-outcome model).
    intercept, slope, log_sigma : float or sequence of float
        Population mean on day 0, change over the study (per unit of ``day01``), and log residual
        SD, per outcome (a single number is used for every outcome).
    sd_intercept, sd_slope, sd_log_sigma : float or sequence of float
        SDs of the person effects. ``sd_log_sigma=0`` gives a residual SD that does not vary by
        person (no scale effect is drawn).
    correlation : float or array_like
        Correlation of the person effects: one number for every pair, or a matrix over the effects
        in the order of ``truth["effect_names"]``.
    residual_cor : float
        Correlation of the two outcomes' residuals on the same day (two outcomes only).
    carry_over : array_like, optional
        Population lag slopes, an n_outcomes x n_outcomes matrix (a number for one outcome): entry
        (o, k) is the change in outcome o per unit of outcome k's person-centred previous-day
        value. ``None`` (the default): no carry-over, days independent given the person.
    sd_carry_over : float or array_like
        SDs of the person effects of the lag slopes (a number, or a matrix like
        ``carry_over``); 0 keeps them fixed at the population values (no effect is drawn).
    lag_names : sequence of str, optional
        Names of the lag predictors in ``truth["effect_names"]`` (one per outcome, in the order
        of ``outcomes``), e.g. the names ``lag_within`` is asked to create; default
        ``<outcome>_prev``.

    Returns
    -------
    data : pandas.DataFrame
        Columns ``id`` (categorical 1..n), ``day`` (0..n_days-1), ``day01`` and one column per
        outcome.
    truth : dict
        ``Intercept``, ``slope``, ``log_sigma`` (arrays, one entry per outcome), ``sd``, ``cor``,
        ``effects`` (n_people x k) and ``effect_names`` (e.g. ``y_Intercept``, ``y_day01``,
        ``y_sigma_Intercept``; with carry-over ``y_y_prev`` after ``y_day01``), ``residual_cor``;
        with carry-over also ``carry_over`` (the population matrix), ``person_means``
        (n_people x n_outcomes, the centring values) and ``lag_names``.

    Raises
    ------
    TypeError
        ``lag_names`` not a sequence of str.
    ValueError
        No or more than two outcomes; a residual correlation with one outcome; fewer than two
        days; lengths that disagree; a correlation that is not one; a carry-over matrix of the
        wrong shape; person lag slopes that make a series explode (spectral radius >= 1).
    """
    rng = check.rng_from(seed)
    n_people = check.count(n_people, "n_people")
    n_days = check.count(n_days, "n_days", minimum=2)
    if isinstance(outcomes, str) or not 1 <= len(outcomes) <= 2:
        raise ValueError(f"outcomes must be a tuple of one or two names, got {outcomes!r}")
    names = [str(o) for o in outcomes]
    if len(set(names)) != len(names) or {"id", "day", "day01"} & set(names):
        raise ValueError(f"outcome names must be distinct and not id/day/day01, got {names}")
    n_out = len(names)
    b0 = _per_outcome(intercept, "intercept", n_out)
    b1 = _per_outcome(slope, "slope", n_out)
    s0 = _per_outcome(log_sigma, "log_sigma", n_out)
    sd0 = _per_outcome(sd_intercept, "sd_intercept", n_out, is_sd=True)
    sd1 = _per_outcome(sd_slope, "sd_slope", n_out, is_sd=True)
    sds = _per_outcome(sd_log_sigma, "sd_log_sigma", n_out, is_sd=True)
    rho = check.residual_cor(residual_cor, n_out)
    scale_varies = bool(np.any(sds > 0))
    phi, sd_phi, lags = _carry_over(carry_over, sd_carry_over, lag_names, names)
    lag_varies = phi is not None and bool(np.any(sd_phi > 0))

    effect_names, scales = [], []
    for o, name in enumerate(names):
        effect_names += [f"{name}_Intercept", f"{name}_day01"]
        scales += [sd0[o], sd1[o]]
        if lag_varies:
            effect_names += [f"{name}_{lag}" for lag in lags]
            scales += list(sd_phi[o])
        if scale_varies:
            effect_names.append(f"{name}_sigma_Intercept")
            scales.append(sds[o])
    scales = np.asarray(scales)
    k = len(effect_names)
    cor = check.correlation(correlation, "correlation", k)
    effects = check.draw_effects(rng, n_people, scales, cor)

    day = np.arange(n_days)
    day01 = day / (n_days - 1)
    per = 2 + (n_out if lag_varies else 0) + (1 if scale_varies else 0)
    mu = np.empty((n_out, n_people, n_days))
    sigma = np.empty_like(mu)
    phi_people = None if phi is None else np.repeat(phi[None], n_people, axis=0)
    for o in range(n_out):
        u = effects[:, o * per:(o + 1) * per]
        mu[o] = (b0[o] + u[:, [0]]) + (b1[o] + u[:, [1]]) * day01[None, :]
        sigma[o] = np.exp(s0[o] + (u[:, [-1]] if scale_varies else 0.0)) * np.ones((1, n_days))
        if lag_varies:
            phi_people[:, o, :] += u[:, 2:2 + n_out]
    z = rng.standard_normal((n_out, n_people, n_days))
    if n_out == 2:  # correlate the two residuals: z2 = rho z1 + sqrt(1 - rho^2) e
        z[1] = rho * z[0] + np.sqrt(1 - rho**2) * z[1]
    y = mu + sigma * z
    if phi is not None:
        y, person_means = _autoregress(y, phi_people)

    labels = np.arange(1, n_people + 1)
    data = pd.DataFrame({
        "id": pd.Categorical(np.repeat(labels, n_days), categories=labels),
        "day": np.tile(day, n_people),
        "day01": np.tile(day01, n_people),
    })
    for o, name in enumerate(names):
        data[name] = y[o].ravel()
    truth = {"Intercept": b0, "slope": b1, "log_sigma": s0, "sd": scales, "cor": cor,
             "effects": effects, "effect_names": effect_names, "residual_cor": rho}
    if phi is not None:
        truth |= {"carry_over": phi, "person_means": person_means, "lag_names": lags}
    return data, truth


def _carry_over(carry_over, sd_carry_over, lag_names, names):
    """Checked population lag slopes, their person SDs and the lag predictors' names."""
    n_out = len(names)
    if carry_over is None:
        if lag_names is not None or np.any(np.asarray(sd_carry_over) != 0):
            raise ValueError("lag_names and sd_carry_over need carry_over")
        return None, None, None
    phi = np.asarray(carry_over, dtype=float).reshape(-1)
    if phi.size != n_out**2 or not np.all(np.isfinite(phi)):
        raise ValueError(f"carry_over must be a finite {n_out} x {n_out} matrix (lagged outcome "
                         f"in the columns), got {carry_over!r}")
    phi = phi.reshape(n_out, n_out)
    sd_phi = np.asarray(sd_carry_over, dtype=float)
    sd_phi = np.full((n_out, n_out), float(sd_phi)) if sd_phi.ndim == 0 else sd_phi
    if sd_phi.shape != (n_out, n_out) or not np.all(np.isfinite(sd_phi)) or np.any(sd_phi < 0):
        raise ValueError(f"sd_carry_over must be a number or a {n_out} x {n_out} matrix of "
                         f"SDs >= 0, got {sd_carry_over!r}")
    if lag_names is None:
        lags = [f"{name}_prev" for name in names]
    elif isinstance(lag_names, str) or not all(isinstance(n, str) for n in lag_names):
        raise TypeError(f"lag_names must be a sequence of str, got {lag_names!r}")
    else:
        lags = list(lag_names)
    if len(lags) != n_out or len(set(lags)) != n_out or set(lags) & {*names, "id", "day"}:
        raise ValueError(f"lag_names must be {n_out} distinct new names, got {lags}")
    return phi, sd_phi, lags


def _autoregress(y0: np.ndarray, phi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Add carry-over to series without it: y_t = y0_t + phi_i (y_{t-1} - m_i) from day 1 on.

    ``y0`` (outcomes x people x days) is mean plus noise; ``phi`` is people x outcomes x
    outcomes. Each person's centring value m_i is their mean of the finished series: the series
    is affine in m_i, y = g + L m_i, so m_i solves (I - mean(L)) m_i = mean(g).
    """
    n_out, n_people, n_days = y0.shape
    radius = np.abs(np.linalg.eigvals(phi)).max(axis=1)
    if np.any(radius >= 1):
        raise ValueError(f"carry-over makes {int((radius >= 1).sum())} people's series explode "
                         f"(spectral radius up to {radius.max():.2f}); use smaller lag slopes "
                         f"or SDs")
    g = np.empty((n_people, n_days, n_out))
    lin = np.zeros((n_people, n_days, n_out, n_out))  # d y_t / d m (outcome, centring column)
    g[:, 0] = y0[:, :, 0].T
    eye = np.eye(n_out)
    for t in range(1, n_days):
        g[:, t] = y0[:, :, t].T + np.einsum("pok,pk->po", phi, g[:, t - 1])
        lin[:, t] = np.einsum("pok,pkj->poj", phi, lin[:, t - 1] - eye)
    means = np.linalg.solve(eye - lin.mean(axis=1), g.mean(axis=1)[..., None])[..., 0]
    y = g + np.einsum("ptoj,pj->pto", lin, means)
    return np.moveaxis(y, 2, 0), means


def simulate_on_rows(
    rows: pd.DataFrame,
    *,
    seed,
    predictors,
    group: str = "id",
    outcomes: tuple[str, ...] = ("y",),
    intercept=0.0,
    coefficients=0.0,
    sd=0.5,
    correlation=0.0,
    log_sigma=-0.5,
    residual_cor: float = 0.0,
) -> tuple[pd.DataFrame, dict]:
    """Outcomes drawn from a linear multilevel model on given rows, taking their predictors as known.

    Where :func:`simulate_panel` builds a panel (and, with carry-over, predictors that depend on
    the outcomes), this keeps the predictors of an existing table, for instance a real data set's
    days, gaps and person-centred lags, and draws only what a model with those columns as fixed
    predictors says is random: for group j, outcome o and row i,

    .. math::

        y_{oi} = (a_o + u_{o0j}) + \\sum_p (b_{op} + u_{opj}) x_{pi} + \\sigma_o z_{oi},

    with every group's effects of every outcome (an intercept and one slope per predictor each)
    drawn together from one multivariate normal, and for two outcomes a correlation between
    ``z_1`` and ``z_2`` on the same row. A model with exactly that structure (chapter 5's m2 with
    the previous day's values as predictors) is then correctly specified for the result, so a fit
    to it checks the model's implementation, not its assumptions.

    Parameters
    ----------
    rows : pandas.DataFrame
        The rows to draw outcomes for: a ``group`` column and the ``predictors`` columns, all
        finite (drop rows with missing predictors first).
    seed : int or numpy.random.Generator
    predictors : sequence of str
        Predictor columns, in the order of the slopes.
    group : str
        Grouping column (default ``"id"``); its categories, or its sorted distinct values, are
        the rows of ``truth["effects"]``.
    outcomes : tuple of str
        One or two outcome names (new columns; an existing column of that name is replaced).
    intercept : float or sequence of float
        Population intercept per outcome (the mean where every predictor is 0).
    coefficients : float or array_like
        Population slopes, ``n_outcomes x n_predictors`` (a number: every slope).
    sd : float or array_like
        SDs of the group effects, ``n_outcomes x (1 + n_predictors)``, intercept first (a
        number: every SD).
    correlation : float or array_like
        Correlation of the group effects: one number for every pair, or a matrix over the effects
        in the order of ``truth["effect_names"]`` (outcome by outcome, intercept first).
    log_sigma : float or sequence of float
        Log residual SD per outcome.
    residual_cor : float
        Correlation of the two outcomes' residuals on the same row (two outcomes only).

    Returns
    -------
    data : pandas.DataFrame
        A copy of ``rows`` with one column per outcome.
    truth : dict
        ``Intercept`` and ``log_sigma`` (one entry per outcome), ``coefficients`` (outcomes x
        predictors), ``sd``, ``cor``, ``effects`` (groups x effects), ``effect_names`` (e.g.
        ``y_Intercept``, ``y_x``) and ``residual_cor``.

    Raises
    ------
    TypeError
        ``rows`` not a DataFrame; ``predictors`` not a sequence of str.
    ValueError
        Missing or non-finite predictor columns; no or more than two outcomes; shapes that
        disagree; a correlation that is not one; a residual correlation with one outcome.
    """
    if not isinstance(rows, pd.DataFrame):
        raise TypeError(f"rows must be a pandas DataFrame, got {type(rows).__name__}")
    rng = check.rng_from(seed)
    if isinstance(predictors, str) or not all(isinstance(p, str) for p in predictors):
        raise TypeError(f"predictors must be a sequence of column names, got {predictors!r}")
    preds = list(predictors)
    missing = [c for c in [group, *preds] if c not in rows.columns]
    if missing:
        raise ValueError(f"rows has no column(s) {missing}")
    x = rows[preds].to_numpy(dtype=float)
    if len(rows) == 0 or not np.all(np.isfinite(x)):
        raise ValueError(f"the predictor columns {preds} must have rows and be finite (drop "
                         f"rows with missing values first)")
    if isinstance(outcomes, str) or not 1 <= len(outcomes) <= 2:
        raise ValueError(f"outcomes must be a tuple of one or two names, got {outcomes!r}")
    names = [str(o) for o in outcomes]
    if len(set(names)) != len(names) or set(names) & {group, *preds}:
        raise ValueError(f"outcome names must be distinct new columns, got {names}")
    n_out, n_pred = len(names), len(preds)
    a = _per_outcome(intercept, "intercept", n_out)
    s0 = _per_outcome(log_sigma, "log_sigma", n_out)
    beta = check.matrix(coefficients, "coefficients", (n_out, n_pred))
    scales = check.matrix(sd, "sd", (n_out, 1 + n_pred))
    check.sds(scales.ravel(), "sd")
    rho = check.residual_cor(residual_cor, n_out)

    effect_names = [f"{o}_{p}" for o in names for p in ["Intercept", *preds]]
    cor = check.correlation(correlation, "correlation", len(effect_names))
    groups = pd.Categorical(rows[group])
    codes = groups.codes
    effects = check.draw_effects(rng, len(groups.categories), scales.ravel(), cor)
    per = effects.reshape(len(groups.categories), n_out, 1 + n_pred)[codes]  # row x o x effect
    design = np.column_stack([np.ones(len(rows)), x])
    # population part plus each row's group effects, outcome by outcome
    mu = design @ np.column_stack([a, beta]).T + np.einsum("rok,rk->ro", per, design)
    z = rng.standard_normal((len(rows), n_out))
    if n_out == 2:  # correlate the two residuals: z2 = rho z1 + sqrt(1 - rho^2) e
        z[:, 1] = rho * z[:, 0] + np.sqrt(1 - rho**2) * z[:, 1]
    data = rows.copy()
    for o, name in enumerate(names):
        data[name] = mu[:, o] + np.exp(s0[o]) * z[:, o]
    truth = {"Intercept": a, "coefficients": beta, "log_sigma": s0, "sd": scales.ravel(),
             "cor": cor, "effects": effects, "effect_names": effect_names,
             "residual_cor": rho}
    return data, truth

