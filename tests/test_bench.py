"""The benchmark harness: every registered model builds, and one short run yields a full table."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pymc as pm
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import run as bench_run  # noqa: E402
from bench.models import MODELS, ModelSpec  # noqa: E402


@pytest.mark.parametrize("name", sorted(MODELS))
def test_model_builds(name, data_dir):
    model = MODELS[name].build()
    assert isinstance(model, pm.Model)
    # The grouped likelihood (sufficient statistics) enters as a Potential, not an observed RV.
    assert model.free_RVs and (model.observed_RVs or model.potentials)


def _tiny() -> pm.Model:
    with pm.Model() as model:
        mu = pm.Normal("mu", 0, 1)
        pm.Normal("y", mu, 1, observed=[0.1, -0.3, 0.4])
    return model


def test_measure_and_summary_with_nutpie():
    spec = ModelSpec("tiny", 0, "normal mean", _tiny, brms_s=60.0)
    run = bench_run.measure(spec, "nutpie", 0, draws=200, tune=200, chains=2, seed=1)
    assert run.build_s >= 0 and run.compile_s > 0 and run.sample_s > 0
    assert run.total_s >= run.compile_s + run.sample_s
    assert run.min_ess_bulk > 50 and run.ess_per_s == pytest.approx(run.min_ess_bulk / run.total_s)
    frame = pd.DataFrame([run.__dict__])
    bench_run.MODELS["tiny"] = spec
    try:
        summary = bench_run.summarise(frame)
    finally:
        del bench_run.MODELS["tiny"]
    assert summary.loc[0, "speedup_vs_brms"] == pytest.approx(60.0 / run.total_s)
    text = bench_run.to_markdown(summary, bench_run.machine_info(), "test settings")
    assert "| tiny | nutpie |" in text and "pymc" in text


def test_measure_samples_with_the_chapter_settings(monkeypatch):
    import nutpie

    seen = {}
    real = nutpie.sample

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(nutpie, "sample", spy)
    spec = ModelSpec("tiny", 0, "normal mean", _tiny, target_accept=0.9, draws=150, low_rank=True)
    bench_run.measure(spec, "nutpie", 0, draws=200, tune=200, chains=2, seed=1)
    assert seen["draws"] == 150 and seen["target_accept"] == 0.9
    assert seen["adaptation"] == "low_rank"


def test_pymc_sampler_gets_every_core(monkeypatch):
    """PyMC would take half the CPUs for hyperthreads and run its chains one at a time."""
    import os

    seen = {}

    class Stop(Exception):
        pass

    def spy(*args, **kwargs):
        seen.update(kwargs)
        raise Stop

    monkeypatch.setattr(pm, "sample", spy)
    spec = ModelSpec("tiny", 0, "normal mean", _tiny)
    with pytest.raises(Stop):
        bench_run.measure(spec, "pymc", 0, draws=200, tune=200, chains=4, seed=1)
    assert seen["cores"] == min(4, os.cpu_count()) and seen["nuts_sampler"] == "pymc"


def _runs(rows):
    cols = ["model", "sampler", "repeat", "total_s", "date"]
    return pd.DataFrame(rows, columns=cols)


def test_merge_runs_replaces_only_the_remeasured_pairs():
    previous = _runs([("ch02_m2", "nutpie", 0, 1.0, "2026-11-20"),
                      ("ch02_m2", "nutpie", 1, 1.1, "2026-11-20"),
                      ("ch02_m1", "pymc", 0, 9.0, "2026-11-20"),
                      ("ch02_m1", "nutpie", 0, 3.0, "2026-11-20"),
                      ("retired_model", "nutpie", 0, 5.0, "2026-11-20")])
    new = _runs([("ch02_m1", "nutpie", 0, 2.5, "2026-11-22")])
    merged = bench_run.merge_runs(previous, new)
    assert list(zip(merged["model"], merged["sampler"], merged["total_s"], strict=True)) == [
        ("ch02_m1", "nutpie", 2.5), ("ch02_m1", "pymc", 9.0),
        ("ch02_m2", "nutpie", 1.0), ("ch02_m2", "nutpie", 1.1)]
    with pytest.raises(ValueError, match="sampler"):
        bench_run.merge_runs(previous.drop(columns="sampler"), new)


def test_markdown_names_the_days_measured():
    frame = pd.DataFrame({"model": ["ch02_m1"] * 2, "sampler": ["nutpie", "pymc"],
                          "build_s": 0.1, "compile_s": [1.0, float("nan")], "sample_s": 2.0,
                          "total_s": 3.0, "min_ess_bulk": 900.0, "min_ess_tail": 800.0,
                          "ess_per_s": 300.0, "max_rhat": 1.0, "divergences": 0})
    summary = bench_run.summarise(frame)
    text = bench_run.to_markdown(summary, {"cores": "2"}, "s",
                                 ["2026-11-22", "2026-11-21", float("nan")])
    assert text.startswith("Measured 2026-11-21 to 2026-11-22 on: cores 2.")
    assert "| ch02_m1 | pymc | 0.1 | in sampling |" in text
    one_day = bench_run.to_markdown(summary, {"cores": "2"}, "s", ["2026-11-21"])
    assert one_day.startswith("Measured 2026-11-21 on:")


def test_settings_line_says_when_rows_have_fewer_runs():
    assert bench_run.runs_each(pd.Series([3, 3])) == "3 run(s) each"
    assert bench_run.runs_each(pd.Series([3, 1, 3])) == (
        "3 runs each where the runs column does not say fewer")


def test_default_models_leave_out_the_scale_problems():
    default = bench_run.build_parser().parse_args([]).models
    assert "ch05_m2" in default and "ch01_m4" in default
    assert not [name for name in default if MODELS[name].scale]
    assert bench_run.build_parser().parse_args(["--models", "ch01_m4_big"]).models == [
        "ch01_m4_big"]


def test_bad_repeats_rejected():
    with pytest.raises(SystemExit):
        bench_run.main(["--repeats", "0", "--models", "ch02_m1"])


def test_notebook_budgets_table():
    from bench import notebooks

    table = notebooks.verdicts({"ch_fast": 100.0, "ch_slow": 200.0}, "warm")
    assert list(table["notebook"]) == ["ch_fast", "ch_slow", "whole book"]
    assert list(table["within"]) == [True, False, True]
    assert table["seconds"].iloc[-1] == 300.0
    cold = notebooks.verdicts({"a": 700.0, "b": 600.0}, "cold")
    assert not cold["within"].iloc[-1]  # 1,300 s > 1,200 s
    assert cold["within"].iloc[0] is None  # no per-notebook budget from empty caches
    text = notebooks.to_markdown(table, "warm", "2026-01-01")
    assert "| ch_slow | 200 | 180 | no |" in text and "| whole book | 300 | 720 | yes |" in text
    with pytest.raises(ValueError, match="caches"):
        notebooks.verdicts({"a": 1.0}, "tepid")
    with pytest.raises(ValueError, match="at least one"):
        notebooks.verdicts({}, "warm")


def test_machine_info_says_whether_the_cpu_has_avx512():
    info = bench_run.machine_info()
    assert info["avx512"] in {"yes", "no", "unknown"} and info["cpu"] and int(info["cores"]) >= 1


def test_notebook_budgets_side_by_side_use_the_run_wall_time():
    from bench import notebooks

    table = notebooks.verdicts({"a": 700.0, "b": 600.0}, "cold", book_wall=750.0)
    assert table["seconds"].iloc[-1] == 750.0 and table["within"].iloc[-1]
    text = notebooks.to_markdown(table, "cold", "2026-01-01", jobs=2)
    assert "2 notebooks at a time" in text and "add up to 1300 s" in text
    assert "| whole book | 750 | 1200 | yes |" in text
    assert "one notebook after another" in notebooks.to_markdown(table, "cold", "2026-01-01")
    named = notebooks.to_markdown(table, "cold", "2026-01-01", machine="Box (2 cores)")
    assert "measured 2026-01-01 on Box (2 cores) (" in named
    with pytest.raises(ValueError, match="book_wall"):
        notebooks.verdicts({"a": 1.0}, "warm", book_wall=0)
    with pytest.raises(ValueError, match="jobs"):
        notebooks.run_notebooks([], jobs=0)


def test_notebooks_side_by_side_each_get_their_name_and_fits_stay_in_order(tmp_path):
    import nbformat

    from bench import notebooks

    code = """import os, arviz as az, numpy as np, pymc as pm
