"""Parameter recovery: does a fit to simulated data find the values the simulation used?

:func:`check_recovery` compares each known value with its posterior interval. It is exported from
:mod:`course_pkg.diagnostics` as well, next to the convergence gate and the parity checks. Neither
ArviZ nor PyMC has a recovery check (ArviZ's simulation-based calibration needs many fits; this is
the one-fit check a chapter shows), so it is written here with NumPy's equal-tailed quantiles (ArviZ's ``eti``), one pass per
variable.
"""

from __future__ import annotations

import re
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
    group_effects: Sequence[str] = (),
    var_names: Sequence[str] | None = None,
    alpha: float = 0.01,
    raise_on_miss: bool = True,
) -> pd.DataFrame:
    """Compare known values of a simulation with their equal-tailed posterior intervals.

    Every element of a population-level parameter (a coefficient, a standard deviation, a
    correlation) must lie inside its interval. The variables named in ``group_effects`` (one value
    per group, drawn from a common distribution) may have as many misses as chance explains:
    :func:`course_pkg.recovery.allowed_misses` of them. For 24 groups and 95% intervals about 1.2 misses are expected
    and up to 4 are allowed (P(more than 4) is about 0.006). That allowance treats the misses as
    independent; they are not quite (the groups share hyperparameters and one data set), so its 1%
    level is approximate. Note also that every population value may miss by chance with
    probability ``1 - prob``: with seven of them, a correct model misses at least one about 30% of
    the time at 95%. A single check is evidence, not a test at a fixed level.

    A correlation matrix (a variable whose last two dimensions are ``d`` and ``d_bis``, as the
    course's builder names them) is compared on its strict lower triangle only: its diagonal is
    1 by definition and its upper triangle repeats the lower one.

    Parameters
    ----------
    idata : xarray.DataTree
        The fit to the simulated data.
    truth : mapping
        Known values by posterior variable name: a number for a scalar, an array of the
        variable's shape per draw otherwise (the simulators' ``truth`` dicts, renamed).
    prob : float
        Interval probability.
    group_effects : sequence of str
        The variables of ``truth`` that hold one effect per group (``"r_id"``, ``"1|group"``).
    var_names : sequence of str, optional
        The parameters of ``truth`` to check (all of them by default).
    alpha : float
        For group effects, how improbable the number of misses must be to count as failure.
    raise_on_miss : bool
        Raise :class:`RecoveryError` when a parameter fails (the default); ``False`` returns the
        table with its ``passed`` column, for a failure shown on purpose.

    Returns
    -------
    pandas.DataFrame
        One row per element checked: ``parameter`` (name and index), ``truth``, ``mean``,
        ``lower``, ``upper``, ``covered``; ``attrs["per_parameter"]`` holds per parameter the
        elements, misses, allowed misses and ``passed``.

    Raises
    ------
    RecoveryError
        Naming each parameter that fails, with the values that miss.
    KeyError
        A ``truth`` name that is not a posterior variable, or a ``var_names`` or
        ``group_effects`` entry not in truth.
    ValueError
        ``prob`` not in (0, 1), or a truth of the wrong shape.
    """
    _datatree.require(idata, "idata")
    if not isinstance(truth, Mapping) or not truth:
        raise TypeError(f"truth must be a non-empty mapping of name -> value, got {truth!r}")
    for argname, value in (("prob", prob), ("alpha", alpha)):
        if not isinstance(value, Real) or isinstance(value, bool) or not 0 < value < 1:
            raise ValueError(f"{argname} must be strictly between 0 and 1, got {value!r}")
    if isinstance(group_effects, str):
        group_effects = (group_effects,)
    names = list(truth) if var_names is None else list(var_names)
    missing = [n for n in [*names, *group_effects] if n not in truth]
    if missing:
        raise KeyError(f"var_names or group_effects {missing} have no entry in truth")
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
        coords = [draws.coords[d].values if d in draws.coords else np.arange(draws.sizes[d])
                  for d in other]
        index = list(np.ndindex(*values.shape[2:]))
        labels = [name if not other else
                  f"{name}[{', '.join(str(coords[k][i]) for k, i in enumerate(idx))}]"
                  for idx in index]
        keep = np.ones(len(index), dtype=bool)
        if len(other) >= 2 and other[-1] == other[-2] + "_bis":  # a correlation matrix
            keep = np.array([idx[-2] > idx[-1] for idx in index])
        flat, known = flat[:, keep], known[keep]
        labels = [lab for lab, k in zip(labels, keep, strict=True) if k]
        lower, upper = np.quantile(flat, [tail, 1 - tail], axis=0)
        mean = flat.mean(axis=0)
        # A margin of 1e-8 (relative) for elements that are constant up to rounding.
        margin = 1e-8 * np.maximum(1.0, np.abs(known))
        covered = (known >= lower - margin) & (known <= upper + margin)
        for label, t, m, lo, hi, c in zip(labels, known, mean, lower, upper, covered, strict=True):
            rows.append({"parameter": label, "truth": t, "mean": m, "lower": lo, "upper": hi,
                         "covered": bool(c)})
        n = int(known.size)
        misses = int((~covered).sum())
        limit = allowed_misses(n, prob, alpha=alpha) if name in group_effects else 0
        per.append({"parameter": name, "elements": n, "misses": misses, "allowed": limit,
                    "passed": misses <= limit})
    table = pd.DataFrame(rows)
    summary = pd.DataFrame(per).set_index("parameter")
    table.attrs.update(prob=prob, per_parameter=summary)
    failed = summary[~summary["passed"]]
    if raise_on_miss and not failed.empty:
        lines = []
        for name, row in failed.iterrows():
            bad = table[table["parameter"].str.match(rf"^{re.escape(name)}(\[|$)")
                        & ~table["covered"]]
            shown = "; ".join(f"{r.parameter}: truth {r.truth:.4g} outside [{r.lower:.4g}, "
                              f"{r.upper:.4g}]" for r in bad.head(5).itertuples())
            lines.append(f"  {name}: {row.misses} of {row.elements} miss (at most {row.allowed} "
                         f"allowed): {shown}")
        raise RecoveryError(f"the {prob:.0%} intervals miss the simulation's values for "
                            f"{len(failed)} parameter(s):\n" + "\n".join(lines))
    return table


def recovery_summary(table: pd.DataFrame) -> pd.DataFrame:
    """The per-parameter part of a :func:`check_recovery` table (elements, misses, passed)."""
    if not isinstance(table, pd.DataFrame) or "per_parameter" not in table.attrs:
        raise TypeError("table must be what check_recovery returns")
    return table.attrs["per_parameter"]
