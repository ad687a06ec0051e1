"""Simulators for the brms model types of the catalogue (chapter 3) that ``simulate_family`` lacks.

Each one draws data from the model brms fits for one row of the catalogue, with brms's
parameterisation, so that a fit of that model can be checked against the values used:

- :func:`simulate_crossed`: ``y ~ x + z + (1 + x | g) + (1 | g2)``, correlated effects by ``g``.
- :func:`simulate_gr_by`: ``(1 | gr(g, by = sex))``, groups nested in ``by``, one SD per level.
- :func:`simulate_skew_normal`: brms's ``skew_normal`` (``mu`` the mean, ``sigma`` the SD).
- :func:`simulate_von_mises`: brms's ``von_mises`` with its ``tan_half`` link.
- :func:`simulate_ar`: ``y ~ time + (1 + time | person) + ar(p)`` with brms's start (lagged
  residuals before the first observation are zero).
- :func:`simulate_mixture`: ``mixture(gaussian, gaussian)``, every component its own coefficients,
  group SD and residual SD.
- :func:`simulate_acat`: ``y ~ cs(x) + (1 | g)``, ``family = acat`` (category-specific slopes).
- :func:`simulate_monotonic`: ``y ~ mo(x) + (1 | g)``, a monotonic effect of an ordinal ``x``.
- :func:`simulate_shared_id`: two outcomes with correlated group intercepts (``|ID1|``).

Every function returns ``(data, truth)``; the same seed gives the same data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special, stats

from course_pkg.simulate import _checks as check

__all__ = ["simulate_acat", "simulate_ar", "simulate_crossed", "simulate_gr_by",
           "simulate_mixture", "simulate_monotonic", "simulate_shared_id",
           "simulate_skew_normal",
           "simulate_von_mises"]


def _groups(rng, n_obs, n_groups):
    n_obs = check.count(n_obs, "n_obs")
    n_groups = check.count(n_groups, "n_groups", minimum=2)
    g = rng.integers(0, n_groups, n_obs)
    return n_obs, n_groups, g, pd.Categorical(g, categories=range(n_groups))


def simulate_crossed(*, seed, n_obs: int = 120, n_groups: int = 12, n_groups2: int = 5,
                     intercept: float = 1.0, b_x: float = 0.5, b_z: float = -0.3,
                     sd_intercept: float = 0.8, sd_slope: float = 0.4, correlation: float = 0.5,
                     sd_group2: float = 0.5, sigma: float = 0.5) -> tuple[pd.DataFrame, dict]:
    """``y = Intercept + u0_g + v_g2 + (b_x + u1_g) x + b_z z + e``, (u0, u1) correlated.

    Parameters
    ----------
    seed : int or numpy.random.Generator
    n_obs, n_groups, n_groups2 : int
        Rows; levels of ``g`` and of ``g2`` (crossed: every row draws both at random).
    intercept, b_x, b_z : float
        Population coefficients.
    sd_intercept, sd_slope, correlation : float
        SDs and correlation of the intercept and ``x`` effects by ``g``.
    sd_group2, sigma : float
        SD of the intercepts by ``g2``; residual SD.

    Returns
    -------
    data : pandas.DataFrame
        Columns ``y``, ``x``, ``z``, ``g``, ``g2`` (categoricals).
    truth : dict
        ``Intercept``, ``b`` (x, z), ``sd_g`` (intercept, x), ``cor_g`` (2 x 2), ``r_g``
        (groups x 2), ``sd_g2``, ``r_g2``, ``sigma``.
    """
    rng = check.rng_from(seed)
    n_obs, n_groups, g, g_cat = _groups(rng, n_obs, n_groups)
    n_groups2 = check.count(n_groups2, "n_groups2", minimum=2)
    scales = np.array([check.sd(sd_intercept, "sd_intercept"), check.sd(sd_slope, "sd_slope")])
    cor = check.correlation(correlation, "correlation", 2)
    beta = np.array([check.real(b_x, "b_x"), check.real(b_z, "b_z")])
    intercept = check.real(intercept, "intercept")
    sd_group2 = check.sd(sd_group2, "sd_group2")
    sigma = check.sd(sigma, "sigma", positive=True)
    g2 = rng.integers(0, n_groups2, n_obs)
    x, z = rng.standard_normal(n_obs), rng.standard_normal(n_obs)
    r_g = check.draw_effects(rng, n_groups, scales, cor)
    r_g2 = rng.normal(0.0, sd_group2, n_groups2)
    mu = intercept + r_g[g, 0] + r_g2[g2] + (beta[0] + r_g[g, 1]) * x + beta[1] * z
    data = pd.DataFrame({"y": rng.normal(mu, sigma), "x": x, "z": z, "g": g_cat,
                         "g2": pd.Categorical(g2, categories=range(n_groups2))})
    truth = {"Intercept": intercept, "b": beta, "sd_g": scales, "cor_g": cor, "r_g": r_g,
             "sd_g2": sd_group2, "r_g2": r_g2, "sigma": sigma}
    return data, truth


def simulate_gr_by(*, seed, levels=("female", "male"), groups_per_level: int = 15,
                   rows_per_group: int = 10, intercept: float = 2.0, effects=(0.0, 0.5),
                   sds=(0.3, 1.2), sigma: float = 0.5) -> tuple[pd.DataFrame, dict]:
    """brms's ``y ~ by + (1 | gr(g, by = by))``: groups nested in ``by``, SD by level of ``by``.

    Each group belongs to one level of ``by`` (brms requires this) and gets one intercept,
    ``u_g ~ N(0, sds[level of g])``.

    Parameters
    ----------
    seed : int or numpy.random.Generator
    levels : sequence of str
        Levels of ``by`` (column ``by``).
    groups_per_level, rows_per_group : int
    intercept : float
        Mean of the first level.
    effects : sequence of float
        Shift of each level against the first (the first entry must be 0).
    sds : sequence of float
        SD of the group intercepts within each level.
    sigma : float
        Residual SD.

    Returns
    -------
    data : pandas.DataFrame
        Columns ``y``, ``by`` and ``g`` (categoricals; ``g`` labels unique across levels).
    truth : dict
        ``Intercept``, ``effects`` (levels after the first), ``sds`` (per level), ``r_g``,
        ``sigma``.
    """
    rng = check.rng_from(seed)
    levels = [str(v) for v in levels]
    if len(levels) < 2 or len(set(levels)) != len(levels):
        raise ValueError(f"levels must be two or more distinct labels, got {levels}")
    k = len(levels)
    per = check.count(groups_per_level, "groups_per_level", minimum=2)
    rows = check.count(rows_per_group, "rows_per_group")
    shift = check.vector(effects, "effects", length=k)
    if shift[0] != 0:
        raise ValueError(f"effects[0] is the first level against itself and must be 0, "
                         f"got {shift[0]}")
    scales = check.sds(sds, "sds", length=k)
    intercept = check.real(intercept, "intercept")
    sigma = check.sd(sigma, "sigma", positive=True)
    level_of_group = np.repeat(np.arange(k), per)
    r_g = rng.normal(0.0, scales[level_of_group])
    g = np.repeat(np.arange(k * per), rows)
    lev = level_of_group[g]
    y = rng.normal(intercept + shift[lev] + r_g[g], sigma)
    data = pd.DataFrame({"y": y, "by": pd.Categorical(np.asarray(levels)[lev], categories=levels),
                         "g": pd.Categorical(g, categories=range(k * per))})
    truth = {"Intercept": intercept, "effects": shift[1:], "sds": scales, "r_g": r_g,
             "level_of_group": level_of_group, "sigma": sigma}
    return data, truth


def _linear(rng, n_obs, n_groups, intercept, slope, sd_group):
    n_obs, n_groups, g, g_cat = _groups(rng, n_obs, n_groups)
    intercept, slope = check.real(intercept, "intercept"), check.real(slope, "slope")
    sd_group = check.sd(sd_group, "sd_group")
    x = rng.standard_normal(n_obs)
    u = rng.normal(0.0, sd_group, n_groups)
    eta = intercept + slope * x + u[g]
    truth = {"Intercept": intercept, "x": slope, "1|g_sigma": sd_group, "1|g": u}
    return eta, pd.DataFrame({"x": x, "g": g_cat}), truth


def simulate_skew_normal(*, seed, n_obs: int = 200, n_groups: int = 8, intercept: float = 1.0,
                         slope: float = 0.5, sd_group: float = 0.3, sigma: float = 0.8,
                         alpha: float = 4.0) -> tuple[pd.DataFrame, dict]:
    """brms's ``skew_normal`` for ``y ~ x + (1 | g)``: ``mu`` is the mean, ``sigma`` the SD.

    The draws use the direct parameters: ``delta = alpha / sqrt(1 + alpha^2)``,
    ``omega = sigma / sqrt(1 - 2 delta^2 / pi)``, ``xi = mu - omega delta sqrt(2 / pi)``,
    ``y ~ SkewNormal(xi, omega, alpha)`` (scipy's ``skewnorm``).

    Returns
    -------
    data : pandas.DataFrame
        Columns ``y``, ``x``, ``g``.
    truth : dict
        ``Intercept``, ``x``, ``1|g_sigma``, ``1|g``, ``sigma``, ``alpha`` (brms's meanings).
    """
    rng = check.rng_from(seed)
    eta, data, truth = _linear(rng, n_obs, n_groups, intercept, slope, sd_group)
    sigma = check.sd(sigma, "sigma", positive=True)
    alpha = check.real(alpha, "alpha")
    delta = alpha / np.sqrt(1 + alpha**2)
    omega = sigma / np.sqrt(1 - 2 * delta**2 / np.pi)
    xi = eta - omega * delta * np.sqrt(2 / np.pi)
    data.insert(0, "y", stats.skewnorm.rvs(alpha, loc=xi, scale=omega, random_state=rng))
    return data, truth | {"sigma": sigma, "alpha": alpha}


def simulate_von_mises(*, seed, n_obs: int = 150, n_groups: int = 8, intercept: float = 0.2,
                       slope: float = 0.5, sd_group: float = 0.3,
                       kappa: float = 4.0) -> tuple[pd.DataFrame, dict]:
    """brms's ``von_mises`` for ``y ~ x + (1 | g)``: mean direction ``2 atan(eta)`` (``tan_half``).

    Returns
    -------
    data : pandas.DataFrame
        Columns ``y`` (angles in [-pi, pi)), ``x``, ``g``.
    truth : dict
        ``Intercept``, ``x``, ``1|g_sigma``, ``1|g`` (on the ``tan_half`` scale), ``kappa``.
    """
    rng = check.rng_from(seed)
    eta, data, truth = _linear(rng, n_obs, n_groups, intercept, slope, sd_group)
    kappa = check.sd(kappa, "kappa", positive=True)
    y = np.mod(rng.vonmises(2 * np.arctan(eta), kappa) + np.pi, 2 * np.pi) - np.pi
    data.insert(0, "y", y)
    return data, truth | {"kappa": kappa}


def simulate_ar(*, seed, n_person: int = 30, n_time: int = 15, intercept: float = 1.0,
                slope: float = 0.2, sd_intercept: float = 0.5, sd_slope: float = 0.1,
                correlation: float = 0.3, ar=(0.5, 0.2),
                sigma: float = 0.5) -> tuple[pd.DataFrame, dict]:
    """``y ~ time + (1 + time | person) + ar(time, person, p)`` as brms writes it (``cov = FALSE``).

    The residual ``e_t = y_t - eta_t`` follows ``e_t = sum_k ar[k] e_{t-k} + eps_t`` with
    ``eps_t ~ N(0, sigma)`` and lagged residuals before a person's first time equal to zero, which
    is the likelihood brms uses (its ``Err`` matrix starts at zero).

    Returns
    -------
    data : pandas.DataFrame
        Columns ``y``, ``time`` (0, 1, ...), ``person`` (categorical), sorted by person and time.
    truth : dict
        ``Intercept``, ``time``, ``sd_person`` (intercept, time), ``cor_person``, ``r_person``,
        ``ar`` (p), ``sigma``.
    """
    rng = check.rng_from(seed)
    n_person = check.count(n_person, "n_person", minimum=2)
    n_time = check.count(n_time, "n_time", minimum=2)
    phi = check.vector(ar, "ar")
    scales = np.array([check.sd(sd_intercept, "sd_intercept"), check.sd(sd_slope, "sd_slope")])
    cor = check.correlation(correlation, "correlation", 2)
    sigma = check.sd(sigma, "sigma", positive=True)
    beta = np.array([check.real(intercept, "intercept"), check.real(slope, "slope")])
    r = check.draw_effects(rng, n_person, scales, cor)
    time = np.arange(n_time)
    eta = (beta[0] + r[:, [0]]) + (beta[1] + r[:, [1]]) * time[None, :]
    e = np.zeros((n_person, n_time))
    for t in range(n_time):
        lagged = sum(phi[k] * e[:, t - 1 - k] for k in range(len(phi)) if t - 1 - k >= 0)
        e[:, t] = lagged + rng.normal(0.0, sigma, n_person)
    data = pd.DataFrame({"y": (eta + e).ravel(), "time": np.tile(time, n_person),
                         "person": pd.Categorical(np.repeat(np.arange(n_person), n_time))})
    truth = {"Intercept": beta[0], "time": beta[1], "sd_person": scales, "cor_person": cor,
             "r_person": r, "ar": phi, "sigma": sigma}
    return data, truth


def simulate_mixture(*, seed, n_obs: int = 300, n_groups: int = 8, intercepts=(0.0, 3.0),
                     slopes=(0.5, -0.5), sds_group=(0.4, 0.4), sigmas=(0.5, 0.5),
                     theta=(0.65, 0.35)) -> tuple[pd.DataFrame, dict]:
    """brms's ``y ~ x + (1 | g)`` with ``mixture(gaussian, gaussian)``: per row, a component.

    Component ``k`` has its own intercept, slope, group effects (SD ``sds_group[k]``) and residual
    SD; each row independently comes from component ``k`` with probability ``theta[k]`` (brms's
    mixtures are observation-level: a group's rows can come from different components).

    Returns
    -------
    data : pandas.DataFrame
        Columns ``y``, ``x``, ``g``.
    truth : dict
        Per component (arrays of length 2): ``Intercept``, ``x``, ``sd_g``, ``sigma``,
        ``theta``; ``r_g`` (groups x 2); ``component`` (per row, 0 or 1).
    """
    rng = check.rng_from(seed)
    n_obs, n_groups, g, g_cat = _groups(rng, n_obs, n_groups)
    a = check.vector(intercepts, "intercepts", length=2)
    if a[0] >= a[1]:
        raise ValueError(f"intercepts must be increasing (brms orders them), got {a.tolist()}")
    b = check.vector(slopes, "slopes", length=2)
    sd_g = check.sds(sds_group, "sds_group", length=2)
    sig = check.sds(sigmas, "sigmas", length=2)
    w = check.vector(theta, "theta", length=2)
    if np.any(w <= 0) or not np.isclose(w.sum(), 1):
        raise ValueError(f"theta must be two positive probabilities summing to 1, got {w}")
    x = rng.standard_normal(n_obs)
    r = rng.normal(0.0, 1.0, (n_groups, 2)) * sd_g
    comp = (rng.uniform(size=n_obs) >= w[0]).astype(int)
    mu = a[comp] + b[comp] * x + r[g, comp]
    data = pd.DataFrame({"y": rng.normal(mu, sig[comp]), "x": x, "g": g_cat})
    truth = {"Intercept": a, "x": b, "sd_g": sd_g, "sigma": sig, "theta": w, "r_g": r,
             "component": comp}
    return data, truth


def simulate_acat(*, seed, n_obs: int = 300, n_groups: int = 8, thresholds=(-0.5, 0.5, 1.0),
                  slopes=(1.0, 0.5, -0.2), sd_group: float = 0.5) -> tuple[pd.DataFrame, dict]:
    """brms's ``y ~ cs(x) + (1 | g)``, ``family = acat`` (logit link, ``disc = 1``).

    ``log P(y = k + 1) / P(y = k) = eta + slopes[k] x - thresholds[k]``, ``eta = u_g``: one
    slope of ``x`` per threshold (brms's ``bcs``), categories 0 .. K.

    Returns
    -------
    data : pandas.DataFrame
        Columns ``y`` (ints 0 .. K), ``x``, ``g``.
    truth : dict
        ``thresholds``, ``slopes``, ``1|g_sigma``, ``1|g``.
    """
    rng = check.rng_from(seed)
    n_obs, n_groups, g, g_cat = _groups(rng, n_obs, n_groups)
    tau = check.vector(thresholds, "thresholds")
    b = check.vector(slopes, "slopes", length=tau.size)
    sd_group = check.sd(sd_group, "sd_group")
    x = rng.standard_normal(n_obs)
    u = rng.normal(0.0, sd_group, n_groups)
    steps = u[g][:, None] + x[:, None] * b[None, :] - tau[None, :]
    logits = np.column_stack([np.zeros(n_obs), np.cumsum(steps, axis=1)])
    probs = special.softmax(logits, axis=1)
    y = (rng.uniform(size=(n_obs, 1)) > probs.cumsum(axis=1)).sum(axis=1)
    data = pd.DataFrame({"y": np.minimum(y, tau.size), "x": x, "g": g_cat})
    return data, {"thresholds": tau, "slopes": b, "1|g_sigma": sd_group, "1|g": u}


def simulate_monotonic(*, seed, n_obs: int = 200, n_groups: int = 8, intercept: float = 1.0,
                       b_mo: float = 0.6, simplex=(0.6, 0.3, 0.1), sd_group: float = 0.4,
                       sigma: float = 0.5) -> tuple[pd.DataFrame, dict]:
    """brms's ``y ~ mo(x) + (1 | g)``: ``x`` ordinal 0 .. D, effect ``b_mo D sum(simplex[:x])``.

    ``b_mo`` is brms's ``bsp_mox`` (the average change between adjacent categories) and
    ``simplex`` its ``simo_mox1`` (the share of the total change at each step).

    Returns
    -------
    data : pandas.DataFrame
        Columns ``y``, ``x`` (ints 0 .. D, uniform), ``g``.
    truth : dict
        ``Intercept``, ``b_mo``, ``simplex``, ``1|g_sigma``, ``1|g``, ``sigma``.
    """
    rng = check.rng_from(seed)
    n_obs, n_groups, g, g_cat = _groups(rng, n_obs, n_groups)
    zeta = check.vector(simplex, "simplex")
    if np.any(zeta < 0) or not np.isclose(zeta.sum(), 1):
        raise ValueError(f"simplex must be non-negative and sum to 1, got {zeta.tolist()}")
    intercept, b_mo = check.real(intercept, "intercept"), check.real(b_mo, "b_mo")
    sd_group = check.sd(sd_group, "sd_group")
    sigma = check.sd(sigma, "sigma", positive=True)
    d = zeta.size
    x = rng.integers(0, d + 1, n_obs)
    u = rng.normal(0.0, sd_group, n_groups)
    mo = d * np.concatenate([[0.0], np.cumsum(zeta)])[x]
    y = rng.normal(intercept + b_mo * mo + u[g], sigma)
    data = pd.DataFrame({"y": y, "x": x, "g": g_cat})
    return data, {"Intercept": intercept, "b_mo": b_mo, "simplex": zeta,
                  "1|g_sigma": sd_group, "1|g": u, "sigma": sigma}


def simulate_shared_id(*, seed, n_groups: int = 30, rows_per_group: int = 8,
                       intercepts=(1.0, -0.5), b_x=(0.5, 0.3), sds=(0.6, 0.4),
                       correlation: float = 0.6, sigmas=(0.5, 0.7),
                       residual_cor: float = 0.0) -> tuple[pd.DataFrame, dict]:
    """brms's ``bf(y1 ~ x + (1 | ID1 | g)) + bf(y2 ~ x + (1 | ID1 | g))``: two outcomes whose
    group intercepts are correlated (the shared ``|ID1|`` block), with an optional residual
    correlation (brms's ``set_rescor``).

    Returns
    -------
    data : pandas.DataFrame
        Columns ``y1``, ``y2``, ``x``, ``g``.
    truth : dict
        ``Intercept`` and ``x`` (per outcome), ``sd_g`` (y1, y2), ``cor_g`` (2 x 2), ``r_g``,
        ``sigma`` (per outcome), ``rescor``.
    """
    rng = check.rng_from(seed)
    n_groups = check.count(n_groups, "n_groups", minimum=2)
    rows = check.count(rows_per_group, "rows_per_group")
    a = check.vector(intercepts, "intercepts", length=2)
    b = check.vector(b_x, "b_x", length=2)
    scales = check.sds(sds, "sds", length=2)
    cor = check.correlation(correlation, "correlation", 2)
    sig = check.sds(sigmas, "sigmas", length=2)
    if np.any(sig == 0):
        raise ValueError(f"sigmas must be > 0, got {sig.tolist()}")
    rescor = check.correlation(residual_cor, "residual_cor", 2)
    r = check.draw_effects(rng, n_groups, scales, cor)
    g = np.repeat(np.arange(n_groups), rows)
    x = rng.standard_normal(g.size)
    e = check.draw_effects(rng, g.size, sig, rescor)
    mu = a[None, :] + b[None, :] * x[:, None] + r[g]
    data = pd.DataFrame({"y1": mu[:, 0] + e[:, 0], "y2": mu[:, 1] + e[:, 1], "x": x,
                         "g": pd.Categorical(g, categories=range(n_groups))})
    truth = {"Intercept": a, "x": b, "sd_g": scales, "cor_g": cor, "r_g": r, "sigma": sig,
             "rescor": rescor[0, 1]}
    return data, truth
