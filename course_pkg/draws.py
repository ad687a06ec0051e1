"""Tidy (long) tables of posterior draws, in the spirit of R's tidybayes.

The figures of a Bayesian analysis are easiest to draw from a long table: one row per draw (and
per person, or per row of new data), with the chain and draw numbers beside the value. R users
get such tables from tidybayes' ``spread_draws``, ``add_epred_draws`` and
``add_predicted_draws``; this module plays that role for the fits PyMC 6 and Bambi return
(:class:`xarray.DataTree`) and Bambi models.

The reshaping is done by xarray (``Dataset.to_dataframe``) and the predictions by
:meth:`bambi.Model.predict`; what is written here by hand is only the tidybayes-style layout
(``.chain``, ``.iteration``, ``.draw`` and ``.row`` columns counted from 1, the value columns
``.epred`` / ``.prediction``) and :func:`mean_qi`, because no Python library ships that layout.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from course_pkg import _datatree

__all__ = [
    "DRAW_COLUMNS",
    "add_epred_draws",
    "add_predicted_draws",
    "level_intervals",
    "mean_qi",
    "spread_draws",
]

#: The bookkeeping columns every table from this module starts with (all counted from 1).
DRAW_COLUMNS = (".chain", ".iteration", ".draw")


def _require_idata(idata, group: str) -> None:
    if not isinstance(group, str):
        raise TypeError(f"group must be a str naming a group of the fit, got {group!r}")
    _datatree.require(idata, group_name=group)


def _number_draws(df: pd.DataFrame, n_draws: int) -> pd.DataFrame:
    """Replace xarray's 0-based ``chain``/``draw`` columns with tidybayes' 1-based ones."""
    chain_values = df.pop("chain").to_numpy()
    draw_values = df.pop("draw").to_numpy()
    chain_codes = pd.factorize(chain_values, sort=True)[0]
    draw_codes = pd.factorize(draw_values, sort=True)[0]
    df.insert(0, ".chain", chain_codes + 1)
    df.insert(1, ".iteration", draw_codes + 1)
    df.insert(2, ".draw", chain_codes * n_draws + draw_codes + 1)
    return df


def spread_draws(
    idata,
    var_names: str | Sequence[str],
    *,
    group: str = "posterior",
    dims: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """One row per draw (and per element of the variables' dimensions), one column per variable.

    The analogue of tidybayes' ``spread_draws``: variables that share dimensions are laid side
    by side, and a scalar variable (a grand mean, say) is repeated along the dimensions of the
    others, so ``Intercept + 1|id`` is a column sum.

    Parameters
    ----------
    idata : xarray.DataTree
        Fitted model.
    var_names : str or sequence of str
        Variables of ``group`` to include, at least one.
    group : str
        Group of the fit to read (default ``"posterior"``).
    dims : mapping of str to str, optional
        New names for dimension columns, e.g. ``{"id__factor_dim": "id"}`` for Bambi's
        group-level coordinates.

    Returns
    -------
    pandas.DataFrame
        Columns ``.chain``, ``.iteration`` (within chain), ``.draw`` (across chains), all
        counted from 1; then one column per non-sample dimension (its coordinate labels); then
        one column per variable. Rows: chains x draws x product of the dimension sizes.

    Raises
    ------
    TypeError
        ``idata`` is not a DataTree, ``var_names`` or ``dims`` has the wrong type.
    ValueError
        ``group`` is missing, ``var_names`` is empty or names variables not in ``group``, or
        ``dims`` renames a dimension the variables do not have.

    Examples
    --------
    >>> import numpy as np, arviz as az
    >>> idata = az.from_dict({"posterior": {"mu": np.zeros((2, 3))}})
    >>> spread_draws(idata, "mu").shape
    (6, 4)
    """
    _require_idata(idata, group)
    if isinstance(var_names, str):
        var_names = [var_names]
    if not isinstance(var_names, Sequence) or not all(isinstance(v, str) for v in var_names):
        raise TypeError(f"var_names must be a str or a sequence of str, got {var_names!r}")
    var_names = list(var_names)
    if not var_names:
        raise ValueError("var_names is empty: name at least one variable")
    data = _datatree.group(idata, group)
    missing = [v for v in var_names if v not in data.data_vars]
    if missing:
        raise ValueError(
            f"var_names has names not in the {group} group: {missing}; "
            f"available: {list(data.data_vars)}"
        )
    if dims is not None and not isinstance(dims, Mapping):
        raise TypeError(f"dims must be a mapping old name -> new name, got {type(dims).__name__}")
    ds = data[var_names]
    present = [d for d in ds.dims if d not in ("chain", "draw")]
    if dims:
        unknown = [d for d in dims if d not in present]
        if unknown:
            raise ValueError(f"dims renames {unknown}, but the variables' dimensions are {present}")
    # Drop coordinates that are not dimensions (they would become stray columns).
    ds = ds.reset_coords(drop=True)
    order = ["chain", "draw", *present]
    df = ds.to_dataframe(dim_order=order).reset_index()
    df = _number_draws(df, n_draws=ds.sizes["draw"])
    if dims:
        df = df.rename(columns=dict(dims))
    return df


def _require_model(model) -> None:
    import bambi as bmb

    if not isinstance(model, bmb.Model):
        raise TypeError(f"model must be a bambi.Model, got {type(model).__name__}")


def _require_newdata(newdata) -> None:
    if not isinstance(newdata, pd.DataFrame):
        raise TypeError(f"newdata must be a pandas.DataFrame, got {type(newdata).__name__}")
    if newdata.empty:
        raise ValueError("newdata has no rows: pass the rows to predict for")
    clash = [c for c in newdata.columns if c in (*DRAW_COLUMNS, ".row")]
    if clash:
        raise ValueError(f"newdata already has bookkeeping columns {clash}; drop them first")


def _join_draws(newdata: pd.DataFrame, values, name: str) -> pd.DataFrame:
    """Long table: newdata's rows repeated for every draw, with the drawn values beside them."""
    # values: DataArray (chain, draw, __obs__)
    values = values.transpose("chain", "draw", "__obs__")
    n_chain, n_draw, n_obs = values.shape
    if n_obs != len(newdata):
        raise RuntimeError(
            f"Bambi returned {n_obs} predictions for {len(newdata)} rows of newdata"
        )
    row = np.tile(np.arange(n_obs), n_chain * n_draw)
    chain = np.repeat(np.arange(n_chain), n_draw * n_obs)
    iteration = np.tile(np.repeat(np.arange(n_draw), n_obs), n_chain)
    out = newdata.reset_index(drop=True).iloc[row].reset_index(drop=True)
    out[".row"] = row + 1
    out[".chain"] = chain + 1
    out[".iteration"] = iteration + 1
    out[".draw"] = chain * n_draw + iteration + 1
    out[name] = values.values.reshape(-1)
    return out


def _predict(newdata, model, idata, kind, sample_new_groups, random_seed):
    """Validate the inputs and run ``model.predict`` without touching ``idata``."""
    _require_newdata(newdata)
    _require_model(model)
    _require_idata(idata, "posterior")
    if not sample_new_groups:
        return model.predict(idata, kind=kind, data=newdata, inplace=False,
                             random_seed=random_seed)
    # Bambi 0.21 still needs sample_new_groups=True to predict for unseen groups (brms's
    # allow_new_levels); it warns that the switch will go once new groups are handled by default.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="'sample_new_groups' is deprecated",
                                category=FutureWarning)
        return model.predict(idata, kind=kind, data=newdata, inplace=False,
                             sample_new_groups=True, random_seed=random_seed)


