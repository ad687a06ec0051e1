"""Style, colours and the argument checks shared by the course's figures."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes

#: Colours the course uses for a fitted population (lines, ellipses) and for data.
POPULATION_COLOUR = "#e07a5f"
DATA_COLOUR = "0.15"


def set_style(dpi: int = 80) -> None:
    """Set the course's figure style: seaborn's white grid, a modest resolution.

    Parameters
    ----------
    dpi : int
        Resolution of figures shown in the notebook (the committed outputs stay small).

    Raises
    ------
    ValueError
        If ``dpi`` is not a positive int.
    """
    if not isinstance(dpi, int | np.integer) or isinstance(dpi, bool) or dpi <= 0:
        raise ValueError(f"dpi must be a positive int, got {dpi!r}")
    sns.set_theme(style="whitegrid")
    plt.rcParams["figure.dpi"] = int(dpi)


# --- argument checks

def _axes(ax, figsize) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
        return ax
    if not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
    return ax


def _frame(data, argname: str = "data") -> pd.DataFrame:
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"{argname} must be a pandas.DataFrame, got {type(data).__name__}")
    if data.empty:
        raise ValueError(f"{argname} is empty")
    return data


def _columns(data: pd.DataFrame, argname: str = "data", **columns) -> None:
    """Raise naming the keyword whose column is missing from ``data``."""
    for keyword, column in columns.items():
        if column is None:
            continue
        if column not in data.columns:
            raise KeyError(f"{keyword}={column!r} is not a column of {argname}; it has "
                           f"{list(data.columns)}")


def _check_level(level, argname: str = "level") -> float:
    if not isinstance(level, int | float) or isinstance(level, bool) or not 0 < level < 1:
        raise ValueError(f"{argname} must be a probability strictly between 0 and 1, got {level!r}")
    return float(level)


