"""A log of every fit, for the benchmark of the book's notebooks.

When the environment variable ``COURSE_FIT_LOG`` names a file, :func:`course_pkg.sampling.sample_pymc`
and :func:`course_pkg.sampling.fit_bambi` append one JSON line to it per fit: which notebook
(``COURSE_NOTEBOOK``, set by ``python -m bench.notebooks``), the fit's number in its process, a
label (a Bambi formula, the builder's formulas, or a PyMC model's free variables), the sampler and
its settings, compile and sampling seconds, and the smallest bulk and tail ESS, the largest R-hat
and the divergences over the model's free variables. Unset, nothing is computed or written: a
reader running a notebook pays nothing for it.

So the benchmark covers every model the book fits, with the settings each chapter uses, without a
second copy of each model in ``bench/``. Written here because neither PyMC nor ArviZ keeps such a
record; the statistics are ArviZ's.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import arviz as az
import numpy as np
import pandas as pd
import xarray as xr

from course_pkg import _datatree

__all__ = ["FIT_LOG_ENV", "NOTEBOOK_ENV", "describe", "mixing_extremes", "read_fit_log",
           "record_fit"]

FIT_LOG_ENV = "COURSE_FIT_LOG"
NOTEBOOK_ENV = "COURSE_NOTEBOOK"

#: Fits recorded by this process so far (each notebook runs in a kernel of its own).
_COUNT = 0


def mixing_extremes(idata: xr.DataTree, model) -> dict[str, float]:
    """Smallest bulk and tail ESS and largest R-hat over the free variables of ``model``.

    Deterministics are left out: the benchmark judges what the sampler moved, while each chapter's
    gate checks the quantities it reports. Shared with ``bench/run.py``.

    Returns
    -------
    dict
        ``min_ess_bulk``, ``min_ess_tail`` and ``max_rhat`` (NaN when no free variable is in the
        posterior).
    """
    names = [rv.name for rv in model.free_RVs if rv.name in idata.posterior.data_vars]
    post = _datatree.group(idata)[names]

    def extreme(dataset, how):
        values = [how(dataset[v].values) for v in dataset.data_vars]
        return float(how(values)) if values else float("nan")

    return {"min_ess_bulk": extreme(az.ess(post, method="bulk"), np.nanmin),
            "min_ess_tail": extreme(az.ess(post, method="tail"), np.nanmin),
            "max_rhat": extreme(az.rhat(post), np.nanmax)}


def describe(model) -> str:
    """A short label for a PyMC model: its name, else its free variables (first six)."""
    if getattr(model, "name", ""):
        return model.name
    names = [rv.name for rv in model.free_RVs]
    more = f", ... ({len(names)} in all)" if len(names) > 6 else ""
    return "PyMC: " + ", ".join(names[:6]) + more


def record_fit(idata: xr.DataTree, model, *, label: str, settings: dict) -> dict | None:
    """Append one fit to the log named by ``COURSE_FIT_LOG``; do nothing when it is unset.

    Parameters
    ----------
    idata : xarray.DataTree
        The fit, with ``attrs["sampling_wall_s"]`` (and ``attrs["sampling_s"]`` for nutpie) as
        :func:`course_pkg.sampling.sample_pymc` records them.
    model : pymc.Model
        The sampled model; its free variables are the ones summarised.
    label : str
        What the fit is, for a reader of the table.
    settings : dict
        Sampler name, draws, tune, chains and target acceptance.

    Returns
    -------
    dict or None
        The record written, or ``None`` when logging is off.
    """
    global _COUNT
    path = os.environ.get(FIT_LOG_ENV, "").strip()
    if not path:
        return None
    if not isinstance(label, str) or not label:
        raise TypeError(f"label must be a non-empty str, got {label!r}")
    _COUNT += 1
    extremes = {k: round(v, 3) for k, v in mixing_extremes(idata, model).items()}
    wall = float(idata.attrs.get("sampling_wall_s", np.nan))
    sample = idata.attrs.get("sampling_s")
    stats = idata.get("sample_stats")
    diverging = stats.get("diverging") if stats is not None else None
    record = {
        "notebook": os.environ.get(NOTEBOOK_ENV, ""),
        "fit": _COUNT,
        "label": label,
        **settings,
        "wall_s": wall,
        "sample_s": None if sample is None else float(sample),
        "compile_s": None if sample is None else round(wall - float(sample), 2),
        **extremes,
        "divergences": None if diverging is None else int(diverging.values.sum()),
    }
    with Path(path).open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")
    return record


def read_fit_log(path: str | os.PathLike) -> pd.DataFrame:
    """The fits in a log written by :func:`record_fit`, one row each, in the order run.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If a line is not a JSON record.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no fit log at {path}")
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as err:
            raise ValueError(f"{path}, line {number}: not a JSON record ({err})") from None
    return pd.DataFrame(rows)