def add_epred_draws(
    newdata: pd.DataFrame,
    model,
    idata,
    *,
    sample_new_groups: bool = False,
    random_seed: int | None = None,
) -> pd.DataFrame:
    """Draws of the expected value (the mean of the response) for each row of new data.

    The analogue of tidybayes' ``add_epred_draws``; the draws come from
    ``model.predict(idata, kind="response_params", data=newdata, inplace=False)``.

    Parameters
    ----------
    newdata : pandas.DataFrame
        Rows to predict for, with every column the model's formula uses.
    model : bambi.Model
        The model that produced ``idata``.
    idata : xarray.DataTree
        Its fit (with a posterior group); it is not modified.
    sample_new_groups : bool
        Allow levels of a grouping factor the model has not seen (Bambi draws their effects as
        brms does with ``allow_new_levels = TRUE``).
    random_seed : int, optional
        Seed for the draws of new groups.

    Returns
    -------
    pandas.DataFrame
        ``newdata``'s columns repeated for every draw, plus ``.row`` (which row of
        ``newdata``, from 1), ``.chain``, ``.iteration``, ``.draw`` and ``.epred``.

    Raises
    ------
    TypeError
        Wrong type for ``newdata``, ``model`` or ``idata``.
    ValueError
        ``newdata`` is empty or already has bookkeeping columns, ``idata`` has no posterior.

    Examples
    --------
    >>> epred = add_epred_draws(pd.DataFrame({"id": [48]}), model, idata)  # doctest: +SKIP
    >>> epred.columns[-1]  # doctest: +SKIP
    '.epred'
    """
    pred = _predict(newdata, model, idata, "response_params", sample_new_groups, random_seed)
    parent = model.family.likelihood.parent
    return _join_draws(newdata, pred.posterior[parent], ".epred")


