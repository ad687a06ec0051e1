"""Simulated grouped data for the generalized families of the catalogue (chapter 3).

One design for every family: ``n_obs`` rows in ``n_groups`` groups, a standard-normal covariate
``x``, and a linear predictor ``eta = Intercept + b * x + u_g`` with ``u_g ~ N(0, sd_group)``,
mapped to the outcome by the family's link as Bambi 0.21 defines it, so a fit of
``y ~ x + (1 | g)`` with that family recovers ``truth`` under Bambi's own names. Written with NumPy:
Bambi's and PyMC's prior predictive also draw the parameters, which a recovery check must fix.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from course_pkg.simulate import _checks as check

__all__ = ["FAMILIES", "simulate_family"]

#: Family name (Bambi's) -> (link, auxiliary parameters with defaults).
FAMILIES: dict[str, tuple[str, dict[str, object]]] = {
    "gaussian": ("identity", {"sigma": 1.0}),
    "t": ("identity", {"sigma": 1.0, "nu": 4.0}),
    "bernoulli": ("logit", {}),
    "binomial": ("logit", {"trials": 10}),
    "poisson": ("log", {}),
    "negativebinomial": ("log", {"alpha": 5.0}),
    "gamma": ("log (Bambi's default is inverse: fit with link=\"log\")", {"alpha": 5.0}),
    "lognormal": ("identity (log scale)", {"sigma": 0.5}),
    "beta": ("logit", {"kappa": 20.0}),
    "weibull": ("log", {"alpha": 2.0}),
    "zero_inflated_poisson": ("log", {"psi": 0.7}),
    "zero_inflated_negativebinomial": ("log", {"alpha": 5.0, "psi": 0.7}),
    "hurdle_lognormal": ("identity (log scale)", {"sigma": 0.5, "psi": 0.7}),
    "cumulative": ("logit", {"threshold": (-1.0, 0.3, 1.5)}),
    "categorical": ("softmax", {"categories": ("a", "b", "c")}),
}


def _aux(family: str, given: dict) -> dict:
    defaults = FAMILIES[family][1]
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        raise TypeError(f"family {family!r} takes {sorted(defaults) or 'no'} auxiliary "
                        f"parameters, got {unknown}")
    values = {**defaults, **given}
    for name in ("sigma", "alpha", "kappa", "nu"):
        if name in values:
            values[name] = check.sd(values[name], name, positive=True)
    if "psi" in values:
        psi = values["psi"]
        if isinstance(psi, tuple | list):  # (intercept, slope of x) on the logit scale
            if len(psi) != 2:
                raise ValueError(f"psi as a model is (intercept, slope of x) on the logit "
                                 f"scale, got {psi!r}")
            values["psi"] = (check.real(psi[0], "psi intercept"), check.real(psi[1], "psi slope"))
        else:
            psi = check.real(psi, "psi")
            if not 0 < psi <= 1:
                raise ValueError(f"psi is a probability in (0, 1], got {psi}")
            values["psi"] = psi
    if "trials" in values:
        values["trials"] = check.count(values["trials"], "trials")
    if "threshold" in values:
        cuts = check.vector(values["threshold"], "threshold")
        if np.any(np.diff(cuts) <= 0):
            raise ValueError(f"threshold must be strictly increasing, got {cuts.tolist()}")
        values["threshold"] = cuts
    if "categories" in values:
        cats = [str(c) for c in values["categories"]]
        if len(cats) < 2 or len(set(cats)) != len(cats):
            raise ValueError(f"categories must be two or more distinct labels, got {cats}")
        values["categories"] = cats
    return values


def simulate_family(
    family: str,
    *,
    seed,
    n_obs: int = 200,
    n_groups: int = 8,
    intercept: float = 0.5,
    slope: float = 0.5,
    sd_group: float = 0.4,
    **aux,
) -> tuple[pd.DataFrame, dict]:
    """Grouped data from one of Bambi's families, for ``y ~ x + (1 | g)``.

    Parameters
    ----------
    family : str
        One of ``FAMILIES`` (Bambi's names).
    seed : int or numpy.random.Generator
    n_obs, n_groups : int
        Rows, and groups they are spread over at random.
    intercept, slope : float
        On the link scale. For ``categorical``: of each category after the first against it,
        one number for all or a sequence with one per such category; for ``cumulative``:
        ``intercept`` is ignored (the thresholds carry it, as in Bambi).
    sd_group : float
        SD of the group effects on the link scale. For ``categorical`` each category after the
        first has its own independent group effects with this SD, as in Bambi's model.
    **aux
        The family's auxiliary parameters (defaults in ``FAMILIES``), as Bambi names them:
        ``sigma``, ``nu``, ``alpha`` (negative binomial dispersion, gamma and Weibull shape),
        ``kappa`` (beta precision), ``psi`` (probability of the count or positive part, as in
        PyMC: zeros come with probability 1 - psi; or a pair (intercept, slope of ``x``) on the
        logit scale, Bambi's ``psi ~ x``), ``trials``, ``threshold``, ``categories``.

    Returns
    -------
    data : pandas.DataFrame
        Columns ``y``, ``x``, ``g`` (categorical) and, for binomial, ``trials``.
    truth : dict
        ``Intercept``, ``x``, ``1|g_sigma``, ``1|g`` (array of group effects: groups, or groups
        x categories after the first for ``categorical``) and the auxiliary parameters, under
        Bambi's names (``psi_Intercept`` and ``psi_x`` when ``psi`` is a pair); ``link``.

    Raises
    ------
    ValueError
        An unknown family, or an auxiliary value outside its range.
    TypeError
        An auxiliary parameter the family does not have.
    """
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {sorted(FAMILIES)}, got {family!r}")
    rng = check.rng_from(seed)
    n_obs = check.count(n_obs, "n_obs")
    n_groups = check.count(n_groups, "n_groups")
    sd_group = check.sd(sd_group, "sd_group")
    values = _aux(family, aux)
    if family == "categorical":
        k = len(values["categories"]) - 1
        intercept, slope = (check.vector(v, name, length=k) if np.ndim(v)
                            else np.full(k, check.real(v, name))
                            for v, name in ((intercept, "intercept"), (slope, "slope")))
    else:
        intercept = check.real(intercept, "intercept")
        slope = check.real(slope, "slope")

    g = rng.integers(0, n_groups, n_obs)
    x = rng.standard_normal(n_obs)
    if family == "categorical":
        u = rng.normal(0.0, sd_group, (n_groups, k))
        eta = intercept + slope * x[:, None] + u[g]  # (rows, categories after the first)
    else:
        u = rng.normal(0.0, sd_group, n_groups)
        eta = intercept + slope * x + u[g]
    data = pd.DataFrame({"x": x, "g": pd.Categorical(g, categories=range(n_groups))})

    if family == "gaussian":
        y = rng.normal(eta, values["sigma"])
    elif family == "t":
        y = eta + values["sigma"] * rng.standard_t(values["nu"], n_obs)
    elif family == "bernoulli":
        y = (rng.uniform(size=n_obs) < special.expit(eta)).astype(int)
    elif family == "binomial":
        y = rng.binomial(values["trials"], special.expit(eta))
        data["trials"] = values["trials"]
    elif family == "poisson":
        y = rng.poisson(np.exp(eta))
    elif family in ("negativebinomial", "zero_inflated_negativebinomial"):
        mu, alpha = np.exp(eta), values["alpha"]
        y = rng.negative_binomial(alpha, alpha / (alpha + mu))
    elif family == "zero_inflated_poisson":
        y = rng.poisson(np.exp(eta))
    elif family == "gamma":
        y = rng.gamma(values["alpha"], np.exp(eta) / values["alpha"])
    elif family in ("lognormal", "hurdle_lognormal"):
        y = np.exp(rng.normal(eta, values["sigma"]))
    elif family == "beta":
        mu, kappa = special.expit(eta), values["kappa"]
        y = np.clip(rng.beta(mu * kappa, (1 - mu) * kappa), 1e-9, 1 - 1e-9)
    elif family == "weibull":  # Bambi: mean exp(eta), scale = mean / Gamma(1 + 1/alpha)
        alpha = values["alpha"]
        y = np.exp(eta) / special.gamma(1 + 1 / alpha) * rng.weibull(alpha, n_obs)
    elif family == "cumulative":  # Bambi: P(y <= k) = expit(threshold_k - eta), eta without intercept
        eta = eta - intercept
        latent = eta + rng.logistic(size=n_obs)
        codes = np.searchsorted(values["threshold"], latent)
        levels = list(range(len(values["threshold"]) + 1))
        y = pd.Categorical(codes, categories=levels, ordered=True)
    else:  # categorical: first category is the reference, the others share eta's structure
        cats = values["categories"]
        scores = np.column_stack([np.zeros(n_obs), eta])
        probs = special.softmax(scores, axis=1)
        picks = (rng.uniform(size=(n_obs, 1)) > probs.cumsum(axis=1)).sum(axis=1)
        y = pd.Categorical(np.asarray(cats)[np.minimum(picks, len(cats) - 1)], categories=cats)
    if family in ("zero_inflated_poisson", "zero_inflated_negativebinomial", "hurdle_lognormal"):
        psi = values["psi"]
        p = special.expit(psi[0] + psi[1] * x) if isinstance(psi, tuple) else psi
        y = np.where(rng.uniform(size=n_obs) < p, y, 0)
    data.insert(0, "y", y)
    truth = {"Intercept": intercept, "x": slope, "1|g_sigma": sd_group, "1|g": u,
             "link": FAMILIES[family][0]}
    truth.update({k: v for k, v in values.items() if k not in ("trials", "categories")})
    if isinstance(truth.get("psi"), tuple):
        truth["psi_Intercept"], truth["psi_x"] = truth.pop("psi")
    if family == "cumulative":
        del truth["Intercept"]
    return data, truth
