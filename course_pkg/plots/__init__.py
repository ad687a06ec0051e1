"""The course's figures: the plots the chapters draw more than once, as functions.

Conventions are ArviZ's and Bambi's: keyword arguments, ``ax=None`` (a new figure and Axes are
made when it is absent), the Axes is returned, nothing calls ``plt.show()``. Axis labels are
arguments with defaults; pass the units of your data. One function, :func:`set_style`, sets the
course's look once per notebook.

Figures ArviZ and Bambi already draw (forest, trace, rank, posterior predictive checks,
``bambi.interpret.plot_predictions`` / ``plot_comparisons``) are theirs and are not redrawn here.
What is here has no counterpart there (trajectories per group, caterpillars from a table, shrinkage
arrows and shrinkage against group size, no / partial / complete pooling overlaid, half-eye
intervals, prior draws against data, a correlation matrix with intervals, correlations' posterior
against their LKJ prior, effect ellipses, parameter recovery, a between-group SD against the number
of groups, elpd differences by group, intercept-slope pairs and curves per person), so it is
written with matplotlib and seaborn.
"""

from course_pkg.plots._base import DATA_COLOUR, POPULATION_COLOUR, set_style
from course_pkg.plots.correlations import (
    correlation_matrix,
    correlation_prior_posterior,
    effect_ellipses,
    ellipse_points,
    lkj_marginal_density,
)
from course_pkg.plots.curves import bands, prior_posterior, prior_predictive, recovery
from course_pkg.plots.elpd import elpd_by_group
from course_pkg.plots.group_count import sd_by_group_count
from course_pkg.plots.groups import group_intervals, shrinkage, trajectories
from course_pkg.plots.identifiability import curves_by_person, intercept_slope_pairs
from course_pkg.plots.pooling import halfeye, pooling_overlay, shrinkage_by_size

__all__ = [
    "DATA_COLOUR",
    "POPULATION_COLOUR",
    "bands",
    "correlation_matrix",
    "correlation_prior_posterior",
    "curves_by_person",
    "effect_ellipses",
    "ellipse_points",
    "elpd_by_group",
    "group_intervals",
    "halfeye",
    "intercept_slope_pairs",
    "lkj_marginal_density",
    "pooling_overlay",
    "prior_posterior",
    "prior_predictive",
    "recovery",
    "sd_by_group_count",
    "set_style",
    "shrinkage",
    "shrinkage_by_size",
    "trajectories",
]
