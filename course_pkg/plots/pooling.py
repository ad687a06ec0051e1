"""Figures of pooling: shrinkage against group size, the three pooling estimates of every group
side by side, and each group's posterior as a half-eye (density above an interval)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from scipy.stats import gaussian_kde

from course_pkg.plots._base import _axes, _check_level, _columns, _frame


def shrinkage_by_size(
    table: pd.DataFrame,
    *,
    size: str,
    factor: str,
    theory: pd.Series | None = None,
    jitter: float = 0.08,
    seed: int = 0,
    xlabel: str | None = None,
    ylabel: str = "shrinkage factor",
    title: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Each group's shrinkage factor against its number of observations, with the theory.

    The shrinkage factor of a group is the fraction of the way its estimate moved from the raw
    mean toward the grand mean: 0 for no pooling, 1 for complete pooling.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per group.
    size : str
        Column with each group's number of observations (positive integers).
    factor : str
        Column with each group's empirical shrinkage factor.
    theory : pandas.Series, optional
        Theoretical factor indexed by group size (e.g. ``sigma**2 / (sigma**2 + n * tau**2)``),
        drawn as a line with markers.
    jitter : float
        Horizontal jitter of the points (in units of group size), so that groups of the same
        size do not hide one another; 0 for none.
    seed : int
        Seed of the jitter.
    xlabel, ylabel, title : str, optional
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    KeyError
        ``size`` or ``factor`` is not a column of ``table``.
    TypeError
        ``theory`` is not a pandas Series.
    ValueError
        Non-positive group sizes, or a negative ``jitter``.
    """
    table = _frame(table, "table")
    _columns(table, "table", size=size, factor=factor)
    if (table[size] <= 0).any():
        raise ValueError(f"size={size!r} must hold positive group sizes")
    if not isinstance(jitter, int | float) or isinstance(jitter, bool) or jitter < 0:
        raise ValueError(f"jitter must be a non-negative number, got {jitter!r}")
    if theory is not None and not isinstance(theory, pd.Series):
        raise TypeError(f"theory must be a pandas.Series indexed by group size, got "
                        f"{type(theory).__name__}")
    ax = _axes(ax, (6, 3.5))
    rng = np.random.default_rng(seed)
    n = table[size].to_numpy(dtype=float)
    ax.scatter(n + rng.uniform(-jitter, jitter, len(n)), table[factor], s=14, alpha=0.6,
               color="0.2", label="each group (empirical)")
    if theory is not None:
        theory = theory.sort_index()
        ax.plot(theory.index.to_numpy(dtype=float), theory.to_numpy(), "o-", color="C1", lw=2,
                ms=7, zorder=3, label="theory")
    ax.set_xticks(np.unique(n))
    ax.set(xlabel=size if xlabel is None else xlabel, ylabel=ylabel, title=title)
    ax.legend(loc="best", fontsize=9)
    return ax


def pooling_overlay(
    table: pd.DataFrame,
    *,
    no_pooling: str,
    partial_pooling: str,
    complete_pooling: float,
    order: str | None = None,
    xlabel: str = "group",
    ylabel: str | None = None,
    title: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Every group's no-pooling and partial-pooling estimates over one line for complete pooling.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per group.
    no_pooling, partial_pooling : str
        Columns with each group's no-pooling and partial-pooling estimates.
    complete_pooling : float
        The single estimate complete pooling gives every group (a dashed line).
    order : str, optional
        Column to sort the groups by along x; the table's order by default.
    xlabel, ylabel, title : str, optional
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    KeyError
        A named column is missing.
    TypeError
        ``complete_pooling`` is not a real number.
    """
    table = _frame(table, "table")
    _columns(table, "table", no_pooling=no_pooling, partial_pooling=partial_pooling,
             order=order)
    if not isinstance(complete_pooling, int | float | np.floating) or isinstance(
            complete_pooling, bool):
        raise TypeError(f"complete_pooling must be a number, got "
                        f"{type(complete_pooling).__name__}")
    rows = table.sort_values(order) if order is not None else table
    ax = _axes(ax, (8, 3.5))
    position = np.arange(len(rows))
    ax.axhline(float(complete_pooling), ls="--", color="0.3", lw=1, label="complete pooling")
    ax.scatter(position, rows[no_pooling], s=14, color="#e07a5f", label="no pooling")
    ax.scatter(position, rows[partial_pooling], s=24, color="#1c5253", label="partial pooling")
    ax.set_xticks([])
    ax.set(xlabel=xlabel, ylabel=no_pooling if ylabel is None else ylabel, title=title)
    ax.legend(loc="upper left", fontsize=9, ncols=3)
    return ax


def halfeye(
    draws: pd.DataFrame,
    *,
    value: str,
    group: str,
    order: Sequence | None = None,
    level: float = 0.95,
    reference: float | None = None,
    width: float = 0.8,
    color="C0",
    xlabel: str | None = None,
    ylabel: str | None = None,
    title: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Half-eye plot: per group, the density of the draws above the mean and an interval.

    The counterpart of ggdist's ``stat_halfeye``: groups along x, values on y, each density drawn
    on one side of the group's position.

    Parameters
    ----------
    draws : pandas.DataFrame
        Long table, one row per draw and group (e.g. from ``course_pkg.draws.spread_draws``).
    value, group : str
        Columns with the drawn values and the group labels.
    order : sequence, optional
        Groups to draw, in this order; all groups in sorted order by default.
    level : float
        Probability of the equal-tailed interval drawn under each density.
    reference : float, optional
        A dashed horizontal reference line (e.g. the complete-pooling mean).
    width : float
        Largest density width, in units of the spacing between groups.
    color : optional
    xlabel, ylabel, title : str, optional
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    KeyError
        A named column is missing, or ``order`` names a group the table lacks.
    ValueError
        ``level`` outside (0, 1), or a group with fewer than two draws.
    """
    draws = _frame(draws, "draws")
    _columns(draws, "draws", value=value, group=group)
    level = _check_level(level)
    groups = dict(tuple(draws.groupby(group, observed=True)[value]))
    if order is None:
        order = sorted(groups)
    missing = [g for g in order if g not in groups]
    if missing:
        raise KeyError(f"order names groups the table lacks: {list(missing)[:5]}")
    ax = _axes(ax, (8, 4))
    if reference is not None:
        ax.axhline(reference, ls="--", color="0.3", lw=1)
    tail = (1 - level) / 2
    for position, label in enumerate(order):
        x = groups[label].to_numpy(dtype=float)
        if len(x) < 2:
            raise ValueError(f"group {label!r} has fewer than two draws")
        lo, hi = np.quantile(x, [tail, 1 - tail])
        grid = np.linspace(x.min(), x.max(), 200)
        density = gaussian_kde(x)(grid)
        density = width * density / density.max()
        ax.fill_betweenx(grid, position, position + density, color=color, alpha=0.5, lw=0)
        ax.vlines(position, lo, hi, color="0.1", lw=1.5)
        ax.scatter([position], [x.mean()], color="0.1", s=14, zorder=3)
    ax.set_xticks(np.arange(len(order)), [str(g) for g in order], rotation=90)
    ax.set(xlabel=group if xlabel is None else xlabel, ylabel=value if ylabel is None else ylabel,
           title=title)
    return ax
