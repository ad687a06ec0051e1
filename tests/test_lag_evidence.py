"""Tests of course_pkg.lags.day_gap_counts and within_residuals."""

import numpy as np
import pandas as pd
import pytest

from course_pkg.lags import day_gap_counts, within_cross_correlation, within_residuals


def panel():
    return pd.DataFrame({"id": [1, 1, 1, 1, 2, 2, 2],
                         "day": [5, 1, 2, 8, 3, 4, 6],
                         "y": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0]})


def test_day_gap_counts_counts_every_gap_with_zeros():
    counts = day_gap_counts(panel())
    # person 1: days 1, 2, 5, 8 -> gaps 1, 3, 3; person 2: 3, 4, 6 -> 1, 2
    assert counts.to_dict() == {1: 2, 2: 1, 3: 2}
    assert counts.name == "pairs" and counts.index.name == "gap"


def test_day_gap_counts_bad_input():
    with pytest.raises(TypeError, match="DataFrame"):
        day_gap_counts([1, 2])
    with pytest.raises(KeyError, match="time"):
        day_gap_counts(panel(), time="when")
    with pytest.raises(ValueError, match="no person has two"):
        day_gap_counts(pd.DataFrame({"id": [1, 2], "day": [1, 1]}))


def test_within_residuals_match_per_person_fit():
    rng = np.random.default_rng(1)
    n = 30
    data = pd.DataFrame({"id": np.repeat([1, 2], n), "x": rng.normal(size=2 * n)})
    data["y"] = np.where(data["id"] == 1, 1 + 2 * data["x"], -3 * data["x"])
    data["y"] += rng.normal(scale=0.1, size=2 * n)
    res = within_residuals(data, "y", ["x"])
    for person in (1, 2):
        rows = data[data["id"] == person]
        slope, intercept = np.polyfit(rows["x"], rows["y"], 1)
        expected = rows["y"] - (intercept + slope * rows["x"])
        np.testing.assert_allclose(res[rows.index], expected, atol=1e-10)
    # no predictors: residuals from each person's mean
    centred = within_residuals(data, "y", [])
    np.testing.assert_allclose(centred.groupby(data["id"]).mean(), 0, atol=1e-12)


def test_within_residuals_remove_serial_dependence_explained_by_predictor():
    # y depends only on an autocorrelated x of the same row: residuals are white noise
    rng = np.random.default_rng(2)
    x = np.zeros(400)
    for t in range(1, 400):
        x[t] = 0.8 * x[t - 1] + rng.normal()
    data = pd.DataFrame({"id": 1, "day": np.arange(400), "x": x})
    data["y"] = 0.5 * x + rng.normal(scale=0.5, size=400)
    data["res"] = within_residuals(data, "y", ["x"])
    raw = within_cross_correlation(data, "y", "y", shifts=[1]).iloc[0]
    left = within_cross_correlation(data, "res", "res", shifts=[1]).iloc[0]
    assert raw > 0.3 and abs(left) < 0.15


def test_within_residuals_short_person_is_missing():
    data = pd.DataFrame({"id": [1, 1, 2, 2, 2], "x": [0.0, 1, 0, 1, 2],
                         "y": [1.0, 2, 0, 1, 3]})
    res = within_residuals(data, "y", ["x"])
    assert res[:2].isna().all() and res[2:].notna().all()


def test_within_residuals_bad_input():
    data = panel().assign(x=1.0)
    with pytest.raises(TypeError, match="DataFrame"):
        within_residuals(data.to_numpy(), "y", ["x"])
    with pytest.raises(TypeError, match="sequence of column names"):
        within_residuals(data, "y", "x")
    with pytest.raises(KeyError, match="'z'"):
        within_residuals(data, "y", ["z"])
    with pytest.raises(ValueError, match="missing"):
        within_residuals(data.assign(y=np.nan), "y", ["x"])
