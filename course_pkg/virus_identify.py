"""What the virus-load data identify: true per-person parameters, closed-form predictions.

Chapter 1 fits the source's models to ``handel_simdat.csv``, whose ``mu`` column is the
noise-free trajectory the source simulated. Two facts follow and are computed here:

- Each person's true growth and decline parameters can be read off that column exactly:
  ``mu(t) = A log t - B t`` is linear in ``A = exp(alpha_i)`` and ``B = exp(beta_i)``
  (:func:`true_person_parameters`).
- In a model with free per-person intercepts and a *fixed* normal prior on them (the source's
  models 1 and 3), the data pin down each ``alpha_i = a0_i + a1 d_i`` almost exactly but say
  nothing about how it splits into ``a0_i`` and ``a1 d_i``. Treating the ``alpha_i`` as known,
  the posterior of the dose slope ``a1`` is then normal, with a closed form that depends only
  on the priors and the ``alpha_i`` (:func:`free_intercept_slope_posterior`): an approximation
  (each ``alpha_i`` is in fact estimated from noisy data) that explains where the chapter's fits
  of models 1 and 3 put the slopes; it is not a check at Monte Carlo precision.

Also :func:`posterior_mean_curves`: each person's posterior mean trajectory under any of the
fitted models, for small multiples. Hand-written: no library knows this model.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

__all__ = ["free_intercept_slope_posterior", "posterior_mean_curves", "true_person_parameters"]


def _number(value, name: str, *, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.number) \
            or not np.isfinite(value):
        raise TypeError(f"{name} must be a finite number, got {value!r}")
    if positive and value <= 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    return float(value)


def true_person_parameters(data: pd.DataFrame, *, mu: str = "mu") -> pd.DataFrame:
    """Each person's ``alpha_i``, ``beta_i`` and ``dose_adj`` from a noise-free trajectory column.

    Solves ``mu(t) = exp(alpha) log t - exp(beta) t`` for ``exp(alpha)`` and ``exp(beta)`` by
    least squares over each person's rows (exact when ``mu`` is noise-free).

    Parameters
    ----------
    data : pandas.DataFrame
        Columns ``id``, ``time`` (> 0, at least two distinct per person), ``dose_adj`` and
        ``mu``; ``load_dataset("handel_simdat")`` or ``simulate_virus_load``'s frame.
    mu : str
        The column holding the noise-free trajectory.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``id``: ``dose_adj``, ``alpha``, ``beta`` and ``max_residual`` (the largest
        absolute misfit of the solved curve, near 0 for a noise-free column).

    Raises
    ------
    TypeError
        ``data`` is not a DataFrame.
    KeyError
        A column is missing.
    ValueError
        A person has fewer than two distinct times, a non-positive time, or a curve whose
        ``exp(alpha)`` or ``exp(beta)`` comes out non-positive (not of the model's form).
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas.DataFrame, got {type(data).__name__}")
    missing = [c for c in ("id", "time", "dose_adj", mu) if c not in data.columns]
    if missing:
        raise KeyError(f"data lacks column(s) {missing}")
    rows = {}
    for pid, person in data.groupby("id", sort=True, observed=True):
        t = person["time"].to_numpy(dtype=float)
        if np.any(t <= 0) or np.unique(t).size < 2:
            raise ValueError(f"person {pid!r} needs at least two distinct positive times")
        design = np.column_stack([np.log(t), -t])
        (big_a, big_b), *_ = np.linalg.lstsq(design, person[mu].to_numpy(dtype=float),
                                             rcond=None)
        if big_a <= 0 or big_b <= 0:
            raise ValueError(f"person {pid!r}: {mu!r} is not of the form exp(alpha) log t - "
                             f"exp(beta) t with real alpha, beta")
        resid = np.abs(design @ np.array([big_a, big_b]) - person[mu].to_numpy(dtype=float))
        rows[pid] = {"dose_adj": float(person["dose_adj"].iloc[0]),
                     "alpha": float(np.log(big_a)), "beta": float(np.log(big_b)),
                     "max_residual": float(resid.max())}
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "id"
    return out


def free_intercept_slope_posterior(effects, dose_adj, *, slope_mean: float, slope_sd: float,
                                   intercept_mean: float, intercept_sd: float
                                   ) -> tuple[float, float]:
    """Posterior mean and SD of a dose slope when the per-person totals are known exactly.

    With ``effect_i = intercept_i + slope * dose_adj_i`` known, ``intercept_i ~
    Normal(intercept_mean, intercept_sd)`` independent and ``slope ~ Normal(slope_mean,
    slope_sd)``, the posterior of ``slope`` is normal with precision
    ``1 / slope_sd**2 + sum(dose_adj**2) / intercept_sd**2`` and mean
    ``(slope_mean / slope_sd**2 + sum(dose_adj * (effect - intercept_mean)) / intercept_sd**2)``
    divided by that precision. It is the exact posterior of ``a1`` (or ``b1``) in the source's
    models 1 and 3 in the limit of noise-free data; with 11 precise points per person it is
    close to it, but not to Monte Carlo precision (pass least-squares estimates of the
    ``effects`` to approximate the posterior from data).

    Parameters
    ----------
    effects, dose_adj : array_like
        One value per person: ``alpha_i`` (or ``beta_i``) and the centred log dose.
    slope_mean, slope_sd : float
        The slope's normal prior.
    intercept_mean, intercept_sd : float
        The intercepts' fixed normal prior.

    Returns
    -------
    tuple of float
        ``(mean, sd)``.

    Raises
    ------
    TypeError
        A prior setting that is not a finite number.
    ValueError
        A non-positive SD, arrays of different lengths, empty or non-finite arrays.
    """
    slope_mean = _number(slope_mean, "slope_mean")
    slope_sd = _number(slope_sd, "slope_sd", positive=True)
    intercept_mean = _number(intercept_mean, "intercept_mean")
    intercept_sd = _number(intercept_sd, "intercept_sd", positive=True)
    effects = np.asarray(effects, dtype=float).ravel()
    dose_adj = np.asarray(dose_adj, dtype=float).ravel()
    if effects.size == 0 or effects.shape != dose_adj.shape:
        raise ValueError(f"effects and dose_adj must be non-empty and of equal length, got "
                         f"{effects.size} and {dose_adj.size}")
    if not (np.all(np.isfinite(effects)) and np.all(np.isfinite(dose_adj))):
        raise ValueError("effects and dose_adj must be finite")
    precision = slope_sd ** -2 + np.sum(dose_adj ** 2) / intercept_sd ** 2
    weighted = slope_mean / slope_sd ** 2 + np.sum(dose_adj * (effects - intercept_mean)) \
        / intercept_sd ** 2
    return float(weighted / precision), float(precision ** -0.5)


def posterior_mean_curves(fits: Mapping[str, object], data: pd.DataFrame, times
                          ) -> pd.DataFrame:
    """Each person's posterior mean trajectory under each fitted virus-load model.

    Works for every model of :func:`course_pkg.virus.build_virus_model`: per-person or single
    (model 2a) ``a0``, ``b0``; with or without ``a1``, ``b1`` (model 5 has none).

    Parameters
    ----------
    fits : mapping of str to xarray.DataTree
        Label (e.g. ``"model 1"``) to fit.
    data : pandas.DataFrame
        The fitted data: ``id`` and ``dose_adj`` (one per person), and ``dose_cat`` if present
        (carried into the result for colouring).
    times : array_like
        Positive times (days).

    Returns
    -------
    pandas.DataFrame
        Long: ``model``, ``id``, ``time``, ``mean`` (and ``dose_cat`` when ``data`` has it).

    Raises
    ------
    TypeError
        ``fits`` not a non-empty mapping, or a fit without a posterior.
    KeyError
        ``data`` lacks ``id`` or ``dose_adj``; a fit lacks ``a0``, ``b0`` or names a person
        ``data`` does not have.
    ValueError
        Times not a non-empty 1-D array of positive numbers.
    """
    from course_pkg import _datatree

    if not isinstance(fits, Mapping) or not fits:
        raise TypeError(f"fits must be a non-empty mapping of label to fit, got {fits!r}")
    missing = [c for c in ("id", "dose_adj") if c not in getattr(data, "columns", [])]
    if missing:
        raise KeyError(f"data lacks column(s) {missing}")
    times = np.asarray(times, dtype=float)
    if times.ndim != 1 or times.size == 0 or np.any(times <= 0):
        raise ValueError("times must be a non-empty 1-D array of positive times (days)")
    people = data.drop_duplicates("id").set_index("id").sort_index()
    frames = []
    for label, idata in fits.items():
        _datatree.require(idata, f"fits[{label!r}]")
        post = idata.posterior
        for name in ("a0", "b0"):
            if name not in post:
                raise KeyError(f"fits[{label!r}] has no {name!r}: not a virus-model fit")
        if "id" in post["a0"].dims:
            ids = post["a0"].coords["id"].values
            unknown = [i for i in ids if i not in people.index]
            if unknown:
                raise KeyError(f"fits[{label!r}] has people {unknown[:5]} that data lacks")
        else:
            ids = people.index.to_numpy()
        dose = people.loc[ids, "dose_adj"].to_numpy(dtype=float)

        def person_draws(var, ids=ids, post=post):
            draws = post[var].stack(sample=("chain", "draw"))
            if "id" in draws.dims:
                return draws.transpose("id", "sample").values
            return np.broadcast_to(draws.values, (len(ids), draws.sizes["sample"]))

        alpha, beta = person_draws("a0"), person_draws("b0")
        if "a1" in post:
            alpha = alpha + post["a1"].stack(sample=("chain", "draw")).values * dose[:, None]
            beta = beta + post["b1"].stack(sample=("chain", "draw")).values * dose[:, None]
        mean = (np.exp(alpha).mean(axis=1)[:, None] * np.log(times)
                - np.exp(beta).mean(axis=1)[:, None] * times)  # mu is linear in exp(.)
        frame = pd.DataFrame({"model": label, "id": np.repeat(ids, times.size),
                              "time": np.tile(times, len(ids)), "mean": mean.ravel()})
        if "dose_cat" in people.columns:
            frame["dose_cat"] = people.loc[frame["id"], "dose_cat"].to_numpy()
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)
