"""Simulated grouped data: partial pooling with unbalanced groups (chapter 2) and correlated
varying intercepts and slopes (chapters 2, 3 and 4).

Each simulator takes keyword parameters and a seed and returns ``(data, truth)``: a long table
and a dict of the values used, named as the course's models name them where one name is standard
(``Intercept``, ``sigma``). The same seed gives the same data. Written with NumPy: no library
ships simulators for these designs (Bambi's and PyMC's prior predictive draws parameters as well,
which is not what a recovery check needs).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from course_pkg.simulate import _checks as check

__all__ = ["simulate_partial_pooling", "simulate_varying_slopes"]


def simulate_partial_pooling(
    *,
    seed,
    n_groups: int = 40,
    group_sizes: Sequence[int] | None = None,
    min_size: int = 1,
    max_size: int = 12,
    mean: float = 0.0,
    tau: float = 1.0,
    sigma: float = 1.0,
) -> tuple[pd.DataFrame, dict]:
    """Normal outcomes in groups of unequal size: y_ij ~ N(mean + u_j, sigma), u_j ~ N(0, tau).

    The design of chapter 2's person means: many groups, some with one or two observations, so
    partial pooling moves small groups far and large groups little.

    Parameters
    ----------
    seed : int or numpy.random.Generator
    n_groups : int
        Number of groups (ignored when ``group_sizes`` is given).
    group_sizes : sequence of int, optional
        Observations per group; by default drawn uniformly from ``min_size`` to ``max_size``.
    min_size, max_size : int
        Range of the group sizes drawn when ``group_sizes`` is not given.
    mean, tau, sigma : float
        Population mean, SD of the group means, residual SD.

    Returns
    -------
    data : pandas.DataFrame
        Columns ``group`` (categorical, labels 1..n) and ``y``.
    truth : dict
        ``Intercept`` (the mean), ``tau``, ``sigma``, ``group_mean`` (array, mean + u_j),
        ``u`` (array) and ``group_size`` (array).

    Examples
    --------
    >>> data, truth = simulate_partial_pooling(seed=1, n_groups=5)
    >>> sorted(truth)[:3]
    ['Intercept', 'group_mean', 'group_size']
    """
    rng = check.rng_from(seed)
    if group_sizes is None:
        n_groups = check.count(n_groups, "n_groups")
        min_size = check.count(min_size, "min_size")
        max_size = check.count(max_size, "max_size")
        if max_size < min_size:
            raise ValueError(f"max_size ({max_size}) must be >= min_size ({min_size})")
        sizes = rng.integers(min_size, max_size + 1, n_groups)
    else:
        if isinstance(group_sizes, str | bytes) or not isinstance(group_sizes,
                                                                   Sequence | np.ndarray):
            raise TypeError(f"group_sizes must be a sequence of ints, got {group_sizes!r}")
        sizes = np.array([check.count(n, "group_sizes entries") for n in group_sizes])
        if sizes.size == 0:
            raise ValueError("group_sizes must name at least one group")
    mean = check.real(mean, "mean")
    tau = check.sd(tau, "tau")
    sigma = check.sd(sigma, "sigma", positive=True)
    u = rng.normal(0.0, tau, sizes.size)
    group = np.repeat(np.arange(sizes.size), sizes)
    y = rng.normal(mean + u[group], sigma)
    labels = np.arange(1, sizes.size + 1)
    data = pd.DataFrame({"group": pd.Categorical(labels[group], categories=labels), "y": y})
    truth = {"Intercept": mean, "tau": tau, "sigma": sigma, "u": u, "group_mean": mean + u,
             "group_size": sizes}
    return data, truth


def simulate_varying_slopes(
    *,
    seed,
    n_groups: int = 200,
    x: Sequence[float] = (0, 1, 2, 3, 4, 5),
    intercept: float = 2.6,
    slope: float = 0.1,
    sd_intercept: float = 0.25,
    sd_slope: float = 0.07,
    correlation: float = -0.1,
    sigma: float = 0.2,
    design: np.ndarray | None = None,
    coefficients: Sequence[float] | None = None,
    sds: Sequence[float] | None = None,
    names: Sequence[str] | None = None,
) -> tuple[pd.DataFrame, dict]:
    """Correlated varying effects: y = X (beta + u_g) + e, u_g ~ MvN(0, diag(sd) R diag(sd)).

    Two ways to call it. With ``x`` (default), every group is measured at the values ``x`` and
    the effects are an intercept and a slope (chapter 3's GPA over six semesters; defaults near
    its estimates). With ``design``, every group sees the rows of a design matrix (columns named
    by ``names``), e.g. one-hot rows of four cheeses for chapter 4's raters, with one coefficient,
    SD and correlation row per column.

    Parameters
    ----------
    seed : int or numpy.random.Generator
    n_groups : int
    x : sequence of float
        Covariate values at which each group is observed (intercept-and-slope form).
    intercept, slope, sd_intercept, sd_slope, sigma : float
        Population intercept and slope, their SDs across groups, residual SD.
    correlation : float or array_like
        Correlation of the effects: one number for every pair, or a k by k correlation matrix.
    design : array_like, optional
        Rows every group is observed at (n_rows by k; replaces ``x``).
    coefficients, sds : sequence of float, optional
        With ``design``: population coefficients and group SDs (length k).
    names : sequence of str, optional
        With ``design``: column names (default ``x0`` ... ``x{k-1}``).


    Returns
    -------
    data : pandas.DataFrame
        Columns ``group`` (categorical 1..n), the covariate(s) (``x`` or ``names``) and ``y``.
    truth : dict
        ``beta`` (k), ``sd`` (k), ``cor`` (k x k), ``sigma`` and ``effects`` (n_groups x k,
        the deviations u_g); in the intercept-and-slope form also ``Intercept`` and ``slope``.

    Raises
    ------
    ValueError
        Lengths that disagree, a negative SD, a correlation that is not one, mixing the two forms.
    """
    rng = check.rng_from(seed)
    n_groups = check.count(n_groups, "n_groups")
    sigma = check.sd(sigma, "sigma", positive=True)
    if design is None:
        if any(v is not None for v in (coefficients, sds, names)):
            raise ValueError("coefficients, sds and names go with design=...; without it use "
                             "intercept, slope, sd_intercept and sd_slope")
        xs = check.vector(x, "x")
        matrix = np.column_stack([np.ones_like(xs), xs])
        beta = np.array([check.real(intercept, "intercept"), check.real(slope, "slope")])
        scales = np.array([check.sd(sd_intercept, "sd_intercept"), check.sd(sd_slope, "sd_slope")])
        columns = ["x"]
    else:
        matrix = np.asarray(design, dtype=float)
        if matrix.ndim != 2 or matrix.shape[0] == 0 or not np.all(np.isfinite(matrix)):
            raise ValueError(f"design must be a finite 2-d array with rows, got shape "
                             f"{matrix.shape}")
        k = matrix.shape[1]
        if coefficients is None or sds is None:
            raise ValueError("design=... needs coefficients=... and sds=... (one per column)")
        beta = check.vector(coefficients, "coefficients", length=k)
        scales = check.sds(sds, "sds", length=k)
        columns = list(names) if names is not None else [f"x{j}" for j in range(k)]
        if len(columns) != k or len(set(columns)) != k:
            raise ValueError(f"names must be {k} distinct column names, got {names!r}")
    k = matrix.shape[1]
    cor = check.correlation(correlation, "correlation", k)
    effects = check.draw_effects(rng, n_groups, scales, cor)
    rows = matrix.shape[0]
    group = np.repeat(np.arange(n_groups), rows)
    stacked = np.tile(matrix, (n_groups, 1))
    mu = np.einsum("ij,ij->i", stacked, beta + effects[group])
    y = rng.normal(mu, sigma)
    labels = np.arange(1, n_groups + 1)
    data = pd.DataFrame({"group": pd.Categorical(labels[group], categories=labels)})
    if design is None:
        data["x"] = stacked[:, 1]
    else:
        for j, name in enumerate(columns):
            data[name] = stacked[:, j]
    data["y"] = y
    truth = {"beta": beta, "sd": scales, "cor": cor, "sigma": sigma, "effects": effects}
    if design is None:
        truth.update(Intercept=beta[0], slope=beta[1])
    return data, truth
