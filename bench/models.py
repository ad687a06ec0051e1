"""The registry of models that ``bench/run.py`` times with each NUTS implementation.

The registry holds each chapter's main models (and chapter 1's on the source's larger design);
every other fit in the book is timed where it runs, by ``python -m bench.notebooks`` and its fit
log. Each entry builds the same model as its chapter (same data, formula, priors) and returns the
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
    #: Draws per chain when the book uses more than the benchmark's setting.
    draws: int | None = None
    #: nutpie's low-rank modified mass matrix, where the chapter samples with it (nutpie only).
    low_rank: bool = False
    #: One of the larger problems of the performance appendix's Scale section: minutes per run,
    #: so ``bench/run.py`` times it only when named with ``--models``.
    scale: bool = False

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


def _handel():
    df = load_dataset("handel_simdat")
    return df


def _virus(name: str) -> Callable[[], pm.Model]:
    def build() -> pm.Model:
        from course_pkg.virus import build_virus_model

        return build_virus_model(_handel(), name)

    build.__name__ = f"_ch01_{name}"
    return build


def _virus_big(name: str) -> Callable[[], pm.Model]:
    def build() -> pm.Model:
        from course_pkg.simulate import simulate_virus_load
        from course_pkg.virus import build_virus_model

        # The source's larger design (its part 4): 70 / 80 / 90 people at the three doses,
        # 2,640 measurements, simulated with the source's plausible setting ("m3").
        data, _ = simulate_virus_load("m3", seed=2022, scale=10)
        return build_virus_model(data, name)

    build.__name__ = f"_ch01_{name}_big"
    return build


def _ch03_gpa_uncor() -> pm.Model:
    import bambi as bmb

    return _bambi("gpa ~ occasion + (1 + occasion | student)", load_dataset("gpa"),
                  {"occasion": bmb.Prior("Normal", mu=0, sigma=1)})


def _ch03_gpa_cor() -> pm.Model:
    from course_pkg.correlated import CorrelatedModel, Prior

    return CorrelatedModel(
        "gpa ~ occasion + (1 + occasion | student)", load_dataset("gpa"),
        priors={"Intercept": Prior("StudentT", nu=3, mu=2.8, sigma=2.5),
                "b": Prior("Normal", mu=0, sigma=1),
                "sd": Prior("HalfStudentT", nu=3, sigma=2.5),
                "sigma": Prior("HalfStudentT", nu=3, sigma=2.5), "cor": 1},
    ).model


def _cheese():
    """The cheese ratings with the mean and SD of y that the chapter's priors are scaled by."""
    cheese = load_dataset("cheese")
    y = cheese["y"].to_numpy(float)
    return cheese, y.mean(), y.std(ddof=1)


def _ch04_intercept() -> pm.Model:
    import bambi as bmb

    cheese, y_mean, y_sd = _cheese()
    priors = {"Intercept": bmb.Prior("Normal", mu=y_mean, sigma=2.5 * y_sd),
              "sigma": bmb.Prior("Exponential", lam=1 / y_sd),
              "cheese": bmb.Prior("Normal", mu=0, sigma=2.5 * y_sd),
              "1|background": bmb.Prior("Normal", mu=0,
                                        sigma=bmb.Prior("HalfNormal", sigma=5))}
    # Centred, as the chapter fits it: with 80 ratings per background it samples without the
    # divergences that the non-centred form left on four seeds in six.
    return _bambi("y ~ 1 + cheese + (1 | background)", cheese, priors, noncentered=False)


def _ch04_correlated() -> pm.Model:
    from course_pkg.correlated import CorrelatedModel, Prior

    cheese, y_mean, y_sd = _cheese()
    priors = {"Intercept": Prior("Normal", mu=y_mean, sigma=2.5 * y_sd),
              "b": Prior("Normal", mu=0, sigma=2.5 * y_sd), "sd": Prior("HalfNormal", sigma=5),
              "cor": 2, "sigma": Prior("Exponential", lam=1 / y_sd)}
    # As the chapter samples it: SDs and partial correlations apart (Stan's parameterisation),
    # the group effects integrated out of the likelihood.
    return CorrelatedModel("y ~ 1 + cheese + (1 + cheese | background)", cheese,
                           priors=priors, cov_parameterization="stan",
                           likelihood="marginal").model


def _williams():
    return load_dataset("williams")


_CH05_FAST = {"center_predictors": True, "group_effects": "centered", "likelihood": "grouped"}


