"""How well a between-group SD is learned as the number of groups grows: one interval per design."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from course_pkg.plots._base import POPULATION_COLOUR, _axes, _columns, _frame


def sd_by_group_count(
    table: pd.DataFrame,
    *,
    truth: float,
    prior_interval: tuple[float, float] | None = None,
    xlabel: str = "number of groups",
    ylabel: str = "between-group SD",
    title: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Posterior intervals of a between-group SD fitted to simulations with more and more groups.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per simulated design, with columns ``n_groups`` (int), ``mean``, ``lower`` and
        ``upper`` (the posterior mean and interval bounds of the SD).
    truth : float
        The SD the simulations used (a horizontal line).
    prior_interval : tuple of float, optional
        The prior's interval for the SD at the same level (a grey band), so that one sees how
        much narrower the posterior is.
    xlabel, ylabel, title : str
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        Number of groups on a log axis, intervals as vertical bars, means as dots.

    Raises
    ------
    TypeError
        If ``table`` is not a DataFrame.
    KeyError
        If a column is missing.
    ValueError
        If ``n_groups`` is not positive, an interval is reversed, ``truth`` is not finite, or
        ``prior_interval`` is not two increasing numbers.
    """
    table = _frame(table, "table")
    _columns(table, "table", n_groups="n_groups", mean="mean", lower="lower", upper="upper")
    groups = table["n_groups"].to_numpy(dtype=float)
    if np.any(groups <= 0) or not np.all(np.isfinite(groups)):
        raise ValueError(f"n_groups must be positive, got {table['n_groups'].tolist()}")
    lower, upper = (table[c].to_numpy(dtype=float) for c in ("lower", "upper"))
    if np.any(lower > upper):
        raise ValueError("every interval needs lower <= upper")
    if not isinstance(truth, int | float | np.floating) or not np.isfinite(truth):
        raise ValueError(f"truth must be a finite number, got {truth!r}")
    ax = _axes(ax, (5.5, 3.5))
    if prior_interval is not None:
        low, high = (float(v) for v in prior_interval)
        if not low < high:
            raise ValueError(f"prior_interval must be (low, high) with low < high, got "
                             f"{prior_interval!r}")
        ax.axhspan(low, high, color="0.85", zorder=0, label="prior interval")
    ax.vlines(groups, lower, upper, color="tab:blue", lw=3, label="posterior interval")
    ax.scatter(groups, table["mean"], color="black", s=20, zorder=3, label="posterior mean")
    ax.axhline(float(truth), color=POPULATION_COLOUR, ls="--", lw=1.5, label="truth")
    ax.set_xscale("log")
    ax.set_xticks(groups, [f"{g:g}" for g in groups])
    ax.minorticks_off()
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.legend(loc="best", fontsize=9)
    return ax
