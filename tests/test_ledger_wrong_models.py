"""Each chapter's ledger check tells the chapter's model from a plausible wrong one.

For every chapter a wrong model (a different prior set, a correlation switched off, the
over-parameterised cheese model without its coefficient prior) is run through the same ledger
rows as the chapter's model: the right model passes them and the wrong one fails, on the rows
named. These are small refits of the chapters' own models on the real data (or, for chapter 1,
whose source prints settings rather than estimates, the settings themselves).
"""

from __future__ import annotations

import pandas as pd
import pymc as pm
import pytest

from course_pkg.correlated import CorrelatedModel, Prior
from course_pkg.data import load_dataset
from course_pkg.fitting import fit
from course_pkg.ledger import check_ledger, fit_values, load_ledger
from course_pkg.simulate import PRIOR_SETTINGS
from course_pkg.virus import DEFAULT_PRIORS

SEED = 7


def _failing(table):
    return set(table.index[table["status"] == "FAIL"])


def _ch01_priors(priors):
    """Ledger values of model 1's rows: its priors as given, its simulation setting as the
    course's simulator has it."""
    names = {"mu_a": "mua", "mu_b": "mub", "sigma_a": "sigmaa", "sigma_b": "sigmab"}
    ours = {f"m1.prior.{k}": priors["m1"][k] for k in names}
    return ours | {f"sim.m1.{v}": PRIOR_SETTINGS["m1"][k] for k, v in names.items()}


def test_ch01_a_model_with_the_simulation_code_s_spreads_fails():
    """The source's model 1 has spreads of 10 in its equations and 1 in its simulation code; a
    builder that took the code's value would be another model, and the ledger says so."""
    right = check_ledger("ch01_virus_load", _ch01_priors(DEFAULT_PRIORS), models=["m1"])
    assert right.attrs["totals"]["fail"] == 0
    wrong_priors = {"m1": DEFAULT_PRIORS["m1"] | {"sigma_a": 1.0, "sigma_b": 1.0}}
    wrong = check_ledger("ch01_virus_load", _ch01_priors(wrong_priors), models=["m1"],
                         raise_on_fail=False)
    assert _failing(wrong) == {"m1.prior.sigma_a", "m1.prior.sigma_b"}


def _m5_values(idata, data):
    quantities = {"Intercept": "Intercept", "week": ("b", {"b_dim": "week"}), "sigma": "sigma",
                  "sd(Intercept)": ("sd_id", {"id__coef": "Intercept"}),
                  "sd(week)": ("sd_id", {"id__coef": "week"})}
    if "cor_id" in idata.posterior:
        quantities["cor(Intercept,week)"] = ("cor_id", {"id__coef": "Intercept",
                                                        "id__coef_bis": "week"})
    ours = fit_values("ch02_partial_pooling", idata, model="m5", quantities=quantities)
    rows = load_ledger("ch02_partial_pooling")
    for rid in rows.index[(rows["model"] == "m5") & (rows["quantity"] == "cor(Intercept,week)")
                          & (rows["check"] == "compare")]:
        ours.setdefault(rid, (0.0, 0.0))  # switched off: exactly 0, no Monte Carlo error
    ours |= {f"{p}m5.{k}": v for p in ("", "ref.")
             for k, v in (("nobs", len(data)), ("nlevels_id", data["id"].nunique()))}
    return ours