def add_predicted_draws(
    newdata: pd.DataFrame,
    model,
    idata,
    *,
    sample_new_groups: bool = False,
    random_seed: int | None = None,
) -> pd.DataFrame:
    """Draws from the posterior predictive distribution (new observations) for each row.

    The analogue of tidybayes' ``add_predicted_draws``: like :func:`add_epred_draws`, but each
    draw adds the observation-level noise, so the draws scatter more. Uses
    ``model.predict(idata, kind="response", ...)``.

    Parameters
    ----------
    newdata : pandas.DataFrame
        Rows to predict for.
    model : bambi.Model
        The model that produced ``idata``.
    idata : xarray.DataTree
        Its fit; not modified.
    sample_new_groups : bool
        Allow unseen levels of a grouping factor.
    random_seed : int, optional
        Seed for the predictive draws (set it for reproducible tables).

    Returns
    -------
    pandas.DataFrame
        As :func:`add_epred_draws`, with the value column ``.prediction``.

    Raises
    ------
    TypeError
        Wrong type for ``newdata``, ``model`` or ``idata``.
    ValueError
        ``newdata`` is empty or already has bookkeeping columns, ``idata`` has no posterior.

    Examples
    --------
    >>> pred = add_predicted_draws(nd, model, idata, random_seed=1)  # doctest: +SKIP
    """
    pred = _predict(newdata, model, idata, "response", sample_new_groups, random_seed)
    name = model.response_term.name
    return _join_draws(newdata, pred.posterior_predictive[name], ".prediction")


def mean_qi(
    draws: pd.DataFrame,
    value: str,
    by: str | Sequence[str] | None = None,
    *,
    width: float = 0.95,
) -> pd.DataFrame:
    """Posterior mean and equal-tailed (quantile) interval of a column, per group.

    tidybayes' ``mean_qi``, hand-written with pandas. The default 95% equal-tailed interval is
    the one brms prints.

    Parameters
    ----------
    draws : pandas.DataFrame
        A long table of draws (from this module, say).
    value : str
        Column to summarise.
    by : str or sequence of str, optional
        Columns to group by; one row for the whole table when ``None``.
    width : float
        Interval mass, strictly between 0 and 1.

    Returns
    -------
    pandas.DataFrame
        Columns ``by...``, ``value`` (the mean), ``.lower``, ``.upper``, ``.width``.

    Raises
    ------
    TypeError
        ``draws`` is not a DataFrame.
    ValueError
        Unknown column names or a width outside (0, 1).

    Examples
    --------
    >>> df = pd.DataFrame({"g": ["a", "a", "b", "b"], "x": [0.0, 2.0, 1.0, 3.0]})
    >>> mean_qi(df, "x", by="g", width=0.5)["x"].tolist()
    [1.0, 2.0]
    """
    if not isinstance(draws, pd.DataFrame):
        raise TypeError(f"draws must be a pandas.DataFrame, got {type(draws).__name__}")
    by_cols = [] if by is None else ([by] if isinstance(by, str) else list(by))
    missing = [c for c in [value, *by_cols] if c not in draws.columns]
    if missing:
        raise ValueError(f"columns {missing} not in draws; columns are {list(draws.columns)}")
    if isinstance(width, bool) or not isinstance(width, int | float) or not 0 < width < 1:
        raise ValueError(f"width must be a number strictly between 0 and 1, got {width!r}")
    tail = (1 - width) / 2
    if by_cols:
        grouped = draws.groupby(by_cols, observed=True, sort=True)[value]
        out = pd.DataFrame({
            value: grouped.mean(),
            ".lower": grouped.quantile(tail),
            ".upper": grouped.quantile(1 - tail),
        }).reset_index()
    else:
        col = draws[value]
        out = pd.DataFrame({value: [col.mean()], ".lower": [col.quantile(tail)],
                            ".upper": [col.quantile(1 - tail)]})
    out[".width"] = width
    return out


def level_intervals(draws, name: str, *, prob: float = 0.95) -> pd.DataFrame:
    """Posterior mean and equal-tailed interval of a quantity per group level, in one row each.

    For a derived quantity (a person's expected level, their residual SD) computed from a
    posterior as an xarray DataArray with dims ``(chain, draw, <level dim>)``.

    Parameters
    ----------
    draws : xarray.DataArray
        Dims ``chain``, ``draw`` and one more (the levels).
    name : str
        Column name of the mean; the bounds are ``<name>_lo`` and ``<name>_hi``.
    prob : float
        Interval mass, strictly between 0 and 1.

    Returns
    -------
    pandas.DataFrame
        Indexed by the level coordinate.

    Raises
    ------
    TypeError
        ``draws`` is not a DataArray.
    ValueError
        Dims other than ``chain``, ``draw`` and one level dim; ``prob`` outside (0, 1).
    """
    import xarray as xr

    if not isinstance(draws, xr.DataArray):
        raise TypeError(f"draws must be an xarray.DataArray, got {type(draws).__name__}")
    extra = [d for d in draws.dims if d not in ("chain", "draw")]
    if len(extra) != 1 or {"chain", "draw"} - set(draws.dims):
        raise ValueError(f"draws must have dims (chain, draw, <levels>), got {draws.dims}")
    if isinstance(prob, bool) or not isinstance(prob, int | float) or not 0 < prob < 1:
        raise ValueError(f"prob must be a number strictly between 0 and 1, got {prob!r}")
    tail = (1 - prob) / 2
    q = draws.quantile([tail, 1 - tail], ("chain", "draw"))
    return pd.DataFrame({name: draws.mean(("chain", "draw")).values,
                         f"{name}_lo": q.isel(quantile=0).values,
                         f"{name}_hi": q.isel(quantile=1).values},
                        index=pd.Index(draws[extra[0]].values, name=extra[0]))
