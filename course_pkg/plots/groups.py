"""Figures of groups: trajectories (spaghetti), caterpillars of group intervals, shrinkage."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes

from course_pkg.plots._base import DATA_COLOUR, _axes, _columns, _frame


def trajectories(
    data: pd.DataFrame,
    *,
    x: str,
    y: str,
    group: str,
    line: str | None = None,
    hue: str | None = None,
    palette=None,
    n_groups: int | None = None,
    seed: int | None = None,
    population: bool = False,
    points: bool | None = None,
    legend_title: str | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    title: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """One line per group over ``x`` (a spaghetti plot), optionally with the data and the mean.

    Parameters
    ----------
    data : pandas.DataFrame
        Long table, one row per observation.
    x, y, group : str
        Columns: the covariate (time), the outcome, and what identifies a group (person).
    line : str, optional
        Column drawn as each group's line (e.g. a simulated mean ``"mu"``); by default ``y``.
        When it differs from ``y``, the observations are drawn as points as well.
    hue : str, optional
        Column that colours lines and points (e.g. dose group).
    palette : optional
        Colours for ``hue``, as seaborn takes them.
    n_groups : int, optional
        Draw this many groups, chosen at random with ``seed`` (all groups by default).
    seed : int, optional
        Seed for the choice of groups; required with ``n_groups``.
    population : bool
        Draw the mean of ``y`` over all groups (not only those drawn) at each ``x``.
    points : bool, optional
        Draw the observations as points; by default only when ``line`` differs from ``y``.
    legend_title : str, optional
        Title of the ``hue`` legend (default: the ``hue`` column's name).
    xlabel, ylabel, title : str, optional
        Axis labels (default: the column names) and title.
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    data = _frame(data)
    line = y if line is None else line
    _columns(data, x=x, y=y, group=group, line=line, hue=hue)
    shown = data
    if n_groups is not None:
        if not isinstance(n_groups, int | np.integer) or isinstance(n_groups, bool) or n_groups < 1:
            raise ValueError(f"n_groups must be a positive int, got {n_groups!r}")
        if seed is None:
            raise ValueError("n_groups needs seed=... so that the same groups are drawn each time")
        labels = pd.unique(data[group])
        if n_groups > len(labels):
            raise ValueError(f"n_groups={n_groups} but {group!r} has only {len(labels)} groups")
        chosen = np.random.default_rng(seed).choice(labels, n_groups, replace=False)
        shown = data[data[group].isin(chosen)]
    ax = _axes(ax, (6, 4))
    common = {"hue": hue, "palette": palette} if hue is not None else {"color": "tab:blue"}
    sns.lineplot(data=shown, x=x, y=line, units=group, estimator=None, lw=1,
                 alpha=0.8 if hue is not None else 0.4, legend=False, ax=ax, **common)
    if points if points is not None else line != y:
        sns.scatterplot(data=shown, x=x, y=y, s=12, ax=ax, legend=hue is not None,
                        **({"hue": hue, "palette": palette} if hue is not None
                           else {"color": DATA_COLOUR}))
    if population:
        means = data.groupby(x, observed=True)[y].mean()
        ax.plot(means.index, means.to_numpy(), color="black", lw=2.5,
                label=f"mean of all {data[group].nunique()}")
    ax.set(xlabel=x if xlabel is None else xlabel, ylabel=y if ylabel is None else ylabel,
           title=title)
    if population or (hue is not None and ax.get_legend_handles_labels()[0]):
        ax.legend(title=(legend_title or hue) if hue is not None and not population else None)
    return ax


def group_intervals(
    table: pd.DataFrame,
    *,
    estimate: str,
    lower: str,
    upper: str,
    group: str | None = None,
    order: Sequence | str | None = "estimate",
    reference: float | None = None,
    color="tab:blue",
    xlabel: str | None = None,
    ylabel: str | None = None,
    title: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Caterpillar plot: each group's estimate and interval, placed along x in a chosen order.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per group, e.g. from :func:`course_pkg.effects.ranef` or a ``mean_qi`` summary.
    estimate, lower, upper : str
        Columns with the point estimate and the interval bounds.
    group : str, optional
        Column naming the groups (used with an explicit ``order``); the index by default.
    order : "estimate", sequence or None
        ``"estimate"`` sorts groups by their estimate; a sequence of group labels fixes the order
        (e.g. the order of another model, to compare two panels); ``None`` keeps the table's order.
    reference : float, optional
        A horizontal reference line (zero for deviations, the grand mean for means).
    color : optional
        Colour of points and intervals.
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
        An interval whose lower bound exceeds its upper bound.
    """
    table = _frame(table, "table")
    _columns(table, "table", estimate=estimate, lower=lower, upper=upper, group=group)
    rows = table.set_index(group) if group is not None else table
    if (rows[lower] > rows[upper]).any():
        raise ValueError(f"some rows have {lower!r} > {upper!r}: pass the bounds in that order")
    by_estimate = isinstance(order, str)
    if by_estimate:
        if order != "estimate":
            raise ValueError(f"order must be 'estimate', a sequence of groups or None, got {order!r}")
        rows = rows.sort_values(estimate)
    elif order is not None:
        missing = [g for g in order if g not in rows.index]
        if missing:
            raise KeyError(f"order names groups the table lacks: {missing[:5]}")
        rows = rows.loc[list(order)]
    ax = _axes(ax, (7, 4))
    position = np.arange(len(rows))
    ax.vlines(position, rows[lower], rows[upper], color=color, alpha=0.6, lw=1.2)
    ax.scatter(position, rows[estimate], color=color, s=10, zorder=3)
    if reference is not None:
        ax.axhline(reference, ls="--", color="0.3", lw=1)
    ax.set_xticks([])
    default_xlabel = f"group (ordered by {estimate})" if by_estimate else "group"
    ax.set(xlabel=default_xlabel if xlabel is None else xlabel,
           ylabel=estimate if ylabel is None else ylabel, title=title)
    return ax


def shrinkage(
    table: pd.DataFrame,
    *,
    raw: str,
    pooled: str,
    size: str | None = None,
    x: str | None = None,
    reference: float | None = None,
    reference_label: str = "grand mean",
    xlabel: str | None = None,
    ylabel: str | None = None,
    title: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Raw group means, their partially pooled estimates and an arrow from one to the other.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per group (its index labels the groups).
    raw, pooled : str
        Columns with the raw (no-pooling) mean and the partially pooled estimate.
    size : str, optional
        Column with the number of observations per group: the raw points' area follows it.
    x : str, optional
        Column to place the groups along, e.g. ``size`` to show shrinkage against group size; by
        default groups are placed in order of their raw mean and labelled by the index.
    reference : float, optional
        The value partial pooling pulls towards (e.g. the grand mean), drawn as a dashed line.
    reference_label : str
        Its legend entry.
    xlabel, ylabel, title : str, optional
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    table = _frame(table, "table")
    _columns(table, "table", raw=raw, pooled=pooled, size=size, x=x)
    if size is not None and (table[size] <= 0).any():
        raise ValueError(f"size={size!r} must hold positive group sizes")
    ax = _axes(ax, (8, 4))
    if x is None:
        table = table.sort_values(raw)
        position = np.arange(len(table), dtype=float)
    else:
        position = table[x].to_numpy(dtype=float)
    if reference is not None:
        ax.axhline(reference, ls="--", color="0.3", lw=1, label=reference_label)
    for xi, start, end in zip(position, table[raw], table[pooled], strict=True):
        ax.annotate("", xy=(xi, end), xytext=(xi, start),
                    arrowprops={"arrowstyle": "->", "color": "0.5", "lw": 1})
    area = 25 * table[size].to_numpy(dtype=float) if size is not None else 25
    ax.scatter(position, table[raw], s=area, color="black",
               label="raw mean" + (f" (area: {size})" if size is not None else ""))
    ax.scatter(position, table[pooled], s=30, color="C1", zorder=3, label="partially pooled")
    if x is None:
        ax.set_xticks(position, table.index.astype(str), rotation=90)
    default_xlabel = x if x is not None else "group"
    ax.set(xlabel=default_xlabel if xlabel is None else xlabel,
           ylabel=raw if ylabel is None else ylabel, title=title)
    ax.legend(loc="best", fontsize=9)
    return ax


