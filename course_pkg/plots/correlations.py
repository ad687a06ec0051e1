"""Figures of correlated effects: a correlation matrix with intervals, effect ellipses, and
correlations against their LKJ prior."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.patches import Rectangle

from course_pkg.plots._base import POPULATION_COLOUR, _axes, _check_level, _columns, _frame


def correlation_matrix(
    mean,
    lower,
    upper,
    *,
    labels: Sequence[str],
    title: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """The lower triangle of a correlation matrix: colour = posterior mean, text = mean [interval].

    Cells whose interval excludes zero get a black frame.

    Parameters
    ----------
    mean, lower, upper : array_like
        Posterior means and interval bounds of the correlations, each a k x k array.
    labels : sequence of str
        One label per row/column.
    title : str, optional
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        If the matrices are not square and of one shape, ``labels`` has the wrong length, or
        ``mean`` is not a correlation matrix (unit diagonal, symmetric, entries in [-1, 1]).
    """
    mean, lower, upper = (np.asarray(m, dtype=float) for m in (mean, lower, upper))
    if mean.ndim != 2 or mean.shape[0] != mean.shape[1] or mean.shape[0] < 2:
        raise ValueError(f"mean must be a square matrix of size 2 or more, got shape {mean.shape}")
    if lower.shape != mean.shape or upper.shape != mean.shape:
        raise ValueError(f"lower and upper must have mean's shape {mean.shape}, got "
                         f"{lower.shape} and {upper.shape}")
    k = mean.shape[0]
    if len(labels) != k:
        raise ValueError(f"labels must have {k} entries, got {len(labels)}")
    if (not np.allclose(np.diag(mean), 1) or not np.allclose(mean, mean.T)
            or np.any(np.abs(mean) > 1 + 1e-9)):
        raise ValueError("mean is not a correlation matrix (unit diagonal, symmetric, |r| <= 1)")
    ax = _axes(ax, (1 + 0.9 * k, 0.8 * k))
    mask = np.triu(np.ones((k, k), dtype=bool))
    sns.heatmap(pd.DataFrame(mean, index=labels, columns=labels), mask=mask, vmin=-1, vmax=1,
                cmap="vlag", square=True, ax=ax,
                cbar_kws={"label": "posterior mean correlation", "shrink": 0.7})
    ax.grid(False)
    for i in range(k):
        for j in range(i):
            ax.text(j + 0.5, i + 0.5, f"{mean[i, j]:.2f}\n[{lower[i, j]:.2f}, {upper[i, j]:.2f}]",
                    ha="center", va="center", fontsize=6.5)
            if lower[i, j] > 0 or upper[i, j] < 0:
                ax.add_patch(Rectangle((j, i), 1, 1, fill=False, lw=1.5, color="black"))
    ax.set(title=title)
    return ax


def ellipse_points(mean, cov, *, level: float = 0.95, n: int = 200) -> np.ndarray:
    """Points on the ``level`` contour of a bivariate normal with ``mean`` and ``cov``.

    The contour is where the squared Mahalanobis distance equals the chi-square(2) quantile,
    ``-2 log(1 - level)``.

    Returns
    -------
    numpy.ndarray
        ``n`` points, one row each (x, y).

    Raises
    ------
    ValueError
        If ``mean`` is not of length 2, ``cov`` is not a 2 x 2 positive-definite matrix, or
        ``level`` is not in (0, 1).
    """
    level = _check_level(level)
    centre = np.asarray(mean, dtype=float)
    cov = np.asarray(cov, dtype=float)
    if centre.shape != (2,):
        raise ValueError(f"mean must have two entries, got shape {centre.shape}")
    if cov.shape != (2, 2) or not np.allclose(cov, cov.T):
        raise ValueError(f"cov must be a symmetric 2 x 2 matrix, got {cov.tolist()}")
    try:
        factor = np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        raise ValueError(f"cov must be positive definite, got {cov.tolist()}") from None
    radius = np.sqrt(-2 * np.log(1 - level))
    angle = np.linspace(0, 2 * np.pi, n)
    circle = np.column_stack([np.cos(angle), np.sin(angle)])
    return centre + radius * circle @ factor.T


def effect_ellipses(
    points: pd.DataFrame,
    *,
    x: str,
    y: str,
    mean,
    cov,
    levels: Sequence[float] = (0.5, 0.95),
    xlabel: str | None = None,
    ylabel: str | None = None,
    title: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Groups' estimated effects (e.g. intercept against slope) and the fitted population's contours.

    Parameters
    ----------
    points : pandas.DataFrame
        One row per group, with columns ``x`` and ``y``.
    mean, cov : array_like
        Mean (length 2) and covariance (2 x 2) of the fitted population of effects.
    levels : sequence of float
        Probability contours to draw.
    xlabel, ylabel, title : str, optional
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    points = _frame(points, "points")
    _columns(points, "points", x=x, y=y)
    if not levels:
        raise ValueError("levels must name at least one probability")
    rings = [(lev, ellipse_points(mean, cov, level=_check_level(lev, "levels")))
             for lev in levels]
    ax = _axes(ax, (5.5, 4.5))
    ax.scatter(points[x], points[y], s=18, color="#1c5253", label="groups (posterior means)")
    for (lev, ring), style in zip(rings, ("-", "--", ":", "-."), strict=False):
        ax.plot(ring[:, 0], ring[:, 1], color=POPULATION_COLOUR, lw=1.5, ls=style,
                label=f"{lev:.0%} of the fitted population")
    ax.scatter(*np.asarray(mean, dtype=float), marker="+", s=150, color=POPULATION_COLOUR,
               label="population mean")
    ax.set(xlabel=x if xlabel is None else xlabel, ylabel=y if ylabel is None else ylabel,
           title=title)
    ax.legend(loc="best", fontsize=9)
    return ax




def lkj_marginal_density(r, *, eta: float, k: int) -> np.ndarray:
    """Prior density of one off-diagonal entry of a ``k`` x ``k`` LKJ(``eta``) correlation matrix.

    Each entry ``r`` has ``(r + 1) / 2 ~ Beta(a, a)`` with ``a = eta - 1 + k / 2``, so its density
    is ``Beta(a, a).pdf((r + 1) / 2) / 2`` on (-1, 1) and its SD is ``1 / sqrt(2 a + 1)``.

    Parameters
    ----------
    r : array_like
        Correlation values at which to evaluate the density (0 outside [-1, 1]).
    eta : float
        The LKJ shape (``eta > 0``; 1 is uniform over correlation matrices).
    k : int
        Size of the correlation matrix (``k >= 2``).

    Returns
    -------
    numpy.ndarray
        The density, of ``r``'s shape.

    Raises
    ------
    TypeError
        If ``k`` is not an int.
    ValueError
        If ``eta`` is not a positive finite number or ``k < 2``.
    """
    from scipy import stats

    if not isinstance(k, int | np.integer) or isinstance(k, bool):
        raise TypeError(f"k must be an int (the matrix size), got {k!r}")
    if k < 2:
        raise ValueError(f"k must be at least 2, got {k}")
    if (not isinstance(eta, int | float | np.floating) or isinstance(eta, bool)
            or not np.isfinite(eta) or eta <= 0):
        raise ValueError(f"eta must be a positive finite number, got {eta!r}")
    a = float(eta) - 1 + k / 2
    r = np.asarray(r, dtype=float)
    return stats.beta(a, a).pdf((r + 1) / 2) / 2


def correlation_prior_posterior(
    draws,
    *,
    eta: float,
    labels: Sequence[str],
    title: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Posterior densities of every correlation in a matrix over their common LKJ(eta) prior.

    With few groups the posterior of each correlation stays close to the prior's marginal; this
    figure shows how close. Each off-diagonal entry ``(i, j)``, ``i > j``, is one histogram line
    (densities on shared bins over [-1, 1]); the prior's marginal
    (:func:`lkj_marginal_density`) is the black dashed curve.

    Parameters
    ----------
    draws : array_like
        Posterior draws of the correlation matrix, shape ``(..., k, k)`` (e.g. chain, draw, k,
        k); leading dimensions are pooled. A DataArray works too.
    eta : float
        The LKJ prior's shape.
    labels : sequence of str
        One label per row/column; the entry (i, j) is named ``"labels[i] ~ labels[j]"``.
    title : str, optional
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        If the draws are not square matrices of size 2 or more, not finite or outside
        [-1, 1], or ``labels`` has the wrong length.
    """
    arr = np.asarray(draws, dtype=float)
    if arr.ndim < 3 or arr.shape[-1] != arr.shape[-2] or arr.shape[-1] < 2:
        raise ValueError(f"draws must have shape (..., k, k) with k >= 2 and at least one "
                         f"leading draw dimension, got {arr.shape}")
    k = arr.shape[-1]
    arr = arr.reshape(-1, k, k)
    if not np.all(np.isfinite(arr)) or np.any(np.abs(arr) > 1 + 1e-9):
        raise ValueError("draws must be finite correlations in [-1, 1]")
    if isinstance(labels, str) or len(labels) != k:
        raise ValueError(f"labels must be a sequence of {k} names, got {labels!r}")
    density = lkj_marginal_density(0.0, eta=eta, k=k)  # checks eta
    del density
    ax = _axes(ax, (5.5, 3.5))
    edges = np.linspace(-1, 1, 41)
    centres = (edges[:-1] + edges[1:]) / 2
    palette = sns.color_palette("husl", k * (k - 1) // 2)
    pairs = [(i, j) for i in range(k) for j in range(i)]
    for (i, j), colour in zip(pairs, palette, strict=True):
        heights, _ = np.histogram(arr[:, i, j], bins=edges, density=True)
        ax.plot(centres, heights, drawstyle="steps-mid", color=colour, lw=1.2,
                label=f"{labels[i]} ~ {labels[j]}")
    grid = np.linspace(-0.995, 0.995, 200)
    ax.plot(grid, lkj_marginal_density(grid, eta=eta, k=k), color="black", ls="--", lw=2,
            label=f"LKJ({eta:g}) prior, k = {k}")
    ax.set(xlim=(-1, 1), xlabel="correlation", ylabel="density", title=title)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=8)
    return ax
