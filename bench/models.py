"""The registry of models the benchmark times: one entry per model fitted in the book.

Each entry builds the same model as its chapter (same data, formula, priors) and returns the
underlying ``pymc.Model``, so every NUTS implementation samples exactly the same density.
``brms_s`` is brms's wall time on this kind of machine (compile included) where one was measured
(figures from the course issues and ``../shared/reference``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pymc as pm

from course_pkg.data import load_dataset


@dataclass(frozen=True)
class ModelSpec:
    """A benchmarked model: a name, its chapter, a builder, and brms's time if known."""

    name: str
    chapter: int
    description: str
    builder: Callable[[], pm.Model]
    brms_s: float | None = None
    target_accept: float | None = None

    def build(self) -> pm.Model:
        """Construct the PyMC model (formula parsing and graph building included)."""
        return self.builder()


def _bambi(formula: str, data, priors: dict | None = None, **kwargs) -> pm.Model:
    import bambi as bmb

    model = bmb.Model(formula, data, priors=priors, **kwargs)
    model.build()
    return model.backend.model


def _mlm(complete_weeks: bool = False):
    df = load_dataset("mlm")
    return df.dropna(subset=["week"]).reset_index(drop=True) if complete_weeks else df


def _ch02_m1() -> pm.Model:
    import bambi as bmb

    priors = {"id": bmb.Prior("Normal", mu=0, sigma=1.5), "sigma": bmb.Prior("Exponential", lam=1)}
    return _bambi("con ~ 0 + id", _mlm(), priors)


def _ch02_m2() -> pm.Model:
    import bambi as bmb

    priors = {
        "Intercept": bmb.Prior("Normal", mu=0, sigma=1.5),
        "1|id": bmb.Prior("Normal", mu=0, sigma=bmb.Prior("Exponential", lam=1)),
        "sigma": bmb.Prior("Exponential", lam=1),
    }
    return _bambi("con ~ 1 + (1 | id)", _mlm(), priors)


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in [
        # brms on this machine: 59-97 s per chapter-2 model; the lower end is used (conservative).
        ModelSpec("ch02_m1", 2, "no pooling, con ~ 0 + id", _ch02_m1, brms_s=59),
        ModelSpec("ch02_m2", 2, "partial pooling, con ~ 1 + (1 | id)", _ch02_m2, brms_s=59),
    ]
}