from course_pkg.fitlog import record_fit
with pm.Model() as m:
    pm.Normal("x")
idata = az.from_dict({"posterior": {"x": np.random.default_rng(1).normal(size=(2, 100))}})
idata.attrs["sampling_wall_s"] = 1.0
for k in range(2):
    record_fit(idata, m, label=os.environ["COURSE_NOTEBOOK"] + str(k), settings={})"""
    paths = []
    for name in ("first", "second"):
        paths.append(tmp_path / f"{name}.ipynb")
        nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)]),
                       paths[-1])
    out = tmp_path / "res"
    assert notebooks.main([*map(str, paths), "--out", str(out), "--jobs", "2"]) == 0
    table = pd.read_csv(out.with_suffix(".csv"))
    assert list(table["notebook"]) == ["first", "second", "whole book"]
    assert "2 notebooks at a time" in out.with_suffix(".md").read_text()
    fits = pd.read_csv(tmp_path / "res_fits.csv")
    assert list(fits["label"]) == ["first0", "first1", "second0", "second1"]
    with pytest.raises(SystemExit):
        notebooks.main([str(paths[0]), "--jobs", "0"])


def test_notebook_timing_runs_a_notebook(tmp_path):
    import nbformat

    from bench import notebooks

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1 + 1")])
    path = tmp_path / "tiny.ipynb"
    nbformat.write(nb, path)
    assert notebooks.main([str(path), "--out", str(tmp_path / "res")]) == 0
    table = pd.read_csv(tmp_path / "res.csv")
    assert list(table["notebook"]) == ["tiny", "whole book"]
    assert 0 < table["seconds"].iloc[0] < 180
    assert "| tiny |" in (tmp_path / "res.md").read_text()
    assert not (tmp_path / "res_fits.md").exists()  # no fit, no fit table
    with pytest.raises(SystemExit):
        notebooks.main([str(tmp_path / "missing.ipynb")])


def test_notebook_timing_logs_the_fits_the_kernel_makes(tmp_path):
    import nbformat

    from bench import notebooks

    code = """import arviz as az, numpy as np, pymc as pm
