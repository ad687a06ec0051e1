"""Tests of chapter 5's helpers: lagged predictors (course_pkg.lags) and the per-group elpd
figure (course_pkg.plots.elpd)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from course_pkg.lags import lag_within, within_cross_correlation


@pytest.fixture
def panel():
    # person 1: days 1, 2, 3, 5 (a gap before day 5); person 2: days 1, 2
    return pd.DataFrame({"id": [1, 1, 1, 1, 2, 2], "day": [1, 2, 3, 5, 1, 2],
                         "y": [1.0, 2.0, 3.0, 6.0, 10.0, 20.0]})


def test_lag_within_uses_days_not_rows(panel):
    out = lag_within(panel, "y", center=False)
    expected = [np.nan, 1.0, 2.0, np.nan, np.nan, 10.0]
    np.testing.assert_array_equal(out["y_lag1"].to_numpy(), expected)
    assert list(out.columns) == ["id", "day", "y", "y_lag1"]
    assert "y_lag1" not in panel.columns  # a copy, the input is untouched


def test_lag_within_centres_on_the_person_mean(panel):
    out = lag_within(panel, ["y"], center=True, suffix="_prev")
    # person 1's mean is 3, person 2's is 15
    np.testing.assert_allclose(out["y_prev"].to_numpy(), [np.nan, -2.0, -1.0, np.nan, np.nan, -5.0])


def test_lag_within_names_from_a_dict(panel):
    out = lag_within(panel, {"y": "y_yesterday"}, center=False)
    assert list(out.columns) == ["id", "day", "y", "y_yesterday"]
    with pytest.raises(ValueError, match="already exist"):
        lag_within(panel, {"y": "day"})


def test_lag_within_two_days_back_and_row_order(panel):
    shuffled = panel.iloc[[3, 0, 5, 2, 4, 1]].reset_index(drop=True)
    out = lag_within(shuffled, "y", lag=2, center=False)
    by_key = out.set_index(["id", "day"])["y_lag1"]
    assert by_key[(1, 3)] == 1.0 and by_key[(1, 5)] == 3.0
    assert np.isnan(by_key[(1, 2)]) and np.isnan(by_key[(2, 2)])


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"data": [1, 2]}, TypeError, "data must be a pandas DataFrame"),
    ({"columns": "z"}, KeyError, "column 'z' is not in data"),
    ({"columns": 3}, TypeError, "columns must be a str or a sequence"),
    ({"lag": 0}, ValueError, "lag must be >= 1"),
    ({"lag": 1.5}, TypeError, "lag must be an int"),
    ({"center": "yes"}, TypeError, "center must be a bool"),
    ({"suffix": ""}, ValueError, "already exist"),
])
def test_lag_within_bad_input(panel, kwargs, error, match):
    arguments = {"data": panel, "columns": "y"} | kwargs
    with pytest.raises(error, match=match):
        lag_within(arguments.pop("data"), arguments.pop("columns"), **arguments)


def test_lag_within_rejects_duplicate_days_and_float_days(panel):
    with pytest.raises(ValueError, match="occur once"):
        lag_within(pd.concat([panel, panel.iloc[[0]]]), "y")
    with pytest.raises(ValueError, match="integer days"):
        lag_within(panel.assign(day=panel["day"] + 0.5), "y")


def test_within_cross_correlation_finds_a_true_lag():
    rng = np.random.default_rng(1)
    rows = []
    for person in range(30):
        y = rng.standard_normal(40) + rng.normal(0, 3)  # a person level plus daily noise
        rows.append(pd.DataFrame({"id": person, "day": np.arange(40), "y": y}))
    data = lag_within(pd.concat(rows, ignore_index=True), "y", center=False)
    data = data.dropna().reset_index(drop=True)
    result = within_cross_correlation(data, "y_lag1", "y", shifts=[-1, 0, 1])
    assert result.idxmax() == 1 and result[1] > 0.99
    assert abs(result[0]) < 0.2 and abs(result[-1]) < 0.2
    assert result.attrs["pairs"][0] == len(data)


def test_within_cross_correlation_of_a_column_with_itself(panel):
    # person 1 centred: -2, -1, 0, 3 on days 1, 2, 3, 5; person 2: -5, 5 on days 1, 2
    result = within_cross_correlation(panel, "y", "y", shifts=[0, 1])
    assert result[0] == pytest.approx(1.0)
    x = np.array([-1.0, 0.0, 5.0])  # days 2, 3 (person 1) and 2 (person 2)
    y = np.array([-2.0, -1.0, -5.0])  # the day before each
    assert result[1] == pytest.approx(np.corrcoef(x, y)[0, 1])
    assert result.attrs["pairs"][1] == 3


def test_within_cross_correlation_bad_input(panel):
    with pytest.raises(TypeError, match="shifts must be"):
        within_cross_correlation(panel, "y", "y", shifts=[0.5])
    with pytest.raises(KeyError, match="column 'w'"):
        within_cross_correlation(panel, "y", "w")


# --- course_pkg.plots.elpd


@pytest.fixture
def per_group():
    return pd.DataFrame({"sigma": [0.01, 0.3, 0.6, 1.2], "elpd_diff": [50.0, 5.0, -1.0, 20.0]},
                        index=[7, 8, 9, 10])


def test_elpd_by_group_draws_points_and_running_share(per_group):
    import matplotlib.pyplot as plt

    from course_pkg.plots.elpd import elpd_by_group

    fig, (ax, share_ax) = plt.subplots(1, 2)
    out = elpd_by_group(per_group, x="sigma", ax=ax, share_ax=share_ax, label_top=2)
    assert out is ax and ax.get_xscale() == "log"
    offsets = ax.collections[0].get_offsets()
    np.testing.assert_allclose(offsets[:, 1], per_group["elpd_diff"])
    assert sorted(t.get_text() for t in ax.texts) == ["10", "7"]
    step = share_ax.lines[0].get_ydata()
    np.testing.assert_allclose(step, np.cumsum([50.0, 5.0, -1.0, 20.0]) / 74.0)
    plt.close(fig)


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"data": [1]}, TypeError, "data must be a pandas.DataFrame"),
    ({"x": "nope"}, KeyError, "x='nope' is not a column"),
    ({"label_top": -1}, ValueError, "label_top must be >= 0"),
    ({"label_top": 1.5}, TypeError, "label_top must be an int"),
    ({"share_ax": "axes"}, TypeError, "share_ax must be a matplotlib Axes"),
])
def test_elpd_by_group_bad_input(per_group, kwargs, error, match):
    from course_pkg.plots.elpd import elpd_by_group

    arguments = {"data": per_group, "x": "sigma"} | kwargs
    with pytest.raises(error, match=match):
        elpd_by_group(arguments.pop("data"), **arguments)


def test_elpd_by_group_rejects_log_of_non_positive_and_zero_total(per_group):
    import matplotlib.pyplot as plt

    from course_pkg.plots.elpd import elpd_by_group

    with pytest.raises(ValueError, match="logx=True needs"):
        elpd_by_group(per_group.assign(sigma=[0.0, 1, 2, 3]), x="sigma")
    fig, share_ax = plt.subplots()
    with pytest.raises(ValueError, match="total difference is zero"):
        elpd_by_group(per_group.assign(elpd_diff=[1.0, -1.0, 0.0, 0.0]), x="sigma",
                      share_ax=share_ax)
    plt.close("all")
