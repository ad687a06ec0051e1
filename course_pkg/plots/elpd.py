"""Where a LOO difference comes from: two models' pointwise elpd differences summed per group.

``az.compare`` gives one number, the total difference in expected log predictive density and
its standard error. A large total can come evenly from every group or from a handful of them;
:func:`elpd_by_group` shows which, by plotting each group's summed difference against a
characteristic of the group (in chapter 5, each person's residual SD) and, on a second Axes,
the running share of the total as groups are added in that order.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from course_pkg.plots._base import DATA_COLOUR, POPULATION_COLOUR, _axes, _columns, _frame

__all__ = ["elpd_by_group"]


def elpd_by_group(
    data: pd.DataFrame,
    *,
    x: str,
    y: str = "elpd_diff",
    logx: bool = True,
    label_top: int = 3,
    ax=None,
    share_ax=None,
    xlabel: str | None = None,
    ylabel: str = "elpd difference, summed over the group's rows",
    title: str | None = None,
) -> Axes:
    """Per-group elpd differences against a group characteristic, with the running share.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per group; the index labels the groups.
    x : str
        Column to sort and plot the groups by (e.g. a residual SD).
    y : str
        Column with each group's summed pointwise elpd difference (model B minus model A).
    logx : bool
        Logarithmic x axis.
    label_top : int
        Label this many groups with the largest ``y`` by their index.
    ax : matplotlib.axes.Axes, optional
        Axes for the scatter (a new figure when None).
    share_ax : matplotlib.axes.Axes, optional
        If given, the cumulative share of the total difference, groups taken in increasing
        ``x``, is drawn on it.
    xlabel, ylabel, title : str, optional
        Axis labels and title (``xlabel`` defaults to ``x``).

    Returns
    -------
    matplotlib.axes.Axes
        The scatter's Axes.

    Raises
    ------
    TypeError
        ``data`` not a DataFrame; ``ax``/``share_ax`` not Axes; ``label_top`` not an int.
    KeyError
        ``x`` or ``y`` not a column.
    ValueError
        Empty data; non-finite values; ``logx`` with a non-positive ``x``; ``label_top`` < 0;
        a total of zero with ``share_ax``.
    """
    data = _frame(data)
    _columns(data, x=x, y=y)
    if not isinstance(label_top, int) or isinstance(label_top, bool):
        raise TypeError(f"label_top must be an int, got {label_top!r}")
    if label_top < 0:
        raise ValueError(f"label_top must be >= 0, got {label_top}")
    values = data[[x, y]].astype(float)
    if not np.all(np.isfinite(values.to_numpy())):
        raise ValueError(f"columns {x!r} and {y!r} must be finite")
    if logx and (values[x] <= 0).any():
        raise ValueError(f"logx=True needs {x!r} > 0 for every group")
    if share_ax is not None and not isinstance(share_ax, Axes):
        raise TypeError(f"share_ax must be a matplotlib Axes or None, got "
                        f"{type(share_ax).__name__}")
    ax = _axes(ax, (6, 4))
    ax.scatter(values[x], values[y], s=14, color=DATA_COLOUR, alpha=0.8)
    ax.axhline(0, color="0.5", lw=0.8, ls="--")
    for label, row in values.nlargest(label_top, y).iterrows():
        ax.annotate(str(label), (row[x], row[y]), xytext=(4, 2), textcoords="offset points",
                    fontsize=8)
    if logx:
        ax.set_xscale("log")
    ax.set(xlabel=xlabel or x, ylabel=ylabel)
    if title:
        ax.set_title(title)
    if share_ax is not None:
        total = float(values[y].sum())
        if total == 0:
            raise ValueError("the total difference is zero, so its shares are undefined")
        ordered = values.sort_values(x)
        share = ordered[y].cumsum() / total
        share_ax.step(np.arange(1, len(ordered) + 1), share, where="post",
                      color=POPULATION_COLOUR)
        share_ax.axhline(1, color="0.5", lw=0.8, ls="--")
        share_ax.set(xlabel=f"groups included, in increasing {xlabel or x}",
                     ylabel="share of the total difference")
    return ax
