"""Figures that show what a multilevel model identifies: intercept-slope trade-offs, and each
group's fitted curve under several models side by side.

:func:`intercept_slope_pairs` draws, for every group (person), posterior draws of its own
intercept against a shared slope, coloured by a group-level covariate (dose group). When a
covariate is constant within groups and the group intercepts are free, the slope and the
intercepts trade off: the clouds tilt, one way for groups below the covariate's centre and the
other way above it. :func:`curves_by_person` puts each group's posterior mean curve under
several models in one panel per group. ArviZ's pair plot shows one variable against another;
neither colours a vector's elements by a covariate, so these are written with matplotlib.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from course_pkg.plots._base import DATA_COLOUR, _axes, _columns, _frame

__all__ = ["curves_by_person", "intercept_slope_pairs"]


def intercept_slope_pairs(
    idata,
    data: pd.DataFrame,
    *,
    intercept: str,
    slope: str,
    group: str = "id",
    hue: str = "dose_cat",
    palette=None,
    n_draws: int = 150,
    seed: int = 0,
    title: str | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Posterior draws of each group's intercept against a shared slope, coloured by ``hue``.

    Parameters
    ----------
    idata : xarray.DataTree
        A fit whose posterior has ``intercept`` with one dimension over the groups and a scalar
        ``slope``.
    data : pandas.DataFrame
        One or more rows per group: columns ``group`` (values as the intercept's coordinate)
        and ``hue`` (constant within a group).
    intercept, slope : str
        Posterior variable names (e.g. ``"a0"`` and ``"a1"``).
    group, hue : str
        Columns of ``data``.
    palette : mapping, optional
        ``hue`` value to colour; matplotlib's cycle by default.
    n_draws : int
        Draws per group, chosen at random with ``seed`` (the same draws for every group).
    seed : int
    title : str, optional
    ax : matplotlib.axes.Axes, optional

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    TypeError
        ``idata`` without a posterior, ``data`` not a DataFrame, ``ax`` not an Axes.
    KeyError
        A variable or column is missing, or a group of the fit is not in ``data``.
    ValueError
        ``intercept`` not one-dimensional over the groups, ``slope`` not a scalar, ``n_draws``
        not a positive int, or ``hue`` not constant within a group.
    """
    from course_pkg import _datatree

    _datatree.require(idata, "idata")
    data = _frame(data)
    _columns(data, group=group, hue=hue)
    post = idata.posterior
    for name in (intercept, slope):
        if name not in post:
            raise KeyError(f"the posterior has no variable {name!r}")
    extra_a = [d for d in post[intercept].dims if d not in ("chain", "draw")]
    extra_s = [d for d in post[slope].dims if d not in ("chain", "draw")]
    if len(extra_a) != 1:
        raise ValueError(f"{intercept!r} must have one dimension over the groups besides chain "
                         f"and draw, has {extra_a}")
    if extra_s:
        raise ValueError(f"{slope!r} must be a scalar parameter, has dimensions {extra_s}")
    if isinstance(n_draws, bool) or not isinstance(n_draws, int | np.integer) or n_draws < 1:
        raise ValueError(f"n_draws must be a positive int, got {n_draws!r}")
    per_group = data.groupby(group, observed=True)[hue].nunique()
    if (per_group > 1).any():
        raise ValueError(f"{hue!r} must be constant within each {group!r}")
    labels = data.drop_duplicates(group).set_index(group)[hue]
    inter = post[intercept].stack(sample=("chain", "draw")).transpose(extra_a[0], "sample")
    slopes = post[slope].stack(sample=("chain", "draw")).values
    ids = inter.coords[extra_a[0]].values
    unknown = [i for i in ids if i not in labels.index]
    if unknown:
        raise KeyError(f"data lacks groups {unknown[:5]} of the fit")
    pick = np.random.default_rng(seed).choice(slopes.size, min(n_draws, slopes.size),
                                              replace=False)
    ax = _axes(ax, (4.5, 3.5))
    levels = list(pd.unique(labels.loc[ids]))
    if isinstance(labels.dtype, pd.CategoricalDtype):
        levels = [c for c in labels.cat.categories if c in levels]
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    values = inter.values
    for k, level in enumerate(levels):
        rows = np.flatnonzero(labels.loc[ids].to_numpy() == level)
        colour = palette[level] if palette is not None else cycle[k % len(cycle)]
        xs = np.repeat(slopes[pick][None, :], rows.size, axis=0).ravel()
        ys = values[rows][:, pick].ravel()
        ax.scatter(xs, ys, s=2, alpha=0.25, color=colour, rasterized=True)
        ax.scatter([], [], s=12, color=colour, label=str(level))  # legend handle
    ax.set(xlabel=slope, ylabel=f"{intercept}[i]", title=title)
    ax.legend(title=hue, fontsize=8, title_fontsize=8, loc="best", markerscale=1.5)
    return ax


