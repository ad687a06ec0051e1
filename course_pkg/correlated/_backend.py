"""The PyMC backend: builds the model from a design, its priors and the sampling choices, and
returns what it built (nothing is stored on the front)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from course_pkg.correlated import _grouped
from course_pkg.correlated._effects import Context, block_chol, block_effects
from course_pkg.correlated._scales import bivariate_scales, sigma_rv


@dataclass
class Built:
    """A built model: the PyMC model, its population coefficients by part and label, and the
    seconds the build took."""

    model: pm.Model
    pop: dict
    build_s: float


def build(ctx: Context, *, likelihood: str, center_predictors: bool, rescor: bool,
          plan: dict | None) -> Built:
    """Build the PyMC model.

    Parameters
    ----------
    ctx : Context
        Design, priors and group-effect choices; ``ctx.pop`` is filled here.
    likelihood : {"rows", "grouped", "marginal"}
        How the data enter (see :class:`~course_pkg.correlated.CorrelatedModel`).
    center_predictors : bool
        Centre the population predictors of parts with an intercept (brms's ``Intercept``).
    rescor : bool
        Estimate the residual correlation of two outcomes.
    plan : dict or None
        The per-group moments (:func:`course_pkg.correlated._grouped.plan`) for the grouped and
        marginal likelihoods.
    """
    start = time.perf_counter()
    d = ctx.design
    n = len(d.data)
    with pm.Model(coords=d.coords()) as model:
        eta = {}
        for part in d.parts.values():
            eta[part.name] = _population(ctx, part, n, center_predictors)
        if likelihood == "marginal":
            _grouped.marginal_likelihood(ctx, block_chol(ctx, d.blocks[0]), rescor, plan)
        elif likelihood == "grouped":
            _grouped.grouped_likelihood(ctx, block_effects(ctx, d.blocks[0]), rescor, plan)
        else:
            for b in d.blocks:
                r = block_effects(ctx, b)
                idx = pm.Data(f"idx_{b.name}", b.idx.astype("int64"))
                Xi = pm.Data(f"Z_{b.name}", np.column_stack(b.Xi))
                # One 1-D gather per column: its gradient (a scatter-add into r[:, j]) is about
                # five times faster in numba than that of a 2-D row gather r[idx].
                for j, c in enumerate(b.columns):
                    eta[c.part] = eta[c.part] + r[idx, j] * Xi[:, j]
            _rows_likelihood(ctx, eta, rescor)
    return Built(model, ctx.pop, round(time.perf_counter() - start, 3))


def _population(ctx: Context, part, n: int, center_predictors: bool):
    """A part's population terms: its linear predictor without group effects; records the
    coefficients in ``ctx.pop[part.name]``."""
    p = part.prefix
    lin = pt.zeros(n)
    pop = ctx.pop.setdefault(part.name, {})
    # brms-style centring: the Intercept prior applies at the predictors' means.
    centre = center_predictors and part.has_intercept and bool(part.b_labels)
    if part.has_intercept:
        prior = ctx.priors[f"{p}Intercept"]
        icept = getattr(pm, prior.name)(f"{p}Intercept_c" if centre else f"{p}Intercept",
                                        **prior.args)
        lin = lin + icept
        if not centre:
            pop["Intercept"] = icept
    if part.b_labels:
        prior = ctx.priors[f"{p}b"]
        beta = getattr(pm, prior.name)(f"{p}b", **prior.args, dims=f"{p}b_dim")
        for j, lab in enumerate(part.b_labels):
            pop[lab] = beta[j]
        X = pm.Data(f"X_{part.name}", part.X)
        if centre:
            means = part.X.mean(axis=0)
            lin = lin + pt.dot(X - means, beta)
            pop["Intercept"] = pm.Deterministic(f"{p}Intercept", icept - pt.dot(means, beta))
        else:
            lin = lin + pt.dot(X, beta)
    return lin


def _rows_likelihood(ctx: Context, eta: dict, rescor: bool) -> None:
    """The Gaussian likelihood row by row: one or two outcomes, with or without a scale
    formula."""
    d = ctx.design
    if not d.multivariate:
        y = d.data[d.responses[0]].to_numpy(dtype=float)
        sigma = sigma_rv(ctx.priors) if d.sigma_formula is None else pm.math.exp(eta["sigma"])
        pm.Normal(d.responses[0], mu=eta["mu"], sigma=sigma, observed=pm.Data("y_obs", y),
                  dims="obs")
        return
    r1, r2 = d.responses
    Y = d.data[[r1, r2]].to_numpy(dtype=float)
    sig, rho = bivariate_scales(ctx.priors, d.responses, rescor)
    chol = pt.stack([pt.stack([sig[0], 0.0]),
                     pt.stack([rho * sig[1], sig[1] * pt.sqrt(1.0 - rho**2)])])
    mu = pt.stack([eta[f"mu_{r1}"], eta[f"mu_{r2}"]], axis=1)
    pm.MvNormal("Y", mu=mu, chol=chol, observed=pm.Data("Y_obs", Y), dims=("obs", "response"))
