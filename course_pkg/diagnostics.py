"""Convergence gate and brms-style summaries; the parity checks (:mod:`course_pkg.parity`) and
parameter recovery (:mod:`course_pkg.recovery`) are re-exported here.

Every model fitted in the book goes through :func:`check_convergence`; every chapter ends with
:func:`check_parity`. ArviZ computes R-hat, ESS and MCSE; this module only applies the course's
thresholds, formats the table brms users expect, and turns failures into specific exceptions.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Sequence

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from course_pkg import _datatree
from course_pkg.parity import (  # noqa: F401  (re-exported: the course's checks in one place)
    ParityError,
    check_parity,
    compare_fits,
    estimates_with_tolerance,
    printed_tolerance,
)
from course_pkg.recovery import RecoveryError, check_recovery

__all__ = [
    "ConvergenceError",
    "ParityError",
    "RecoveryError",
    "DEFAULT_THRESHOLDS",
    "check_convergence",
    "check_parity",
    "check_recovery",
    "compare_fits",
    "convergence_table",
    "count_divergences",
    "estimates_with_tolerance",
    "printed_tolerance",
    "summary_table",
]

#: The course standard for R-hat, bulk and tail ESS, and divergent transitions.
DEFAULT_THRESHOLDS = {"rhat_max": 1.01, "ess_bulk_min": 400.0, "ess_tail_min": 400.0,
                      "max_divergences": 0}


class ConvergenceError(RuntimeError):
    """A fit failed the convergence gate; the message names every offending parameter."""


def _require_idata(idata, argname: str = "idata") -> None:
    _datatree.require(idata, argname)


def _var_names(idata, var_names) -> list[str]:
    available = list(idata.posterior.data_vars)
    if var_names is None:
        return available
    if isinstance(var_names, str):
        var_names = [var_names]
    missing = [v for v in var_names if v not in available]
    if missing:
        raise ValueError(
            f"var_names has names not in the posterior: {missing}; available: {available}"
        )
    return list(dict.fromkeys(var_names))  # a name given twice is checked once


@contextlib.contextmanager
def _constant_elements_quiet():
    """Silence ArviZ's division warnings for elements with no spread (a correlation diagonal).

    R-hat and ESS of a constant are 0/0; ArviZ returns NaN for them and warns. The tables here
    report the NaN (or drop the element), so the warning only adds noise to notebooks.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="invalid value encountered",
                                category=RuntimeWarning)
        yield


def convergence_table(idata, var_names: Sequence[str] | None = None) -> pd.DataFrame:
    """R-hat, bulk and tail ESS for every scalar element of the chosen posterior variables.

    Elements that are constant across all draws (the fixed 1 on a correlation matrix's diagonal,
    say) carry no information about mixing and are left out.

    Parameters
    ----------
    idata : xarray.DataTree
        A fitted model with a ``posterior`` group.
    var_names : sequence of str, optional
        Variables to include; all posterior variables by default.

    Returns
    -------
    pandas.DataFrame
        Indexed by ArviZ's element labels (``"sd[Intercept]"``), columns ``r_hat``,
        ``ess_bulk``, ``ess_tail``.

    Examples
    --------
    >>> import arviz as az
    >>> idata = az.load_arviz_data("centered_eight")  # doctest: +SKIP
    >>> convergence_table(idata, ["mu"]).columns.tolist()  # doctest: +SKIP
    ['r_hat', 'ess_bulk', 'ess_tail']
    """
    _require_idata(idata)
    names = _var_names(idata, var_names)
    post = _datatree.group(idata)[names]
    # Drop elements with zero spread: R-hat is undefined (NaN) for them and they cannot "fail".
    spread = post.std(dim=("chain", "draw"))
    # The three diagnostics the gate reads, as az.summary(kind="diagnostics") computes them
    # and labels them, without its two Monte Carlo errors (a fifth of its time for m2's
    # 1,600 elements).
    dims = ["chain", "draw"]
    with _constant_elements_quiet():
        parts = [post.azstats.rhat(sample_dims=dims).expand_dims(summary=["r_hat"]),
                 post.azstats.ess(sample_dims=dims, method="bulk")
                 .expand_dims(summary=["ess_bulk"]),
                 post.azstats.ess(sample_dims=dims, method="tail")
                 .expand_dims(summary=["ess_tail"])]
    table = az.dataset_to_dataframe(xr.concat(parts, dim="summary"), sample_dims=["summary"]).T
    flat = []
    for name in names:
        values = np.atleast_1d(spread[name].values).ravel()
        flat.extend(values.tolist())
    keep = np.asarray(flat) > 0
    return table.loc[keep]


