"""The Monte Carlo error of PSIS-LOO from independent runs of the sampler.

Where Pareto k exceeds 0.7, ``loo`` reports no Monte Carlo error, and an estimate from one run
is hard: :func:`course_pkg.loo.psis_mcse` splits the draws into blocks and scales the spread of
the blocks' PSIS values by one over the square root of their number, which assumes that the
error falls like that with the number of draws, an assumption that heavy-tailed importance
ratios (large k) need not obey, and rests on a few short blocks. In chapter 2, for the
no-pooling model with 38 ratings above k = 0.7, the blocks' estimate for ``p_loo`` was 0.20 in
one run and 0.53 in another; with 0.20 the parity row for ``p_loo`` missed on one run (81.4
against the printed 83.6, a tolerance of 1.2), while eight whole runs spread with a standard
deviation of 0.54.

This module measures the error directly: fit the same model to the same data several times with
other seeds, compute PSIS-LOO of each run (:func:`course_pkg.loo.psis_summary`), and take the
standard deviation over the runs, which is the Monte Carlo error of one run, with no assumption
about how it scales. Written by hand: ArviZ's ``loo`` reports the error only where its own
theory holds (k <= 0.7).
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
import xarray as xr

from course_pkg.loo import psis_summary

__all__ = ["psis_replicate_mcse"]


def psis_replicate_mcse(runs: Sequence[xr.DataTree],
                        others: Sequence[xr.DataTree] | None = None, *,
                        var_name: str | None = None) -> pd.Series:
    """Monte Carlo standard error of one run's PSIS-LOO, from independent runs of the model.

    Parameters
    ----------
    runs : sequence of xarray.DataTree
        At least three fits of the same model to the same observations, each with its own seed
        (each with ``posterior`` and ``log_likelihood`` groups).
    others : sequence of xarray.DataTree, optional
        As many fits of a second model, paired with ``runs`` in order: adds the error of
        ``elpd_diff`` (run minus other) and ``se_diff``.
    var_name : str, optional
        The log-likelihood variable, when the group holds more than one.

    Returns
    -------
    pandas.Series
        The standard deviation over the runs (``ddof=1``) of each statistic of
        :func:`course_pkg.loo.psis_summary`; ``attrs["runs"]`` is their number and
        ``attrs["values"]`` the table of the runs' statistics.

    Raises
    ------
    TypeError
        ``runs`` or ``others`` is not a sequence of DataTrees.
    ValueError
        Fewer than three runs, ``others`` of another length, or a run that
        :func:`course_pkg.loo.psis_summary` refuses.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> def run(seed):
    ...     rng = np.random.default_rng(seed)
    ...     y = np.linspace(-1, 1, 20)
    ...     mu = rng.normal(0, 0.2, (2, 500))
    ...     ll = -0.5 * (y - mu[..., None]) ** 2
    ...     return xr.DataTree.from_dict({
    ...         "posterior": xr.Dataset({"mu": (("chain", "draw"), mu)}),
    ...         "log_likelihood": xr.Dataset({"y": (("chain", "draw", "obs"), ll)})})
    >>> error = psis_replicate_mcse([run(s) for s in range(4)])
    >>> error.attrs["runs"], bool(error["elpd_loo"] > 0)
    (4, True)
    """
    for name, value in (("runs", runs), ("others", others)):
        if value is None:
            continue
        if isinstance(value, xr.DataTree) or not isinstance(value, Sequence):
            raise TypeError(f"{name} must be a sequence of xarray.DataTree, got "
                            f"{type(value).__name__}")
        bad = [type(tree).__name__ for tree in value if not isinstance(tree, xr.DataTree)]
        if bad:
            raise TypeError(f"{name} must hold xarray.DataTree objects only, got {bad[0]}")
    if len(runs) < 3:
        raise ValueError(f"need at least 3 runs to estimate a spread, got {len(runs)}")
    if others is not None and len(others) != len(runs):
        raise ValueError(f"others has {len(others)} runs, runs {len(runs)}: pair them one to one")
    pairs = zip(runs, others if others is not None else [None] * len(runs), strict=True)
    table = pd.DataFrame([psis_summary(run, other, var_name=var_name) for run, other in pairs])
    out = table.std(ddof=1)
    out.attrs.update(runs=len(runs), values=table)
    return out
