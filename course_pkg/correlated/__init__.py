"""Correlated varying effects from an lme4/brms-style formula, built in PyMC.

Bambi gives every column of a group term ``(1 + x | g)`` its own independent normal prior:
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
The package is split by concern, as Bambi separates formula parsing, priors, backend and
prediction: ``_formula`` (the group segments and brms's markers), ``_design`` (parts and blocks read
from the formulas, new data), ``_priors`` (prior classes, defaults and checks), ``_options`` (the
two sampling choices, ``likelihood`` and ``group_effects``), ``_lkj`` (the LKJ prior in Stan's
coordinates), ``_effects`` (a block's covariance and group-effect parameterisations), ``_scales``
(residual SDs and precision), ``_backend`` (builds the PyMC model and returns it), ``_grouped``
(the grouped and marginal likelihoods and the post-hoc draws of integrated-out effects, one
algebra for both), ``_predict`` (prediction and the pointwise log-likelihood) and ``model`` (the
``CorrelatedModel`` front).
"""

from course_pkg.correlated._formula import FormulaError, GroupSegment, split_group_terms
from course_pkg.correlated._lkj import lkj_cholesky_corr
from course_pkg.correlated._options import LIKELIHOODS, Parameterization
from course_pkg.correlated._priors import Prior
from course_pkg.correlated.model import CorrelatedModel, correlated_model

__all__ = [
    "CorrelatedModel",
    "FormulaError",
    "GroupSegment",
    "LIKELIHOODS",
    "Parameterization",
    "Prior",
    "correlated_model",
    "lkj_cholesky_corr",
    "split_group_terms",
]
