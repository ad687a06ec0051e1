"""Simulators for every chapter: data with known values, to check that a model recovers them.

Each simulator takes keyword parameters and a seed, and returns ``(data, truth)``: a tidy table and
a dict of the values it used. The same seed gives the same data.

- :func:`simulate_virus_load`: chapter 1's nonlinear virus-load trajectories.
- :func:`simulate_partial_pooling`: unbalanced groups, one mean each (chapter 2).
- :func:`simulate_varying_slopes`: correlated varying intercepts and slopes, or any design's
  correlated effects (chapters 2, 3 and 4).
- :func:`simulate_panel`: a daily panel with a location-scale model, one or two outcomes with a
  residual correlation, optionally carrying over from the previous day through person-centred
  lags (chapter 5).
- :func:`simulate_on_rows`: outcomes of a linear multilevel model (one or two, correlated
  residuals) on the rows of an existing table, its predictors taken as known (chapter 5's m2 on
  the real data's design).
- :func:`simulate_family`: grouped data from Bambi's generalized families (the catalogue).
- The catalogue's other simulators live in modules imported as such:
  ``course_pkg.simulate.catalogue`` (group structures and families), ``observation``
  (censoring, truncation, measurement error, missing values) and ``structures`` (distributional
  parameters, multi-membership, smooths, stopping ratios, zero-inflated shared blocks,
  mixtures over time) and ``formulas`` (a non-linear ``nl = TRUE`` curve, nested groups).

:func:`course_pkg.diagnostics.check_recovery` compares a fit with ``truth``.
"""

from course_pkg.simulate.families import FAMILIES, simulate_family
from course_pkg.simulate.grouped import simulate_partial_pooling, simulate_varying_slopes
from course_pkg.simulate.panels import simulate_on_rows, simulate_panel
from course_pkg.simulate.virus import (
    DEFAULT_DOSES,
    DEFAULT_GROUP_SIZES,
    DEFAULT_TIMES,
    PRIOR_SETTINGS,
    mu_closed_form,
    simulate_virus_load,
)

__all__ = [
    "DEFAULT_DOSES",
    "DEFAULT_GROUP_SIZES",
    "DEFAULT_TIMES",
    "FAMILIES",
    "PRIOR_SETTINGS",
    "mu_closed_form",
    "simulate_family",
    "simulate_on_rows",
    "simulate_panel",
    "simulate_partial_pooling",
    "simulate_varying_slopes",
    "simulate_virus_load",
]
