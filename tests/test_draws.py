"""Tests for course_pkg.draws: tidy tables of draws (tidybayes' role)."""

from __future__ import annotations

import arviz as az
import numpy as np
import pandas as pd
import pytest

from course_pkg.draws import (
    DRAW_COLUMNS,
    add_epred_draws,
    add_predicted_draws,
    mean_qi,
    spread_draws,
)

N_CHAIN, N_DRAW, N_PERSON = 3, 5, 4


@pytest.fixture(scope="module")
def toy_idata():
    """A hand-made posterior: a scalar, a per-person vector and a 2-d variable."""
    rng = np.random.default_rng(3)
    return az.from_dict(
        {"posterior": {
            "Intercept": rng.normal(size=(N_CHAIN, N_DRAW)),
            "1|id": rng.normal(size=(N_CHAIN, N_DRAW, N_PERSON)),
            "beta": rng.normal(size=(N_CHAIN, N_DRAW, N_PERSON, 2)),
        }},
        coords={"id__factor_dim": ["a", "b", "c", "d"], "term": ["x", "z"]},
        dims={"1|id": ["id__factor_dim"], "beta": ["id__factor_dim", "term"]},
    )


# --- spread_draws ---------------------------------------------------------------------------


def test_spread_scalar_shape_and_numbering(toy_idata):
    df = spread_draws(toy_idata, "Intercept")
    assert list(df.columns) == [*DRAW_COLUMNS, "Intercept"]
    assert df.shape == (N_CHAIN * N_DRAW, 4)
    assert df[".chain"].tolist() == np.repeat(np.arange(1, N_CHAIN + 1), N_DRAW).tolist()
    assert df[".iteration"].tolist() == np.tile(np.arange(1, N_DRAW + 1), N_CHAIN).tolist()
    assert df[".draw"].tolist() == list(range(1, N_CHAIN * N_DRAW + 1))


def test_spread_values_equal_posterior(toy_idata):
    df = spread_draws(toy_idata, ["Intercept", "1|id"], dims={"id__factor_dim": "id"})
    assert list(df.columns) == [*DRAW_COLUMNS, "id", "Intercept", "1|id"]
    assert len(df) == N_CHAIN * N_DRAW * N_PERSON
    post = toy_idata.posterior
    for _, row in df.sample(10, random_state=1).iterrows():
        c, i = row[".chain"] - 1, row[".iteration"] - 1
        assert row["Intercept"] == post["Intercept"].values[c, i]
        expected = post["1|id"].sel(id__factor_dim=row["id"]).values[c, i]
        assert row["1|id"] == expected
    # the scalar is broadcast along people: constant within a draw
    assert (df.groupby(".draw")["Intercept"].nunique() == 1).all()


def test_spread_two_dims(toy_idata):
    df = spread_draws(toy_idata, "beta")
    assert list(df.columns) == [*DRAW_COLUMNS, "id__factor_dim", "term", "beta"]
    assert len(df) == N_CHAIN * N_DRAW * N_PERSON * 2
    np.testing.assert_allclose(
        np.sort(df["beta"].to_numpy()), np.sort(toy_idata.posterior["beta"].values.ravel())
    )


def test_spread_other_group():
    idata = az.from_dict({"posterior": {"a": np.zeros((1, 2))},
                          "posterior_predictive": {"y": np.ones((1, 2, 3))}})
    df = spread_draws(idata, "y", group="posterior_predictive")
    assert df.shape == (6, 5) and (df["y"] == 1).all()


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        ({"idata": {"a": 1}, "var_names": "a"}, TypeError, "DataTree"),
        ({"var_names": "nope"}, ValueError, "not in the posterior"),
        ({"var_names": []}, ValueError, "empty"),
        ({"var_names": [1]}, TypeError, "var_names"),
        ({"var_names": "Intercept", "group": "prior"}, ValueError, "no 'prior' group"),
        ({"var_names": "Intercept", "group": 3}, TypeError, "group"),
        ({"var_names": "1|id", "dims": {"person": "id"}}, ValueError, "renames"),
        ({"var_names": "1|id", "dims": ["id"]}, TypeError, "dims"),
    ],
)
def test_spread_bad_input(toy_idata, kwargs, exc, match):
    kwargs = {"idata": toy_idata, **kwargs}
    with pytest.raises(exc, match=match):
        spread_draws(kwargs.pop("idata"), **kwargs)


# --- mean_qi --------------------------------------------------------------------------------


def test_mean_qi_values():
    rng = np.random.default_rng(0)
    df = pd.DataFrame({"g": np.repeat(["a", "b"], 1000), "x": rng.normal(size=2000)})
    out = mean_qi(df, "x", by="g")
    assert list(out.columns) == ["g", "x", ".lower", ".upper", ".width"]
    a = df.loc[df.g == "a", "x"]
    assert out.loc[0, "x"] == pytest.approx(a.mean())
    assert out.loc[0, ".lower"] == pytest.approx(np.quantile(a, 0.025))
    assert out.loc[0, ".upper"] == pytest.approx(np.quantile(a, 0.975))
    whole = mean_qi(df, "x", width=0.5)
    assert len(whole) == 1 and whole.loc[0, ".width"] == 0.5


