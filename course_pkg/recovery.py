"""Parameter recovery: does a fit to simulated data find the values the simulation used?

:func:`check_recovery` compares each known value with its posterior interval. It is exported from
:mod:`course_pkg.diagnostics` as well, next to the convergence gate and the parity checks. Neither
ArviZ nor PyMC has a recovery check (ArviZ's simulation-based calibration needs many fits; this is
the one-fit check a chapter shows), so it is written here with NumPy's equal-tailed quantiles (ArviZ's ``eti``), one pass per
variable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from numbers import Real

import numpy as np
import pandas as pd
from scipy import stats

from course_pkg import _datatree

__all__ = ["RecoveryError", "allowed_misses", "check_recovery", "recovery_summary"]


class RecoveryError(AssertionError):
    """A fit to simulated data whose intervals miss the known values more often than chance allows."""


def allowed_misses(n: int, prob: float, *, alpha: float = 0.01) -> int:
    """How many of ``n`` independent ``prob`` intervals may miss before chance is implausible.

    With calibrated intervals the number of misses is Binomial(n, 1 - prob); this returns the
    smallest m with P(misses > m) <= alpha. A single (scalar) parameter is held to zero misses.

    Examples
    --------
    >>> allowed_misses(1, 0.95)
    0
    >>> allowed_misses(100, 0.95)
    11
    """
    if not isinstance(n, int | np.integer) or isinstance(n, bool) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    if n == 1:
        return 0
    return int(stats.binom.ppf(1 - alpha, n, 1 - prob))


def _truth_array(name: str, value, shape: tuple[int, ...]) -> np.ndarray:
    arr = np.asarray(value, dtype=float)
    if arr.shape != shape and arr.size == int(np.prod(shape)) and arr.ndim <= 1:
        arr = arr.reshape(shape)
    if arr.shape != shape:
        raise ValueError(f"truth[{name!r}] has shape {arr.shape} but the posterior's {name!r} has "
                         f"shape {shape} per draw")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"truth[{name!r}] must be finite")
    return arr


def check_recovery(
    idata,
    truth: Mapping[str, object],
    *,
    prob: float = 0.95,
    var_names: Sequence[str] | None = None,
    alpha: float = 0.01,
    raise_on_miss: bool = True,
) -> pd.DataFrame:
    """Compare known values of a simulation with their equal-tailed posterior intervals.

    Each parameter passes when its interval covers the known value; a vector parameter (one value
    per group, say) passes when no more of its elements miss than chance explains:
    :func:`allowed_misses` of them (a 95% interval misses 5% of the time, so 2 misses out of 24
    are expected, not an error).

    Parameters
    ----------
    idata : xarray.DataTree
        The fit to the simulated data.
    truth : mapping
        Known values by posterior variable name: a number for a scalar, an array of the
        variable's shape per draw for a vector (the simulators' ``truth`` dicts).
    prob : float
        Interval probability.
    var_names : sequence of str, optional
        The parameters of ``truth`` to check (all of them by default).
    alpha : float
        For vector parameters, how improbable the number of misses must be to count as failure.
    raise_on_miss : bool
        Raise :class:`RecoveryError` when a parameter fails (the default); ``False`` returns the
        table with its ``passed`` column for a figure of a failure shown on purpose.

    Returns
    -------
    pandas.DataFrame
        One row per element: ``parameter`` (name and index), ``truth``, ``mean``, ``lower``,
        ``upper``, ``covered``; ``attrs["per_parameter"]`` holds per parameter the elements, misses,
        allowed misses and ``passed``.

    Raises
    ------
    RecoveryError
        Naming each parameter whose intervals miss too often, with the values.
    KeyError
        A ``truth`` name that is not a posterior variable, or a ``var_names`` entry not in truth.
    ValueError
        ``prob`` not in (0, 1), or a truth of the wrong shape.
    """
    _datatree.require(idata, "idata")
    if not isinstance(truth, Mapping) or not truth:
        raise TypeError(f"truth must be a non-empty mapping of name -> value, got {truth!r}")
    for argname, value in (("prob", prob), ("alpha", alpha)):
        if not isinstance(value, Real) or isinstance(value, bool) or not 0 < value < 1:
            raise ValueError(f"{argname} must be strictly between 0 and 1, got {value!r}")
    names = list(truth) if var_names is None else list(var_names)
    missing = [n for n in names if n not in truth]
    if missing:
        raise KeyError(f"var_names {missing} have no entry in truth")
    post = _datatree.group(idata)
    absent = [n for n in names if n not in post.data_vars]
    if absent:
        raise KeyError(f"truth names {absent} are not posterior variables; the posterior has "
                       f"{sorted(post.data_vars)}")
    tail = (1 - prob) / 2
    rows, per = [], []
    for name in names:
        draws = post[name]
        other = [d for d in draws.dims if d not in ("chain", "draw")]
        values = draws.transpose("chain", "draw", *other).values
        flat = values.reshape(values.shape[0] * values.shape[1], -1)
        known = _truth_array(name, truth[name], values.shape[2:]).ravel()
        lower, upper = np.quantile(flat, [tail, 1 - tail], axis=0)
        mean = flat.mean(axis=0)
        labels = [name]
        if other:  # label by coordinate values where the dims have them
            coords = [draws.coords[d].values if d in draws.coords else np.arange(draws.sizes[d])
                      for d in other]
            labels = [f"{name}[{', '.join(str(coords[k][i]) for k, i in enumerate(idx))}]"
                      for idx in np.ndindex(*values.shape[2:])]
        # A margin of 1e-8 (relative) for elements that are constant up to rounding, such as the
        # unit diagonal of a correlation matrix computed from its Cholesky factor.
        margin = 1e-8 * np.maximum(1.0, np.abs(known))
        covered = (known >= lower - margin) & (known <= upper + margin)
        for label, t, m, lo, hi, c in zip(labels, known, mean, lower, upper, covered, strict=True):
            rows.append({"parameter": label, "truth": t, "mean": m, "lower": lo, "upper": hi,
                         "covered": bool(c)})
        n = known.size
        misses = int((~covered).sum())
        limit = allowed_misses(n, prob, alpha=alpha)
        per.append({"parameter": name, "elements": n, "misses": misses, "allowed": limit,
                    "passed": misses <= limit})
    table = pd.DataFrame(rows)
    summary = pd.DataFrame(per).set_index("parameter")
    table.attrs.update(prob=prob, per_parameter=summary)
    failed = summary[~summary["passed"]]
    if raise_on_miss and not failed.empty:
        lines = []
        for name, row in failed.iterrows():
            bad = table[table["parameter"].str.match(rf"^{name}(\[|$)") & ~table["covered"]]
            shown = "; ".join(f"{r.parameter}: truth {r.truth:.4g} outside [{r.lower:.4g}, "
                              f"{r.upper:.4g}]" for r in bad.head(5).itertuples())
            lines.append(f"  {name}: {row.misses} of {row.elements} miss (at most {row.allowed} "
                         f"expected by chance): {shown}")
        raise RecoveryError(f"the {prob:.0%} intervals miss the simulation's values for "
                            f"{len(failed)} parameter(s):\n" + "\n".join(lines))
    return table


def recovery_summary(table: pd.DataFrame) -> pd.DataFrame:
    """The per-parameter part of a :func:`check_recovery` table (elements, misses, passed)."""
    if not isinstance(table, pd.DataFrame) or "per_parameter" not in table.attrs:
        raise TypeError("table must be what check_recovery returns")
    return table.attrs["per_parameter"]
