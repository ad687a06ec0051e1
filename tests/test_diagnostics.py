"""course_pkg.diagnostics on real PyMC fits: the gate passes good fits and names bad ones."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from course_pkg.diagnostics import (
    ConvergenceError,
    ParityError,
    check_convergence,
    check_parity,
    compare_fits,
    convergence_table,
    printed_tolerance,
    summary_table,
)


def test_gate_passes_good_fit(good_idata):
    table = check_convergence(good_idata)
    assert set(table.index) == {"mu", "sigma"}
    assert (table["r_hat"] <= 1.01).all() and (table["ess_bulk"] >= 400).all()
    assert table.attrs["divergences"] == 0


def test_gate_fails_funnel_and_names_parameters(funnel_idata):
    with pytest.raises(ConvergenceError) as info:
        check_convergence(funnel_idata)
    msg = str(info.value)
    assert "log_tau" in msg
    assert "ess_bulk=" in msg
    # Every theta element with too few effective draws is named individually.
    assert "theta[" in msg


def test_gate_reports_divergences(funnel_idata):
    n_div = int(funnel_idata.sample_stats["diverging"].sum())
    assert n_div > 0, "the centred funnel should diverge with these settings"
    with pytest.raises(ConvergenceError, match=f"divergences: {n_div} of"):
        check_convergence(funnel_idata)


def test_gate_fails_a_stuck_chain(good_idata):
    stuck = good_idata.copy()
    post = stuck.posterior.to_dataset()
    mu = post["mu"].values.copy()
    mu[0, :] = mu[0, 0] + 10.0  # chain 0 stuck far from the others
    post["mu"] = (("chain", "draw"), mu)
    stuck["posterior"] = post
    with pytest.raises(ConvergenceError, match=r"mu: r_hat=") as info:
        check_convergence(stuck)
    assert "sigma" not in str(info.value)


def test_loosening_needs_a_reason(good_idata):
    with pytest.raises(ValueError, match="needs reason"):
        check_convergence(good_idata, ess_bulk_min=100)
    table = check_convergence(good_idata, ess_bulk_min=100, reason="demo with short chains")
    assert table.attrs["reason"] == "demo with short chains"


def test_tightening_needs_no_reason(good_idata):
    with pytest.raises(ConvergenceError, match="ess_bulk"):
        check_convergence(good_idata, ess_bulk_min=10_000)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"rhat_max": 0.9}, "rhat_max must be at least 1"),
        ({"ess_bulk_min": float("nan")}, "ess_bulk_min must be a finite number"),
        ({"max_divergences": -1}, "max_divergences must be a non-negative int"),
    ],
)
def test_bad_thresholds(good_idata, kwargs, match):
    with pytest.raises(ValueError, match=match):
        check_convergence(good_idata, **kwargs)


def test_bad_inputs(good_idata):
    with pytest.raises(TypeError, match="idata must be an xarray.DataTree"):
        check_convergence({"mu": [1, 2]})
    with pytest.raises(ValueError, match="var_names has names not in the posterior"):
        check_convergence(good_idata, var_names=["nope"])


def test_repeated_var_names_are_checked_once(good_idata):
    table = check_convergence(good_idata, var_names=["mu", "sigma", "mu"])
    assert sorted(table.index) == ["mu", "sigma"]


def test_constant_elements_are_skipped(good_idata):
    idata = good_idata.copy()
    post = idata.posterior.to_dataset()
    post["one"] = (("chain", "draw"), np.ones_like(post["mu"].values))
    idata["posterior"] = post
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # ArviZ's 0/0 warning on a constant must not escape
        table = convergence_table(idata)
        summary = summary_table(idata, ["mu", "one"])
    assert "one" not in table.index
    assert np.isnan(summary.loc["one", "Rhat"])
    check_convergence(idata)


def test_summary_table_matches_quantiles(good_idata):
    table = summary_table(good_idata, round_to=None)
    assert list(table.columns) == ["Estimate", "Est.Error", "l-95% CI", "u-95% CI", "Rhat",
                                   "Bulk_ESS", "Tail_ESS"]
    mu = good_idata.posterior["mu"].values.ravel()
    assert table.loc["mu", "Estimate"] == pytest.approx(mu.mean())
    assert table.loc["mu", "l-95% CI"] == pytest.approx(np.quantile(mu, 0.025))
    assert table.loc["mu", "u-95% CI"] == pytest.approx(np.quantile(mu, 0.975))
    rounded = summary_table(good_idata, prob=0.9)
    assert "l-90% CI" in rounded.columns
    with pytest.raises(ValueError, match="prob must be"):
        summary_table(good_idata, prob=1.5)


def test_parity_passes_and_fails():
    table = check_parity({"a": 0.19, "b": 0.052}, {"a": 0.19, "b": 0.05}, {"a": 0.01, "b": 0.005})
    assert table["ok"].all()
    with pytest.raises(ParityError) as info:
        check_parity({"a": 0.25, "b": 0.05}, {"a": 0.19, "b": 0.05}, 0.01, source="brms")
    msg = str(info.value)
    assert "a: ours 0.25 vs brms 0.19" in msg and "b:" not in msg


def test_parity_bad_inputs():
    with pytest.raises(KeyError, match="lacks estimates"):
        check_parity({}, {"a": 1.0}, 0.1)
    with pytest.raises(KeyError, match="tolerance lacks"):
        check_parity({"a": 1.0}, {"a": 1.0}, {"b": 0.1})
    with pytest.raises(ValueError, match="reference is empty"):
        check_parity({"a": 1.0}, {}, 0.1)
    with pytest.raises(ValueError, match="non-negative"):
        check_parity({"a": 1.0}, {"a": 1.0}, -1)
    with pytest.raises(ParityError):
        check_parity({"a": float("nan")}, {"a": 1.0}, 0.1)


def test_compare_fits_accepts_two_fits_of_one_model_and_names_a_shift():
    import xarray as xr

    rng = np.random.default_rng(3)
    a = xr.DataArray(rng.normal(1.0, 0.5, (4, 1000)), dims=("chain", "draw"))
    b = xr.DataArray(rng.normal(1.0, 0.5, (4, 1000)), dims=("chain", "draw"))
    table = compare_fits({"mu": (a, b), "same": (a, a)}, labels=("hand", "builder"))
    assert list(table.columns) == ["hand", "builder", "difference", "tolerance", "agree"]
    assert table["agree"].all()
    # 4 MCSE of the difference of two independent 4000-draw fits of sd 0.5 is about 0.045.
    assert 0.03 < table.loc["mu", "tolerance"] < 0.06
    with pytest.raises(ParityError) as info:
        compare_fits({"mu": (a, b + 0.1), "same": (a, a)}, labels=("hand", "builder"))
    msg = str(info.value)
    assert "1 of 2 quantities differ between hand and builder" in msg
    assert "mu: hand" in msg and "same:" not in msg


def test_compare_fits_bad_inputs():
    draws = np.zeros((2, 50)) + np.arange(50)
    with pytest.raises(TypeError, match="non-empty mapping"):
        compare_fits({})
    with pytest.raises(TypeError, match=r"pairs\['x'\] must be a pair"):
        compare_fits({"x": (draws,)})
    with pytest.raises(ValueError, match=r"shape \(chain, draw\), got shape \(50,\)"):
        compare_fits({"x": (draws, draws[0])})
    with pytest.raises(ValueError, match="two distinct strings"):
        compare_fits({"x": (draws, draws)}, labels=("a", "a"))
    with pytest.raises(ValueError, match="positive number of MCSEs"):
        compare_fits({"x": (draws, draws)}, k=0)


def test_printed_tolerance():
    assert printed_tolerance(2) == pytest.approx(0.005)
    assert printed_tolerance(2, mcse=0.001) == pytest.approx(0.008)
    with pytest.raises(ValueError, match="decimals"):
        printed_tolerance(-1)
    with pytest.raises(ValueError, match="mcse"):
        printed_tolerance(2, mcse=-0.1)


def test_count_divergences_sums_over_chains_and_is_zero_without_stats():
    import arviz as az
    import numpy as np

    from course_pkg.diagnostics import count_divergences

    diverging = np.zeros((2, 50), dtype=bool)
    diverging[0, :3] = diverging[1, 10] = True
    idata = az.from_dict({"posterior": {"a": np.zeros((2, 50))},
                          "sample_stats": {"diverging": diverging}})
    assert count_divergences(idata) == 4
    assert count_divergences(az.from_dict({"posterior": {"a": np.zeros((2, 50))}})) == 0