def count_divergences(idata) -> int:
    """Divergent transitions over all chains (0 when the fit records none)."""
    _require_idata(idata)
    if _datatree.has_group(idata, "sample_stats") and "diverging" in idata.sample_stats:
        return int(idata.sample_stats["diverging"].values.sum())
    return 0


def check_convergence(
    idata,
    var_names: Sequence[str] | None = None,
    *,
    rhat_max: float = 1.01,
    ess_bulk_min: float = 400,
    ess_tail_min: float = 400,
    max_divergences: int = 0,
    reason: str | None = None,
) -> pd.DataFrame:
    """Raise unless a fit meets the course's convergence standard.

    The standard: every R-hat at most 1.01, bulk and tail ESS at least 400, and no divergent
    transitions. A call may loosen a threshold only when it states why in ``reason``; that reason
    is kept in the returned table's ``attrs`` so it shows up next to the result.

    Parameters
    ----------
    idata : xarray.DataTree
        A fitted model with ``posterior`` (and, for divergences, ``sample_stats``) groups.
    var_names : sequence of str, optional
        Variables to check; all posterior variables by default.
    rhat_max, ess_bulk_min, ess_tail_min : float
        Thresholds; defaults are the course standard.
    max_divergences : int
        Largest number of divergent transitions allowed over all chains.
    reason : str, optional
        Required when any threshold is looser than the standard.

    Returns
    -------
    pandas.DataFrame
        The :func:`convergence_table`, sorted worst first, with ``attrs`` holding thresholds,
        divergences and reason.

    Raises
    ------
    ConvergenceError
        With one line per offending parameter (and one for divergences).
    ValueError
        A looser threshold without a ``reason``, or a nonsensical threshold.

    Examples
    --------
    >>> from course_pkg.diagnostics import check_convergence
    >>> check_convergence(idata)  # doctest: +SKIP
    """
    _require_idata(idata)
    for argname, value in (("rhat_max", rhat_max), ("ess_bulk_min", ess_bulk_min),
                           ("ess_tail_min", ess_tail_min)):
        if not isinstance(value, int | float) or not np.isfinite(value):
            raise ValueError(f"{argname} must be a finite number, got {value!r}")
    if rhat_max < 1:
        raise ValueError(f"rhat_max must be at least 1, got {rhat_max}")
    if not isinstance(max_divergences, int | np.integer) or max_divergences < 0:
        raise ValueError(f"max_divergences must be a non-negative int, got {max_divergences!r}")
    looser = [
        name
        for name, value, default, worse in (
            ("rhat_max", rhat_max, DEFAULT_THRESHOLDS["rhat_max"], rhat_max > 1.01),
            ("ess_bulk_min", ess_bulk_min, 400, ess_bulk_min < 400),
            ("ess_tail_min", ess_tail_min, 400, ess_tail_min < 400),
            ("max_divergences", max_divergences, 0, max_divergences > 0),
        )
        if worse
    ]
    if looser and not (isinstance(reason, str) and reason.strip()):
        raise ValueError(
            f"loosening {', '.join(looser)} beyond the course standard needs reason='...' "
            "saying why this fit is held to a lower bar"
        )

    table = convergence_table(idata, var_names)
    problems = []
    for label, row in table.iterrows():
        issues = []
        if not np.isfinite(row.r_hat) or row.r_hat > rhat_max:
            issues.append(f"r_hat={row.r_hat:.3f} (> {rhat_max})")
        if not np.isfinite(row.ess_bulk) or row.ess_bulk < ess_bulk_min:
            issues.append(f"ess_bulk={row.ess_bulk:.0f} (< {ess_bulk_min:g})")
        if not np.isfinite(row.ess_tail) or row.ess_tail < ess_tail_min:
            issues.append(f"ess_tail={row.ess_tail:.0f} (< {ess_tail_min:g})")
        if issues:
            problems.append(f"  {label}: " + ", ".join(issues))

    divergences = count_divergences(idata)
    if divergences > max_divergences:
        n_draws = idata.sample_stats["diverging"].size
        problems.insert(
            0, f"  divergences: {divergences} of {n_draws} transitions (> {max_divergences})"
        )

    if problems:
        shown = problems[:40]
        if len(problems) > 40:
            shown.append(f"  ... and {len(problems) - 40} more")
        raise ConvergenceError(
            f"the fit fails the convergence gate on {len(problems)} item(s):\n"
            + "\n".join(shown)
            + "\nFix the model (parameterisation, priors, sampler settings), not the gate."
        )

    table = table.sort_values("ess_bulk")  # weakest-mixing elements first
    table.attrs.update(
        thresholds={"rhat_max": rhat_max, "ess_bulk_min": ess_bulk_min,
                    "ess_tail_min": ess_tail_min, "max_divergences": max_divergences},
        divergences=divergences,
        reason=reason,
    )
    return table


def summary_table(
    idata,
    var_names: Sequence[str] | None = None,
    *,
    prob: float = 0.95,
    round_to: int | None = 2,
) -> pd.DataFrame:
    """A brms-style summary: estimate, error, equal-tailed interval, R-hat, bulk and tail ESS.

    brms prints posterior means, posterior standard deviations and 95% equal-tailed (quantile)
    intervals; this table does the same so that numbers can be compared line by line.

    Parameters
    ----------
    idata : xarray.DataTree
        A fitted model.
    var_names : sequence of str, optional
        Variables to include; all posterior variables by default.
    prob : float
        Interval mass, between 0 and 1 (default 0.95).
    round_to : int or None
        Decimals to round estimates to (ESS are rounded to integers); ``None`` keeps full
        precision.

    Returns
    -------
    pandas.DataFrame
        Columns ``Estimate``, ``Est.Error``, ``l-95% CI``, ``u-95% CI``, ``Rhat``,
        ``Bulk_ESS``, ``Tail_ESS`` (interval labels follow ``prob``).
    """
    _require_idata(idata)
    if not isinstance(prob, float | int) or not 0 < prob < 1:
        raise ValueError(f"prob must be a number strictly between 0 and 1, got {prob!r}")
    names = _var_names(idata, var_names)
    post = _datatree.group(idata)[names]
    pct = f"{100 * prob:g}%"
    with _constant_elements_quiet():
        stats = az.summary(post, kind="all", round_to="none", ci_kind="eti", ci_prob=prob)
    # ArviZ labels the bounds eti<prob>_lb and _ub; brms's labels are what readers compare with
    (lower,), (upper,) = ([c for c in stats.columns if c.endswith(end)] for end in ("_lb", "_ub"))
    stats = stats.rename(columns={lower: f"l-{pct} CI", upper: f"u-{pct} CI"})
    out = pd.DataFrame(
        {
            "Estimate": stats["mean"],
            "Est.Error": stats["sd"],
            f"l-{pct} CI": stats[f"l-{pct} CI"],
            f"u-{pct} CI": stats[f"u-{pct} CI"],
            "Rhat": stats["r_hat"],
            "Bulk_ESS": stats["ess_bulk"],
            "Tail_ESS": stats["ess_tail"],
        }
    )
    if round_to is not None:
        cols = ["Estimate", "Est.Error", f"l-{pct} CI", f"u-{pct} CI"]
        out[cols] = out[cols].round(round_to)
        out["Rhat"] = out["Rhat"].round(2)
        out[["Bulk_ESS", "Tail_ESS"]] = out[["Bulk_ESS", "Tail_ESS"]].round(0).astype("Int64")
    return out
