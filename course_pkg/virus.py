"""PyMC builders for the nonlinear multilevel virus-load models of chapter 1.

The mean log virus load ``mu = exp(alpha_i) * log(t) - exp(beta_i) * t`` is nonlinear in the
parameters, so Bambi's linear-predictor formulas cannot express it; the models are written in
PyMC here. They follow A. Handel (2022), "Bayesian analysis of longitudinal multilevel data
using brms and rethinking" (part 1 specifies the models; part 2 fits them with rethinking's
``ulam`` in ``ulamfitmodels.R``, part 3 with brms).

Two prior sets (``prior_set=``):

- ``"fitting"`` (default, :data:`FITTING_PRIORS`): the priors with which the source's part 2
  fits the models. Shared: ``a1 ~ Normal(0.3, 1)``, ``b1 ~ Normal(-0.3, 1)``,
  ``sigma ~ HalfCauchy(1)``. ``"m1"``: ``a0_i ~ Normal(2, 10)``, ``b0_i ~ Normal(0.5, 10)``;
  ``"m2"``: ``a0_i ~ Normal(mu_a, 0.0001)``, ``b0_i ~ Normal(mu_b, 0.0001)``,
  ``mu_a ~ Normal(2, 1)``, ``mu_b ~ Normal(0.5, 1)``; ``"m2a"``: one ``a0 ~ Normal(2, 0.1)``,
  one ``b0 ~ Normal(0.5, 0.1)``; ``"m3"``: ``a0_i ~ Normal(2, 1)``, ``b0_i ~ Normal(0.5, 1)``;
  ``"m4"``/``"m4a"``: ``a0_i ~ Normal(mu_a, sigma_a)``, ``b0_i ~ Normal(mu_b, sigma_b)``,
  ``mu_a ~ Normal(2, 1)``, ``mu_b ~ Normal(0.5, 1)``, ``sigma_a, sigma_b ~ HalfCauchy(1)``
  (``"m4a"`` non-centred); ``"m5"``: model 1 without ``a1``, ``b1``.
- ``"text"`` (:data:`TEXT_PRIORS`, also :data:`DEFAULT_PRIORS` under its old name): the
  priors part 1's equations write, centred on the simulation's values: ``a1 ~ Normal(0.1,
  0.1)``, ``b1 ~ Normal(-0.1, 0.1)``, means 3 and 1, model 1's spread 10, model 2's 0.001,
  model 3's 1, model 2a's ``Normal(3, 1)`` and ``Normal(1, 1)``.

All models use ``alpha_i = a0_i + a1 * dose_adj_i``, ``beta_i = b0_i + b1 * dose_adj_i``.
Model 2 is always centred: it reproduces the source's sampling pathology.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import pymc as pm

__all__ = ["DEFAULT_PRIORS", "FITTING_PRIORS", "MODEL_NAMES", "PRIOR_SETS", "TEXT_PRIORS",
           "build_virus_model", "design_summary", "person_trajectories",
           "population_estimates"]

MODEL_NAMES = ("m1", "m2", "m2a", "m3", "m4", "m4a", "m5")

_COMMON = {"sigma_scale": 1.0, "a1_mu": 0.1, "a1_sd": 0.1, "b1_mu": -0.1, "b1_sd": 0.1}
#: The priors of part 1's equations (centred on the simulation's values); no m4a, m5 there.
TEXT_PRIORS = {
    "m1": {**_COMMON, "mu_a": 3.0, "mu_b": 1.0, "sigma_a": 10.0, "sigma_b": 10.0},
    "m2": {**_COMMON, "mu_a_mu": 3.0, "mu_a_sd": 1.0, "mu_b_mu": 1.0, "mu_b_sd": 1.0,
           "sigma_a": 0.001, "sigma_b": 0.001},
    "m2a": {**_COMMON, "a0_mu": 3.0, "a0_sd": 1.0, "b0_mu": 1.0, "b0_sd": 1.0},
    "m3": {**_COMMON, "mu_a": 3.0, "mu_b": 1.0, "sigma_a": 1.0, "sigma_b": 1.0},
    "m4": {**_COMMON, "mu_a_mu": 3.0, "mu_a_sd": 1.0, "mu_b_mu": 1.0, "mu_b_sd": 1.0,
           "sigma_a_scale": 1.0, "sigma_b_scale": 1.0},
}
#: Old name of :data:`TEXT_PRIORS` (the ledger test of chapter 1 reads it).
DEFAULT_PRIORS = TEXT_PRIORS

_FIT_COMMON = {"sigma_scale": 1.0, "a1_mu": 0.3, "a1_sd": 1.0, "b1_mu": -0.3, "b1_sd": 1.0}
_FIT_M4 = {**_FIT_COMMON, "mu_a_mu": 2.0, "mu_a_sd": 1.0, "mu_b_mu": 0.5, "mu_b_sd": 1.0,
           "sigma_a_scale": 1.0, "sigma_b_scale": 1.0}
#: The priors of the source's fitting script (part 2, ``ulamfitmodels.R``); the default.
FITTING_PRIORS = {
    "m1": {**_FIT_COMMON, "mu_a": 2.0, "mu_b": 0.5, "sigma_a": 10.0, "sigma_b": 10.0},
    "m2": {**_FIT_COMMON, "mu_a_mu": 2.0, "mu_a_sd": 1.0, "mu_b_mu": 0.5, "mu_b_sd": 1.0,
           "sigma_a": 0.0001, "sigma_b": 0.0001},
    "m2a": {**_FIT_COMMON, "a0_mu": 2.0, "a0_sd": 0.1, "b0_mu": 0.5, "b0_sd": 0.1},
    "m3": {**_FIT_COMMON, "mu_a": 2.0, "mu_b": 0.5, "sigma_a": 1.0, "sigma_b": 1.0},
    "m4": dict(_FIT_M4),
    "m4a": dict(_FIT_M4),
    "m5": {"sigma_scale": 1.0, "mu_a": 2.0, "mu_b": 0.5, "sigma_a": 10.0, "sigma_b": 10.0},
}
#: The prior sets by name.
PRIOR_SETS = {"fitting": FITTING_PRIORS, "text": TEXT_PRIORS}
_LOCATIONS = {"a1_mu", "b1_mu", "mu_a", "mu_b", "mu_a_mu", "mu_b_mu", "a0_mu", "b0_mu"}
_REQUIRED = ("id", "dose_adj", "time", "outcome")


def _check_data(data) -> None:
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas.DataFrame, got {type(data).__name__}")
    missing = [c for c in _REQUIRED if c not in data.columns]
    if missing:
        raise ValueError(f"data lacks required columns {missing}; it needs {list(_REQUIRED)}")
    if len(data) == 0:
        raise ValueError("data has no rows")
    for col in ("dose_adj", "time", "outcome"):
        if not pd.api.types.is_numeric_dtype(data[col]):
            raise TypeError(f"data[{col!r}] must be numeric, got {data[col].dtype}")
        if not np.all(np.isfinite(data[col].to_numpy(dtype=float))):
            raise ValueError(f"data[{col!r}] has missing or infinite values")
    if np.any(data["time"].to_numpy(dtype=float) <= 0):
        raise ValueError("data['time'] must be > 0: the model uses log(time)")
    per_id = data.groupby("id", observed=True)["dose_adj"].nunique()
    if (per_id > 1).any():
        bad = per_id[per_id > 1].index.tolist()[:5]
        raise ValueError(f"each id must have a single dose_adj; ids {bad} have several")


def _priors_for(model: str, priors: Mapping[str, float] | None,
                prior_set: str) -> dict[str, float]:
    if prior_set not in PRIOR_SETS:
        raise ValueError(f"prior_set must be one of {sorted(PRIOR_SETS)}, got {prior_set!r}")
    if model not in PRIOR_SETS[prior_set]:
        raise ValueError(f"model {model!r} has no priors in prior_set {prior_set!r}; it has "
                         f"{sorted(PRIOR_SETS[prior_set])}")
    values = dict(PRIOR_SETS[prior_set][model])
    if priors is None:
        return values
    if not isinstance(priors, Mapping):
        raise TypeError(f"priors must be a mapping of name to number, got {type(priors).__name__}")
    unknown = sorted(set(priors) - set(values))
    if unknown:
        raise ValueError(f"priors has keys {unknown} that model {model!r} does not use; "
                         f"valid keys: {sorted(values)}")
    for key, value in priors.items():
        if isinstance(value, bool) or not isinstance(value, int | float | np.number) or \
                not np.isfinite(value):
            raise TypeError(f"priors[{key!r}] must be a finite number, got {value!r}")
        if key not in _LOCATIONS and value <= 0:
            raise ValueError(f"priors[{key!r}] is a scale and must be > 0, got {value}")
        values[key] = float(value)
    return values


def build_virus_model(
    data: pd.DataFrame,
    model: str = "m4",
    *,
    priors: Mapping[str, float] | None = None,
    prior_set: str = "fitting",
    dose_effect: bool = True,
    noncentered: bool = False,
) -> pm.Model:
    """Build one of the source's virus-load models in PyMC.

    Hand-written because the mean trajectory is nonlinear in the parameters, which Bambi's
    formula interface cannot express.

    Parameters
    ----------
    data : pandas.DataFrame
        Long frame with columns ``id``, ``dose_adj`` (log dose minus log middle dose, one value
        per id), ``time`` (days, > 0) and ``outcome`` (log virus load), as returned by
        :func:`course_pkg.simulate.simulate_virus_load` or ``load_dataset("handel_simdat")``.
    model : {"m1", "m2", "m2a", "m3", "m4", "m4a", "m5"}
        Which of the source's models (see the module docstring).
    priors : mapping of str to float, optional
        Override prior settings; the valid keys per model are those of the chosen prior set
        (e.g. ``{"sigma_a_scale": 0.1}`` for model 4).
    prior_set : {"fitting", "text"}
        ``"fitting"``: the source's fitting priors (:data:`FITTING_PRIORS`); ``"text"``: part
        1's equations (:data:`TEXT_PRIORS`, which has no m4a or m5).
    dose_effect : bool
        If False, drop ``a1`` and ``b1`` (no dose effect on the trajectory). Model 5 never has
        them.
    noncentered : bool
        Model 4 only: write ``a0_i = mu_a + sigma_a * z_a_i`` with standard-normal ``z_a_i``
        (likewise ``b0``), so that the sampler's geometry does not depend on ``sigma_a`` (the
        funnel of centred hierarchies). That helps when each individual has little data. With
        the source's design (11 precise measurements per person) the likelihood pins down every
        ``a0_i`` and the centred form samples better, so it is the default. ``"m4a"`` is model 4
        with ``noncentered=True``. Ignored by the other models, whose spreads are fixed
        numbers; model 2 is always centred, as in the source.

    Returns
    -------
    pymc.Model
        With coords ``id`` (the sorted distinct ids) and ``obs_id`` (row number); ``pm.Data``
        containers ``time``, ``dose_adj``, ``id_idx``; deterministics ``a0``, ``b0`` (dims
        ``id``; scalars in model 2a) and ``mu`` (dims ``obs_id``); observed ``outcome``.

    Raises
    ------
    TypeError
        ``data`` not a DataFrame, non-numeric columns, non-numeric prior values.
    ValueError
        Unknown model or prior set, missing columns, non-positive times, several doses per id,
        unknown prior keys, non-positive prior scales.

    Examples
    --------
    >>> from course_pkg.simulate import simulate_virus_load
    >>> from course_pkg.virus import build_virus_model
    >>> data, _ = simulate_virus_load("m3", seed=1)
    >>> m = build_virus_model(data, "m4")
    >>> sorted(m.coords)
    ['id', 'obs_id']
    """
    if model not in MODEL_NAMES:
        raise ValueError(f"model must be one of {MODEL_NAMES}, got {model!r}")
    _check_data(data)
    if not isinstance(prior_set, str):
        raise TypeError(f"prior_set must be a str, got {type(prior_set).__name__}")
    p = _priors_for(model, priors, prior_set)
    if model == "m4a":
        model, noncentered = "m4", True
    if model == "m5":
        model, dose_effect = "m1", False

    id_codes, ids = pd.factorize(data["id"], sort=True)
    coords = {"id": np.asarray(ids), "obs_id": np.arange(len(data))}
    with pm.Model(coords=coords) as m:
        time = pm.Data("time", data["time"].to_numpy(dtype=float), dims="obs_id")
        dose_adj = pm.Data("dose_adj", data["dose_adj"].to_numpy(dtype=float), dims="obs_id")
        id_idx = pm.Data("id_idx", id_codes.astype("int64"), dims="obs_id")

        sigma = pm.HalfCauchy("sigma", beta=p["sigma_scale"])
        if dose_effect:
            a1 = pm.Normal("a1", p["a1_mu"], p["a1_sd"])
            b1 = pm.Normal("b1", p["b1_mu"], p["b1_sd"])
        else:
            a1 = b1 = 0.0

        if model in ("m1", "m3"):
            a0 = pm.Normal("a0", p["mu_a"], p["sigma_a"], dims="id")
            b0 = pm.Normal("b0", p["mu_b"], p["sigma_b"], dims="id")
        elif model == "m2":
            mu_a = pm.Normal("mu_a", p["mu_a_mu"], p["mu_a_sd"])
            mu_b = pm.Normal("mu_b", p["mu_b_mu"], p["mu_b_sd"])
            a0 = pm.Normal("a0", mu_a, p["sigma_a"], dims="id")
            b0 = pm.Normal("b0", mu_b, p["sigma_b"], dims="id")
        elif model == "m2a":
            a0 = pm.Normal("a0", p["a0_mu"], p["a0_sd"])
            b0 = pm.Normal("b0", p["b0_mu"], p["b0_sd"])
        else:  # m4
            mu_a = pm.Normal("mu_a", p["mu_a_mu"], p["mu_a_sd"])
            mu_b = pm.Normal("mu_b", p["mu_b_mu"], p["mu_b_sd"])
            sigma_a = pm.HalfCauchy("sigma_a", beta=p["sigma_a_scale"])
            sigma_b = pm.HalfCauchy("sigma_b", beta=p["sigma_b_scale"])
            if noncentered:
                z_a = pm.Normal("z_a", 0.0, 1.0, dims="id")
                z_b = pm.Normal("z_b", 0.0, 1.0, dims="id")
                a0 = pm.Deterministic("a0", mu_a + sigma_a * z_a, dims="id")
                b0 = pm.Deterministic("b0", mu_b + sigma_b * z_b, dims="id")
            else:
                a0 = pm.Normal("a0", mu_a, sigma_a, dims="id")
                b0 = pm.Normal("b0", mu_b, sigma_b, dims="id")

        a0_obs = a0 if model == "m2a" else a0[id_idx]
        b0_obs = b0 if model == "m2a" else b0[id_idx]
        alpha = a0_obs + a1 * dose_adj
        beta = b0_obs + b1 * dose_adj
        # The rewritten form: exp(alpha) * log(t) - exp(beta) * t, never t ** exp(alpha).
        mu = pm.Deterministic("mu", pm.math.exp(alpha) * pm.math.log(time)
                              - pm.math.exp(beta) * time, dims="obs_id")
        pm.Normal("outcome", mu, sigma, observed=data["outcome"].to_numpy(dtype=float),
                  dims="obs_id")
    return m


_POPULATION = {"mu_a": ("mu_a", "a0"), "mu_b": ("mu_b", "b0")}
_OPTIONAL = ("sigma_a", "sigma_b", "a1", "b1")


def population_estimates(idata) -> dict[str, tuple[float, float]]:
    """Posterior mean and SD of the population parameters of any of the source's models.

    ``mu_a`` and ``mu_b`` are the model's own where it has them (m2, m4, m4a); m2a's single
    ``a0`` and ``b0``; for m1, m3 and m5, which have no population parameter, the mean over
    people of ``a0`` and ``b0``. Then ``sigma_a``, ``sigma_b``, ``a1`` and ``b1`` where the
    model has them (m5 has no dose effect), and ``sigma``.

    Parameters
    ----------
    idata : xarray.DataTree
        A fit of a model from :func:`build_virus_model`.

    Returns
    -------
    dict
        Parameter name to ``(mean, sd)``; absent parameters are left out.

    Raises
    ------
    TypeError
        ``idata`` has no posterior.
    KeyError
        ``mu_a``/``a0``, ``mu_b``/``b0`` or ``sigma`` is missing (not a virus-model fit).
    """
    from course_pkg import _datatree

    _datatree.require(idata, "idata")
    post = idata.posterior
    values = {}
    for name, (own, per_person) in _POPULATION.items():
        if own in post:
            values[name] = post[own]
        elif per_person in post:
            draws = post[per_person]
            values[name] = draws.mean("id") if "id" in draws.dims else draws
        else:
            raise KeyError(f"idata has neither {own!r} nor {per_person!r}: not a virus-model fit")
    values |= {name: post[name] for name in _OPTIONAL if name in post}
    if "sigma" not in post:
        raise KeyError("idata has no 'sigma': not a virus-model fit")
    values["sigma"] = post["sigma"]
    return {k: (float(v.mean()), float(v.std())) for k, v in values.items()}


def person_trajectories(idata, data: pd.DataFrame, times, *, n_draws: int = 500,
                        seed: int = 0) -> pd.DataFrame:
    """Each person's expected trajectory with its 95% credible band and prediction band.

    For ``n_draws`` posterior draws of a model with per-person ``a0``, ``b0`` (m1, m3, m4):
    ``mu(t) = exp(alpha) log t - exp(beta) t`` at each of ``times``; the prediction band adds
    normal noise with the draw's ``sigma``.

    Parameters
    ----------
    idata : xarray.DataTree
        A fit with per-person ``a0`` and ``b0`` (dimension ``id``), ``a1``, ``b1``, ``sigma``.
    data : pandas.DataFrame
        The fitted data (``id`` and ``dose_adj`` columns: each person's dose).
    times : array-like
        Positive times (days) to evaluate the curves at.
    n_draws : int
        Posterior draws used.
    seed : int
        Seed for the draw subsample and the prediction noise.

    Returns
    -------
    pandas.DataFrame
        One row per person and time: ``id``, ``time``, ``mean``, ``mu_lo``, ``mu_hi`` (95%
        credible band of the mean) and ``y_lo``, ``y_hi`` (95% prediction band).

    Raises
    ------
    ValueError
        Non-positive times, ``n_draws`` < 1, or a fit without per-person effects.
    KeyError
        ``data`` lacks ``id`` or ``dose_adj``, or lacks a person of the fit.
    """
    import arviz as az

    times = np.asarray(times, dtype=float)
    if times.ndim != 1 or len(times) == 0 or np.any(times <= 0):
        raise ValueError("times must be a non-empty 1-D array of positive times (days)")
    if isinstance(n_draws, bool) or not isinstance(n_draws, int) or n_draws < 1:
        raise ValueError(f"n_draws must be a positive int, got {n_draws!r}")
    missing = [c for c in ("id", "dose_adj") if c not in getattr(data, "columns", [])]
    if missing:
        raise KeyError(f"data lacks column(s) {missing}")
    if "id" not in idata.posterior["a0"].dims:
        raise ValueError("the fit has no per-person a0 (m2a pools everyone): use m1, m3 or m4")
    post = az.extract(idata, num_samples=n_draws, random_seed=seed)
    dose_by_id = data.groupby("id")["dose_adj"].first()
    ids = post["a0"].coords["id"].values
    unknown = [i for i in ids if i not in dose_by_id.index]
    if unknown:
        raise KeyError(f"data lacks people {unknown[:5]} of the fit")
    dose = dose_by_id.loc[ids].to_numpy()[:, None]
    alpha = post["a0"].values + post["a1"].values * dose
    beta = post["b0"].values + post["b1"].values * dose
    mu = np.exp(alpha)[:, :, None] * np.log(times) - np.exp(beta)[:, :, None] * times
    noise = (np.random.default_rng(seed).normal(size=mu.shape)
             * post["sigma"].values[None, :, None])
    rows = []
    for k, pid in enumerate(ids):
        q_mu = np.quantile(mu[k], [0.025, 0.975], axis=0)
        q_y = np.quantile(mu[k] + noise[k], [0.025, 0.975], axis=0)
        rows.append(pd.DataFrame({"id": pid, "time": times, "mean": mu[k].mean(axis=0),
                                  "mu_lo": q_mu[0], "mu_hi": q_mu[1],
                                  "y_lo": q_y[0], "y_hi": q_y[1]}))
    return pd.concat(rows, ignore_index=True)


def design_summary(frame: pd.DataFrame) -> dict[str, float]:
    """The design of a virus-load data set as numbers: people per dose group, each group's dose
    and adjusted dose, and the sampling times (to compare a simulation with the source's data).

    Parameters
    ----------
    frame : pandas.DataFrame
        Columns ``id``, ``dose_cat``, ``dose``, ``dose_adj`` and ``time``.

    Returns
    -------
    dict
        ``n_<group>``, ``dose_<group>``, ``dose_adj_<group>`` and ``time_<k>``.

    Raises
    ------
    KeyError
        A column is missing.
    """
    missing = [c for c in ("id", "dose_cat", "dose", "dose_adj", "time")
               if c not in getattr(frame, "columns", [])]
    if missing:
        raise KeyError(f"frame lacks column(s) {missing}")
    people = frame.drop_duplicates("id")
    sizes = people.groupby("dose_cat", observed=True).size()
    doses = people.groupby("dose_cat", observed=True)[["dose", "dose_adj"]].first()
    out = {f"n_{cat}": float(n) for cat, n in sizes.items()}
    out.update({f"dose_{cat}": v for cat, v in doses["dose"].items()})
    out.update({f"dose_adj_{cat}": v for cat, v in doses["dose_adj"].items()})
    out.update({f"time_{k}": v for k, v in enumerate(sorted(frame["time"].unique()))})
    return out
