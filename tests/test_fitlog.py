"""course_pkg.fitlog: the per-fit log behind the notebook benchmark, and its Markdown table."""

from __future__ import annotations

import json

import arviz as az
import bambi as bmb
import numpy as np
import pandas as pd
import pymc as pm
import pytest

from course_pkg import fitlog
from course_pkg.fitlog import FIT_LOG_ENV, NOTEBOOK_ENV, read_fit_log, record_fit
from course_pkg.sampling import fit_bambi, sample_pymc


def _model():
    with pm.Model() as model:
        pm.Normal("mu", 0, 1)
        pm.HalfNormal("sigma", 1)
        pm.Deterministic("twice", 2 * model["mu"])
    return model


def _idata():
    """Two free variables: ``mu`` mixes well, ``sigma``'s chains sit apart (large R-hat)."""
    rng = np.random.default_rng(3)
    mu = rng.normal(size=(4, 200))
    sigma = np.abs(rng.normal(size=(4, 200))) + np.arange(4)[:, None]
    diverging = np.zeros((4, 200), dtype=bool)
    diverging[1, :3] = True
    # the deterministic mixes worst of all, and must not count
    twice = 2 * mu + 5 * np.arange(4)[:, None]
    idata = az.from_dict({"posterior": {"mu": mu, "sigma": sigma, "twice": twice},
                          "sample_stats": {"diverging": diverging}})
    idata.attrs["sampling_wall_s"] = 5.0
    idata.attrs["sampling_s"] = 3.5
    return idata


def test_nothing_written_or_computed_without_the_variable(monkeypatch, tmp_path):
    monkeypatch.delenv(FIT_LOG_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    assert record_fit(_idata(), _model(), label="m", settings={}) is None
    assert list(tmp_path.iterdir()) == []


def test_record_summarises_the_free_variables(monkeypatch, tmp_path):
    log = tmp_path / "fits.jsonl"
    monkeypatch.setenv(FIT_LOG_ENV, str(log))
    monkeypatch.setenv(NOTEBOOK_ENV, "ch99")
    idata = _idata()
    first = record_fit(idata, _model(), label="toy", settings={"sampler": "nutpie"})
    second = record_fit(idata, _model(), label="toy again", settings={"sampler": "nutpie"})
    free = idata.posterior.to_dataset()[["mu", "sigma"]]
    assert first["min_ess_bulk"] == pytest.approx(
        min(float(v) for v in az.ess(free, method="bulk").to_array().values), abs=1e-3)
    assert first["max_rhat"] == pytest.approx(float(az.rhat(free)["sigma"]), abs=1e-3)
    assert first["max_rhat"] > 1.1  # sigma's chains disagree; the deterministic is not counted
    assert first["divergences"] == 3
    assert first["compile_s"] == pytest.approx(1.5)
    assert (first["notebook"], first["label"], first["sampler"]) == ("ch99", "toy", "nutpie")
    assert second["fit"] == first["fit"] + 1
    table = read_fit_log(log)
    assert list(table["label"]) == ["toy", "toy again"]
    assert table.loc[0, "min_ess_tail"] == first["min_ess_tail"]


def test_record_rejects_an_empty_label(monkeypatch, tmp_path):
    monkeypatch.setenv(FIT_LOG_ENV, str(tmp_path / "fits.jsonl"))
    with pytest.raises(TypeError, match="label must be a non-empty str"):
        record_fit(_idata(), _model(), label="", settings={})


def test_read_fit_log_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="no fit log"):
        read_fit_log(tmp_path / "missing.jsonl")
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"fit": 1}) + "\nnot json\n")
    with pytest.raises(ValueError, match="line 2: not a JSON record"):
        read_fit_log(bad)


def test_describe_names_a_model_by_its_free_variables():
    assert fitlog.describe(_model()) == "PyMC: mu, sigma"
    assert fitlog.describe(pm.Model(name="named")) == "named"


def test_sampling_functions_log_each_fit(monkeypatch, tmp_path):
    log = tmp_path / "fits.jsonl"
    monkeypatch.setenv(FIT_LOG_ENV, str(log))
    monkeypatch.setenv(NOTEBOOK_ENV, "unit")
    with pm.Model() as model:
        pm.Normal("x", 0, 1)
    sample_pymc(model, random_seed=5, draws=50, tune=50, chains=2, label="one normal")
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"x": rng.normal(size=40)})
    df["y"] = 1 + 0.5 * df["x"] + rng.normal(scale=0.3, size=40)
    fit_bambi(bmb.Model("y ~ x", df), random_seed=2, draws=100, tune=100, chains=2,
              target_accept=0.9)
    table = read_fit_log(log)
    assert list(table["label"]) == ["one normal", "y ~ x (Bambi, gaussian)"]
    assert list(table["draws"]) == [50, 100]
    assert table.loc[1, "target_accept"] == 0.9
    assert (table["compile_s"] >= 0).all() and (table["sample_s"] > 0).all()
    assert (table["min_ess_bulk"] > 0).all()


def test_builder_labels_its_fits_with_every_formula():
    from course_pkg.correlated import CorrelatedModel

    rng = np.random.default_rng(1)
    df = pd.DataFrame({"g": np.repeat(list("abcdef"), 10), "x": rng.normal(size=60)})
    df["y"] = df["x"] + rng.normal(size=60)
    cm = CorrelatedModel("y ~ x + (1 + x |i| g)", df, sigma="sigma ~ 1 + (1 |i| g)")
    assert cm._label() == "y ~ x + (1 + x |i| g) | sigma ~ 1 + (1 |i| g) (CorrelatedModel)"
