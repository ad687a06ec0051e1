"""simulate_on_rows: outcomes of a linear multilevel model on given rows (chapter 5's m2 check)."""

import numpy as np
import pandas as pd
import pytest

from course_pkg.simulate import simulate_on_rows


def _rows(n_groups=40, seed=0):
    rng = np.random.default_rng(seed)
    sizes = rng.integers(20, 60, n_groups)  # unbalanced, as real panels are
    ids = np.repeat(np.arange(1, n_groups + 1), sizes)
    return pd.DataFrame({"id": pd.Categorical(ids), "t": rng.uniform(0, 1, ids.size),
                         "x": rng.normal(0, 1, ids.size)})


SETTINGS = {"predictors": ["t", "x"], "outcomes": ("a", "b"), "intercept": [0.5, -0.2],
            "coefficients": [[-0.3, 0.2], [0.1, 0.4]], "sd": [[0.6, 0.3, 0.1], [0.5, 0.2, 0.1]],
            "correlation": 0.2, "log_sigma": [-0.5, -0.7], "residual_cor": -0.3}


def test_names_shapes_and_same_seed_same_data():
    rows = _rows()
    data, truth = simulate_on_rows(rows, seed=3, **SETTINGS)
    assert truth["effect_names"] == ["a_Intercept", "a_t", "a_x", "b_Intercept", "b_t", "b_x"]
    assert truth["effects"].shape == (40, 6)
    assert list(data.columns) == ["id", "t", "x", "a", "b"]
    pd.testing.assert_frame_equal(data[["id", "t", "x"]], rows)  # predictors kept as given
    again, _ = simulate_on_rows(rows, seed=3, **SETTINGS)
    pd.testing.assert_frame_equal(data, again)
    other, _ = simulate_on_rows(rows, seed=4, **SETTINGS)
    assert not np.allclose(other["a"], data["a"])


def test_outcomes_follow_the_stated_equation():
    """Residuals of the true mean are normal with the stated SDs and correlation."""
    rows = _rows(n_groups=200)
    data, truth = simulate_on_rows(rows, seed=1, **SETTINGS)
    codes = data["id"].cat.codes.to_numpy()
    design = np.column_stack([np.ones(len(data)), data[["t", "x"]].to_numpy()])
    z = []
    for o, name in enumerate(("a", "b")):
        coef = np.r_[truth["Intercept"][o], truth["coefficients"][o]]
        u = truth["effects"][codes, 3 * o:3 * o + 3]
        mu = design @ coef + np.einsum("rk,rk->r", u, design)
        z.append((data[name].to_numpy() - mu) / np.exp(truth["log_sigma"][o]))
    z = np.array(z)
    assert np.all(np.abs(z.mean(1)) < 0.03) and np.all(np.abs(z.std(1) - 1) < 0.03)
    assert abs(np.corrcoef(z)[0, 1] - (-0.3)) < 0.03
    # the effects' spread is the stated one (200 groups: about 10% either way)
    np.testing.assert_allclose(truth["effects"].std(0), truth["sd"], rtol=0.25)


def test_one_outcome_and_scalar_settings():
    data, truth = simulate_on_rows(_rows(), seed=2, predictors=["x"], coefficients=0.3,
                                   sd=0.2)
    assert truth["effect_names"] == ["y_Intercept", "y_x"]
    np.testing.assert_array_equal(truth["coefficients"], [[0.3]])
    assert "y" in data


@pytest.mark.parametrize(("kw", "error", "match"), [
    ({"rows": [[1, 2]]}, TypeError, "rows must be a pandas DataFrame"),
    ({"predictors": "x"}, TypeError, "predictors must be a sequence"),
    ({"predictors": ["z"]}, ValueError, r"no column\(s\) \['z'\]"),
    ({"outcomes": ("a", "b", "c")}, ValueError, "one or two names"),
    ({"outcomes": ("x",)}, ValueError, "distinct new columns"),
    ({"coefficients": [1.0, 2.0, 3.0]}, ValueError, "coefficients must be a number or a finite 1 x 2"),
    ({"sd": -0.1}, ValueError, "sd holds standard deviations"),
    ({"residual_cor": 0.3}, ValueError, "residual_cor needs two outcomes"),
    ({"residual_cor": 1.0, "outcomes": ("a", "b")}, ValueError, "strictly between -1 and 1"),
    ({"correlation": 1.5}, ValueError, "correlation must be strictly between"),
    ({"seed": "1"}, TypeError, "seed must be an int"),
])
def test_bad_input(kw, error, match):
    args = {"rows": _rows(), "seed": 1, "predictors": ["t", "x"]} | kw
    rows = args.pop("rows")
    with pytest.raises(error, match=match):
        simulate_on_rows(rows, **args)


def test_missing_predictor_values_are_refused():
    rows = _rows()
    rows.loc[3, "x"] = np.nan
    with pytest.raises(ValueError, match="drop rows with missing values first"):
        simulate_on_rows(rows, seed=1, predictors=["x"])
