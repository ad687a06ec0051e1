"""Tests of course_pkg.plots.identifiability.prior_posterior_own_bins (chapter 1's figure)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest

from course_pkg.plots.identifiability import prior_posterior_own_bins


@pytest.fixture
def draws():
    rng = np.random.default_rng(1)
    return rng.normal(0.3, 1.0, 4000), rng.normal(0.09, 0.01, 4000)


def test_a_narrow_posterior_keeps_its_peak(draws):
    prior, posterior = draws
    fig, ax = plt.subplots()
    prior_posterior_own_bins(prior, posterior, name="a1", reference=0.1, xlim=(-2.5, 3.0),
                             ax=ax)
    prior_patch, post_patch = ax.patches[:2]
    # the normal density's peak is 1 / (0.01 sqrt(2 pi)) ~ 40; shared bins 0.09 wide give ~10
    assert post_patch.get_path().vertices[:, 1].max() > 30
    assert prior_patch.get_path().vertices[:, 1].max() < 1
    assert ax.get_xlim() == (-2.5, 3.0)
    assert ax.get_xlabel() == "a1"
    assert [line.get_xdata()[0] for line in ax.lines] == [0.1]
    plt.close(fig)


def test_default_axis_is_the_draws_range(draws):
    prior, posterior = draws
    ax = prior_posterior_own_bins(prior, posterior, name="a1")
    low, high = ax.get_xlim()
    assert low == pytest.approx(min(prior.min(), posterior.min()))
    assert high == pytest.approx(max(prior.max(), posterior.max()))
    plt.close(ax.figure)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"name": ""}, TypeError, "name must be a non-empty str"),
        ({"name": "a1", "bins": 2.5}, TypeError, "bins must be an int"),
        ({"name": "a1", "bins": 1}, ValueError, "bins must be at least 2"),
        ({"name": "a1", "xlim": (1.0, 0.0)}, ValueError, "xlim must be an increasing pair"),
    ],
)
def test_bad_arguments(draws, kwargs, error, match):
    prior, posterior = draws
    with pytest.raises(error, match=match):
        prior_posterior_own_bins(prior, posterior, **kwargs)


@pytest.mark.parametrize("bad", [[1.0], [0.0, np.nan]])
def test_too_few_or_non_finite_draws(draws, bad):
    prior, _ = draws
    with pytest.raises(ValueError, match="posterior must hold at least two finite draws"):
        prior_posterior_own_bins(prior, bad, name="a1")
    with pytest.raises(ValueError, match="prior must hold at least two finite draws"):
        prior_posterior_own_bins(bad, prior, name="a1")
