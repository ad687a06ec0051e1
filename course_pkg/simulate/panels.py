"""Simulated intensive longitudinal panels (chapter 5): a location-scale model (MELSM) for one
outcome, and two outcomes with correlated person effects and a residual correlation.

Each person i on day t (``day01`` = t scaled to [0, 1]) and outcome o:

.. math::

    y_{oit} \\sim \\mathrm{Normal}(\\mu_{oit}, \\sigma_{oit}), \\quad
    \\mu_{oit} = (b_{o0} + u_{oi0}) + (b_{o1} + u_{oi1})\\,\\mathrm{day01}_t, \\quad
    \\log \\sigma_{oit} = s_{o0} + v_{oi},

with every person effect (u and, when the scale varies, v) of every outcome drawn together from
one multivariate normal, and for two outcomes a residual correlation between y_1 and y_2 on the
same day. Written with NumPy (no library ships this simulator).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from course_pkg.simulate import _checks as check

__all__ = ["simulate_panel"]


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

    Returns
    -------
    data : pandas.DataFrame
        Columns ``id`` (categorical 1..n), ``day`` (0..n_days-1), ``day01`` and one column per
        outcome.
    truth : dict
        ``Intercept``, ``slope``, ``log_sigma`` (arrays, one entry per outcome), ``sd``, ``cor``,
        ``effects`` (n_people x k) and ``effect_names`` (e.g. ``y_Intercept``, ``y_day01``,
        ``y_sigma_Intercept``), ``residual_cor``.

    Raises
    ------
    ValueError
        No or more than two outcomes; a residual correlation with one outcome; fewer than two
        days; lengths that disagree; a correlation that is not one.
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
    rho = check.real(residual_cor, "residual_cor")
    if not -1 < rho < 1:
        raise ValueError(f"residual_cor must be strictly between -1 and 1, got {rho}")
    if n_out == 1 and rho != 0:
        raise ValueError("residual_cor needs two outcomes")
    scale_varies = bool(np.any(sds > 0))

    effect_names, scales = [], []
    for o, name in enumerate(names):
        effect_names += [f"{name}_Intercept", f"{name}_day01"]
        scales += [sd0[o], sd1[o]]
        if scale_varies:
            effect_names.append(f"{name}_sigma_Intercept")
            scales.append(sds[o])
    scales = np.asarray(scales)
    k = len(effect_names)
    cor = check.correlation(correlation, "correlation", k)
    effects = check.draw_effects(rng, n_people, scales, cor)

    day = np.arange(n_days)
    day01 = day / (n_days - 1)
    per = 3 if scale_varies else 2
    mu = np.empty((n_out, n_people, n_days))
    sigma = np.empty_like(mu)
    for o in range(n_out):
        u = effects[:, o * per:(o + 1) * per]
        mu[o] = (b0[o] + u[:, [0]]) + (b1[o] + u[:, [1]]) * day01[None, :]
        sigma[o] = np.exp(s0[o] + (u[:, [2]] if scale_varies else 0.0)) * np.ones((1, n_days))
    z = rng.standard_normal((n_out, n_people, n_days))
    if n_out == 2:  # correlate the two residuals: z2 = rho z1 + sqrt(1 - rho^2) e
        z[1] = rho * z[0] + np.sqrt(1 - rho**2) * z[1]
    y = mu + sigma * z

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
    return data, truth
