"""Tests for course_pkg.fitting: one helper fits, gates and times PyMC, Bambi and builder models."""

from __future__ import annotations

import inspect

import bambi as bmb
import numpy as np
import pandas as pd
import pymc as pm
import pytest

from course_pkg import fitting, sampling
from course_pkg.correlated import CorrelatedModel
from course_pkg.diagnostics import (
    ConvergenceError,
    RecoveryError,
    check_recovery,
    summary_table,
)
from course_pkg.effects import fixef, ranef, varcorr
from course_pkg.simulate import simulate_partial_pooling, simulate_varying_slopes

SEED = 20261203


@pytest.fixture(scope="module")
def pooled():
    """A Bambi partial-pooling fit to simulated data with known values."""
    data, truth = simulate_partial_pooling(seed=SEED, n_groups=40, min_size=2, max_size=15,
                                           mean=1.0, tau=0.8, sigma=0.6)
    # The Intercept moves against all 40 group deviations at once, so it mixes slowly: with 1000
    # draws per chain it reached R-hat 1.013 and bulk ESS 381 (1.014 and 333 centred); 2000 pass.
    model = bmb.Model("y ~ 1 + (1 | group)", data)
    idata = fitting.fit(model, random_seed=SEED, name="partial pooling", report=False,
                        draws=2000)
    return idata, truth


def test_defaults_live_in_one_place():
    for function in (sampling.sample_pymc, sampling.fit_bambi, CorrelatedModel.fit):
        params = inspect.signature(function).parameters
        for key, value in sampling.DEFAULTS.items():
            assert params[key].default == value, (function.__qualname__, key)


def test_bambi_fit_is_gated_timed_and_recovers_the_simulation(pooled):
    idata, truth = pooled
    assert idata.attrs["name"] == "partial pooling"
    for column in fitting.TIMING_COLUMNS:
        assert np.isfinite(idata.attrs[column]), column
    assert idata.attrs["max_rhat"] <= 1.01 and idata.attrs["min_ess_bulk"] >= 400
    assert idata.attrs["divergences"] == 0
    assert "mu" not in fitting.gate_variables(idata) or "__obs__" not in idata.posterior["mu"].dims
    known = {"Intercept": truth["Intercept"], "1|group_sigma": truth["tau"],
             "sigma": truth["sigma"], "1|group": truth["u"]}
    table = check_recovery(idata, known, group_effects=["1|group"])
    assert len(table) == 3 + 40


def test_recovery_fails_for_the_wrong_truth(pooled):
    idata, truth = pooled
    # a plausible mistake: the between-group SD taken for the residual SD
    with pytest.raises(RecoveryError, match="sigma"):
        check_recovery(idata, {"sigma": truth["tau"], "1|group_sigma": truth["sigma"]})


def test_pymc_fit_report_and_timing_table(pooled, capsys):
    y = np.random.default_rng(1).normal(2.0, 1.0, 50)
    with pm.Model() as model:
        mu = pm.Normal("mu", 0, 5)
        pm.Normal("y", mu, pm.HalfNormal("sigma", 2), observed=y)
    idata = fitting.fit(model, random_seed=SEED, name="normal mean")
    line = capsys.readouterr().out
    assert line.startswith("normal mean passes the gate: max R-hat")
    assert "compile" in line and "sampling" in line
    # built by the with block, not by fit: no build time is claimed
    assert "build" not in line and np.isnan(idata.attrs["build_s"])
    assert idata.attrs["total_s"] == pytest.approx(idata.attrs["sampling_wall_s"])
    table = fitting.timing_table({"pooled": pooled[0], "mean": idata})
    assert list(table.index) == ["pooled", "mean"]
    assert list(table.columns) == list(fitting.TIMING_COLUMNS)
    assert list(fitting.timing_table([idata]).index) == ["normal mean"]
    with pytest.raises(ValueError, match="fitting.fit"):
        fitting.timing_table({"raw": sampling.sample_pymc(model, random_seed=1, draws=50,
                                                          tune=50, chains=1)})
    with pytest.raises(ValueError, match="empty"):
        fitting.timing_table([])


def test_gate_raises_and_can_be_switched_off_for_a_failure_shown_on_purpose(capsys):
    with pm.Model() as funnel:  # Neal's funnel, centred: divergences at any reasonable budget
        v = pm.Normal("v", 0, 3)
        pm.Normal("x", 0, pm.math.exp(v / 2), shape=5)
    settings = {"draws": 200, "tune": 200, "chains": 2}
    with pytest.raises(ConvergenceError, match="divergences|r_hat|ess"):
        fitting.fit(funnel, random_seed=SEED, report=False, **settings)
    idata = fitting.fit(funnel, random_seed=SEED, gate=False, report=False, **settings)
    assert idata.attrs["divergences"] > 0 or idata.attrs["min_ess_bulk"] < 400
    loose = {"ess_bulk_min": 10, "ess_tail_min": 10, "rhat_max": 1.5, "max_divergences": 10**6,
             "reason": "test: a mapping reaches check_convergence"}
    assert fitting.fit(funnel, random_seed=SEED, gate=loose, **settings)
    assert "passes the loosened gate (test: a mapping" in capsys.readouterr().out


def test_builder_fit_goes_through_the_same_helper():
    data, _ = simulate_varying_slopes(seed=SEED, n_groups=25, sigma=0.3)
    model = CorrelatedModel("y ~ 1 + x + (1 + x | group)", data)
    idata = fitting.fit(model, random_seed=SEED, name="builder", report=False)
    assert idata.attrs["build_s"] >= 0 and idata.attrs["min_ess_bulk"] >= 400
    assert "r_group" in idata.posterior
    # brms-style accessors read the builder's names as they read Bambi's
    effects = ranef(idata)
    assert len(effects) == 25 * 2
    assert set(effects["effect"]) == {"Intercept", "x"}
    level = idata.posterior["r_group"]["group__level"].values[0]
    first = effects[(effects["effect"] == "x") & (effects["group"] == str(level))]["value"].item()
    assert first == pytest.approx(float(idata.posterior["r_group"].sel(
        group__level=level, group__coef="x").mean()))
    vc = varcorr(idata).set_index("term")
    assert list(vc.index) == ["sd(Intercept)", "sd(x)", "cor(Intercept,x)", "sigma"]
    assert vc.loc["cor(Intercept,x)", "Estimate"] == pytest.approx(float(
        idata.posterior["cor_group"].sel(group__coef="Intercept", group__coef_bis="x").mean()))
    assert list(fixef(idata, model).index) == ["Intercept", "b[x]"]
    assert "sd_group[x]" in summary_table(idata).index


def test_bad_input():
    with pytest.raises(TypeError, match="pymc.Model, bambi.Model or CorrelatedModel"):
        fitting.fit(pd.DataFrame(), random_seed=1)
    with pm.Model() as model:
        pm.Normal("a")
    with pytest.raises(TypeError, match="gate must be"):
        fitting.fit(model, random_seed=1, gate="yes")
    with pytest.raises(TypeError, match="name"):
        fitting.fit(model, random_seed=1, name="")
    with pytest.raises(TypeError, match="random_seed"):
        fitting.fit(model, random_seed=None)
