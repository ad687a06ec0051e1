"""Tests for course_pkg.plots on the Agg backend: what each figure shows, and its bad input."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.collections import LineCollection, PathCollection  # noqa: E402

from course_pkg import plots  # noqa: E402
from course_pkg.simulate import simulate_partial_pooling, simulate_virus_load  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def virus():
    return simulate_virus_load("m3", seed=1)[0]


@pytest.fixture
def caterpillar_table():
    est = np.array([0.3, -0.2, 0.9, 0.1])
    return pd.DataFrame({"id": ["a", "b", "c", "d"], "est": est, "lo": est - 0.5,
                         "hi": est + 0.5})


def _points(ax):
    return [c for c in ax.collections if isinstance(c, PathCollection)]


def test_set_style_sets_dpi_and_rejects_bad_dpi():
    plots.set_style(dpi=72)
    assert plt.rcParams["figure.dpi"] == 72
    for bad in (0, -5, 7.5, True, "80"):
        with pytest.raises(ValueError, match="dpi"):
            plots.set_style(dpi=bad)


def test_trajectories_one_line_per_group_and_points(virus):
    ax = plots.trajectories(virus, x="time", y="outcome", group="id", line="mu", hue="dose_cat",
                            xlabel="Time (days)", ylabel="Log virus load")
    drawn = [line for line in ax.lines if len(line.get_xdata())]  # not legend proxies
    assert len(drawn) == virus["id"].nunique()
    points = _points(ax)
    assert sum(len(c.get_offsets()) for c in points) == len(virus)
    assert ax.get_xlabel() == "Time (days)" and ax.get_ylabel() == "Log virus load"


def test_trajectories_sample_of_groups_and_population(virus):
    ax = plots.trajectories(virus, x="time", y="outcome", group="id", n_groups=5, seed=3,
                            population=True)
    # five groups plus the population line; no points when line == y
    assert len(ax.lines) == 6
    assert not _points(ax)
    pop = ax.lines[-1]
    means = virus.groupby("time")["outcome"].mean()
    np.testing.assert_allclose(pop.get_ydata(), means.to_numpy())
    again = plots.trajectories(virus, x="time", y="outcome", group="id", n_groups=5, seed=3)
    np.testing.assert_allclose(again.lines[0].get_ydata(), ax.lines[0].get_ydata())


def test_trajectories_uses_given_ax_and_bad_input(virus):
    fig, ax = plt.subplots()
    assert plots.trajectories(virus, x="time", y="outcome", group="id", ax=ax) is ax
    with pytest.raises(KeyError, match="group='person'"):
        plots.trajectories(virus, x="time", y="outcome", group="person")
    with pytest.raises(ValueError, match="seed"):
        plots.trajectories(virus, x="time", y="outcome", group="id", n_groups=3)
    with pytest.raises(ValueError, match="only 24 groups"):
        plots.trajectories(virus, x="time", y="outcome", group="id", n_groups=30, seed=1)
    with pytest.raises(TypeError, match="pandas.DataFrame"):
        plots.trajectories(virus.to_numpy(), x="time", y="outcome", group="id")
    with pytest.raises(TypeError, match="Axes"):
        plots.trajectories(virus, x="time", y="outcome", group="id", ax=fig)


def test_group_intervals_sorted_with_reference(caterpillar_table):
    ax = plots.group_intervals(caterpillar_table, estimate="est", lower="lo", upper="hi",
                               reference=0.0, ylabel="deviation (points)")
    segments = [c for c in ax.collections if isinstance(c, LineCollection)][0].get_segments()
    assert len(segments) == 4
    tops = [seg[1][1] for seg in segments]
    assert tops == sorted(tops)  # sorted by estimate
    assert ax.lines[0].get_ydata()[0] == 0.0  # the reference line
    assert ax.get_ylabel() == "deviation (points)"


def test_group_intervals_explicit_order_and_errors(caterpillar_table):
    ax = plots.group_intervals(caterpillar_table, estimate="est", lower="lo", upper="hi",
                               group="id", order=["d", "c", "b", "a"])
    ys = _points(ax)[0].get_offsets()[:, 1]
    np.testing.assert_allclose(ys, [0.1, 0.9, -0.2, 0.3])
    with pytest.raises(KeyError, match="lacks"):
        plots.group_intervals(caterpillar_table, estimate="est", lower="lo", upper="hi",
                              group="id", order=["z"])
    with pytest.raises(ValueError, match="'hi' > 'lo'|'lo' > 'hi'"):
        plots.group_intervals(caterpillar_table, estimate="est", lower="hi", upper="lo")
    with pytest.raises(ValueError, match="order must be"):
        plots.group_intervals(caterpillar_table, estimate="est", lower="lo", upper="hi",
                              order="size")
    with pytest.raises(ValueError, match="empty"):
        plots.group_intervals(caterpillar_table.iloc[:0], estimate="est", lower="lo", upper="hi")


def test_shrinkage_arrows_and_sizes():
    data, truth = simulate_partial_pooling(seed=2, n_groups=6)
    table = data.groupby("group", observed=True)["y"].agg(raw="mean", n="size")
    table["pooled"] = 0.5 * table["raw"]
    ax = plots.shrinkage(table, raw="raw", pooled="pooled", size="n", reference=0.0)
    arrows = [t for t in ax.texts if t.arrow_patch is not None]
    assert len(arrows) == 6
    raw_points = _points(ax)[0]
    np.testing.assert_allclose(np.sort(raw_points.get_sizes()), np.sort(25 * table["n"]))
    by_size = plots.shrinkage(table, raw="raw", pooled="pooled", x="n")
    np.testing.assert_allclose(np.sort(_points(by_size)[0].get_offsets()[:, 0]),
                               np.sort(table["n"]))
    bad = table.assign(n=0)
    with pytest.raises(ValueError, match="positive"):
        plots.shrinkage(bad, raw="raw", pooled="pooled", size="n")


def test_bands_and_data():
    grid = pd.DataFrame({"t": np.linspace(0, 5, 11)})
    grid["m"] = grid["t"] * 0.1
    grid[["lo", "hi", "plo", "phi"]] = np.column_stack(
        [grid["m"] - 0.1, grid["m"] + 0.1, grid["m"] - 0.5, grid["m"] + 0.5])
    obs = pd.DataFrame({"t": [0, 1, 2], "y": [0.0, 0.2, 0.1]})
    ax = plots.bands(grid, x="t", estimate="m", lower="lo", upper="hi", outer=("plo", "phi"),
                     data=obs, data_y="y", ylabel="GPA (points)")
    assert len(ax.collections) == 3  # two bands and the data points
    assert len(ax.lines) == 1
    assert ax.get_ylabel() == "GPA (points)"
    with pytest.raises(TypeError, match="pair"):
        plots.bands(grid, x="t", estimate="m", lower="lo", upper="hi", outer="plo")
    with pytest.raises(KeyError, match="data_y='z'"):
        plots.bands(grid, x="t", estimate="m", lower="lo", upper="hi", data=obs, data_y="z")


def test_prior_predictive_draws_lines_and_checks_shapes():
    x = np.linspace(0, 1, 20)
    draws = np.random.default_rng(1).normal(size=(200, 20))
    ax = plots.prior_predictive(draws, x, n_lines=30)
    assert len(ax.lines) == 30
    obs = pd.DataFrame({"x": x, "y": x})
    ax = plots.prior_predictive(draws[:10], x, data=obs, data_x="x", data_y="y")
    assert len(ax.lines) == 10 and len(_points(ax)) == 1
    with pytest.raises(ValueError, match="shape"):
        plots.prior_predictive(draws[:, :5], x)
    with pytest.raises(ValueError, match="data_x"):
        plots.prior_predictive(draws, x, data=obs)


def test_prior_posterior_two_densities_and_reference():
    rng = np.random.default_rng(0)
    ax = plots.prior_posterior(rng.normal(0, 5, 2000), rng.normal(1, 0.3, 2000),
                               name="slope (points/semester)", reference=1.0, xlim=(-5, 5))
    assert len(ax.patches) == 2  # the two filled histograms
    # shared bins, normalised to densities over the axis
    edges = [p.get_xy()[:, 0] for p in ax.patches]
    for xs in edges:
        assert xs.min() == pytest.approx(-5) and xs.max() == pytest.approx(5)
    assert ax.get_xlabel() == "slope (points/semester)"
    assert ax.get_xlim() == (-5, 5)
    with pytest.raises(ValueError, match="posterior"):
        plots.prior_posterior([1.0, 2.0], [np.nan, 1.0], name="x")
    with pytest.raises(TypeError, match="name"):
        plots.prior_posterior([1.0, 2.0], [1.0, 2.0], name="")


@pytest.fixture
def spike_in_wide_prior():
    rng = np.random.default_rng(1)
    return rng.normal(0.3, 1.0, 4000), rng.normal(0.09, 0.01, 4000)


def test_prior_posterior_own_binning_keeps_a_narrow_posterior_peak(spike_in_wide_prior):
    prior, posterior = spike_in_wide_prior
    fig, ax = plt.subplots()
    plots.prior_posterior(prior, posterior, name="a1", reference=0.1, xlim=(-2.5, 3.0),
                          binning="own", ax=ax)
    prior_patch, post_patch = ax.patches[:2]
    # the normal density's peak is 1 / (0.01 sqrt(2 pi)) ~ 40; shared bins 0.09 wide give ~10
    assert post_patch.get_path().vertices[:, 1].max() > 30
    assert prior_patch.get_path().vertices[:, 1].max() < 1
    assert ax.get_xlim() == (-2.5, 3.0)
    assert ax.get_xlabel() == "a1"
    assert [line.get_xdata()[0] for line in ax.lines] == [0.1]
    # the outline: a line at full height, drawn above the reference line, so that a spike
    # narrower than a pixel stays visible
    outline = ax.patches[2]
    assert not outline.get_fill() and outline.get_linewidth() >= 1.5
    assert outline.get_path().vertices[:, 1].max() > 30
    assert outline.get_zorder() > ax.lines[0].get_zorder() > prior_patch.get_zorder()
    assert [t.get_text() for t in ax.get_legend().get_texts()].count("posterior") == 1
    plt.close(fig)
    # the same draws on shared bins: the spike's peak is averaged away
    ax = plots.prior_posterior(prior, posterior, name="a1", xlim=(-2.5, 3.0))
    assert ax.patches[1].get_path().vertices[:, 1].max() < 15
    plt.close(ax.figure)


@pytest.mark.parametrize("binning", ["shared", "own"])
def test_prior_posterior_default_axis_is_the_draws_range(spike_in_wide_prior, binning):
    prior, posterior = spike_in_wide_prior
    ax = plots.prior_posterior(prior, posterior, name="a1", binning=binning)
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
        ({"name": "a1", "xlim": (0.0, np.inf)}, ValueError, "xlim must be an increasing pair"),
        ({"name": "a1", "binning": "each"}, ValueError, "binning must be 'shared' or 'own'"),
    ],
)
def test_prior_posterior_bad_arguments(spike_in_wide_prior, kwargs, error, match):
    prior, posterior = spike_in_wide_prior
    with pytest.raises(error, match=match):
        plots.prior_posterior(prior, posterior, **kwargs)


@pytest.mark.parametrize("bad", [[1.0], [0.0, np.nan]])
@pytest.mark.parametrize("binning", ["shared", "own"])
def test_prior_posterior_too_few_or_non_finite_draws(spike_in_wide_prior, bad, binning):
    prior, _ = spike_in_wide_prior
    with pytest.raises(ValueError, match="posterior must hold at least two finite draws"):
        plots.prior_posterior(prior, bad, name="a1", binning=binning)
    with pytest.raises(ValueError, match="prior must hold at least two finite draws"):
        plots.prior_posterior(bad, prior, name="a1", binning=binning)


def test_correlation_matrix_text_frames_and_validation():
    mean = np.array([[1, 0.5, -0.1], [0.5, 1, 0.2], [-0.1, 0.2, 1]])
    lower, upper = mean - 0.3, mean + 0.3
    ax = plots.correlation_matrix(mean, lower, upper, labels=["a", "b", "c"])
    assert len(ax.texts) == 3  # the lower triangle
    assert len(ax.patches) == 1  # only 0.5's interval [0.2, 0.8] excludes zero
    with pytest.raises(ValueError, match="not a correlation matrix"):
        plots.correlation_matrix(mean * 2, lower, upper, labels=["a", "b", "c"])
    with pytest.raises(ValueError, match="labels"):
        plots.correlation_matrix(mean, lower, upper, labels=["a", "b"])
    with pytest.raises(ValueError, match="shape"):
        plots.correlation_matrix(mean, lower[:2], upper, labels=["a", "b", "c"])


def test_ellipse_points_on_the_contour():
    cov = np.array([[2.0, 0.6], [0.6, 1.0]])
    ring = plots.ellipse_points([1.0, -1.0], cov, level=0.9)
    d = ring - [1.0, -1.0]
    mahalanobis = np.einsum("ij,jk,ik->i", d, np.linalg.inv(cov), d)
    np.testing.assert_allclose(mahalanobis, -2 * np.log(0.1))
    with pytest.raises(ValueError, match="positive definite"):
        plots.ellipse_points([0, 0], [[1, 2], [2, 1]])
    with pytest.raises(ValueError, match="level"):
        plots.ellipse_points([0, 0], np.eye(2), level=1.5)
    with pytest.raises(ValueError, match="two entries"):
        plots.ellipse_points([0, 0, 0], np.eye(2))


def test_effect_ellipses_one_ring_per_level():
    pts = pd.DataFrame({"a": [0.0, 1.0, -1.0], "b": [0.1, 0.0, -0.2]})
    ax = plots.effect_ellipses(pts, x="a", y="b", mean=[0, 0], cov=np.eye(2),
                               levels=(0.5, 0.8, 0.95))
    assert len(ax.lines) == 3
    with pytest.raises(ValueError, match="levels"):
        plots.effect_ellipses(pts, x="a", y="b", mean=[0, 0], cov=np.eye(2), levels=())


def test_recovery_marks_misses_in_red():
    table = pd.DataFrame({"parameter": ["a", "b"], "truth": [0.0, 5.0], "mean": [0.1, 1.0],
                          "lower": [-1.0, 0.0], "upper": [1.0, 2.0], "covered": [True, False]})
    ax = plots.recovery(table)
    lines = [c for c in ax.collections if isinstance(c, LineCollection)][0]
    colours = lines.get_colors()
    assert not np.allclose(colours[0], colours[1])
    labels = {t.get_text(): y for t, y in zip(ax.get_yticklabels(), ax.get_yticks(), strict=True)}
    assert labels["a"] > labels["b"]  # the table's first row on top
    with pytest.raises(KeyError, match="covered"):
        plots.recovery(table.drop(columns="covered"))


def test_bands_small_multiple_without_legend_or_labels():
    grid = pd.DataFrame({"t": [0.0, 1.0, 2.0], "m": [0.0, 1.0, 2.0], "lo": [-1.0, 0.0, 1.0],
                         "hi": [1.0, 2.0, 3.0]})
    ax = plots.bands(grid, x="t", estimate="m", lower="lo", upper="hi", legend=False,
                     xlabel="", ylabel="")
    assert ax.get_legend() is None
    assert ax.get_xlabel() == "" and ax.get_ylabel() == ""
    ax = plots.bands(grid, x="t", estimate="m", lower="lo", upper="hi")
    assert ax.get_legend() is not None and ax.get_xlabel() == "t"


def test_recovery_centred_puts_truth_at_zero():
    table = pd.DataFrame({"parameter": ["a", "b"], "truth": [10.0, -2.0], "mean": [10.5, -2.0],
                          "lower": [9.0, -3.0], "upper": [12.0, -1.0], "covered": [True, True]})
    ax = plots.recovery(table, centre=True)
    means = _points(ax)[0].get_offsets()[:, 0]
    np.testing.assert_allclose(sorted(means), [0.0, 0.5])
    assert ax.get_xlabel() == "estimate minus truth"
    assert ax.lines[0].get_xdata()[0] == 0.0  # the truth line