def _ch05_m1() -> pm.Model:
    from course_pkg.correlated import CorrelatedModel, Prior

    priors = {"Intercept": Prior("Normal", mu=0, sigma=0.2), "b": Prior("Normal", mu=0, sigma=1),
              "sd": Prior("Exponential", lam=1), "sigma": Prior("Exponential", lam=1), "cor": 2}
    return CorrelatedModel("na_std ~ 1 + day01 + (1 + day01 | id)", _williams(), priors=priors,
                           **_CH05_FAST).model


def _ch05_m2() -> pm.Model:
    from course_pkg.correlated import CorrelatedModel, Prior

    rhs = "1 + day01 + na_lag + pa_lag + (1 + day01 + na_lag + pa_lag |c| id)"
    priors = {"na_std_Intercept": Prior("Normal", mu=0, sigma=0.2),
              "pa_std_Intercept": Prior("Normal", mu=0, sigma=0.2),
              "na_std_b": Prior("Normal", mu=0, sigma=1), "pa_std_b": Prior("Normal", mu=0, sigma=1),
              "cor": 2}
    # The chapter's sampling settings: the person effects integrated out of the likelihood, SDs
    # and partial correlations sampled apart (Stan's parameterisation). The benchmark times the
    # PyMC model alone; the chapter then draws the person effects (about 3 s).
    return CorrelatedModel([f"na_std ~ {rhs}", f"pa_std ~ {rhs}"], _williams(), priors=priors,
                           rescor=True, center_predictors=True, likelihood="marginal",
                           cov_parameterization="stan").model


def _ch05_m3() -> pm.Model:
    from course_pkg.correlated import CorrelatedModel, Prior

    priors = {"Intercept": Prior("Normal", mu=0, sigma=0.2), "b": Prior("Normal", mu=0, sigma=1),
              "sigma_Intercept": Prior("Normal", mu=0, sigma=1), "sd": Prior("Exponential", lam=1),
              "cor": 2}
    return CorrelatedModel("na_std ~ 1 + day01 + (1 + day01 |i| id)", _williams(),
                           sigma="sigma ~ 1 + (1 |i| id)", priors=priors, **_CH05_FAST).model


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in [
        # brms on this machine: 59-97 s per chapter-2 model; the lower end is used (conservative).
        ModelSpec("ch02_m1", 2, "no pooling, con ~ 0 + id", _ch02_m1, brms_s=59),
        ModelSpec("ch02_m2", 2, "partial pooling, con ~ 1 + (1 | id)", _ch02_m2, brms_s=59),
        # Chapter 1: the source reports hours for models 1 and 3 (53-417 min) and 6-10.5 min for
        # model 4 with brms/ulam; no same-machine brms time, so no ratio is claimed.
        # The chapter samples models 1, 3 and 4 with nutpie's low-rank mass matrix at nutpie's
        # default target acceptance, and shows model 2 failing.
        *[ModelSpec(f"ch01_{m}", 1, f"virus load, model {m[1:]}", _virus(m),
                    low_rank=m != "m2") for m in ("m1", "m2", "m3", "m4")],
        # Scale: the same models on the source's larger design, ten times the people.
        *[ModelSpec(f"ch01_{m}_big", 1, f"virus load, model {m[1:]}, 240 people (70/80/90)",
                    _virus_big(m), low_rank=True, scale=True) for m in ("m1", "m3", "m4")],
        # brms's 157 s (../shared/reference/brms_mlm_gpa.md) is its correlated fit; the
        # independent model has no brms counterpart there, so it gets no ratio.
        ModelSpec("ch03_gpa_uncor", 3, "GPA, Bambi (1 + occasion | student), independent",
                  _ch03_gpa_uncor),
        ModelSpec("ch03_gpa_cor", 3, "GPA, builder, correlated (LKJ)", _ch03_gpa_cor,
                  brms_s=157),
        # brms on this machine, compile included: 62 s (varying intercept), 83 s (correlated),
        # as measured and stated in the chapter-4 issue (issue 6).
        ModelSpec("ch04_intercept", 4, "cheese, varying intercept by background (Bambi)",
                  _ch04_intercept, brms_s=62, target_accept=0.95),
        ModelSpec("ch04_correlated", 4, "cheese, correlated effects by background (builder)",
                  _ch04_correlated, brms_s=83, target_accept=0.99),
        # brms on this machine: 793.5 s for m1 (../shared/reference/brms_affect.md); m3 ran
        # for more than 99 minutes without finishing, so no figure is claimed for m2 and m3.
        ModelSpec("ch05_m1", 5, "affect, correlated intercept and slope (13k rows)", _ch05_m1,
                  brms_s=793.5),
        ModelSpec("ch05_m2", 5, "affect, two outcomes, 8 correlated effects, rescor", _ch05_m2),
        ModelSpec("ch05_m3", 5, "affect, MELSM (location and scale effects)", _ch05_m3),
    ]
}
