"""Simulators for the catalogue's model structures that ``catalogue`` and ``families`` lack (ch. 3).

- :func:`simulate_distributional`: ``bf(y ~ x + z + (1 | g), sigma ~ x + (1 | g))``.
- :func:`simulate_multi_membership`: ``y ~ x + (1 | mm(g1, g2))``.
- :func:`simulate_smooth`: ``y ~ s(x) + (1 | g)``: a smooth curve plus group intercepts.
- :func:`simulate_sratio`: ``y ~ x + (1 | g)``, ``family = sratio`` (stopping ratio, logit).
- :func:`simulate_zi_shared`: ``bf(y ~ x * z + (1 + x | ID1 | g), zi ~ x + (1 | ID1 | g))``,
  one 3 x 3 correlation block across the count and zero-inflation parts.
- :func:`simulate_growth_mixture`: ``y ~ time + z + (1 + time | g)``,
  ``mixture(gaussian, gaussian)`` (brms: each row its component), or one class per group.

Every function takes keyword arguments and a ``seed`` and returns ``(data, truth)``: the table, and
a dict of the values used under the names the catalogue's fits give them (Bambi's for Bambi rows,
brms's for the rows written in PyMC). The same seed gives the same data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from course_pkg.simulate import _checks as check
from course_pkg.simulate.catalogue import _groups  # rows spread over groups at random

__all__ = ["sine_trend", "simulate_distributional", "simulate_growth_mixture",
           "simulate_multi_membership", "simulate_smooth", "simulate_sratio",
           "simulate_zi_shared"]


def simulate_distributional(*, seed, n_obs: int = 160, n_groups: int = 10,
                            intercept: float = 1.0, b_x: float = 0.5, b_z: float = -0.3,
                            sd_group: float = 0.5, sigma_intercept: float = -0.5,
                            sigma_x: float = 0.5,
                            sigma_sd_group: float = 0.3) -> tuple[pd.DataFrame, dict]:
    """Heteroscedastic grouped data: brms's ``bf(y ~ x + z + (1 | g), sigma ~ x + (1 | g))``.

    ``y ~ N(intercept + b_x x + b_z z + u_g, sigma_i)`` with
    ``log sigma_i = sigma_intercept + sigma_x x + w_g`` (brms's and Bambi's log link for
    ``sigma``); ``u_g ~ N(0, sd_group)`` and ``w_g ~ N(0, sigma_sd_group)`` independent.

    Parameters
    ----------
    seed : int or numpy.random.Generator
    n_obs, n_groups : int
        Rows; groups (at least 2) they are spread over at random.
    intercept, b_x, b_z, sd_group : float
        The mean's coefficients and group SD (>= 0).
    sigma_intercept, sigma_x, sigma_sd_group : float
        The log-SD's coefficients and group SD (>= 0).

    Returns
    -------
    data : pandas.DataFrame
        Columns ``y``, ``x``, ``z``, ``g`` (categorical).
    truth : dict
        Bambi's names for ``bmb.Formula("y ~ x + z + (1 | g)", "sigma ~ x + (1 | g)")``:
        ``Intercept``, ``x``, ``z``, ``1|g_sigma``, ``1|g``, ``sigma_Intercept``, ``sigma_x``,
        ``sigma_1|g_sigma``, ``sigma_1|g``.

    Raises
    ------
    TypeError
        A non-numeric argument or a bad ``seed``.
    ValueError
        Fewer than 2 groups or a negative SD.
    """
    rng = check.rng_from(seed)
    n_obs, n_groups, g, g_cat = _groups(rng, n_obs, n_groups)
    a, bx, bz, sa, sx = (check.real(v, n) for v, n in (
        (intercept, "intercept"), (b_x, "b_x"), (b_z, "b_z"),
        (sigma_intercept, "sigma_intercept"), (sigma_x, "sigma_x")))
    sd_group = check.sd(sd_group, "sd_group")
    sigma_sd_group = check.sd(sigma_sd_group, "sigma_sd_group")
    x, z = rng.standard_normal(n_obs), rng.standard_normal(n_obs)
    w = rng.normal(0.0, sigma_sd_group, n_groups)
    u = rng.normal(0.0, sd_group, n_groups)
    sigma = np.exp(sa + sx * x + w[g])
    y = rng.normal(a + bx * x + bz * z + u[g], sigma)
    data = pd.DataFrame({"y": y, "x": x, "z": z, "g": g_cat})
    truth = {"Intercept": a, "x": bx, "z": bz, "1|g_sigma": sd_group, "1|g": u,
             "sigma_Intercept": sa, "sigma_x": sx, "sigma_1|g_sigma": sigma_sd_group,
             "sigma_1|g": w}
    return data, truth


def simulate_multi_membership(*, seed, n_obs: int = 150, n_groups: int = 10,
                              intercept: float = 1.0, slope: float = 0.5,
                              sd_group: float = 0.8, sigma: float = 0.5,
                              weights=(0.5, 0.5)) -> tuple[pd.DataFrame, dict]:
    """Each row belongs to two groups of one set: brms's ``y ~ x + (1 | mm(g1, g2))``.

    ``y = intercept + slope x + weights[0] u[g1] + weights[1] u[g2] + N(0, sigma)`` with one set
    of effects ``u ~ N(0, sd_group)`` shared by both columns; brms's default weights are equal
    (1/2 each). ``g1`` and ``g2`` are drawn independently, so they may coincide.

    Parameters
    ----------
    seed : int or numpy.random.Generator
    n_obs, n_groups : int
        Rows; groups (at least 2).
    intercept, slope, sd_group, sigma : float
        Coefficients; SD of the shared group effects (>= 0); residual SD (> 0).
    weights : sequence of float
        Two membership weights, each >= 0, summing to 1.

    Returns
    -------
    data : pandas.DataFrame
        Columns ``y``, ``x``, ``g1``, ``g2`` (categoricals with the same categories).
    truth : dict
        ``Intercept``, ``x``, ``1|mm_sigma``, ``1|mm`` (per group), ``sigma``, ``weights``.

    Raises
    ------
    TypeError
        A non-numeric argument or a bad ``seed``.
    ValueError
        Fewer than 2 groups, a negative SD, ``sigma`` not > 0, or weights that are not two
        non-negative numbers summing to 1.
    """
    rng = check.rng_from(seed)
    n_obs, n_groups, g1, g1_cat = _groups(rng, n_obs, n_groups)
    intercept, slope = check.real(intercept, "intercept"), check.real(slope, "slope")
    sd_group = check.sd(sd_group, "sd_group")
    sigma = check.sd(sigma, "sigma", positive=True)
    w = check.vector(weights, "weights", length=2)
    if np.any(w < 0) or not np.isclose(w.sum(), 1):
        raise ValueError(f"weights must be two non-negative numbers summing to 1, got {w}")
    g2 = rng.integers(0, n_groups, n_obs)
    u = rng.normal(0.0, sd_group, n_groups)
    x = rng.standard_normal(n_obs)
    y = intercept + slope * x + w[0] * u[g1] + w[1] * u[g2] + rng.normal(0.0, sigma, n_obs)
    data = pd.DataFrame({"y": y, "x": x, "g1": g1_cat,
                         "g2": pd.Categorical(g2, categories=range(n_groups))})
    return data, {"Intercept": intercept, "x": slope, "1|mm_sigma": sd_group, "1|mm": u,
                  "sigma": sigma, "weights": w}


def sine_trend(x) -> np.ndarray:
    """The default smooth of :func:`simulate_smooth`: ``sin(x) + 0.1 x``."""
    x = np.asarray(x, dtype=float)
    return np.sin(x) + 0.1 * x


def simulate_smooth(*, seed, n_obs: int = 150, n_groups: int = 8, x_range=(0.0, 10.0),
                    curve=None, sd_group: float = 0.3,
                    sigma: float = 0.3) -> tuple[pd.DataFrame, dict]:
    """A smooth curve plus group intercepts, the data for brms's ``y ~ s(x) + (1 | g)``.

    ``x ~ Uniform(x_range)``, ``y = curve(x) + u_g + N(0, sigma)``, ``u_g ~ N(0, sd_group)``.
    The curve is not drawn from a spline's prior, so a penalised spline (brms's ``s(x)``, its
    ``sds(sx_1)``) or a B-spline has no true coefficients or smoothing SD here: compare the
    fitted curve with ``truth["curve"]``.

    Parameters
    ----------
    seed : int or numpy.random.Generator
    n_obs, n_groups : int
        Rows; groups (at least 2).
    x_range : sequence of float
        Two numbers: lower and upper end of ``x`` (lower < upper).
    curve : callable, optional
        Maps an array of ``x`` to the population mean; ``None`` is :func:`sine_trend`.
    sd_group, sigma : float
        SD of the group intercepts (>= 0) and residual SD (> 0).

    Returns
    -------
    data : pandas.DataFrame
        Columns ``y``, ``x``, ``g`` (categorical).
    truth : dict
        ``1|g_sigma``, ``1|g``, ``sigma``, ``curve`` (the callable), ``f`` (the curve at the
        data's ``x``) and ``f_mean`` (its mean there: a smooth centred on the data, as brms's
        is, leaves it to the intercept).

    Raises
    ------
    TypeError
        ``curve`` not callable, a non-numeric argument, or a bad ``seed``.
    ValueError
        Fewer than 2 groups, a negative SD, ``sigma`` not > 0, a bad ``x_range``, or a curve
        that does not return one finite value per ``x``.
    """
    rng = check.rng_from(seed)
    n_obs, n_groups, g, g_cat = _groups(rng, n_obs, n_groups)
    low, high = check.vector(x_range, "x_range", length=2)
    if not low < high:
        raise ValueError(f"x_range must be (lower, upper) with lower < upper, got {x_range}")
    curve = sine_trend if curve is None else curve
    if not callable(curve):
        raise TypeError(f"curve must be a callable of x, got {type(curve).__name__}")
    sd_group = check.sd(sd_group, "sd_group")
    sigma = check.sd(sigma, "sigma", positive=True)
    x = rng.uniform(low, high, n_obs)
    f = np.asarray(curve(x), dtype=float)
    if f.shape != x.shape or not np.all(np.isfinite(f)):
        raise ValueError(f"curve must return one finite value per x (shape {x.shape}), "
                         f"got shape {f.shape}")
    u = rng.normal(0.0, sd_group, n_groups)
    y = f + u[g] + rng.normal(0.0, sigma, n_obs)
    data = pd.DataFrame({"y": y, "x": x, "g": g_cat})
    return data, {"1|g_sigma": sd_group, "1|g": u, "sigma": sigma, "curve": curve, "f": f,
                  "f_mean": float(f.mean())}


def simulate_sratio(*, seed, n_obs: int = 150, n_groups: int = 8, slope: float = 1.0,
                    sd_group: float = 0.7,
                    threshold=(-1.0, 0.3, 1.5)) -> tuple[pd.DataFrame, dict]:
    """Ordinal data from the stopping-ratio model: ``y ~ x + (1 | g)``, ``family = sratio``.

    With ``eta = slope x + u_g`` (no intercept: the thresholds carry it) and ``K`` thresholds,
    ``P(y = k | y >= k) = expit(threshold[k] - eta)`` for ``k = 0 .. K-1``; a row that never
    stops is ``K``. This is brms's ``sratio`` (logit link, ``disc = 1``) and Bambi's
    ``family="sratio"``; the thresholds need not be increasing.

    Parameters
    ----------
    seed : int or numpy.random.Generator
    n_obs, n_groups : int
        Rows; groups (at least 2).
    slope, sd_group : float
        Coefficient of ``x``; SD of the group effects (>= 0).
    threshold : sequence of float
        The ``K`` thresholds (at least one).

    Returns
    -------
    data : pandas.DataFrame
        Columns ``y`` (ordered categorical with levels 0 .. K), ``x``, ``g`` (categorical).
    truth : dict
        Bambi's names: ``x``, ``1|g_sigma``, ``1|g``, ``threshold``.

    Raises
    ------
    TypeError
        A non-numeric argument or a bad ``seed``.
    ValueError
        Fewer than 2 groups, a negative ``sd_group``, or an empty ``threshold``.
    """
    rng = check.rng_from(seed)
    n_obs, n_groups, g, g_cat = _groups(rng, n_obs, n_groups)
    slope = check.real(slope, "slope")
    sd_group = check.sd(sd_group, "sd_group")
    tau = check.vector(threshold, "threshold")
    x = rng.standard_normal(n_obs)
    u = rng.normal(0.0, sd_group, n_groups)
    eta = slope * x + u[g]
    stop = rng.uniform(size=(n_obs, tau.size)) < special.expit(tau[None, :] - eta[:, None])
    codes = np.where(stop.any(axis=1), stop.argmax(axis=1), tau.size)
    y = pd.Categorical(codes, categories=range(tau.size + 1), ordered=True)
    data = pd.DataFrame({"y": y, "x": x, "g": g_cat})
    return data, {"x": slope, "1|g_sigma": sd_group, "1|g": u, "threshold": tau}


def simulate_zi_shared(*, seed, n_groups: int = 30, rows_per_group: int = 10,
                       family: str = "poisson", intercept: float = 1.0, b_x: float = 0.5,
                       b_z: float = -0.3, b_xz: float = 0.2, zi_intercept: float = -1.0,
                       zi_x: float = 0.5, sds=(0.5, 0.3, 0.6),
                       correlation=((1.0, 0.3, -0.4), (0.3, 1.0, 0.2), (-0.4, 0.2, 1.0)),
                       shape: float = 5.0) -> tuple[pd.DataFrame, dict]:
    """A zero-inflated count model whose two parts share one group block (brms's ``|ID1|``).

    brms's ``bf(y ~ x * z + (1 + x | ID1 | g), zi ~ x + (1 | ID1 | g))``: per group, the count
    mean's intercept and ``x`` slope and the zero-inflation intercept,
    ``r_g ~ MVN(0, diag(sds) correlation diag(sds))``;
    ``log mu = intercept + b_x x + b_z z + b_xz x z + r_g[0] + r_g[1] x`` and
    ``logit zi = zi_intercept + zi_x x + r_g[2]``, ``zi`` the probability of an *extra* zero
    (brms's meaning; Bambi's ``psi`` is ``1 - zi``). The count is Poisson(``mu``) or, with
    ``family="negbinomial"``, negative binomial with mean ``mu`` and brms's ``shape``.

    Parameters
    ----------
    seed : int or numpy.random.Generator
    n_groups, rows_per_group : int
        A balanced design (at least 2 groups).
    family : {"poisson", "negbinomial"}
    intercept, b_x, b_z, b_xz : float
        Count part, log scale.
    zi_intercept, zi_x : float
        Zero-inflation part, logit scale.
    sds : sequence of float
        Three group SDs (>= 0) of the count intercept, the count ``x`` slope, the ``zi`` intercept.
    correlation : float or array-like
        Their 3 x 3 correlation matrix (a number is every off-diagonal entry).
    shape : float
        Negative-binomial shape (> 0; ignored for Poisson).

    Returns
    -------
    data : pandas.DataFrame
        Columns ``y`` (ints), ``x``, ``z``, ``g`` (categorical).
    truth : dict
        brms's names: ``Intercept``, ``x``, ``z``, ``x:z``, ``zi_Intercept``, ``zi_x``,
        ``sd_g`` (3, in the order above), ``cor_g`` (3 x 3), ``r_g`` (groups x 3), ``shape``
        (negbinomial only), ``extra_zero`` (bool per row, the zeros from the zi part).

    Raises
    ------
    TypeError
        A non-numeric argument or a bad ``seed``.
    ValueError
        An unknown ``family``, fewer than 2 groups, negative SDs, a matrix that is not a
        correlation matrix, or ``shape`` not > 0.
    """
    rng = check.rng_from(seed)
    if family not in ("poisson", "negbinomial"):
        raise ValueError(f"family must be 'poisson' or 'negbinomial', got {family!r}")
    n_groups = check.count(n_groups, "n_groups", minimum=2)
    rows = check.count(rows_per_group, "rows_per_group")
    beta = [check.real(v, n) for v, n in ((intercept, "intercept"), (b_x, "b_x"),
                                          (b_z, "b_z"), (b_xz, "b_xz"),
                                          (zi_intercept, "zi_intercept"), (zi_x, "zi_x"))]
    scales = check.sds(sds, "sds", length=3)
    cor = check.correlation(correlation, "correlation", 3)
    shape = check.sd(shape, "shape", positive=True)
    r = check.draw_effects(rng, n_groups, scales, cor)
    g = np.repeat(np.arange(n_groups), rows)
    x, z = rng.standard_normal(g.size), rng.standard_normal(g.size)
    mu = np.exp(beta[0] + beta[1] * x + beta[2] * z + beta[3] * x * z + r[g, 0] + r[g, 1] * x)
    zi = special.expit(beta[4] + beta[5] * x + r[g, 2])
    counts = (rng.poisson(mu) if family == "poisson"
              else rng.negative_binomial(shape, shape / (shape + mu)))
    extra_zero = rng.uniform(size=g.size) < zi
    data = pd.DataFrame({"y": np.where(extra_zero, 0, counts), "x": x, "z": z,
                         "g": pd.Categorical(g, categories=range(n_groups))})
    truth = dict(zip(["Intercept", "x", "z", "x:z", "zi_Intercept", "zi_x"], beta, strict=True))
    truth |= {"sd_g": scales, "cor_g": cor, "r_g": r, "extra_zero": extra_zero}
    if family == "negbinomial":
        truth["shape"] = shape
    return data, truth


def simulate_growth_mixture(*, seed, n_groups: int = 40, n_time: int = 6,
                            classes: str = "observation", intercepts=(0.0, 3.0),
                            b_time=(0.5, -0.3), b_z=(0.3, 0.3), sds_intercept=(0.5, 0.5),
                            sds_time=(0.2, 0.2), correlations=(0.3, 0.3), sigmas=(0.5, 0.5),
                            theta=(0.6, 0.4)) -> tuple[pd.DataFrame, dict]:
    """Two-component trajectories: brms's ``y ~ time + z + (1 + time | g)`` with
    ``family = mixture(gaussian, gaussian)``.

    Component ``k`` has its own intercept, ``time`` and ``z`` slopes, correlated group
    intercept and ``time`` slope (SDs ``sds_intercept[k]``, ``sds_time[k]``, correlation
    ``correlations[k]``) and residual SD, as brms's ``mu1`` and ``mu2``. With
    ``classes="observation"`` (brms's model) every row draws its component independently, so a
    group's rows can follow both trajectories; with ``classes="group"`` each group draws one
    component for all its rows (a latent-class growth model, which brms's ``mixture()`` does not
    fit). ``time`` is 0 .. ``n_time`` - 1 for every group, ``z`` a standard-normal covariate.

    Parameters
    ----------
    seed : int or numpy.random.Generator
    n_groups, n_time : int
        Groups (at least 2) and times per group (at least 2).
    classes : {"observation", "group"}
    intercepts : sequence of float
        Two increasing values: brms orders the components' intercepts.
    b_time, b_z, sds_intercept, sds_time, correlations, sigmas : sequence of float
        Two values each, one per component; SDs >= 0 (``sigmas`` > 0), correlations in (-1, 1).
    theta : sequence of float
        Two positive mixing weights summing to 1.

    Returns
    -------
    data : pandas.DataFrame
        Columns ``y``, ``time``, ``z``, ``g`` (categorical), sorted by group and time.
    truth : dict
        Per component (length-2 arrays): ``Intercept``, ``time``, ``z``, ``sigma``, ``theta``,
        ``cor_g``; ``sd_g`` (components x [Intercept, time]); ``r_g`` (groups x components x
        2); ``component`` (per row, 0 or 1).

    Raises
    ------
    TypeError
        A non-numeric argument or a bad ``seed``.
    ValueError
        An unknown ``classes``, a size below its minimum, intercepts not increasing, a negative
        SD or zero ``sigmas``, a correlation outside (-1, 1), or a bad ``theta``.
    """
    rng = check.rng_from(seed)
    if classes not in ("observation", "group"):
        raise ValueError(f"classes must be 'observation' or 'group', got {classes!r}")
    n_groups = check.count(n_groups, "n_groups", minimum=2)
    n_time = check.count(n_time, "n_time", minimum=2)
    a = check.vector(intercepts, "intercepts", length=2)
    if a[0] >= a[1]:
        raise ValueError(f"intercepts must be increasing (brms orders them), got {a.tolist()}")
    bt, bz = (check.vector(v, n, length=2) for v, n in ((b_time, "b_time"), (b_z, "b_z")))
    sd_g = np.column_stack([check.sds(sds_intercept, "sds_intercept", length=2),
                            check.sds(sds_time, "sds_time", length=2)])
    rho = check.vector(correlations, "correlations", length=2)
    sig = check.sds(sigmas, "sigmas", length=2)
    if np.any(sig == 0):
        raise ValueError(f"sigmas must be > 0, got {sig.tolist()}")
    w = check.vector(theta, "theta", length=2)
    if np.any(w <= 0) or not np.isclose(w.sum(), 1):
        raise ValueError(f"theta must be two positive probabilities summing to 1, got {w}")
    cors = [check.correlation(float(rho[k]), f"correlations[{k}]", 2) for k in range(2)]
    # groups x components x (Intercept, time)
    r = np.stack([check.draw_effects(rng, n_groups, sd_g[k], cors[k]) for k in range(2)], axis=1)
    g = np.repeat(np.arange(n_groups), n_time)
    time = np.tile(np.arange(n_time), n_groups)
    z = rng.standard_normal(g.size)
    draws = rng.uniform(size=g.size if classes == "observation" else n_groups) >= w[0]
    comp = draws.astype(int) if classes == "observation" else draws.astype(int)[g]
    mu = a[comp] + bt[comp] * time + bz[comp] * z + r[g, comp, 0] + r[g, comp, 1] * time
    data = pd.DataFrame({"y": rng.normal(mu, sig[comp]), "time": time, "z": z,
                         "g": pd.Categorical(g, categories=range(n_groups))})
    truth = {"Intercept": a, "time": bt, "z": bz, "sd_g": sd_g, "cor_g": rho, "sigma": sig,
             "theta": w, "r_g": r, "component": comp}
    return data, truth
