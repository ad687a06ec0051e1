"""Figures of curves and distributions: bands over a covariate, prior predictive draws, prior
against posterior, and parameter recovery.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes

from course_pkg.plots._base import DATA_COLOUR, _axes, _columns, _frame


def bands(
    frame: pd.DataFrame,
    *,
    x: str,
    estimate: str,
    lower: str,
    upper: str,
    outer: tuple[str, str] | None = None,
    data: pd.DataFrame | None = None,
    data_x: str | None = None,
    data_y: str | None = None,
    color="tab:blue",
    label: str | None = "posterior mean",
    band_label: str | None = None,
    outer_label: str | None = None,
    legend: bool = True,
    xlabel: str | None = None,
    ylabel: str | None = None,
    title: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """A curve over a covariate with its interval band (and an outer, e.g. predictive, band).

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per grid value of ``x``.
    x, estimate, lower, upper : str
        Columns: the covariate, the curve, and the inner band's bounds (credible interval).
    outer : tuple of str, optional
        Columns of a wider band drawn lighter behind (e.g. the prediction interval).
    data : pandas.DataFrame, optional
        Observations drawn as points, columns ``data_x`` and ``data_y`` (default ``x``, ``estimate``).
    color, label, xlabel, ylabel, title : optional
        Axis labels default to the column names; ``""`` leaves an axis unlabelled (small
        multiples).
    band_label, outer_label : str, optional
        Legend entries of the inner and the outer band.
    legend : bool
        Draw a legend (off for small multiples).
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    frame = _frame(frame, "frame")
    _columns(frame, "frame", x=x, estimate=estimate, lower=lower, upper=upper)
    if outer is not None:
        if not (isinstance(outer, tuple | list) and len(outer) == 2):
            raise TypeError(f"outer must be a pair of column names, got {outer!r}")
        _columns(frame, "frame", outer_lower=outer[0], outer_upper=outer[1])
    frame = frame.sort_values(x)
    ax = _axes(ax, (6, 4))
    if outer is not None:
        ax.fill_between(frame[x], frame[outer[0]], frame[outer[1]], color=color, alpha=0.15, lw=0,
                        label=outer_label)
    ax.fill_between(frame[x], frame[lower], frame[upper], color=color, alpha=0.4, lw=0,
                    label=band_label)
    ax.plot(frame[x], frame[estimate], color=color, lw=1.5, label=label)
    if data is not None:
        data = _frame(data)
        data_x, data_y = data_x or x, data_y or estimate
        _columns(data, data_x=data_x, data_y=data_y)
        ax.scatter(data[data_x], data[data_y], color=DATA_COLOUR, s=10, zorder=3, label="data")
    ax.set(xlabel=x if xlabel is None else xlabel,
           ylabel=estimate if ylabel is None else ylabel, title=title)
    if legend and (label is not None or data is not None):
        ax.legend(loc="best", fontsize=9)
    return ax


