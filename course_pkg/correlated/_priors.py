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


class PriorSet:
    """The priors of one model: the classes it has, the ones given and brms-like defaults.

    Parameters
    ----------
    design : Design
        The model's parts and blocks (``course_pkg.correlated._design``).
    given : mapping
        Priors by class, as :class:`~course_pkg.correlated.CorrelatedModel` takes them.
    rescor : bool
        Whether the model estimates a residual correlation (two outcomes).
    """

    def __init__(self, design, given, rescor: bool):
        self.design = design
        self.given = dict(given)
        self.rescor = rescor
        valid = self.classes()
        bad = [k for k in self.given if k not in valid]
        if bad:
            raise ValueError(f"priors given for class(es) {bad} that this model does not have; "
                             f"its classes are {valid}")
        for k, v in self.given.items():
            if k == "cor" or k.startswith("cor_") or k == "rescor":
                _eta(v, k)
            else:
                _as_prior(v, k)
        self.defaults = self._defaults()

    def classes(self) -> list[str]:
        """Every prior class of the model, in brms's names."""
        d = self.design
        keys = []
        for part in d.parts.values():
            if part.has_intercept:
                keys.append(f"{part.prefix}Intercept")
            if part.b_labels:
                keys.append(f"{part.prefix}b")
        keys.append("sd")
        keys += [f"sd_{b.name}" for b in d.blocks]
        if any(b.k > 1 and b.correlated for b in d.blocks):
            keys.append("cor")
            keys += [f"cor_{b.name}" for b in d.blocks if b.k > 1 and b.correlated]
        if d.multivariate:
            keys += [f"sigma_{r}" for r in d.responses]
            if self.rescor:
                keys.append("rescor")
        elif d.sigma_formula is None:
            keys.append("sigma")
        return keys

    def __getitem__(self, key: str) -> Prior:
        """The prior of a population or residual class (given, else the default)."""
        if key in self.given:
            return _as_prior(self.given[key], key)
        return self.defaults[key]

    def _defaults(self) -> dict[str, Prior]:
        d = self.design
        out = {}
        for part in d.parts.values():
            p = part.prefix
            sd_x = np.where(part.X.std(0) > 0, part.X.std(0), 1.0) if part.b_labels else None
            if part.dpar == "mu":
                if part.has_intercept:
                    out[f"{p}Intercept"] = Prior("StudentT", nu=3, mu=round(part.center_y, 3),
                                                 sigma=round(2.5 * part.scale_y, 3))
                if part.b_labels:
                    out[f"{p}b"] = Prior("Normal", mu=0,
                                         sigma=np.round(2.5 * part.scale_y / sd_x, 3))
            else:
                if part.has_intercept:
                    out[f"{p}Intercept"] = Prior("StudentT", nu=3, mu=0, sigma=2.5)
                if part.b_labels:
                    out[f"{p}b"] = Prior("Normal", mu=0, sigma=np.round(2.5 / sd_x, 3))
        if d.multivariate:
            for r in d.responses:
                out[f"sigma_{r}"] = Prior("HalfStudentT", nu=3,
                                          sigma=round(d.parts[f"mu_{r}"].scale_y, 3))
        elif d.sigma_formula is None:
            out["sigma"] = Prior("HalfStudentT", nu=3, sigma=round(d.parts["mu"].scale_y, 3))
        return out

    def block_sd(self, b) -> Prior:
        """The SD prior of a block: ``sd_<block>``, else ``sd``, else one scale per column."""
        for key in (f"sd_{b.name}", "sd"):
            if key in self.given:
                return _as_prior(self.given[key], key)
        scales = []
        for c in b.columns:
            part = self.design.parts[c.part]
            scales.append(part.scale_y if part.dpar == "mu" else 2.5)
        return Prior("HalfStudentT", nu=3, sigma=np.round(np.asarray(scales), 3))

    def block_eta(self, b) -> float:
        """The LKJ eta of a block's correlations (1 unless given)."""
        for key in (f"cor_{b.name}", "cor"):
            if key in self.given:
                return _eta(self.given[key], key)
        return 1.0

    def rescor_eta(self) -> float:
        """The LKJ eta of the residual correlation (1 unless given)."""
        return _eta(self.given["rescor"], "rescor") if "rescor" in self.given else 1.0

    def table(self):
        """Class and prior of every class, defaults filled in (a pandas DataFrame)."""
        import pandas as pd

        rows = [(key, self[key]) for key in self.defaults]
        for b in self.design.blocks:
            rows.append((f"sd_{b.name}", self.block_sd(b)))
            if b.k > 1 and b.correlated:
                rows.append((f"cor_{b.name}", Prior("LKJ", eta=self.block_eta(b))))
        if self.rescor:
            rows.append(("rescor", Prior("LKJ", eta=self.rescor_eta())))

        def fmt(p):
            args = ", ".join(f"{k}={np.asarray(v).tolist()}" for k, v in p.args.items())
            return f"{p.name}({args})"

        return pd.DataFrame([(k, fmt(p)) for k, p in rows], columns=["class", "prior"])
