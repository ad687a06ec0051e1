"""Residual scales: the SD random variables and the residual precision matrix.

:func:`residual_precision` is written once for NumPy and PyTensor (``lib`` is either module): the
marginal likelihood uses it on random variables, the post-hoc draws of the group effects on
posterior draws.
"""

from __future__ import annotations

import pymc as pm
import pytensor.tensor as pt


def sigma_rv(priors):
    """The residual SD of a one-outcome model without a scale formula."""
    prior = priors["sigma"]
    return getattr(pm, prior.name)("sigma", **prior.args)


def bivariate_scales(priors, responses, rescor: bool):
    """Both outcomes' residual SDs and their residual correlation (0 without ``rescor``)."""
    sig = []
    for r in responses:
        prior = priors[f"sigma_{r}"]
        sig.append(getattr(pm, prior.name)(f"sigma_{r}", **prior.args))
    if rescor:
        # LKJ(eta) on a 2x2 correlation matrix is (rho + 1) / 2 ~ Beta(eta, eta).
        e = priors.rescor_eta()
        u = pm.Beta("rescor_unit_", e, e)
        rho = pm.Deterministic("rescor", 2.0 * u - 1.0)
    else:
        rho = pt.as_tensor_variable(0.0)
    return sig, rho


def residual_precision(lib, sigmas, rho=0.0):
    """The residual precision ``P = R^-1`` (one or two outcomes) and ``log|R|``.

    ``lib`` is ``numpy`` or ``pytensor.tensor``; ``sigmas`` holds one or two SDs (scalars).
    """
    if len(sigmas) == 1:
        (s,) = sigmas
        return lib.reshape(s**-2, (1, 1)), 2 * lib.log(s)
    s1, s2 = sigmas
    one_m = 1.0 - rho**2
    P = lib.stack([lib.stack([1 / s1**2, -rho / (s1 * s2)]),
                   lib.stack([-rho / (s1 * s2), 1 / s2**2])]) / one_m
    return P, 2 * lib.log(s1) + 2 * lib.log(s2) + lib.log(one_m)