def curves_by_person(
    curves: pd.DataFrame,
    data: pd.DataFrame,
    *,
    data_y: str = "outcome",
    models: Sequence[str] | None = None,
    palette=None,
    ncols: int = 8,
    panel_size: tuple[float, float] = (2.0, 1.6),
    ylim: tuple[float, float] | None = None,
    title: str | None = None,
) -> Figure:
    """One panel per person: the observations and each model's posterior mean curve.

    Parameters
    ----------
    curves : pandas.DataFrame
        As :func:`course_pkg.virus_identify.posterior_mean_curves` returns it: ``model``,
        ``id``, ``time``, ``mean`` (and ``dose_cat`` for the panel titles).
    data : pandas.DataFrame
        Observations: ``id``, ``time`` and ``data_y``.
    data_y : str
        Column of ``data`` drawn as points.
    models : sequence of str, optional
        Which models to draw, in this order (all, in order of appearance, by default).
    palette : mapping, optional
        Model label to colour.
    ncols : int
        Panels per row.
    panel_size : (float, float)
        Width and height of one panel in inches.
    ylim : (float, float), optional
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure
        Shared axes; one legend for the models.

    Raises
    ------
    TypeError
        ``curves`` or ``data`` not a DataFrame.
    KeyError
        A column is missing, or a model in ``models`` is not in ``curves``.
    ValueError
        ``ncols`` not a positive int.
    """
    curves = _frame(curves, "curves")
    data = _frame(data)
    _columns(curves, "curves", model="model", id="id", time="time", mean="mean")
    _columns(data, id="id", time="time", data_y=data_y)
    if isinstance(ncols, bool) or not isinstance(ncols, int | np.integer) or ncols < 1:
        raise ValueError(f"ncols must be a positive int, got {ncols!r}")
    present = list(pd.unique(curves["model"]))
    models = present if models is None else list(models)
    absent = [m for m in models if m not in present]
    if absent:
        raise KeyError(f"models {absent} are not in curves; it has {present}")
    ids = list(pd.unique(curves["id"]))
    nrows = -(-len(ids) // ncols)
    fig, axs = plt.subplots(nrows, ncols, sharex=True, sharey=True, squeeze=False,
                            figsize=(panel_size[0] * ncols, panel_size[1] * nrows + 0.6))
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    colours = {m: (palette[m] if palette is not None else cycle[k % len(cycle)])
               for k, m in enumerate(models)}
    for ax, pid in zip(axs.flat, ids, strict=False):
        obs = data[data["id"] == pid]
        ax.scatter(obs["time"], obs[data_y], s=6, color=DATA_COLOUR, zorder=3)
        mine = curves[curves["id"] == pid]
        for m in models:
            c = mine[mine["model"] == m]
            ax.plot(c["time"], c["mean"], color=colours[m], lw=1.1, label=m)
        label = f"id {pid}"
        if "dose_cat" in mine.columns:
            label += f" ({mine['dose_cat'].iloc[0]})"
        ax.set_title(label, fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axs.flat[len(ids):]:
        ax.set_visible(False)
    if ylim is not None:
        axs.flat[0].set_ylim(ylim)
    handles, names = axs.flat[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=len(models), fontsize=8,
               frameon=False)
    if title:
        fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig
