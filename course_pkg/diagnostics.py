"""Convergence gate, brms-style summaries, parity checks and parameter recovery.

Every model fitted in the book goes through :func:`check_convergence`; every chapter ends with
:func:`check_parity`. ArviZ computes R-hat, ESS and MCSE; this module only applies the course's
thresholds, formats the table brms users expect, and turns failures into specific exceptions.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Mapping, Sequence

import arviz as az
import numpy as np
import pandas as pd

from course_pkg import _datatree
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
    "printed_tolerance",
    "summary_table",
]

#: The course standard for R-hat, bulk and tail ESS, and divergent transitions.
DEFAULT_THRESHOLDS = {"rhat_max": 1.01, "ess_bulk_min": 400.0, "ess_tail_min": 400.0,
                      "max_divergences": 0}


class ConvergenceError(RuntimeError):
    """A fit failed the convergence gate; the message names every offending parameter."""


class ParityError(AssertionError):
    """Estimates differ from the source's reported numbers by more than the stated tolerance."""


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
    with _constant_elements_quiet():
        table = az.summary(post, kind="diagnostics", round_to="none")
    table = table[["r_hat", "ess_bulk", "ess_tail"]]
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


def printed_tolerance(decimals: int, mcse: float = 0.0, k: float = 3.0) -> float:
    """Tolerance for comparing with a number printed to ``decimals`` places.

    Half a unit of the last printed digit (the rounding the source did) plus ``k`` Monte Carlo
    standard errors of our own estimate.

    Parameters
    ----------
    decimals : int
        Decimal places the source printed (``0.19`` has 2).
    mcse : float
        Monte Carlo standard error of our estimate (``arviz.mcse``).
    k : float
        How many MCSE to allow (default 3).

    Examples
    --------
    >>> printed_tolerance(2, mcse=0.001)
    0.008
    """
    if not isinstance(decimals, int | np.integer) or decimals < 0:
        raise ValueError(f"decimals must be a non-negative int, got {decimals!r}")
    if not np.isfinite(mcse) or mcse < 0:
        raise ValueError(f"mcse must be a non-negative finite number, got {mcse!r}")
    if k < 0:
        raise ValueError(f"k must be non-negative, got {k!r}")
    return round(0.5 * 10.0 ** (-decimals) + k * mcse, 12)


def check_parity(
    ours: Mapping[str, float],
    reference: Mapping[str, float],
    tolerance: float | Mapping[str, float],
    *,
    source: str = "the source",
) -> pd.DataFrame:
    """Compare our estimates with reference numbers; raise on any mismatch.

    Parameters
    ----------
    ours : mapping of str to float
        Our estimates by quantity name.
    reference : mapping of str to float
        The source's numbers by the same names; every name must be in ``ours``.
    tolerance : float or mapping of str to float
        Largest allowed absolute difference, one for all or one per reference name.
    source : str
        Named in the error message.

    Returns
    -------
    pandas.DataFrame
        One row per reference quantity: ``ours``, ``reference``, ``difference``,
        ``tolerance``, ``ok``.

    Raises
    ------
    ParityError
        When any ``|ours - reference| > tolerance``; lists each mismatch.
    KeyError
        A reference name missing from ``ours`` or from a tolerance mapping.

    Examples
    --------
    >>> check_parity({"sigma": 0.049}, {"sigma": 0.05}, 0.005)["ok"].all()
    np.True_
    """
    if not isinstance(ours, Mapping) or not isinstance(reference, Mapping):
        raise TypeError("ours and reference must be mappings from quantity name to number")
    if not reference:
        raise ValueError("reference is empty: a parity check needs at least one number")
    missing = [k for k in reference if k not in ours]
    if missing:
        raise KeyError(f"ours lacks estimates for reference quantities {missing}")
    if isinstance(tolerance, Mapping):
        missing_tol = [k for k in reference if k not in tolerance]
        if missing_tol:
            raise KeyError(f"tolerance lacks entries for {missing_tol}")
        tols = {k: float(tolerance[k]) for k in reference}
    else:
        tols = {k: float(tolerance) for k in reference}
    if any(not np.isfinite(t) or t < 0 for t in tols.values()):
        raise ValueError(f"tolerances must be non-negative finite numbers, got {tols}")

    rows = []
    for name, ref in reference.items():
        est = float(ours[name])
        diff = est - float(ref)
        rows.append({"quantity": name, "ours": est, "reference": float(ref),
                     "difference": diff, "tolerance": tols[name],
                     "ok": bool(np.isfinite(diff) and abs(diff) <= tols[name])})
    table = pd.DataFrame(rows).set_index("quantity")
    bad = table[~table["ok"]]
    if len(bad):
        lines = [
            f"  {name}: ours {r.ours:.4g} vs {source} {r.reference:.4g} "
            f"(difference {r.difference:+.4g}, tolerance {r.tolerance:.4g})"
            for name, r in bad.iterrows()
        ]
        raise ParityError(
            f"{len(bad)} of {len(table)} quantities differ from {source}:\n" + "\n".join(lines)
        )
    return table


