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
fitlog
    A log of every fit (timings, ESS, R-hat) for the benchmark of the notebooks.
effects
    brms-style accessors for fitted models: prior table, fixef, ranef, VarCorr.
draws
    Long tables of posterior draws, expected values and predictions (tidybayes' role).
simulate
    The virus-load simulator of chapter 1.
virus
    PyMC builders for chapter 1's nonlinear virus-load models.
sampling
    Sampling with the course's defaults (nutpie, fixed seeds, progress bars for people only).
"""

from course_pkg import (
    _bambi_order,
    _numba_cache,
    _nutpie_wrapper,
    correlated,
    data,
    diagnostics,
    draws,
    effects,
    fitlog,
    linalg,
    sampling,
    simulate,
    virus,
)
from course_pkg.data import list_datasets, load_dataset
from course_pkg.diagnostics import (
    ConvergenceError,
    ParityError,
    check_convergence,
    check_parity,
    summary_table,
)

# Bambi iterates over a set to create a family's auxiliary parameters, so their order (and a seeded
# fit's draws) changed with Python's hash seed; fix the order (see course_pkg/_bambi_order.py).
_bambi_order.apply()
# Let numba cache log densities that call SciPy's special functions, such as the digamma function in
# a Student-t model's gradient (see course_pkg/_numba_cache.py).
_numba_cache.apply()
# Compile nutpie's wrapper around a cached log density without compiling the density again (see
# course_pkg/_nutpie_wrapper.py).
_nutpie_wrapper.apply()

__version__ = "0.1.0"

__all__ = [
    "ConvergenceError",
    "ParityError",
    "check_convergence",
    "check_parity",
    "correlated",
    "data",
    "diagnostics",
    "draws",
    "effects",
    "fitlog",
    "linalg",
    "list_datasets",
    "load_dataset",
    "sampling",
    "simulate",
    "summary_table",
    "virus",
]