@pytest.mark.slow
def test_ch02_m5_without_its_correlation_fails():
    data = load_dataset("mlm").dropna(subset=["week"]).reset_index(drop=True)
    priors = {"Intercept": Prior("Normal", mu=0, sigma=1), "b": Prior("Normal", mu=0, sigma=1),
              "sd": Prior("Exponential", lam=1), "sigma": Prior("Exponential", lam=1)}
    settings = {"random_seed": SEED, "report": False, "target_accept": 0.95, "tune": 2000,
                "draws": 3000}
    # The chapter's m5: centred predictors put the Intercept prior at the mean week, as brms
    # does; the wrong model differs from it only by the missing correlation.
    right = fit(CorrelatedModel("con ~ 1 + week + (1 + week | id)", data,
                                priors=priors | {"cor": 1}, center_predictors=True), **settings)
    wrong = fit(CorrelatedModel("con ~ 1 + week + (1 + week | id)", data, priors=priors,
                                correlated=False, center_predictors=True), **settings)
    assert check_ledger("ch02_partial_pooling", _m5_values(right, data),
                        models=["m5"]).attrs["totals"]["fail"] == 0
    table = check_ledger("ch02_partial_pooling", _m5_values(wrong, data), models=["m5"],
                         raise_on_fail=False)
    assert {"m5.cor_Intercept_week.mean", "m5.cor_Intercept_week.q2.5",
            "m5.cor_Intercept_week.q97.5", "ref.m5.cor_Intercept_week.q2.5"} <= _failing(table)


def _gpa_values(idata, data, names):
    students = {f"random intercept, student {k}": ("r_student", {"student__level": str(k),
                                                                "student__coef": "Intercept"})
                for k in range(1, 11)}
    ours = fit_values("ch03_gpa", idata, model="brms", quantities=names | students)
    rows = load_ledger("ch03_gpa")
    for rid in rows.index[(rows["model"] == "brms") & (rows["check"] == "compare")
                          & rows["quantity"].str.startswith("cor")]:
        ours.setdefault(rid, (0.0, 0.0))  # independent effects: the correlation is 0
    return ours | {"brms.nobs": len(data), "brms.nlevels.student": data["student"].nunique()}


@pytest.mark.slow
def test_ch03_independent_effects_fail_the_correlated_reference():
    data = load_dataset("gpa")
    priors = {"Intercept": Prior("StudentT", nu=3, mu=2.8, sigma=2.5),
              "b": Prior("Normal", mu=0, sigma=1), "sd": Prior("HalfStudentT", nu=3, sigma=2.5),
              "sigma": Prior("HalfStudentT", nu=3, sigma=2.5)}
    names = {"Intercept": "Intercept", "occasion": ("b", {"b_dim": "occasion"}),
             "sd(Intercept)": ("sd_student", {"student__coef": "Intercept"}),
             "sd(occasion)": ("sd_student", {"student__coef": "occasion"}), "sigma": "sigma"}
    cor = {"cor(Intercept,occasion)": ("cor_student", {"student__coef": "Intercept",
                                                       "student__coef_bis": "occasion"})}
    formula = "gpa ~ occasion + (1 + occasion | student)"
    right = fit(CorrelatedModel(formula, data, priors=priors | {"cor": 1}), random_seed=SEED,
                report=False)
    wrong = fit(CorrelatedModel(formula, data, priors=priors, correlated=False),
                random_seed=SEED, report=False)
    assert check_ledger("ch03_gpa", _gpa_values(right, data, names | cor),
                        models=["brms"]).attrs["totals"]["fail"] == 0
    table = check_ledger("ch03_gpa", _gpa_values(wrong, data, names), models=["brms"],
                         raise_on_fail=False)
    assert {"brms.cor_Intercept_occasion.estimate", "brms.cor_Intercept_occasion.q2.5",
            "brms.cor_Intercept_occasion.q97.5"} <= _failing(table)


def _cheese():
    cheese = load_dataset("cheese")
    y = cheese["y"].to_numpy(float)
    return cheese, y, y.mean(), y.std(ddof=1)


def _varying_intercept(beta_sd):
    """The source's varying-intercept model (over-parameterised: intercept plus all four cheese
    dummies), with the cheese coefficients' prior SD as given (the source: 2)."""
    cheese, y, y_mean, y_sd = _cheese()
    levels = list(cheese["cheese"].cat.categories)
    coords = {"cheese": levels, "background": list(cheese["background"].cat.categories)}
    with pm.Model(coords=coords) as model:
        alpha = pm.Normal("alpha", y_mean, 2.5 * y_sd)
        beta = pm.Normal("beta", 0, beta_sd, dims="cheese")
        sigma = pm.Exponential("sigma", 1 / y_sd)
        tau = pm.HalfCauchy("tau", 2)
        a_j = pm.Normal("a_j", alpha, tau, dims="background")
        pm.Deterministic("alpha_j", a_j - alpha, dims="background")
        x = pd.get_dummies(cheese["cheese"]).to_numpy(float)
        pm.Normal("y", pm.math.dot(x, beta) + a_j[cheese["background"].cat.codes.to_numpy()],
                  sigma, observed=y)
    return model, levels, list(coords["background"])


