"""Parity with a source's printed numbers, and agreement of two fits of one model.

:func:`check_parity` compares our estimates with printed numbers at the printed precision plus a
few Monte Carlo standard errors (:func:`printed_tolerance`); :func:`estimates_with_tolerance`
reads both from a fit; :func:`compare_fits` checks that two fits of one model agree.
Hand-written: ArviZ compares models by predictive accuracy, not estimates with printed numbers.
"""

from __future__ import annotations

from collections.abc import Mapping

import arviz as az
import numpy as np
import pandas as pd

from course_pkg import _datatree

__all__ = ["ParityError", "check_parity", "compare_fits", "estimates_with_tolerance",
           "printed_tolerance"]


class ParityError(AssertionError):
    """Estimates differ from the source's reported numbers by more than the stated tolerance."""


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


def estimates_with_tolerance(
    idata,
    names: Mapping[str, str],
    decimals: int,
    *,
    quantiles: Mapping[str, tuple[str, float]] | None = None,
    k: float = 3.0,
) -> tuple[dict[str, float], dict[str, float]]:
    """Posterior means (and quantiles) of a fit, each with its parity tolerance.

    The tolerance of each estimate is :func:`printed_tolerance` at ``decimals`` places with
    ``k`` Monte Carlo standard errors of the *difference* between our estimate and a reference
    estimated with the same precision (``sqrt(2)`` times our MCSE, ArviZ's ``mcse`` of the mean
    or of the quantile).

    Parameters
    ----------
    idata : xarray.DataTree
        A fit with a ``posterior`` group.
    names : mapping
        Output name (the source's label, e.g. ``"sd(Intercept)"``) to a posterior variable
        holding scalar draws (chain, draw).
    decimals : int
        Decimal places the source printed.
    quantiles : mapping, optional
        Output name to (posterior variable, probability), e.g.
        ``{"cor l-95%": ("cor", 0.025)}``.
    k : float
        How many MCSEs to allow (default 3).

    Returns
    -------
    (dict, dict)
        Estimates and tolerances by output name, ready for :func:`check_parity`.

    Raises
    ------
    TypeError
        ``idata`` without a posterior; ``names`` or ``quantiles`` not mappings.
    KeyError
        A variable that is not in the posterior.
    ValueError
        A variable that is not scalar per draw; a probability outside (0, 1).

    Examples
    --------
    >>> ours, tol = estimates_with_tolerance(idata, {"sigma": "sigma"}, 2)  # doctest: +SKIP
    """
    _datatree.require(idata, "idata")
    if not isinstance(names, Mapping) or not names:
        raise TypeError(f"names must be a non-empty mapping from label to variable, got "
                        f"{names!r}")
    if quantiles is not None and not isinstance(quantiles, Mapping):
        raise TypeError(f"quantiles must be a mapping from label to (variable, probability), "
                        f"got {quantiles!r}")
    post = idata.posterior

    def draws(var):
        if var not in post:
            raise KeyError(f"{var!r} is not a posterior variable; variables are "
                           f"{list(post.data_vars)}")
        d = post[var]
        if d.dims != ("chain", "draw"):
            raise ValueError(f"{var!r} has dims {d.dims}; select one element first (a scalar "
                             "per draw is needed)")
        return d

    ours, tol = {}, {}
    for label, var in names.items():
        d = draws(var)
        ours[label] = float(d.mean())
        tol[label] = printed_tolerance(decimals, np.sqrt(2) * float(az.mcse(d)), k)
    for label, (var, prob) in (quantiles or {}).items():
        if not 0 < prob < 1:
            raise ValueError(f"quantiles[{label!r}]: probability must be in (0, 1), got {prob}")
        d = draws(var)
        ours[label] = float(np.quantile(d.values.ravel(), prob))
        mcse = float(az.mcse(d, method="quantile", prob=prob))
        tol[label] = printed_tolerance(decimals, np.sqrt(2) * mcse, k)
    return ours, tol
