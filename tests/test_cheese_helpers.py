"""Chapter 4's figures: correlations against their LKJ prior, and an SD against the group count."""

from functools import partial

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from scipy import integrate  # noqa: E402

from course_pkg import plots  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_lkj_marginal_density_integrates_to_one_and_has_the_beta_sd():
    for eta, k in [(1.0, 2), (2.0, 4), (8.0, 4)]:
        density = partial(plots.lkj_marginal_density, eta=eta, k=k)
        total, _ = integrate.quad(density, -1, 1)
        assert total == pytest.approx(1.0, abs=1e-6)
        var, _ = integrate.quad(lambda r, f=density: r**2 * f(r), -1, 1)
        a = eta - 1 + k / 2
        assert np.sqrt(var) == pytest.approx(1 / np.sqrt(2 * a + 1), rel=1e-6)
    # LKJ(1) for k = 2 is uniform on (-1, 1)
    assert plots.lkj_marginal_density([-0.5, 0.0, 0.7], eta=1.0, k=2) == pytest.approx([0.5] * 3)


def test_lkj_marginal_density_bad_input():
    with pytest.raises(TypeError, match="k must be an int"):
        plots.lkj_marginal_density(0.0, eta=2.0, k=4.0)
    with pytest.raises(ValueError, match="k must be at least 2"):
        plots.lkj_marginal_density(0.0, eta=2.0, k=1)
    with pytest.raises(ValueError, match="eta must be a positive"):
        plots.lkj_marginal_density(0.0, eta=0.0, k=4)


def _lkj_draws(k=3, n=500, seed=1):
    rng = np.random.default_rng(seed)
    raw = rng.normal(size=(n, 30, k))
    cov = np.einsum("nij,nik->njk", raw, raw)
    sd = np.sqrt(np.einsum("njj->nj", cov))
    return cov / sd[:, :, None] / sd[:, None, :]


def test_correlation_prior_posterior_draws_one_line_per_pair_and_the_prior():
    draws = _lkj_draws(k=3).reshape(2, 250, 3, 3)  # chain, draw, k, k
    ax = plots.correlation_prior_posterior(draws, eta=2.0, labels=["a", "b", "c"], title="t")
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["b ~ a", "c ~ a", "c ~ b", "LKJ(2) prior, k = 3"]
    assert ax.get_xlim() == (-1, 1)
    assert ax.get_title() == "t"


def test_correlation_prior_posterior_bad_input():
    draws = _lkj_draws(k=3)
    with pytest.raises(ValueError, match="shape"):
        plots.correlation_prior_posterior(draws[0], eta=2.0, labels=["a", "b", "c"])
    with pytest.raises(ValueError, match="labels"):
        plots.correlation_prior_posterior(draws, eta=2.0, labels=["a", "b"])
    with pytest.raises(ValueError, match=r"\[-1, 1\]"):
        plots.correlation_prior_posterior(draws * 2, eta=2.0, labels=["a", "b", "c"])
    with pytest.raises(ValueError, match="eta"):
        plots.correlation_prior_posterior(draws, eta=-1.0, labels=["a", "b", "c"])
    with pytest.raises(TypeError, match="ax must be"):
        plots.correlation_prior_posterior(draws, eta=2.0, labels=["a", "b", "c"], ax="no")


def _table():
    return pd.DataFrame({"n_groups": [2, 5, 20], "mean": [6.0, 8.0, 6.5],
                         "lower": [0.5, 3.0, 4.5], "upper": [20.0, 15.0, 9.0]})


def test_sd_by_group_count_draws_intervals_truth_and_prior_band():
    ax = plots.sd_by_group_count(_table(), truth=6.0, prior_interval=(0.3, 22.0), title="t")
    assert ax.get_xscale() == "log"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2", "5", "20"]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["prior interval", "posterior interval", "posterior mean", "truth"]
    truth_line = [line for line in ax.get_lines() if line.get_label() == "truth"][0]
    assert truth_line.get_ydata()[0] == 6.0


def test_sd_by_group_count_bad_input():
    with pytest.raises(TypeError, match="table must be a pandas.DataFrame"):
        plots.sd_by_group_count(_table().to_dict(), truth=6.0)
    with pytest.raises(KeyError, match="upper"):
        plots.sd_by_group_count(_table().drop(columns="upper"), truth=6.0)
    reversed_ = _table().assign(lower=[30.0, 3.0, 4.5])
    with pytest.raises(ValueError, match="lower <= upper"):
        plots.sd_by_group_count(reversed_, truth=6.0)
    with pytest.raises(ValueError, match="n_groups must be positive"):
        plots.sd_by_group_count(_table().assign(n_groups=[0, 5, 20]), truth=6.0)
    with pytest.raises(ValueError, match="truth"):
        plots.sd_by_group_count(_table(), truth=float("nan"))
    with pytest.raises(ValueError, match="prior_interval"):
        plots.sd_by_group_count(_table(), truth=6.0, prior_interval=(5.0, 1.0))
