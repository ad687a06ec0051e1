"""course_pkg: the helpers behind "Bayesian multilevel models in Python".

Modules
-------
correlated
    Correlated varying effects (LKJ) from a formula, scale formulas and two-outcome models.
data
    Dataset registry, hash-checked downloads and tidy loaders.
diagnostics
    The convergence gate, brms-style summaries and parity checks.
linalg
    One compiled operation for log-determinants and quadratic forms of many small SPD matrices.
fitting
    One way to fit: build, sample, gate and time any model in one call; timing tables.
fitlog
    A log of every fit (timings, ESS, R-hat) for the benchmark of the notebooks.
lags
    Within-person lagged predictors (gaps in time left missing) and within-person cross-correlations.
loo
    Exact leave-one-out refits of Bambi models for ArviZ's ``reloo``.
effects
    brms-style accessors for fitted models: prior table, fixef, ranef, VarCorr.
draws
    Long tables of posterior draws, expected values and predictions (tidybayes' role).
simulate
    Simulators for every chapter, each returning the data and the values it used.
plots
    The course's figures (trajectories, caterpillars, shrinkage, bands, correlations, recovery).
ledger
    Reproduction ledgers: every number a source prints, and how the chapter checks it.
parity
    Estimates against a source's printed numbers (``check_parity``) and two fits of one model
    against each other (``compare_fits``).
recovery
    Does a fit to simulated data recover the simulation's values (``check_recovery``)?
virus
    PyMC builders for chapter 1's nonlinear virus-load models.
virus_identify
    What chapter 1's data can and cannot identify: closed-form posteriors and curves per person.
sampling
    Sampling with the course's defaults (nutpie, fixed seeds, progress bars for people only).
"""

from course_pkg import (
    _patches,
    correlated,
    data,
    diagnostics,
    draws,
    effects,
    fitlog,
    fitting,
    lags,
    ledger,
    linalg,
    loo,
    parity,
    plots,
    recovery,
    sampling,
    simulate,
    virus,
    virus_identify,
)
from course_pkg.data import list_datasets, load_dataset
from course_pkg.diagnostics import (
    ConvergenceError,
    ParityError,
    check_convergence,
    check_parity,
    check_recovery,
    summary_table,
)

# Patches of library internals, each applied only inside its tested version range
# (course_pkg/_patches.py); outside it the library's own behaviour is kept, with one warning.
# Bambi iterates over a set to create a family's auxiliary parameters, so their order (and a seeded
# fit's draws) changed with Python's hash seed; fix the order (see course_pkg/_bambi_order.py).
if _patches.enabled("bambi_order"):
    from course_pkg import _bambi_order

    _bambi_order.apply()
# Compile nutpie's wrapper around a cached log density without compiling the density again (see
# course_pkg/_nutpie_wrapper.py).
if _patches.enabled("nutpie_wrapper"):
    from course_pkg import _nutpie_wrapper

    _nutpie_wrapper.apply()

__version__ = "0.1.0"

__all__ = [
    "ConvergenceError",
    "ParityError",
    "check_convergence",
    "check_parity",
    "check_recovery",
    "correlated",
    "data",
    "diagnostics",
    "draws",
    "effects",
    "fitlog",
    "fitting",
    "lags",
    "ledger",
    "linalg",
    "list_datasets",
    "load_dataset",
    "loo",
    "parity",
    "plots",
    "recovery",
    "sampling",
    "simulate",
    "summary_table",
    "virus",
    "virus_identify",
]
