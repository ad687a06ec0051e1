"""Simulated log virus loads after a virus challenge at several doses (chapter 1).

The generative model is the one of A. Handel (2022), "Bayesian analysis of longitudinal multilevel
data using brms and rethinking - part 1". For individual ``i`` measured at day ``t``:

.. math::

    Y_{it} \\sim \\mathrm{Normal}(\\mu_{it}, \\sigma), \\quad
    \\mu_{it} = e^{\\alpha_i} \\log t - e^{\\beta_i} t,

    \\alpha_i = a_{0,i} + a_1 (\\log D_i - \\log D_m), \\quad
    \\beta_i = b_{0,i} + b_1 (\\log D_i - \\log D_m),

    a_{0,i} \\sim \\mathrm{Normal}(\\mu_a, \\sigma_a), \\quad
    b_{0,i} \\sim \\mathrm{Normal}(\\mu_b, \\sigma_b),

with ``D_m`` the middle dose. No library ships this simulator, so it is written here with NumPy.

The source's text and R code draw ``b_{0,i}`` with ``sigma_a`` where ``sigma_b`` belongs (harmless
there because its two values are always equal); this module uses ``sigma_b``.
"""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral

import numpy as np
import pandas as pd

from course_pkg.simulate import _checks as check

__all__ = [
    "DEFAULT_DOSES",
    "DEFAULT_GROUP_SIZES",
    "DEFAULT_TIMES",
    "PRIOR_SETTINGS",
    "mu_closed_form",
    "simulate_virus_load",
]

#: Measurement days of the source's design.
DEFAULT_TIMES = (0.1, 1.0, 3.0, 5.0, 7.0, 10.0, 14.0, 21.0, 28.0, 35.0, 42.0)
#: Challenge doses in virus units (not logged) of the source's design, low to high.
DEFAULT_DOSES = (10.0, 100.0, 1000.0)
#: Individuals per dose group in the source's design (its larger variant multiplies them by 10).
DEFAULT_GROUP_SIZES = (7, 8, 9)
#: The source's three simulation settings, each giving population means and spreads of ``a0_i``, ``b0_i``.
PRIOR_SETTINGS = {
    "m1": {"mu_a": 3.0, "mu_b": 1.0, "sigma_a": 1.0, "sigma_b": 1.0},
    "m2": {"mu_a": 3.0, "mu_b": 1.0, "sigma_a": 0.0001, "sigma_b": 0.0001},
    "m3": {"mu_a": 3.0, "mu_b": 1.0, "sigma_a": 0.1, "sigma_b": 0.1},
}
_THREE_LABELS = ("low", "medium", "high")


def mu_closed_form(alpha, beta, time):
    """Mean log virus load ``exp(alpha) * log(time) - exp(beta) * time``.

    This is the source's rewritten form of ``log(time**exp(alpha) * exp(-exp(beta) * time))``,
    which never builds the huge or tiny intermediate numbers of the original.

    Parameters
    ----------
    alpha, beta : array_like
        Growth and decline parameters (on the log scale); broadcast against ``time``.
    time : array_like
        Days since the challenge; must be positive.

    Returns
    -------
    numpy.ndarray
        The mean trajectory, broadcast shape of the inputs.

    Raises
    ------
    ValueError
        If any time is not positive (the log is undefined there).

    Examples
    --------
    >>> float(mu_closed_form(0.0, 0.0, 1.0))
    -1.0
    """
    time = np.asarray(time, dtype=float)
    if np.any(~np.isfinite(time)) or np.any(time <= 0):
        raise ValueError("time must be finite and > 0 (log(time) is undefined at 0 or below)")
    return np.exp(alpha) * np.log(time) - np.exp(beta) * time


