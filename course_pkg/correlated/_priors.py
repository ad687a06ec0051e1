"""Priors of the builder: the ``Prior`` spec, brms's prior classes and their checks."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Prior:
    """A prior: a PyMC distribution name and its arguments.

    ``bambi.Prior`` objects are accepted wherever a :class:`Prior` is, so priors written for a
    Bambi model can be reused unchanged.

    Parameters
    ----------
    name : str
        A PyMC distribution (``"Normal"``, ``"HalfStudentT"``, ``"Exponential"``, ...).
    **args
        Its parameters.

    Examples
    --------
    >>> Prior("Normal", mu=0, sigma=10)
    Prior(name='Normal', args={'mu': 0, 'sigma': 10})
    """

    name: str
    args: dict = field(default_factory=dict)

    def __init__(self, name: str, **args):
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "args", dict(args))



_PRIOR_CLASSES = ("Intercept", "b", "sd", "cor", "sigma")


def _as_prior(value, key):
    if isinstance(value, Prior):
        return value
    name = getattr(value, "name", None)
    args = getattr(value, "args", None)
    if isinstance(name, str) and isinstance(args, dict):  # bambi.Prior
        return Prior(name, **args)
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], str):
        return Prior(value[0], **dict(value[1]))
    raise TypeError(
        f"prior for {key!r} must be a course_pkg.correlated.Prior, a bambi.Prior or a tuple "
        f"(name, kwargs), got {value!r}"
    )


def _eta(value, key) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        eta = float(value)
    else:
        prior = _as_prior(value, key)
        if prior.name not in ("LKJ", "LKJCorr", "LKJCholeskyCov"):
            raise ValueError(f"prior for {key!r} must be an LKJ prior (a number eta, or "
                             f"Prior('LKJ', eta=...)), got {prior.name}")
        eta = float(prior.args.get("eta", 1.0))
    if not eta > 0:
        raise ValueError(f"LKJ eta for {key!r} must be positive, got {eta}")
    return eta


_SCALE_ARGS = {"HalfStudentT": "sigma", "HalfNormal": "sigma", "HalfCauchy": "beta",
               "Exponential": "lam", "HalfFlat": None}


def _standardise_scale(prior: Prior) -> tuple[str, dict, np.ndarray]:
    """Split a scale-family prior into (family at scale 1, scale)."""
    if prior.name not in _SCALE_ARGS or prior.name == "HalfFlat":
        raise ValueError(
            f"sd prior {prior.name} is not supported for a correlated block; use one of "
            "HalfStudentT(nu, sigma), HalfNormal(sigma), HalfCauchy(beta), Exponential(lam)"
        )
    key = _SCALE_ARGS[prior.name]
    args = dict(prior.args)
    if key not in args:
        raise ValueError(f"sd prior {prior.name} needs its scale argument {key!r}")
    value = np.asarray(args.pop(key), dtype=float)
    scale = 1.0 / value if prior.name == "Exponential" else value
    args[key] = 1.0
    return prior.name, args, scale
