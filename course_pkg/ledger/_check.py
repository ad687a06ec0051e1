"""Comparing a chapter's values with its ledger: Monte Carlo errors and tolerances."""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import stats

from course_pkg.ledger._table import _DEFAULT_K, load_ledger
from course_pkg.parity import ParityError


def source_mcse(ledger: pd.DataFrame, row_id: str) -> float | None:
    """The Monte Carlo standard error of a printed posterior summary, from its siblings.

    Uses the sibling rows (same ``model``, ``quantity`` and ``origin``) that give the posterior
    SD (``sd``) and an ESS, or the MCSE itself. A ``mean`` row: the printed ``mcse`` where there
    is one (Turing's summaries print it), else ``sd / sqrt(ess_bulk)``; an ``sd`` row:
    ``sd / sqrt(2 ess_bulk)``; a quantile row ``qP``: the normal approximation
    ``sd * sqrt(p (1 - p)) / (phi(z_p) sqrt(ess_tail))`` (the bulk ESS when no tail ESS was
    printed). The SD rows use the normal-theory formula, which understates the error of a
    heavy-tailed SD. None when the source printed no SD or ESS for it, or printed its SD as 0 at
    its precision: its Monte Carlo error is then unknown, and :func:`check_ledger` takes it to
    be the same as ours, unless the chapter derives it from other printed rows and passes it.

    Parameters
    ----------
    ledger : pandas.DataFrame
        From :func:`load_ledger`.
    row_id : str
        The row.

    Returns
    -------
    float or None
    """
    if row_id not in ledger.index:
        raise KeyError(f"no ledger row {row_id!r}")
    row = ledger.loc[row_id]
    same = ledger[(ledger["model"] == row["model"]) & (ledger["quantity"] == row["quantity"])
                  & (ledger["origin"] == row["origin"])]

    def sibling(*names):
        for name in names:
            hit = same[same["statistic"] == name]
            if len(hit):
                return float(hit["value"].iloc[0])
        return None

    stat = row["statistic"]
    if stat == "mean" and sibling("mcse") is not None:  # printed directly (MCMCChains)
        return sibling("mcse")
    sd = sibling("sd")
    if not sd:  # none printed, or printed as 0.00: the source's error is unknown
        return None
    if stat in ("mean", "sd"):
        ess = sibling("ess_bulk", "n_eff")
        if not ess:
            return None
        return sd / math.sqrt(ess) if stat == "mean" else sd / math.sqrt(2 * ess)
    if stat.startswith("q"):
        ess = sibling("ess_tail", "ess_bulk", "n_eff")
        try:
            p = float(stat[1:]) / 100
        except ValueError:
            return None
        if not ess or not 0 < p < 1:
            return None
        return sd * math.sqrt(p * (1 - p)) / (stats.norm.pdf(stats.norm.ppf(p)) * math.sqrt(ess))
    return None


def ledger_tolerance(decimals: int, mcse_ours: float = 0.0, mcse_source: float = 0.0,
                     k: float = _DEFAULT_K) -> float:
    """Half a unit of the printed precision plus ``k`` Monte Carlo standard errors of the
    difference between our estimate and the source's: ``k * sqrt(mcse_ours^2 + mcse_source^2)``.

    Never a multiple of a posterior SD or of a LOO SE: those measure uncertainty about the
    parameter or about new data, not how closely two runs of one model agree.

    Examples
    --------
    >>> ledger_tolerance(2, 0.003, 0.004, k=3)
    0.02
    """
    if isinstance(decimals, bool) or not isinstance(decimals, int | np.integer) or decimals < 0:
        raise ValueError(f"decimals must be a non-negative int, got {decimals!r}")
    for name, v in (("mcse_ours", mcse_ours), ("mcse_source", mcse_source), ("k", k)):
        if not (isinstance(v, int | float | np.floating) and math.isfinite(v) and v >= 0):
            raise ValueError(f"{name} must be a non-negative finite number, got {v!r}")
    return round(0.5 * 10.0 ** (-decimals) + k * math.hypot(mcse_ours, mcse_source), 12)