def simulate_virus_load(
    setting: str = "m3",
    *,
    seed: int | np.random.Generator,
    times: Sequence[float] = DEFAULT_TIMES,
    doses: Sequence[float] = DEFAULT_DOSES,
    group_sizes: Sequence[int] = DEFAULT_GROUP_SIZES,
    scale: int = 1,
    dose_labels: Sequence[str] | None = None,
    middle_dose: float | None = None,
    mu_a: float | None = None,
    mu_b: float | None = None,
    sigma_a: float | None = None,
    sigma_b: float | None = None,
    a1: float = 0.1,
    b1: float = -0.1,
    sigma: float = 1.0,
) -> tuple[pd.DataFrame, dict]:
    """Simulate log virus loads for individuals challenged at several doses.

    Draws each individual's ``a0_i`` and ``b0_i``, computes the mean trajectory ``mu`` at every
    measurement time and adds Normal noise with standard deviation ``sigma``. Defaults reproduce
    the source's design: days 0.1 to 42, 7 / 8 / 9 individuals at doses 10 / 100 / 1000,
    ``sigma = 1``, ``a1 = 0.1``, ``b1 = -0.1``.

    Parameters
    ----------
    setting : {"m1", "m2", "m3"}
        The source's simulation setting, which fixes ``mu_a``, ``mu_b``, ``sigma_a``,
        ``sigma_b`` (see ``PRIOR_SETTINGS``): "m1" spreads 1 (too wide), "m2" spreads
        0.0001 (no individual variation), "m3" spreads 0.1 (plausible). Any of the four can be
        overridden by its own keyword.
    seed : int or numpy.random.Generator
        Source of randomness; the same int gives the same frame.
    times : sequence of float
        Measurement days, all > 0 (``log(time)`` enters the model).
    doses : sequence of float
        Doses in virus units (not logged), all > 0 and strictly increasing.
    group_sizes : sequence of int
        Individuals per dose, each >= 1; same length as ``doses``.
    scale : int
        Multiplies every group size; ``scale=10`` gives the source's larger 70 / 80 / 90 design.
    dose_labels : sequence of str, optional
        Category names for the doses, lowest first; "low", "medium", "high" for three doses,
        otherwise the doses written as text.
    middle_dose : float, optional
        The centring dose ``D_m`` (virus units); the middle of the sorted doses by default (the
        geometric mean of the two middle ones when their number is even).
    mu_a, mu_b, sigma_a, sigma_b : float, optional
        Override the setting's population means and spreads of ``a0_i`` and ``b0_i``.
    a1, b1 : float
        Dose effects on ``alpha`` and ``beta`` per unit of log dose.
    sigma : float
        Standard deviation of the measurement noise, >= 0.

    Returns
    -------
    data : pandas.DataFrame
        One row per individual and time, ordered by time then id like the source's file.
        Columns ``id`` (int, from 1), ``dose`` (log dose), ``dose_adj`` (log dose minus log
        middle dose), ``dose_cat`` (ordered categorical, lowest dose first), ``time``, ``mu``,
        ``outcome`` (all float) and ``model`` (the setting name) -- the conventions of the
        shared file ``handel_simdat.csv``.
    truth : dict
        ``sigma``, ``a1``, ``b1``, ``mu_a``, ``mu_b``, ``sigma_a``, ``sigma_b``,
        ``middle_dose`` (virus units) and ``a0``, ``b0`` (arrays, one value per id in order).

    Raises
    ------
    TypeError
        A seed that is neither an int nor a Generator; a non-numeric parameter; a non-integer
        group size or scale.
    ValueError
        An unknown setting; a time or dose <= 0; doses not strictly increasing; a group size or
        scale < 1; a negative standard deviation; ``doses``, ``group_sizes`` and ``dose_labels``
        of different lengths.

    Examples
    --------
    >>> from course_pkg.simulate import simulate_virus_load
    >>> data, truth = simulate_virus_load("m3", seed=1)
    >>> data.shape
    (264, 8)
    >>> truth["a0"].shape
    (24,)
    """
    if setting not in PRIOR_SETTINGS:
        raise ValueError(f"setting must be one of {sorted(PRIOR_SETTINGS)}, got {setting!r}")
    rng = check.rng_from(seed)

    times_arr = check.vector(times, "times")
    if np.any(times_arr <= 0):
        raise ValueError(f"times must all be > 0 because the model uses log(time); got {times!r}")
    doses_arr = check.vector(doses, "doses")
    if np.any(doses_arr <= 0):
        raise ValueError(f"doses must all be > 0 because the model uses log(dose); got {doses!r}")
    if np.any(np.diff(doses_arr) <= 0):
        raise ValueError(f"doses must be strictly increasing (lowest first), got {doses!r}")
    if isinstance(group_sizes, str | bytes) or not isinstance(group_sizes, Sequence | np.ndarray):
        raise TypeError(f"group_sizes must be a sequence of ints, got {group_sizes!r}")
    sizes = list(group_sizes)
    if len(sizes) != len(doses_arr):
        raise ValueError(f"doses and group_sizes must have the same length, got {len(doses_arr)} "
                         f"doses and {len(sizes)} group sizes")
    for n in sizes:
        if not isinstance(n, Integral) or isinstance(n, bool):
            raise TypeError(f"group_sizes must hold ints, got {n!r}")
        if n < 1:
            raise ValueError(f"every group size must be >= 1, got {group_sizes!r}")
    if not isinstance(scale, Integral) or isinstance(scale, bool):
        raise TypeError(f"scale must be an int, got {scale!r}")
    if scale < 1:
        raise ValueError(f"scale must be >= 1, got {scale}")
    sizes = [int(n) * int(scale) for n in sizes]

    if dose_labels is None:
        labels = list(_THREE_LABELS) if len(doses_arr) == 3 else [f"{d:g}" for d in doses_arr]
    else:
        labels = [str(lab) for lab in dose_labels]
        if len(labels) != len(doses_arr):
            raise ValueError(f"dose_labels must have one label per dose ({len(doses_arr)}), got "
                             f"{len(labels)}")
        if len(set(labels)) != len(labels):
            raise ValueError(f"dose_labels must be distinct, got {labels}")

    log_doses = np.log(doses_arr)
    if middle_dose is None:
        log_mid = float(np.median(log_doses))
    else:
        middle_dose = check.real(middle_dose, "middle_dose")
        if middle_dose <= 0:
            raise ValueError(f"middle_dose must be > 0, got {middle_dose}")
        log_mid = float(np.log(middle_dose))

    hyper = dict(PRIOR_SETTINGS[setting])
    for name, value in (("mu_a", mu_a), ("mu_b", mu_b)):
        if value is not None:
            hyper[name] = check.real(value, name)
    for name, value in (("sigma_a", sigma_a), ("sigma_b", sigma_b)):
        if value is not None:
            hyper[name] = check.sd(value, name)
    a1 = check.real(a1, "a1")
    b1 = check.real(b1, "b1")
    sigma = check.sd(sigma, "sigma")

    n_ind = sum(sizes)
    group = np.repeat(np.arange(len(sizes)), sizes)
    dose_ind = log_doses[group]
    dose_adj_ind = dose_ind - log_mid
    # Same order of draws as the source: all a0, then all b0, then the noise.
    a0 = rng.normal(hyper["mu_a"], hyper["sigma_a"], size=n_ind)
    b0 = rng.normal(hyper["mu_b"], hyper["sigma_b"], size=n_ind)
    alpha = a0 + a1 * dose_adj_ind
    beta = b0 + b1 * dose_adj_ind
    # Rows: time-major (every individual at the first time, then the next time, ...).
    mu = mu_closed_form(alpha[None, :], beta[None, :], times_arr[:, None])
    outcome = rng.normal(mu, sigma)

    n_t = len(times_arr)
    data = pd.DataFrame(
        {
            "id": np.tile(np.arange(1, n_ind + 1), n_t).astype(np.int64),
            "dose": np.tile(dose_ind, n_t),
            "dose_adj": np.tile(dose_adj_ind, n_t),
            "dose_cat": pd.Categorical.from_codes(np.tile(group, n_t), categories=labels,
                                                  ordered=True),
            "time": np.repeat(times_arr, n_ind),
            "mu": mu.ravel(),
            "outcome": outcome.ravel(),
            "model": setting,
        }
    )
    truth = {
        "sigma": sigma, "a1": a1, "b1": b1,
        "mu_a": hyper["mu_a"], "mu_b": hyper["mu_b"],
        "sigma_a": hyper["sigma_a"], "sigma_b": hyper["sigma_b"],
        "middle_dose": float(np.exp(log_mid)),
        "a0": a0, "b0": b0,
    }
    return data, truth