def _cheese_values(idata, levels, backgrounds):
    return fit_values("ch04_cheese", idata, model="varying_intercept", quantities={
        "α": "alpha", "σ": "sigma", "τ": "tau",
        **{f"β[{k + 1}]": ("beta", {"cheese": c}) for k, c in enumerate(levels)},
        **{f"αⱼ[{k + 1}]": ("alpha_j", {"background": b}) for k, b in enumerate(backgrounds)}})


@pytest.mark.slow
def test_ch04_the_cheese_model_without_its_coefficient_prior_fails():
    """Only the N(0, 2) prior on the four cheese coefficients ties the over-parameterised model
    down: with N(0, 5) the same likelihood gives other cheese coefficients, spreads and sigma."""
    out = {}
    for name, beta_sd in (("right", 2.0), ("wrong", 5.0)):
        model, levels, backgrounds = _varying_intercept(beta_sd)
        idata = fit(model, random_seed=SEED, report=False, target_accept=0.95, draws=2000,
                    var_names=["alpha", "beta", "sigma", "tau", "alpha_j"])
        out[name] = check_ledger("ch04_cheese", _cheese_values(idata, levels, backgrounds),
                                 models=["varying_intercept"], raise_on_fail=False)
    assert out["right"].attrs["totals"]["fail"] == 0
    # the coefficients move and spread, and sigma absorbs less of the shrunken cheese effects
    assert {"varying_intercept.beta_2.mean", "varying_intercept.beta_2.std",
            "varying_intercept.sigma.mean"} <= _failing(out["wrong"])


@pytest.mark.slow
def test_ch05_m1_without_its_correlation_fails():
    data = load_dataset("williams")
    priors = {"Intercept": Prior("Normal", mu=0, sigma=0.2), "b": Prior("Normal", mu=0, sigma=1),
              "sd": Prior("Exponential", lam=1), "sigma": Prior("Exponential", lam=1)}
    fast = {"center_predictors": True, "group_effects": "centered", "likelihood": "grouped"}
    quantities = {"Intercept": "Intercept", "day01": ("b", {"b_dim": "day01"}),
                  "sd(Intercept)": ("sd_id", {"id__coef": "Intercept"}),
                  "sd(day01)": ("sd_id", {"id__coef": "day01"}), "sigma": "sigma"}
    tables = {}
    for name, extra in (("right", {"priors": priors | {"cor": 2}}),
                        ("wrong", {"priors": priors, "correlated": False})):
        model = CorrelatedModel("na_std ~ 1 + day01 + (1 + day01 | id)", data, **fast, **extra)
        idata = fit(model, random_seed=SEED, report=False)
        q = dict(quantities)
        if name == "right":
            q["cor(Intercept, day01)"] = ("cor_id", {"id__coef": "Intercept",
                                                     "id__coef_bis": "day01"})
        ours = fit_values("ch05_affect_melsm", idata, model="m1", quantities=q)
        ledger = load_ledger("ch05_affect_melsm")
        for rid in ledger.index[(ledger["model"] == "m1")
                                & (ledger["quantity"] == "cor(Intercept, day01)")
                                & (ledger["check"] == "compare")]:
            ours.setdefault(rid, (0.0, 0.0))
        tables[name] = check_ledger("ch05_affect_melsm", ours, models=["m1"],
                                    raise_on_fail=False)
    assert tables["right"].attrs["totals"]["fail"] == 0
    assert {"ref.m1.cor_Intercept_day01.mean",
            "ref.m1.cor_Intercept_day01.q2.5"} <= _failing(tables["wrong"])
