"""Correlated varying effects from an lme4/brms-style formula, built in PyMC.

Bambi 0.17 gives every column of a group term ``(1 + x | g)`` its own independent normal prior:
there is no LKJ prior and no correlation parameter, no brms ``|ID|`` syntax to correlate effects
across formula parts, and no multivariate Gaussian with residual correlation. This module is
hand-written to fill that gap. Formula parsing and design matrices are formulae's (the library
Bambi uses); this module only

* finds the parenthesised group terms in the formula string, so that the columns of one
  ``( ... | g)`` stay together as one correlated block (formulae splits them into one term per
  column) and so that brms's ``||`` (uncorrelated) and ``|ID|`` (shared block) markers can be
  read and removed before formulae sees the formula;
* builds the PyMC model: each block's effects are drawn jointly, non-centred, with an
  LKJ-Cholesky prior on the correlation matrix
  (``z ~ N(0, 1)``, ``r = z @ (diag(sd) L)^T``, ``Sigma = diag(sd) Omega diag(sd)``);
* predicts expected values and new observations for the data, new data and new groups (whose
  effects are drawn from ``MvN(0, Sigma)``).

Supported: Gaussian outcomes; a location formula; an optional scale formula for ``sigma``
(log link); brms's ``(... || g)`` and ``(... |ID| g)``; two outcomes with residual correlation
(brms ``set_rescor(TRUE)``). Variable names follow brms: ``Intercept``, ``b``, ``sigma``,
``sd_<g>``, ``cor_<g>``, ``r_<g>``; scale-part names carry a ``sigma_`` prefix and, with two
outcomes, location names carry the outcome's name (``y1_Intercept``, ``y1_b``, ``sigma_y1``,
``rescor``).
The package is split by concern: ``_formula`` (the group segments and brms's markers),
``_priors`` (prior classes and their checks), ``_blocks`` (linear predictors and correlated
blocks), ``_lkj`` (the LKJ prior in Stan's coordinates) and ``model`` (``CorrelatedModel``: set-up,
the PyMC backend, the grouped and marginal likelihoods with their post-hoc draws, prediction).
"""

from course_pkg.correlated._formula import FormulaError, GroupSegment, split_group_terms
from course_pkg.correlated._lkj import lkj_cholesky_corr
from course_pkg.correlated._priors import Prior
from course_pkg.correlated.model import CorrelatedModel, correlated_model

__all__ = [
    "CorrelatedModel",
    "FormulaError",
    "GroupSegment",
    "Prior",
    "correlated_model",
    "lkj_cholesky_corr",
    "split_group_terms",
]
