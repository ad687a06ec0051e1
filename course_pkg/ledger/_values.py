"""A chapter's values for its ledger from a fit, and the glue that carries them to the prose."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import stats

from course_pkg.diagnostics import DEFAULT_THRESHOLDS
from course_pkg.ledger._table import REPORT_COLUMNS, load_ledger

#: The ESS the convergence gate requires; our MCSE in a tolerance is capped at its value there.
GATE_ESS = min(DEFAULT_THRESHOLDS["ess_bulk_min"], DEFAULT_THRESHOLDS["ess_tail_min"])


def fit_values(chapter: str, idata, *, model: str,
               quantities: Mapping[str, object]) -> dict[str, tuple[float, float]]:
    """Our value and its Monte Carlo standard error for every checked posterior row of a model.

    For each checked row of ``model`` whose ``quantity`` is a key of ``quantities`` and whose
    ``statistic`` is ``mean``, ``sd`` or a quantile ``qP``: the posterior mean, SD or
    equal-tailed quantile of that variable, with ArviZ's MCSE of the same statistic.

    The MCSE is capped at what the convergence gate allows (the same statistic's Monte Carlo
    error at an ESS of 400: ``sd / sqrt(400)`` for a mean, ``sd / sqrt(2 * 400)`` for an SD,
    the normal approximation for a quantile), so that a badly mixing variable cannot widen its
    own tolerance: a noisy estimate then fails the check instead of loosening it.

    Parameters
    ----------
    chapter : str
        The chapter (see :func:`load_ledger`).
    idata : xarray.DataTree
        Our fit of ``model``.
    model : str
        The ledger's model name.
    quantities : mapping
        Ledger ``quantity`` to a posterior variable name, or to ``(name, selection)`` with a
        selection dict for a vector variable (``("b", {"b_dim": "day01"})``).

    Returns
    -------
    dict
        Ledger id to ``(value, mcse)``, ready for :func:`check_ledger`.

    Raises
    ------
    KeyError
        A quantity that names no row of the model, or a variable not in the posterior.
    ValueError
        A selection that does not leave one number per draw.
    """
    import arviz as az

    from course_pkg import _datatree

    _datatree.require(idata, "idata")
    ledger = load_ledger(chapter)
    rows = ledger[(ledger["model"] == model) & (ledger["check"] == "compare")]
    unknown = [q for q in quantities if q not in set(rows["quantity"])]
    if unknown:
        raise KeyError(f"{chapter}: model {model!r} has no checked rows for quantities "
                       f"{unknown}; its quantities are {sorted(set(rows['quantity']))}")
    post = idata.posterior
    out = {}
    for rid, row in rows.iterrows():
        if row["quantity"] not in quantities:
            continue
        spec = quantities[row["quantity"]]
        name, sel = (spec, {}) if isinstance(spec, str) else spec
        if name not in post:
            raise KeyError(f"{name!r} is not a posterior variable")
        draws = post[name].sel(sel) if sel else post[name]
        extra = [d for d in draws.dims if d not in ("chain", "draw")]
        if extra:
            raise ValueError(f"{name!r} with selection {sel} still has dims {extra}")
        stat = row["statistic"]
        values = draws.values.ravel()
        sd = float(values.std(ddof=1))
        if stat == "mean":
            value, mcse = float(values.mean()), float(az.mcse(draws))
            cap = sd / np.sqrt(GATE_ESS)
        elif stat == "sd":
            value, mcse = sd, float(az.mcse(draws, method="sd"))
            cap = sd / np.sqrt(2 * GATE_ESS)
        elif stat.startswith("q"):
            p = float(stat[1:]) / 100
            value = float(np.quantile(values, p))
            mcse = float(az.mcse(draws, method="quantile", prob=p))
            cap = sd * np.sqrt(p * (1 - p)) / (stats.norm.pdf(stats.norm.ppf(p))
                                               * np.sqrt(GATE_ESS))
        else:
            raise ValueError(f"{chapter}, row {rid}: statistic {stat!r} is not a posterior "
                             "summary; give its value directly")
        out[rid] = (value, min(mcse, float(cap)))
    return out


def glue_ledger(table: pd.DataFrame, prefix: str = "ledger") -> dict:
    """Bind a checked ledger's totals and table to MyST-NB glue keys, without displaying them.

    The chapter's prose cites ``{glue:text}`ledger_pass``` and the others; the book's
    reproduction report pastes each chapter's ``ledger_table`` and totals from the executed
    notebook, so that no count or value in either is typed.

    Parameters
    ----------
    table : pandas.DataFrame
        The result of :func:`check_ledger` (all of a chapter's rows).
    prefix : str
        Start of the keys: ``<prefix>_rows``, ``_checked``, ``_pass``, ``_fail``,
        ``_not_checked`` and ``_table``.

    Returns
    -------
    dict
        The totals glued.

    Raises
    ------
    ValueError
        ``table`` does not come from :func:`check_ledger` (no totals).
    """
    from myst_nb import glue

    totals = table.attrs.get("totals")
    if not isinstance(table, pd.DataFrame) or not totals:
        raise ValueError("table must be the result of check_ledger (it carries the totals)")
    for key, value in totals.items():
        glue(f"{prefix}_{key.replace(' ', '_')}", value, display=False)
    shown = table[list(REPORT_COLUMNS)].copy()
    shown["ours"] = shown["ours"].round(6)
    shown["tolerance"] = shown["tolerance"].round(6)
    glue(f"{prefix}_table", shown, display=False)
    return totals