def prior_predictive(
    draws,
    x,
    *,
    data: pd.DataFrame | None = None,
    data_x: str | None = None,
    data_y: str | None = None,
    n_lines: int = 50,
    seed: int = 0,
    xlabel: str = "x",
    ylabel: str = "y",
    title: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Curves drawn from the prior (one per draw) with the observed data on top.

    Parameters
    ----------
    draws : array_like
        Prior predictive (or prior mean) curves evaluated at ``x``, one row per draw
        (shape n_draws by the length of ``x``).
    x : array_like
        The covariate grid.
    data : pandas.DataFrame, optional
        Observations, columns ``data_x`` and ``data_y``.
    n_lines : int
        At most this many curves, chosen at random with ``seed``.
    xlabel, ylabel, title : str
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
    """
    curves = np.asarray(draws, dtype=float)
    grid = np.asarray(x, dtype=float)
    if grid.ndim != 1:
        raise ValueError(f"x must be one-dimensional, got shape {grid.shape}")
    if curves.ndim != 2 or curves.shape[1] != grid.size:
        raise ValueError(f"draws must have shape (n_draws, {grid.size}) to match x, got "
                         f"{curves.shape}")
    if not isinstance(n_lines, int | np.integer) or isinstance(n_lines, bool) or n_lines < 1:
        raise ValueError(f"n_lines must be a positive int, got {n_lines!r}")
    if curves.shape[0] > n_lines:
        keep = np.random.default_rng(seed).choice(curves.shape[0], n_lines, replace=False)
        curves = curves[np.sort(keep)]
    ax = _axes(ax, (6, 4))
    ax.plot(grid, curves.T, color="tab:blue", alpha=0.25, lw=0.8)
    if data is not None:
        data = _frame(data)
        if data_x is None or data_y is None:
            raise ValueError("data needs data_x=... and data_y=... naming its columns")
        _columns(data, data_x=data_x, data_y=data_y)
        ax.scatter(data[data_x], data[data_y], color=DATA_COLOUR, s=10, zorder=3, label="data")
        ax.legend(loc="best", fontsize=9)
    ax.set(xlabel=xlabel, ylabel=ylabel,
           title=title or f"{len(curves)} prior draws" + (" and the data" if data is not None else ""))
    return ax


def prior_posterior(
    prior,
    posterior,
    *,
    name: str,
    reference: float | None = None,
    xlim: tuple[float, float] | None = None,
    bins: int = 60,
    binning: str = "shared",
    ax: Axes | None = None,
) -> Axes:
    """Histograms (as densities) of one parameter's prior and posterior draws on one axis.

    Parameters
    ----------
    prior, posterior : array_like
        Draws of the parameter (any shape; flattened). A DataArray works too.
    name : str
        The parameter, with units where it has them (x-axis label).
    reference : float, optional
        A value to mark (e.g. the truth of a simulation, or the source's estimate).
    xlim : tuple of float, optional
        ``(low, high)``: the range of the x-axis and of the prior's bins (heavy-tailed priors
        otherwise stretch it); the draws' range by default. The prior's histogram is of its draws
        inside it, normalised over it.
    bins : int
        Number of bins of each histogram (at least 2).
    binning : {"shared", "own"}
        ``"shared"`` (default): prior and posterior on the same ``bins`` bins across the axis,
        the posterior too restricted to the axis and normalised over it; right when the two have
        similar widths. ``"own"``: the posterior on ``bins`` bins across its own range (smallest
        to largest draw), normalised over all its draws, filled and outlined by a line drawn
        above the prior and the reference; use it when the posterior is a spike inside a wide
        prior, whose few shared bins would average the spike away and draw its peak far too
        low (the outline keeps a spike narrower than a pixel visible at its full height).
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    TypeError
        ``name`` is not a non-empty str, or ``bins`` is not an int.
    ValueError
        Fewer than two finite draws in either input, ``bins`` < 2, ``xlim`` not an increasing
        pair of finite numbers, or ``binning`` not ``"shared"`` or ``"own"``.
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty str, got {name!r}")
    if isinstance(bins, bool) or not isinstance(bins, int | np.integer):
        raise TypeError(f"bins must be an int, got {type(bins).__name__}")
    if bins < 2:
        raise ValueError(f"bins must be at least 2, got {bins}")
    if binning not in ("shared", "own"):
        raise ValueError(f"binning must be 'shared' or 'own', got {binning!r}")
    values = {}
    for label, draws in (("prior", prior), ("posterior", posterior)):
        arr = np.asarray(draws, dtype=float).ravel()
        if arr.size < 2 or not np.all(np.isfinite(arr)):
            raise ValueError(f"{label} must hold at least two finite draws")
        values[label] = arr
    limits = xlim
    if limits is None:
        both = np.concatenate(list(values.values()))
        limits = (float(both.min()), float(both.max()))
    if len(limits) != 2 or not np.all(np.isfinite(limits)) or not limits[0] < limits[1]:
        raise ValueError(f"xlim must be an increasing pair of finite numbers, got {xlim!r}")
    low, high = float(limits[0]), float(limits[1])
    ax = _axes(ax, (5, 3.5))
    # Histograms, not kernel densities: a KDE would smear mass below a bound such as 0 (a
    # half-Cauchy's density is largest at 0, a KDE's falls there).
    edges = np.linspace(low, high, bins + 1)
    within = " (within the axis)" if xlim is not None else ""
    prior_arr = values["prior"]
    ax.hist(prior_arr[(prior_arr >= low) & (prior_arr <= high)], bins=edges, density=True,
            histtype="stepfilled", color="0.55", alpha=0.45, label="prior" + within)
    post = values["posterior"]
    if binning == "shared":
        ax.hist(post[(post >= low) & (post <= high)], bins=edges, density=True,
                histtype="stepfilled", color="tab:blue", alpha=0.45, label="posterior" + within)
    else:
        # A spike far narrower than a pixel: its filled bars vanish when rendered, so its
        # outline is drawn as a line on top of everything (reference line included).
        own = np.linspace(post.min(), post.max(), bins + 1)
        ax.hist(post, bins=own, density=True, histtype="stepfilled", color="tab:blue",
                alpha=0.3, zorder=2)
        ax.hist(post, bins=own, density=True, histtype="step", color="tab:blue", lw=1.5,
                zorder=4, label="posterior")
    if reference is not None:
        ax.axvline(reference, color="black", ls="--", lw=1, zorder=3, label="reference")
    ax.set_xlim(low, high)
    ax.set(xlabel=name, ylabel="density")
    ax.legend(loc="best", fontsize=9)
    return ax


def recovery(table: pd.DataFrame, *, centre: bool = False, title: str | None = None,
             ax: Axes | None = None) -> Axes:
    """Known values of a simulation against their posterior intervals, one row per parameter.

    Parameters
    ----------
    table : pandas.DataFrame
        As :func:`course_pkg.diagnostics.check_recovery` returns it: columns ``parameter``,
        ``truth``, ``mean``, ``lower``, ``upper`` and ``covered``.
    centre : bool
        Subtract each parameter's true value, so that parameters on different scales share one
        axis (estimate minus truth; the truth is the zero line).
    title : str, optional
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes
        Intervals in grey (red when they miss), posterior means as dots, truths as crosses (or the
        zero line when centred).
    """
    table = _frame(table, "table")
    _columns(table, "table", parameter="parameter", truth="truth", mean="mean", lower="lower",
             upper="upper", covered="covered")
    shift = table["truth"].to_numpy(dtype=float) if centre else 0.0
    ax = _axes(ax, (6, 0.8 + 0.3 * len(table)))
    row = np.arange(len(table))[::-1]
    colours = np.where(table["covered"].to_numpy(dtype=bool), "0.5", "tab:red")
    ax.hlines(row, table["lower"] - shift, table["upper"] - shift, color=colours, lw=2)
    ax.scatter(table["mean"] - shift, row, color="tab:blue", s=15, zorder=3,
               label="posterior mean")
    if centre:
        ax.axvline(0.0, color="black", lw=1, ls="--", label="truth")
    else:
        ax.scatter(table["truth"], row, color="black", marker="x", s=30, zorder=4, label="truth")
    ax.set_yticks(row, table["parameter"].astype(str))
    ax.set(xlabel="estimate minus truth" if centre else "value", title=title)
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=9)  # clear of the rows
    return ax