def check_ledger(chapter: str, ours: Mapping[str, object], *, models=None,
                 raise_on_fail: bool = True) -> pd.DataFrame:
    """Compare a chapter's computed values with its ledger.

    Parameters
    ----------
    chapter : str
        The chapter (see :func:`load_ledger`).
    ours : mapping
        Ledger ``id`` to our value: a number, or ``(value, mcse)`` for a ``compare`` row (our
        Monte Carlo standard error: ArviZ's ``mcse`` of the mean or quantile; PSIS's for LOO).
        The source's Monte Carlo error comes from its printed SD and ESS
        (:func:`source_mcse`); where it printed none, it is taken to equal ours (the same
        posterior sampled to a similar ESS), unless the value is ``(value, mcse,
        source_mcse)``: the source's error derived by the chapter from other printed rows (a
        derived quantity's, say, from the SD and ESS of the parameter that drives it), used
        instead of the row's own siblings.
        Every ``compare`` and ``exact`` row must have one; ``not-checked`` rows must not.
    models : sequence of str, optional
        Check only the rows of these ledger models (a section of the chapter); all rows by
        default.
    raise_on_fail : bool
        Raise :class:`~course_pkg.parity.ParityError` when a row misses (default); ``False``
        returns the table, for a failure shown on purpose (a wrong model).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``id``: ``model``, ``quantity``, ``statistic``, ``printed``, ``ours``,
        ``difference``, ``tolerance``, ``status`` (``pass``, ``FAIL`` or ``not checked``) and
        ``reason``; ``attrs["totals"]`` counts rows checked, passing, failing and not checked.

    Raises
    ------
    KeyError
        A checked row without a value in ``ours`` (named), or a value for an id that is not in
        the ledger or whose row is not checked.
    course_pkg.parity.ParityError
        Rows outside their tolerance, each listed (unless ``raise_on_fail=False``).
    TypeError
        ``ours`` not a mapping, or a value that is not a number, ``(number, mcse)`` or
        ``(number, mcse, source_mcse)``.
    ValueError
        A ``source_mcse`` given for an ``exact`` row, or one that is negative or not finite.
    """
    ledger = load_ledger(chapter)
    if models is not None:
        if isinstance(models, str) or not all(isinstance(m, str) for m in models):
            raise TypeError(f"models must be a sequence of ledger model names, got {models!r}")
        unknown = sorted(set(models) - set(ledger["model"]))
        if unknown:
            raise KeyError(f"{chapter}: no ledger rows for models {unknown}; the models are "
                           f"{sorted(set(ledger['model']))}")
        ledger = ledger[ledger["model"].isin(list(models))]
    if not isinstance(ours, Mapping):
        raise TypeError(f"ours must be a mapping from ledger id to value, got "
                        f"{type(ours).__name__}")
    checked = ledger[ledger["check"] != "not-checked"]
    missing = [i for i in checked.index if i not in ours]
    if missing:
        raise KeyError(f"{chapter}: the notebook did not produce ledger rows {missing}")
    unknown = [i for i in ours if i not in checked.index]
    if unknown:
        raise KeyError(f"{chapter}: values given for ids that are not checked rows of the "
                       f"ledger: {unknown}")
    rows = []
    for rid, row in ledger.iterrows():
        out = {"id": rid, "model": row["model"], "quantity": row["quantity"],
               "statistic": row["statistic"], "printed": row["printed"], "ours": np.nan,
               "difference": np.nan, "tolerance": np.nan, "status": "not checked",
               "reason": row["reason"]}
        if row["check"] != "not-checked":
            given = ours[rid]
            parts = given if isinstance(given, tuple) else (given, 0.0)
            try:
                if len(parts) not in (2, 3):
                    raise ValueError
                value, mcse = float(parts[0]), float(parts[1])
                derived = float(parts[2]) if len(parts) == 3 else None
            except (TypeError, ValueError):
                raise TypeError(f"ours[{rid!r}] must be a number or (number, mcse), or "
                                f"(number, mcse, source_mcse), got {given!r}") from None
            if derived is not None and (row["check"] == "exact" or not math.isfinite(derived)
                                        or derived < 0):
                raise ValueError(f"ours[{rid!r}]: a source_mcse must be a non-negative finite "
                                 f"number for a compare row, got {derived!r} for a "
                                 f"{row['check']!r} row")
            if row["check"] == "exact":
                tol = ledger_tolerance(int(row["decimals"]), 0.0, 0.0, 0.0)
            else:
                theirs = source_mcse(ledger, rid) if derived is None else derived
                tol = ledger_tolerance(int(row["decimals"]), mcse,
                                       mcse if theirs is None else theirs, float(row["k"]))
            diff = value - float(row["value"])
            ok = bool(np.isfinite(diff) and abs(diff) <= tol + 1e-12)
            out.update(ours=value, difference=diff, tolerance=tol,
                       status="pass" if ok else "FAIL")
        rows.append(out)
    table = pd.DataFrame(rows).set_index("id")
    status = table["status"]
    table.attrs["totals"] = {"rows": len(table), "checked": int((status != "not checked").sum()),
                             "pass": int((status == "pass").sum()),
                             "fail": int((status == "FAIL").sum()),
                             "not checked": int((status == "not checked").sum())}
    bad = table[status == "FAIL"]
    if len(bad) and raise_on_fail:
        lines = [f"  {rid}: ours {r.ours:.6g} vs printed {r.printed} (difference "
                 f"{r.difference:+.3g}, tolerance {r.tolerance:.3g})" for rid, r in bad.iterrows()]
        raise ParityError(f"{chapter}: {len(bad)} of {table.attrs['totals']['checked']} checked "
                          "ledger rows miss:\n" + "\n".join(lines))
    return table