@pytest.mark.parametrize(
    ("args", "kwargs", "exc", "match"),
    [
        (([1, 2], "x"), {}, TypeError, "DataFrame"),
        ((None, "y"), {}, ValueError, "not in draws"),
        ((None, "x"), {"by": "h"}, ValueError, "not in draws"),
        ((None, "x"), {"width": 1.0}, ValueError, "width"),
        ((None, "x"), {"width": True}, ValueError, "width"),
    ],
)
def test_mean_qi_bad_input(args, kwargs, exc, match):
    df = pd.DataFrame({"g": ["a"], "x": [1.0]})
    first = df if args[0] is None else args[0]
    with pytest.raises(exc, match=match):
        mean_qi(first, args[1], **kwargs)


# --- epred / predicted draws with a real Bambi model ----------------------------------------


@pytest.fixture(scope="module")
def bambi_fit():
    """A small varying-intercept model fitted for real (short chains)."""
    import bambi as bmb

    from course_pkg.sampling import fit_bambi

    rng = np.random.default_rng(7)
    people = np.repeat(["p1", "p2", "p3", "p4"], 6)
    effect = {"p1": -1.0, "p2": 0.0, "p3": 1.0, "p4": 2.0}
    y = np.array([effect[p] for p in people]) + rng.normal(0, 0.5, size=people.size)
    data = pd.DataFrame({"y": y, "g": pd.Categorical(people)})
    model = bmb.Model("y ~ 1 + (1 | g)", data)
    idata = fit_bambi(model, random_seed=5, draws=150, tune=300, chains=2,
                      log_likelihood=False)
    return model, idata


@pytest.mark.slow
def test_epred_draws_match_posterior(bambi_fit):
    model, idata = bambi_fit
    nd = pd.DataFrame({"g": ["p3", "p1"]})
    before = set(idata.posterior.data_vars)
    df = add_epred_draws(nd, model, idata)
    n = idata.posterior.sizes["chain"] * idata.posterior.sizes["draw"]
    assert list(df.columns) == ["g", ".row", *DRAW_COLUMNS, ".epred"]
    assert len(df) == 2 * n
    # expected value = Intercept + the person's deviation, draw by draw
    post = idata.posterior
    for person in ("p3", "p1"):
        mine = df[df.g == person].sort_values(".draw")[".epred"].to_numpy()
        direct = (post["Intercept"] + post["1|g"].sel(g__factor_dim=person)).values.ravel()
        np.testing.assert_allclose(mine, direct)
    assert (df.loc[df.g == "p3", ".row"] == 1).all()
    # idata is not modified: no prediction variables were added to it
    assert set(idata.posterior.data_vars) == before


@pytest.mark.slow
def test_predicted_draws_spread_more_and_reproduce(bambi_fit):
    model, idata = bambi_fit
    nd = pd.DataFrame({"g": ["p2"]})
    epred = add_epred_draws(nd, model, idata)
    pred = add_predicted_draws(nd, model, idata, random_seed=3)
    again = add_predicted_draws(nd, model, idata, random_seed=3)
    assert pred.columns[-1] == ".prediction"
    assert pred[".prediction"].std() > epred[".epred"].std()
    np.testing.assert_array_equal(pred[".prediction"], again[".prediction"])


@pytest.mark.slow
# formulae builds a Categorical holding the unseen label; pandas 3 warns about that pattern.
@pytest.mark.filterwarnings("ignore:Constructing a Categorical with a dtype")
def test_new_groups(bambi_fit):
    model, idata = bambi_fit
    nd = pd.DataFrame({"g": ["someone new"]})
    with pytest.raises(ValueError):
        add_epred_draws(nd, model, idata)
    df = add_epred_draws(nd, model, idata, sample_new_groups=True, random_seed=1)
    assert np.isfinite(df[".epred"]).all() and len(df) == 300


@pytest.mark.slow
@pytest.mark.parametrize(
    ("which", "exc", "match"),
    [("newdata", TypeError, "newdata"), ("empty", ValueError, "no rows"),
     ("clash", ValueError, "bookkeeping"), ("model", TypeError, "bambi.Model"),
     ("idata", TypeError, "DataTree")],
)
def test_epred_bad_input(bambi_fit, which, exc, match):
    model, idata = bambi_fit
    nd = pd.DataFrame({"g": ["p1"]})
    args = {"newdata": nd, "model": model, "idata": idata}
    if which == "newdata":
        args["newdata"] = {"g": ["p1"]}
    elif which == "empty":
        args["newdata"] = nd.iloc[:0]
    elif which == "clash":
        args["newdata"] = nd.assign(**{".draw": 1})
    elif which == "model":
        args["model"] = "y ~ 1"
    else:
        args["idata"] = idata.posterior.to_dataset()
    for fn in (add_epred_draws, add_predicted_draws):
        with pytest.raises(exc, match=match):
            fn(args["newdata"], args["model"], args["idata"])
