"""Simulators for two formula structures of the catalogue (chapter 3): nested groups and a
non-linear formula.

- :func:`simulate_nl_rate`: brms's ``bf(y ~ a1 - inv_logit(a2)^x, a1 ~ 1, a2 ~ x + (x | g),
  nl = TRUE)``, the source's ``a1 - a2^x`` with the rate kept in (0, 1).
- :func:`simulate_nested`: ``y ~ x + z + (1 | g/g2)``, levels of ``g2`` nested in ``g``.

Every function returns ``(data, truth)``; the same seed gives the same data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from course_pkg.simulate import _checks as check

__all__ = ["simulate_nested", "simulate_nl_rate"]


def simulate_nl_rate(*, seed, n_groups: int = 20, n_x: int = 15, x_max: float = 10.0,
                     a1: float = 3.0, a2=(1.5, -0.1), sds=(0.5, 0.1), correlation: float = 0.3,
                     sigma: float = 0.2) -> tuple[pd.DataFrame, dict]:
    """``y = a1 - inv_logit(a2)^x + e`` with ``a2 = b0 + b1 x + u0_g + u1_g x``.

    brms's ``bf(y ~ a1 - inv_logit(a2)^x, a1 ~ 1, a2 ~ x + (x | g), nl = TRUE)``: for ``x >= 0``
    the curve stays between ``a1 - 1`` (its value at ``x = 0``) and ``a1``. The base
    ``inv_logit(a2)`` lies in (0, 1) and has a population intercept and ``x`` slope and
    correlated group effects on both: a group's curve rises towards ``a1`` where its slope of
    ``a2`` on ``x`` is zero or negative, and turns back towards ``a1 - 1`` where it is positive.

    Parameters
    ----------
    seed : int or numpy.random.Generator
    n_groups, n_x : int
        Groups (at least 2) and evenly spaced ``x`` values per group, from 0 to ``x_max`` (at
        least 2).
    x_max : float
        Largest ``x`` (> 0).
    a1 : float
        The upper bound of the curve (its limit where a group's ``a2`` slope on ``x`` is <= 0).
    a2 : sequence of float
        Population intercept and ``x`` slope of ``a2`` (logit scale).
    sds : sequence of float
        SDs (>= 0) of the group intercept and ``x`` slope of ``a2``.
    correlation : float
        Their correlation, in (-1, 1).
    sigma : float
        Residual SD (> 0).

    Returns
    -------
    data : pandas.DataFrame
        Columns ``y``, ``x``, ``g`` (categorical), sorted by group and ``x``.
    truth : dict
        ``b_a1_Intercept``, ``b_a2_Intercept``, ``b_a2_x``, ``sd_g__a2_Intercept``,
        ``sd_g__a2_x``, ``cor_g__a2_Intercept__a2_x``, ``sigma`` (brms's names) and ``r_g``
        (groups x 2).

    Raises
    ------
    TypeError
        A non-numeric argument or a bad ``seed``.
    ValueError
        A size below its minimum, ``x_max`` <= 0, a negative SD, ``sigma`` <= 0 or a correlation
        outside (-1, 1).
    """
    rng = check.rng_from(seed)
    n_groups = check.count(n_groups, "n_groups", minimum=2)
    n_x = check.count(n_x, "n_x", minimum=2)
    x_max = check.real(x_max, "x_max")
    if x_max <= 0:
        raise ValueError(f"x_max must be > 0, got {x_max}")
    a1 = check.real(a1, "a1")
    b = check.vector(a2, "a2", length=2)
    scales = check.sds(sds, "sds", length=2)
    cor = check.correlation(correlation, "correlation", 2)
    sigma = check.sd(sigma, "sigma", positive=True)
    r = check.draw_effects(rng, n_groups, scales, cor)
    g = np.repeat(np.arange(n_groups), n_x)
    x = np.tile(np.linspace(0.0, x_max, n_x), n_groups)
    eta = b[0] + r[g, 0] + (b[1] + r[g, 1]) * x
    mu = a1 - special.expit(eta) ** x
    data = pd.DataFrame({"y": rng.normal(mu, sigma), "x": x,
                         "g": pd.Categorical(g, categories=range(n_groups))})
    truth = {"b_a1_Intercept": a1, "b_a2_Intercept": float(b[0]), "b_a2_x": float(b[1]),
             "sd_g__a2_Intercept": float(scales[0]), "sd_g__a2_x": float(scales[1]),
             "cor_g__a2_Intercept__a2_x": float(cor[0, 1]), "sigma": sigma, "r_g": r}
    return data, truth


def simulate_nested(*, seed, n_groups: int = 12, n_sub: int = 5, rows_per_sub: int = 3,
                    intercept: float = 1.0, b_x: float = 0.5, b_z: float = -0.3,
                    sd_g: float = 0.8, sd_sub: float = 0.5,
                    sigma: float = 0.5) -> tuple[pd.DataFrame, dict]:
    """``y = Intercept + u_g + v_{g:g2} + b_x x + b_z z + e``: ``g2`` nested in ``g``.

    brms's ``y ~ x + z + (1 | g) + (1 | g:g2)``, written ``(1 | g/g2)``. Every group ``g`` has
    ``n_sub`` subgroups labelled 0 .. ``n_sub`` - 1 (the same labels in every group, so only the
    pair ``g:g2`` identifies a subgroup), each observed ``rows_per_sub`` times.

    Parameters
    ----------
    seed : int or numpy.random.Generator
    n_groups, n_sub : int
        Groups and subgroups per group (at least 2 each).
    rows_per_sub : int
        Rows per subgroup (at least 1).
    intercept, b_x, b_z : float
        Population coefficients; ``x`` and ``z`` are standard normal.
    sd_g, sd_sub, sigma : float
        SDs of the group and subgroup intercepts (>= 0) and the residual SD (> 0).

    Returns
    -------
    data : pandas.DataFrame
        Columns ``y``, ``x``, ``z``, ``g``, ``g2`` (categoricals).
    truth : dict
        ``Intercept``, ``x``, ``z``, ``1|g_sigma``, ``1|g:g2_sigma``, ``sigma`` (Bambi's names),
        ``r_g`` (groups) and ``r_sub`` (groups x subgroups).

    Raises
    ------
    TypeError
        A non-numeric argument or a bad ``seed``.
    ValueError
        A size below its minimum, a negative SD or ``sigma`` <= 0.
    """
    rng = check.rng_from(seed)
    n_groups = check.count(n_groups, "n_groups", minimum=2)
    n_sub = check.count(n_sub, "n_sub", minimum=2)
    rows_per_sub = check.count(rows_per_sub, "rows_per_sub")
    coefs = [check.real(v, n) for v, n in ((intercept, "intercept"), (b_x, "b_x"), (b_z, "b_z"))]
    sd_g, sd_sub = check.sd(sd_g, "sd_g"), check.sd(sd_sub, "sd_sub")
    sigma = check.sd(sigma, "sigma", positive=True)
    r_g = rng.normal(0.0, sd_g, n_groups)
    r_sub = rng.normal(0.0, sd_sub, (n_groups, n_sub))
    g = np.repeat(np.arange(n_groups), n_sub * rows_per_sub)
    g2 = np.tile(np.repeat(np.arange(n_sub), rows_per_sub), n_groups)
    x, z = rng.standard_normal(g.size), rng.standard_normal(g.size)
    mu = coefs[0] + r_g[g] + r_sub[g, g2] + coefs[1] * x + coefs[2] * z
    data = pd.DataFrame({"y": rng.normal(mu, sigma), "x": x, "z": z,
                         "g": pd.Categorical(g, categories=range(n_groups)),
                         "g2": pd.Categorical(g2, categories=range(n_sub))})
    truth = {"Intercept": coefs[0], "x": coefs[1], "z": coefs[2], "1|g_sigma": sd_g,
             "1|g:g2_sigma": sd_sub, "sigma": sigma, "r_g": r_g, "r_sub": r_sub}
    return data, truth
