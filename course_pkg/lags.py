"""Lagged predictors in daily panels, and a check of what a column called "lag" really holds.

Intensive longitudinal data (one report a day per person) are often analysed with the previous
day's value as a predictor. Two things make that column easy to get wrong: days can be missing,
so the previous *row* is not always the previous *day*, and the raw lagged value mixes a person's
typical level (between people) with their day-to-day fluctuation (within a person). Hamaker and
Grasman (2015) centre the lagged predictor on each person's own mean, so that its coefficient is
a within-person carry-over.

- :func:`lag_within`: the value ``lag`` days earlier for the same person (missing when that day
  was not reported), optionally centred on the person's mean.
- :func:`within_cross_correlation`: the within-person correlation of one column with another
  ``s`` days apart, for a range of ``s``, which shows which day a column lines up with.
- :func:`day_gap_counts`: how often each gap between consecutive reported days occurs.
- :func:`within_residuals`: residuals of one least-squares regression per person.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from numbers import Integral

import numpy as np
import pandas as pd

__all__ = ["day_gap_counts", "lag_within", "within_cross_correlation", "within_residuals"]


def _check_frame(data, group: str, time: str, columns: Sequence[str]) -> None:
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    for argument, name in [("group", group), ("time", time)] + [("columns", c) for c in columns]:
        if not isinstance(name, str):
            raise TypeError(f"{argument} must name columns as str, got {name!r}")
        if name not in data.columns:
            raise KeyError(f"{argument}: column {name!r} is not in data (columns: "
                           f"{list(data.columns)})")
    if data[time].isna().any() or not pd.api.types.is_integer_dtype(data[time]):
        raise ValueError(f"time column {time!r} must hold integer days with no missing values, "
                         f"got dtype {data[time].dtype}")
    if data.duplicated([group, time]).any():
        raise ValueError(f"each ({group}, {time}) pair must occur once; data has duplicates")


def _as_columns(columns, name: str = "columns") -> list[str]:
    if isinstance(columns, str):
        return [columns]
    if not isinstance(columns, Iterable):
        raise TypeError(f"{name} must be a str or a sequence of str, got {columns!r}")
    columns = list(columns)
    if not columns:
        raise ValueError(f"{name} must name at least one column")
    return columns


def lag_within(
    data: pd.DataFrame,
    columns,
    *,
    group: str = "id",
    time: str = "day",
    lag: int = 1,
    center: bool = True,
    suffix: str = "_lag1",
) -> pd.DataFrame:
    """Each row's value of ``columns`` from ``lag`` days earlier, for the same person.

    The earlier value is looked up by day, not by row: a row whose day ``time - lag`` was not
    reported gets a missing value (NaN), so gaps in the days never pair two non-adjacent days.
    With ``center=True`` the person's mean of the column (over all their rows) is subtracted, so
    the lagged predictor carries only the within-person deviation (Hamaker & Grasman 2015).

    Parameters
    ----------
    data : pandas.DataFrame
        One row per person and day.
    columns : str, sequence of str or dict
        Columns to lag; a dict maps each column to the name of its new column (``suffix`` is
        then not used).
    group, time : str
        The person column and the integer day column.
    lag : int
        Days back (>= 1).
    center : bool
        Subtract each person's mean of the column from the lagged value.
    suffix : str
        Appended to each column's name for the new column.

    Returns
    -------
    pandas.DataFrame
        A copy of ``data`` (same rows, same order) with one new column per lagged column.

    Raises
    ------
    TypeError
        ``data`` not a DataFrame; a column name not a str; ``lag`` not an int; ``center`` not
        a bool.
    KeyError
        A named column is missing.
    ValueError
        ``lag`` < 1; ``time`` not integer; a (person, day) pair occurring twice; a new column's
        name already in ``data``.
    """
    if isinstance(columns, dict):
        new = [str(n) for n in columns.values()]
        columns = _as_columns(list(columns))
    else:
        columns = _as_columns(columns)
        new = [f"{c}{suffix}" for c in columns]
    _check_frame(data, group, time, columns)
    if not isinstance(lag, Integral) or isinstance(lag, bool):
        raise TypeError(f"lag must be an int, got {lag!r}")
    if lag < 1:
        raise ValueError(f"lag must be >= 1 (days back), got {lag}")
    if not isinstance(center, bool):
        raise TypeError(f"center must be a bool, got {center!r}")
    clash = [n for n in new if n in data.columns]
    if clash:
        raise ValueError(f"columns {clash} already exist in data; choose other names")
    values = data[columns].astype(float)
    if center:
        values = values - values.groupby(data[group], observed=True).transform("mean")
    earlier = pd.DataFrame({group: data[group].to_numpy(),
                            time: data[time].to_numpy() + int(lag)})
    earlier[new] = values.to_numpy()
    keys = pd.DataFrame({group: data[group].to_numpy(), time: data[time].to_numpy()})
    looked_up = keys.merge(earlier, on=[group, time], how="left")
    out = data.copy()
    for n in new:
        out[n] = looked_up[n].to_numpy()
    return out


def within_cross_correlation(
    data: pd.DataFrame,
    x: str,
    y: str,
    *,
    group: str = "id",
    time: str = "day",
    shifts: Iterable[int] = range(-3, 4),
) -> pd.Series:
    """Within-person correlation of ``x`` on day t with ``y`` on day t - s, for each shift s.

    Both columns are centred on each person's mean first, so the correlation is about day-to-day
    fluctuations, not about people's typical levels. Only pairs of rows exactly ``s`` days apart
    (same person) enter; ``s = 0`` pairs each row with itself, ``s = 1`` with the previous day,
    ``s = -1`` with the next day. A column that is ``y`` lagged by one day correlates most at
    ``s = 1``.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per person and day.
    x, y : str
        The two columns.
    group, time : str
        The person column and the integer day column.
    shifts : iterable of int
        The day shifts s.

    Returns
    -------
    pandas.Series
        Correlations indexed by shift (name ``"correlation"``), with ``attrs["pairs"]``, a
        Series of the number of pairs behind each.

    Raises
    ------
    TypeError, KeyError, ValueError
        As :func:`lag_within`; also a shift that is not an int.
    """
    _check_frame(data, group, time, [x, y])
    shifts = list(shifts)
    if not shifts or not all(isinstance(s, Integral) and not isinstance(s, bool)
                             for s in shifts):
        raise TypeError(f"shifts must be a non-empty sequence of int, got {shifts!r}")
    groups = data[group]

    def centred(column: str) -> np.ndarray:  # x and y may be the same column
        values = data[column].astype(float)
        return (values - values.groupby(groups, observed=True).transform("mean")).to_numpy()

    base = pd.DataFrame({group: groups.to_numpy(), time: data[time].to_numpy(),
                         "x": centred(x)})
    other = pd.DataFrame({group: groups.to_numpy(), time: data[time].to_numpy(),
                          "y": centred(y)})
    corr, pairs = {}, {}
    for s in shifts:
        moved = other.assign(**{time: other[time] + int(s)})
        both = base.merge(moved, on=[group, time], how="inner").dropna()
        pairs[int(s)] = len(both)
        corr[int(s)] = (float(np.corrcoef(both["x"], both["y"])[0, 1]) if len(both) > 2
                        else np.nan)
    result = pd.Series(corr, name="correlation")
    result.index.name = "shift"
    result.attrs["pairs"] = pd.Series(pairs, name="pairs")
    return result


def day_gap_counts(data: pd.DataFrame, *, group: str = "id", time: str = "day") -> pd.Series:
    """How often each gap occurs between a person's consecutive reported days.

    A gap of 1 means two reports on adjacent days, 2 means one day missing in between, and so
    on. A file whose lagged column was computed by day and whose rows without a lagged value
    were then dropped has no gaps of 2: a missing day t also removes day t + 1 (its lag is
    missing), so the shortest gap that survives is 3.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per person and day.
    group, time : str
        The person column and the integer day column.

    Returns
    -------
    pandas.Series
        Counts indexed by gap (int, every gap from 1 to the largest, zeros included), name
        ``"pairs"``.

    Raises
    ------
    TypeError, KeyError, ValueError
        As :func:`lag_within`; ValueError also when no person has two reports.
    """
    _check_frame(data, group, time, [])
    gaps = (data.sort_values([group, time]).groupby(group, observed=True)[time].diff()
            .dropna().astype(int))
    if gaps.empty:
        raise ValueError("no person has two reported days, so there are no gaps to count")
    counts = gaps.value_counts().reindex(range(1, int(gaps.max()) + 1), fill_value=0)
    counts.index.name = "gap"
    return counts.rename("pairs")


def within_residuals(
    data: pd.DataFrame,
    y: str,
    x: Sequence[str],
    *,
    group: str = "id",
) -> pd.Series:
    """Residuals of a separate least-squares regression of ``y`` on ``x`` for each person.

    Each person's ``y`` is regressed on an intercept and the columns ``x`` using only that
    person's rows; the residuals show what is left of ``y`` once the same rows' ``x`` are
    accounted for person by person (for example, whether any serial dependence remains).
    A person with no more rows than coefficients gets missing residuals.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per observation.
    y : str
        The outcome column.
    x : sequence of str
        The predictor columns (may be empty: residuals from the person's mean).
    group : str
        The person column.

    Returns
    -------
    pandas.Series
        Residuals aligned with ``data``'s index, name ``"residual"``.

    Raises
    ------
    TypeError
        ``data`` not a DataFrame, or a column name not a str.
    KeyError
        A named column is missing.
    ValueError
        Missing values in ``y`` or ``x``.
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    if isinstance(x, str):
        raise TypeError(f"x must be a sequence of column names, got the str {x!r}; "
                        f"use [{x!r}]")
    x = list(x)
    for argument, name in [("y", y), ("group", group)] + [("x", c) for c in x]:
        if not isinstance(name, str):
            raise TypeError(f"{argument} must name columns as str, got {name!r}")
        if name not in data.columns:
            raise KeyError(f"{argument}: column {name!r} is not in data")
    if data[[y, *x]].isna().any().any():
        raise ValueError(f"columns {[y, *x]} must have no missing values")
    out = pd.Series(np.nan, index=data.index, name="residual")
    for _, rows in data.groupby(group, observed=True):
        design = np.column_stack([np.ones(len(rows)), rows[x].to_numpy(float)])
        if len(rows) <= design.shape[1]:
            continue
        target = rows[y].to_numpy(float)
        coef, *_ = np.linalg.lstsq(design, target, rcond=None)
        out.loc[rows.index] = target - design @ coef
    return out
