"""course_pkg.loo_runs.psis_replicate_mcse: the spread of PSIS-LOO over independent runs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from course_pkg.loo import psis_summary
from course_pkg.loo_runs import psis_replicate_mcse


def _normal_fit(seed, n_obs=40, chains=4, draws=1000, shift=0.0):
    """Exact posterior draws of a normal mean (sigma 1, flat prior) and their log-likelihood."""
    rng = np.random.default_rng(seed)
    y = np.random.default_rng(0).normal(0.0, 1.0, n_obs)  # the same data in every fit
    mu = rng.normal(y.mean() + shift, 1 / np.sqrt(n_obs), (chains, draws))
    log_lik = -0.5 * (y[None, None, :] - mu[..., None]) ** 2 - 0.5 * np.log(2 * np.pi)
    return xr.DataTree.from_dict({
        "posterior": xr.Dataset({"mu": (("chain", "draw"), mu)}),
        "log_likelihood": xr.Dataset({"y": (("chain", "draw", "obs"), log_lik)})})


def test_is_the_standard_deviation_of_the_runs_statistics():
    runs = [_normal_fit(seed) for seed in range(5)]
    others = [_normal_fit(seed + 50, shift=0.3) for seed in range(5)]
    error = psis_replicate_mcse(runs, others)
    by_hand = pd.DataFrame([psis_summary(r, o) for r, o in zip(runs, others, strict=True)])
    pd.testing.assert_series_equal(error, by_hand.std(ddof=1), check_names=False)
    assert error.attrs["runs"] == 5 and {"elpd_diff", "se_diff"} <= set(error.index)
    assert error["looic"] == pytest.approx(2 * error["elpd_loo"])


def test_matches_the_spread_of_many_runs():
    """Sets of eight runs estimate the spread of PSIS-LOO over many independent runs. An SD
    from eight values is itself uncertain (one set of seeds here gives a third of the truth),
    so the median over six disjoint sets is compared, loosely."""
    runs = [_normal_fit(seed) for seed in range(48)]
    spread = np.std([psis_summary(run)["elpd_loo"] for run in runs], ddof=1)
    estimates = [psis_replicate_mcse(runs[i:i + 8])["elpd_loo"] for i in range(0, 48, 8)]
    assert 0.6 * spread < np.median(estimates) < 1.6 * spread


@pytest.mark.parametrize("runs, others, err, match", [
    (lambda: _normal_fit(1), None, TypeError, "runs must be a sequence of xarray.DataTree"),
    (lambda: [_normal_fit(1), "x", _normal_fit(2)], None, TypeError, "DataTree objects only"),
    (lambda: [_normal_fit(1), _normal_fit(2)], None, ValueError, "at least 3 runs"),
    (lambda: [_normal_fit(s) for s in range(3)], lambda: [_normal_fit(9)], ValueError,
     "others has 1 runs, runs 3"),
    (lambda: [_normal_fit(1), xr.DataTree(), _normal_fit(2)], None, ValueError,
     "log_likelihood and posterior"),
])
def test_bad_input(runs, others, err, match):
    with pytest.raises(err, match=match):
        psis_replicate_mcse(runs(), others() if others else None)
