"""course_pkg: the helpers behind "Bayesian multilevel models in Python".

Modules
-------
data
    Dataset registry, hash-checked downloads and tidy loaders.
diagnostics
    The convergence gate, brms-style summaries and parity checks.
effects
    brms-style accessors for fitted models: prior table, fixef, ranef, VarCorr.
draws
    Long tables of posterior draws, expected values and predictions (tidybayes' role).
sampling
    Sampling with the course's defaults (nutpie, fixed seeds, progress bars for people only).
"""

from course_pkg import data, diagnostics, draws, effects, sampling
from course_pkg.data import list_datasets, load_dataset
from course_pkg.diagnostics import (
    ConvergenceError,
    ParityError,
    check_convergence,
    check_parity,
    summary_table,
)

__version__ = "0.1.0"

__all__ = [
    "ConvergenceError",
    "ParityError",
    "check_convergence",
    "check_parity",
    "data",
    "diagnostics",
    "draws",
    "effects",
    "list_datasets",
    "load_dataset",
    "sampling",
    "summary_table",
]
