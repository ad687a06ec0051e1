"""The course's figures: the plots the chapters draw more than once, as functions.

Conventions are ArviZ's and Bambi's: keyword arguments, ``ax=None`` (a new figure and Axes are
made when it is absent), the Axes is returned, nothing calls ``plt.show()``. Axis labels are
arguments with defaults; pass the units of your data. One function, :func:`set_style`, sets the
course's look once per notebook.

Figures ArviZ and Bambi already draw (forest, trace, rank, posterior predictive checks,
``bambi.interpret.plot_predictions`` / ``plot_comparisons``) are theirs and are not redrawn here.
What is here has no counterpart there (trajectories per group, caterpillars from a table, shrinkage
arrows, prior draws against data, a correlation matrix with intervals, effect ellipses, parameter
recovery), so it is written with matplotlib and seaborn.
"""

from course_pkg.plots._base import DATA_COLOUR, POPULATION_COLOUR, set_style
from course_pkg.plots.correlations import correlation_matrix, effect_ellipses, ellipse_points
from course_pkg.plots.curves import bands, prior_posterior, prior_predictive, recovery
from course_pkg.plots.groups import group_intervals, shrinkage, trajectories

__all__ = [
    "DATA_COLOUR",
    "POPULATION_COLOUR",
    "bands",
    "correlation_matrix",
    "effect_ellipses",
    "ellipse_points",
    "group_intervals",
    "prior_posterior",
    "prior_predictive",
    "recovery",
    "set_style",
    "shrinkage",
    "trajectories",
]