from course_pkg.fitlog import record_fit
with pm.Model() as m:
    pm.Normal("x")
idata = az.from_dict({"posterior": {"x": np.random.default_rng(1).normal(size=(2, 100))}})
idata.attrs["sampling_wall_s"] = 1.0
record_fit(idata, m, label="toy | fit", settings={"sampler": "nutpie", "draws": 100})"""
    path = tmp_path / "tiny.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)]), path)
    assert notebooks.main([str(path), "--out", str(tmp_path / "res")]) == 0
    fits = pd.read_csv(tmp_path / "res_fits.csv")
    assert list(fits["notebook"]) == ["tiny"] and list(fits["label"]) == ["toy | fit"]
    assert "| tiny | 1 | `toy \\| fit` | nutpie |" in (tmp_path / "res_fits.md").read_text()


def test_fits_markdown_escapes_formula_bars():
    from bench import notebooks

    fits = pd.DataFrame([{"notebook": "ch04", "fit": 1, "label": "y ~ 1 + (1 | g)",
                          "sampler": "nutpie", "target_accept": None, "draws": 1000,
                          "compile_s": 2.0, "sample_s": 3.0, "wall_s": 5.0,
                          "min_ess_bulk": 800.0, "min_ess_tail": 700.0, "max_rhat": 1.002,
                          "divergences": 0}])
    text = notebooks.fits_markdown(fits, "warm", "2026-11-22")
    row = text.splitlines()[-1]
    assert "`y ~ 1 + (1 \\| g)`" in row
    assert "| default |" in row and "| 160.0 |" in row  # ESS/s = 800 / 5 s
    assert row.count(" | ") == text.splitlines()[2].count(" | ")
    with pytest.raises(ValueError, match="at least one fit"):
        notebooks.fits_markdown(fits.iloc[:0], "warm", "2026-11-22")


def _stack_runs(total_by_repeat: dict[str, list[float]]) -> pd.DataFrame:
    rows = [{"model": model, "sampler": "nutpie", "repeat": i, "total_s": t, "min_ess_bulk": 900}
            for model, totals in total_by_repeat.items() for i, t in enumerate(totals)]
    return pd.DataFrame(rows)


def test_compare_stacks_separates_cold_from_warm_and_flags_regressions():
    from bench.compare_stacks import compare, to_markdown

    old = _stack_runs({"a": [20.0, 5.0, 6.0, 7.0], "b": [30.0, 10.0, 10.0, 10.0]})
    new = _stack_runs({"a": [21.0, 5.0, 5.5, 9.0], "b": [30.0, 12.0, 11.5, 11.0]})
    table = compare(old, new).set_index("model")
    assert table.loc["a", "cold_s_old"] == 20.0 and table.loc["a", "warm_s_old"] == 6.0
    assert table.loc["a", "warm_s_new"] == 5.5  # median of runs 2-4, the cold run left out
    assert not table.loc["a", "slower"]  # cold 5% slower, warm faster: within 10%
    assert table.loc["b", "slower"] and table.loc["b", "warm_ratio"] == pytest.approx(1.15)
    md = to_markdown(table.reset_index(), "PyMC 5", "PyMC 6")
    assert "| b | nutpie | 30.0 | 30.0 | 1.00 | 10.0 | 11.5 | 1.15 |" in md and "slower" in md


def test_compare_stacks_takes_the_median_cold_run_over_passes():
    from bench.compare_stacks import compare

    old = [_stack_runs({"a": [20.0, 5.0, 5.0]}), _stack_runs({"a": [30.0]}),
           _stack_runs({"a": [22.0]})]
    new = [_stack_runs({"a": [40.0, 5.0, 5.0]}), _stack_runs({"a": [20.0]}),
           _stack_runs({"a": [21.0]})]
    row = compare(old, new).iloc[0]
    assert (row["cold_s_old"], row["cold_s_new"]) == (22.0, 21.0)  # medians of 3 first runs
    assert row["cold_runs_old"] == 3 and row["warm_runs_new"] == 2
    assert not row["slower"]  # one slow cold pass (40 s) does not decide alone


def test_compare_stacks_rejects_bad_input():
    from bench.compare_stacks import compare

    with pytest.raises(ValueError, match="lacks columns"):
        compare(pd.DataFrame({"model": ["a"]}), _stack_runs({"a": [1.0, 1.0]}))
    with pytest.raises(ValueError, match="no warm run"):
        compare(_stack_runs({"a": [1.0]}), _stack_runs({"a": [1.0, 1.0]}))
    with pytest.raises(ValueError, match="share no"):
        compare(_stack_runs({"a": [1.0, 1.0]}), _stack_runs({"b": [1.0, 1.0]}))
