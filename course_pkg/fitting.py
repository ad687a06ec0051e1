"""One way to fit: build, sample, gate and time any model the course fits, in one call.

:func:`fit` takes a PyMC model, a Bambi model or a :class:`course_pkg.correlated.CorrelatedModel`,
samples it with the course's defaults (:data:`course_pkg.sampling.DEFAULTS`), applies the
convergence gate (:func:`course_pkg.diagnostics.check_convergence`) and records build, compile and
sampling seconds with the gate's numbers in ``idata.attrs``; :func:`timing_table` puts several fits
side by side. The chapters use these instead of defining fit, gate or timing wrappers of their own.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import pymc as pm
import xarray as xr

from course_pkg import _datatree
from course_pkg.diagnostics import check_convergence, convergence_table, count_divergences
from course_pkg.sampling import fit_bambi, sample_pymc

__all__ = ["TIMING_COLUMNS", "fit", "gate_variables", "timing_table"]

#: Dimension names of per-observation variables (Bambi's, the builders' and chapter 1's).
_OBS_DIMS = ("__obs__", "obs", "obs_id")

#: What :func:`fit` records in ``idata.attrs`` and :func:`timing_table` shows.
TIMING_COLUMNS = ("build_s", "compile_s", "sampling_s", "total_s", "min_ess_bulk", "min_ess_tail",
                  "max_rhat", "divergences", "ess_per_s")


def gate_variables(idata: xr.DataTree) -> list[str]:
    """The posterior variables the gate checks by default: all but per-observation quantities.

    Variables with an observation dimension (Bambi's ``__obs__``, ``obs`` or ``obs_id``) are deterministic
    functions of the parameters (``mu`` for each row); the parameters themselves are gated.
    """
    _datatree.require(idata)
    return [name for name, var in idata.posterior.data_vars.items()
            if not any(d in _OBS_DIMS for d in var.dims)]


def _kind(model) -> str:
    if isinstance(model, pm.Model):
        return "pymc"
    import bambi as bmb  # imported here: it is slow to import and only Bambi fits need it

    if isinstance(model, bmb.Model):
        return "bambi"
    from course_pkg.correlated import CorrelatedModel

    if isinstance(model, CorrelatedModel):
        return "correlated"
    raise TypeError(f"model must be a pymc.Model, bambi.Model or CorrelatedModel, got "
                    f"{type(model).__name__}")


def fit(
    model,
    *,
    random_seed: int,
    name: str | None = None,
    var_names: Sequence[str] | None = None,
    gate: bool | Mapping = True,
    report: bool = True,
    **settings,
) -> xr.DataTree:
    """Fit a model with the course's defaults, gate it and record its timings.

    Parameters
    ----------
    model : pymc.Model, bambi.Model or CorrelatedModel
        Built here when it is not yet (a Bambi model, a builder), so building is timed apart.
    random_seed : int
        Seed (required: every fit in the course is reproducible).
    name : str, optional
        What the fit is called in the report and the timing table (``idata.attrs["name"]``).
    var_names : sequence of str, optional
        Variables the gate checks; :func:`gate_variables` by default.
    gate : bool or mapping
        ``True``: the course gate (R-hat <= 1.01, bulk and tail ESS >= 400, no divergences),
        raising :class:`course_pkg.diagnostics.ConvergenceError` naming the parameters that fail.
        A mapping: keyword arguments for :func:`~course_pkg.diagnostics.check_convergence`
        (a looser threshold needs its ``reason``). ``False``: no gate, for a fit shown failing on
        purpose (the chapter then calls the gate in a cell tagged to raise).
    report : bool
        Print one line: the gate's weakest numbers and the seconds spent.
    **settings
        Sampler settings (``draws``, ``tune``, ``chains``, ``target_accept``, ``sampler``, ...)
        passed on to :func:`~course_pkg.sampling.sample_pymc`, :func:`~course_pkg.sampling.fit_bambi`
        or ``CorrelatedModel.fit``; unset ones take :data:`course_pkg.sampling.DEFAULTS`.

    Returns
    -------
    xarray.DataTree
        The fit, with ``attrs`` holding ``name`` and :data:`TIMING_COLUMNS`. ``build_s`` is NaN
        for a PyMC model (its ``with`` block built it before this call) and ``total_s`` is then
        compile plus sampling.

    Raises
    ------
    TypeError
        A model of another kind, or ``gate`` that is neither bool nor mapping.
    course_pkg.diagnostics.ConvergenceError
        The fit fails the gate.
    """
    kind = _kind(model)
    if name is not None and (not isinstance(name, str) or not name):
        raise TypeError(f"name must be a non-empty str, got {name!r}")
    if not isinstance(gate, bool | Mapping):
        raise TypeError(f"gate must be True, False or a mapping of check_convergence arguments, "
                        f"got {gate!r}")
    start = time.perf_counter()
    if kind == "bambi" and not model.built:
        model.build()
    elif kind == "correlated":
        _ = model.model  # the PyMC graph, built once and cached by the builder
    # A PyMC model is built by the caller's ``with`` block, before this call: not timed here.
    build_s = float("nan") if kind == "pymc" else time.perf_counter() - start
    if kind == "pymc":
        idata = sample_pymc(model, random_seed=random_seed, label=name, **settings)
    elif kind == "bambi":
        idata = fit_bambi(model, random_seed=random_seed, **settings)
    else:
        idata = model.fit(random_seed=random_seed, **settings)
    wall = float(idata.attrs["sampling_wall_s"])
    sampling_s = float(idata.attrs.get("sampling_s", wall))  # nutpie's own clock, else wall
    record = {"build_s": build_s, "compile_s": wall - sampling_s, "sampling_s": sampling_s,
              "total_s": wall + (0.0 if np.isnan(build_s) else build_s)}
    names = list(var_names) if var_names is not None else gate_variables(idata)
    if gate is False:
        table = convergence_table(idata, names)
    else:
        table = check_convergence(idata, names, **({} if gate is True else dict(gate)))
    divergences = count_divergences(idata)
    record.update(min_ess_bulk=float(table["ess_bulk"].min()),
                  min_ess_tail=float(table["ess_tail"].min()),
                  max_rhat=float(table["r_hat"].max()), divergences=divergences)
    record["ess_per_s"] = record["min_ess_bulk"] / sampling_s if sampling_s > 0 else np.nan
    idata.attrs.update({"name": name or idata.attrs.get("name", kind), **record})
    if report:
        if gate is False:
            verdict = "(not gated)"
        elif gate is True or not table.attrs.get("reason"):
            verdict = "passes the gate"
        else:
            verdict = f"passes the loosened gate ({table.attrs['reason']})"
        built = "" if np.isnan(build_s) else f"build {build_s:.1f} s, "
        print(f"{name or 'fit'} {verdict}: max R-hat {record['max_rhat']:.3f}, min bulk ESS "
              f"{record['min_ess_bulk']:.0f}, min tail ESS {record['min_ess_tail']:.0f}, "
              f"{divergences} divergences; {built}compile {record['compile_s']:.1f} s, "
              f"sampling {sampling_s:.1f} s")
    return idata


def timing_table(fits: Mapping[str, xr.DataTree] | Sequence[xr.DataTree]) -> pd.DataFrame:
    """Fits made by :func:`fit` side by side: seconds per stage, ESS and ESS per second.

    Parameters
    ----------
    fits : mapping or sequence
        Fits by name (a mapping of str to xarray.DataTree), or a sequence of fits.
        A sequence uses each fit's ``attrs["name"]``.

    Returns
    -------
    pandas.DataFrame
        One row per fit, indexed by name, columns :data:`TIMING_COLUMNS`.

    Raises
    ------
    ValueError
        A fit that :func:`fit` did not make (no timings in its ``attrs``), or no fits.
    """
    items = list(fits.items()) if isinstance(fits, Mapping) else [
        (getattr(f, "attrs", {}).get("name", f"fit {i + 1}"), f) for i, f in enumerate(fits)]
    if not items:
        raise ValueError("fits is empty")
    rows = {}
    for label, idata in items:
        _datatree.require(idata, f"fits[{label!r}]")
        missing = [c for c in TIMING_COLUMNS if c not in idata.attrs]
        if missing:
            raise ValueError(f"fits[{label!r}] has no {missing[0]!r} in its attrs: fit it with "
                             "course_pkg.fitting.fit")
        rows[label] = {c: idata.attrs[c] for c in TIMING_COLUMNS}
    return pd.DataFrame.from_dict(rows, orient="index")