def compare_fits(
    pairs: Mapping[str, tuple],
    *,
    labels: tuple[str, str] = ("first", "second"),
    k: float = 4.0,
) -> pd.DataFrame:
    """Check that two fits of the same model agree: posterior means within ``k`` combined MCSEs.

    For each quantity the two posterior means may differ by at most
    ``k * sqrt(mcse_1**2 + mcse_2**2)``, the Monte Carlo error of the difference of two
    independent fits (ArviZ's MCSE of the mean). The book uses it to show that a model written
    by hand in PyMC and the same model from a formula (Bambi or the correlated-effects builder)
    are one model. Hand-written: ArviZ compares models by predictive accuracy, not two fits of
    one model.

    Parameters
    ----------
    pairs : mapping
        Quantity name (str) to a pair: the two fits' posterior draws of it, xarray DataArrays
        with ``chain`` and ``draw`` dimensions (a variable of ``idata.posterior``, a ``.sel`` of
        one), or arrays of shape ``(chain, draw)``.
    labels : (str, str)
        Column names for the two fits' means (``("by hand", "Bambi")``).
    k : float
        Allowed number of combined MCSEs; 4 makes a false alarm unlikely even over a dozen
        quantities (two-sided normal tail probability 6e-5 each).

    Returns
    -------
    pandas.DataFrame
        One row per quantity: the two means, ``difference``, ``tolerance`` (k combined MCSEs)
        and ``agree``.

    Raises
    ------
    ParityError
        Any quantity whose means differ by more than the tolerance; every one is listed.
    TypeError, ValueError
        ``pairs`` not a non-empty mapping of two-element pairs; draws not of shape
        ``(chain, draw)``; ``labels`` not two distinct strings; ``k`` not positive.

    Examples
    --------
    >>> rng = np.random.default_rng(1)
    >>> a, b = rng.normal(size=(4, 500)), rng.normal(size=(4, 500))
    >>> compare_fits({"x": (a, b)}, labels=("hand", "Bambi"))["agree"].all()
    np.True_
    """
    if not isinstance(pairs, Mapping) or not pairs:
        raise TypeError("pairs must be a non-empty mapping from quantity name to a pair of "
                        f"draws, got {pairs!r}")
    if (not isinstance(labels, tuple) or len(labels) != 2
            or not all(isinstance(s, str) for s in labels) or labels[0] == labels[1]):
        raise ValueError(f"labels must be two distinct strings, got {labels!r}")
    if isinstance(k, bool) or not isinstance(k, int | float) or not np.isfinite(k) or k <= 0:
        raise ValueError(f"k must be a positive number of MCSEs, got {k!r}")
    rows = []
    for name, pair in pairs.items():
        if not isinstance(pair, tuple | list) or len(pair) != 2:
            raise TypeError(f"pairs[{name!r}] must be a pair (draws of fit 1, draws of fit 2)")
        means, errors = [], []
        for which, draws in zip(labels, pair, strict=True):
            values = np.asarray(getattr(draws, "values", draws), dtype=float)
            if values.ndim != 2 or min(values.shape) < 1:
                raise ValueError(f"pairs[{name!r}] ({which}): draws must have shape (chain, "
                                 f"draw), got shape {values.shape}")
            means.append(float(values.mean()))
            errors.append(float(np.asarray(az.mcse(values)).item()))
        tol = k * float(np.hypot(*errors))
        diff = means[0] - means[1]
        rows.append({"quantity": name, labels[0]: means[0], labels[1]: means[1],
                     "difference": diff, "tolerance": tol,
                     "agree": bool(np.isfinite(diff) and abs(diff) <= tol)})
    table = pd.DataFrame(rows).set_index("quantity")
    bad = table[~table["agree"]]
    if len(bad):
        lines = [f"  {name}: {labels[0]} {r[labels[0]]:.4g} vs {labels[1]} {r[labels[1]]:.4g} "
                 f"(difference {r['difference']:+.4g}, {k:g} MCSE = {r['tolerance']:.4g})"
                 for name, r in bad.iterrows()]
        raise ParityError(f"{len(bad)} of {len(table)} quantities differ between {labels[0]} "
                          f"and {labels[1]} by more than {k:g} MCSE:\n" + "\n".join(lines))
    return table
