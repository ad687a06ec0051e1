"""Sampling with the course's defaults: fast NUTS, fixed seeds, progress bars only for people.

Sampling itself is PyMC's and nutpie's; this module fixes the settings every chapter shares and
adds the log-likelihood that LOO needs (nutpie ignores ``idata_kwargs``).

Progress bars: shown when a person runs a notebook, hidden under CI and nbval. The switch is the
environment variable ``COURSE_PROGRESS`` (``1``/``0``); when it is unset, bars are hidden if
``CI`` is set to a true value and shown otherwise.

Reproducibility across machines: PyTensor compiles nutpie's log-density with numba, and by default
with ``fastmath``, which lets LLVM reorder floating-point sums and use approximate instructions
that depend on the CPU (AVX-512 or AVX2). The same seed then gives different draws on two machines
(seen for Student-t, hurdle and skew-normal models). Both samplers here compile with
``fastmath`` off, which removes that source; the cost in speed is small. It is not the only one:
libraries below the course choose their vector code when they load (OpenBLAS's kernels, nutpie's
Rust linear algebra), and on 2026-12-02 the same seeds gave draws on an AMD EPYC without AVX-512
that differ in the last printed digits from those of the Intel Xeon with AVX-512 on which the book
was executed. A seed reproduces its draws exactly on the same kind of CPU; across CPUs, results
agree within Monte Carlo error, which is what the chapters' parity checks test.

BLAS threads: nutpie runs one thread per chain, and each log-density evaluation calls BLAS and
LAPACK (OpenBLAS, through SciPy) for small products and triangular solves. OpenBLAS's own thread
pool then competes with the chains for the cores; on the 2-core course machine a 2 x 2 solve took
milliseconds instead of microseconds and a 13,000-row model's gradient 327 ms instead of under 1 ms.
Sampling therefore runs with BLAS limited to one thread (``threadpoolctl``). A fixed thread count
also keeps floating-point sums, and so the draws, the same on machines with more cores.

Chains in parallel: PyMC's default number of cores assumes that half the logical CPUs are
hyperthreads (``pymc.sampling.parallel._cpu_count``), so on the 2-vCPU course machine it ran
nutpie's four chains on one thread. With nutpie the course passes ``cores`` = the CPUs this
process may use, at most one per chain (:func:`parallel_cores`), unless the caller sets it.
Each chain has its own seed, so the draws are identical (checked for chapter 5's m2: every
posterior array equal); m2's sampling took 17 s instead of 24 s.

Other chains on purpose: ``COURSE_SEED_SHIFT=k`` (an integer, default 0) adds ``k`` to the seed
of every sampler call, so a notebook runs on chains as different as another CPU would give it,
while simulated data (their own seeds) stay the same. ``scripts/draw_dependent_cells.py`` runs
the notebooks so: every convergence gate and check must still pass, and the cells whose printed
output changes are the ones whose output nbval may not compare (tag ``nbval-ignore-output``).
"""

from __future__ import annotations

import contextlib
import os
import time

import pymc as pm
import pytensor
import xarray as xr
from threadpoolctl import threadpool_limits

from course_pkg import _datatree, _patches, fitlog

__all__ = [
    "DEFAULTS",
    "PROGRESS_ENV",
    "SAMPLERS",
    "SEED_SHIFT_ENV",
    "fit_bambi",
    "parallel_cores",
    "portable_numerics",
    "progressbar_enabled",
    "sample_pymc",
    "sampler_seed",
]

PROGRESS_ENV = "COURSE_PROGRESS"
#: Environment variable whose integer value is added to every sampler seed (default 0).
SEED_SHIFT_ENV = "COURSE_SEED_SHIFT"
#: NUTS implementations the course can use, by PyMC's ``nuts_sampler`` name.
SAMPLERS = ("nutpie", "pymc", "numpyro")
#: The course's sampling defaults in one place; sample_pymc, fit_bambi, CorrelatedModel.fit
#: and course_pkg.fitting.fit all take theirs from here.
DEFAULTS = {"draws": 1000, "tune": 1000, "chains": 4, "sampler": "nutpie"}

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@contextlib.contextmanager
def portable_numerics():
    """Compile with numba's ``fastmath`` off and run BLAS on one thread, inside a ``with`` block.

    :func:`sample_pymc` and :func:`fit_bambi` sample inside it; code that calls nutpie or
    :func:`pymc.sample` directly (the benchmark, say) should too, so that the same seed gives the
    same draws on any CPU and OpenBLAS does not compete with the chains (see the module
    docstring for the measurements).

    Examples
    --------
    >>> from course_pkg.sampling import portable_numerics
    >>> with portable_numerics():  # doctest: +SKIP
    ...     idata = pm.sample(random_seed=1, nuts_sampler="nutpie")
    """
    with pytensor.config.change_flags(numba__fastmath=False), threadpool_limits(1, "blas"):
        yield


def progressbar_enabled() -> bool:
    """Whether sampling should draw a progress bar.

    ``COURSE_PROGRESS=1`` or ``0`` decides; otherwise bars are off when ``CI`` is true and on
    elsewhere.

    Examples
    --------
    >>> import os
    >>> os.environ["COURSE_PROGRESS"] = "0"
    >>> progressbar_enabled()
    False
    >>> del os.environ["COURSE_PROGRESS"]
    """
    value = os.environ.get(PROGRESS_ENV, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    if value:
        raise ValueError(f"{PROGRESS_ENV} must be one of 1/0/true/false, got {value!r}")
    return os.environ.get("CI", "").strip().lower() not in _TRUE


def sampler_seed(random_seed: int) -> int:
    """The seed a sampler gets: ``random_seed`` plus the integer in ``COURSE_SEED_SHIFT`` (0 if
    unset), so that a whole notebook can be run on other chains (see the module docstring).

    Examples
    --------
    >>> import os
    >>> os.environ.pop("COURSE_SEED_SHIFT", None) and None
    >>> sampler_seed(7)
    7
    >>> os.environ["COURSE_SEED_SHIFT"] = "1000"
    >>> sampler_seed(7)
    1007
    >>> del os.environ["COURSE_SEED_SHIFT"]
    """
    raw = os.environ.get(SEED_SHIFT_ENV, "").strip()
    if not raw:
        return random_seed
    try:
        shift = int(raw)
    except ValueError:
        raise ValueError(f"{SEED_SHIFT_ENV} must be an integer, got {raw!r}") from None
    if random_seed + shift < 0:
        raise ValueError(f"{SEED_SHIFT_ENV}={shift} makes the seed {random_seed} negative")
    return random_seed + shift


def parallel_cores(chains: int) -> int:
    """How many chains to run at once: the CPUs this process may use, at most ``chains``.

    Examples
    --------
    >>> 1 <= parallel_cores(4) <= 4
    True
    """
    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no affinity call
        available = os.cpu_count() or 1
    return max(1, min(int(chains), available))


def _sampler_kwargs(kwargs, sampler, chains, target_accept) -> dict:
    """The keyword arguments both sampling paths pass on: the caller's, the target acceptance
    when set, and with nutpie one core per chain (:func:`parallel_cores`) unless given."""
    extra = dict(kwargs)
    if target_accept is not None:
        extra["target_accept"] = target_accept
    if sampler == "nutpie":
        extra.setdefault("cores", parallel_cores(chains))
    return extra


def _check_settings(draws, tune, chains, random_seed, sampler, target_accept) -> None:
    for name, value, low in (("draws", draws, 1), ("tune", tune, 0), ("chains", chains, 1)):
        if not isinstance(value, int) or isinstance(value, bool) or value < low:
            raise ValueError(f"{name} must be an int >= {low}, got {value!r}")
    if not isinstance(random_seed, int) or isinstance(random_seed, bool):
        raise TypeError(
            f"random_seed must be an int (the course fixes every seed), got {random_seed!r}"
        )
    if sampler not in SAMPLERS:
        raise ValueError(f"sampler must be one of {SAMPLERS}, got {sampler!r}")
    if target_accept is not None and not 0 < target_accept < 1:
        raise ValueError(f"target_accept must be strictly between 0 and 1, got {target_accept!r}")


@contextlib.contextmanager
def _comma_free_dims(model: pm.Model):
    """Rename, for the duration of the block, every dimension of ``model`` whose name has a comma.

    nutpie passes each variable's dimension names to Python joined by commas and splits them
    there (``nutpie.sample._add_arrow_data``), so a dimension such as Bambi's
    ``"bs(x, df=8)_dim"`` comes back as two names and the conversion of the draws fails.
    Inside the block such a dimension is called ``"bs(x;df=8)_dim"``; the block yields a dict of
    the renames so that the caller can give the draws their original names back, and the model is
    restored on exit. Written here because neither nutpie nor PyMC offers an escape; applied only
    for the nutpie versions in :data:`course_pkg._patches.PATCHES` (``comma_free_dims``).
    """
    renames = {dim: dim.replace(", ", ";").replace(",", ";") for dim in model.coords if "," in dim}
    if not renames or not _patches.enabled("comma_free_dims"):
        yield {}
        return
    clashes = set(renames.values()) & set(model.coords)
    if clashes:
        raise ValueError(f"cannot rename dimensions {sorted(renames)}: {sorted(clashes)} exist")
    saved_dims = dict(model.named_vars_to_dims)

    def move(mapping):  # rename keys in place, keeping their order (Bambi orders dims by it)
        for table in (model._coords, model._dim_lengths):
            items = [(mapping.get(key, key), value) for key, value in table.items()]
            table.clear()
            table.update(items)

    for var, dims in saved_dims.items():
        if any(dim in renames for dim in dims):
            model.named_vars_to_dims[var] = type(dims)(renames.get(dim, dim) for dim in dims)
    move(renames)
    try:
        yield renames
    finally:
        move({new: old for old, new in renames.items()})
        model.named_vars_to_dims.clear()
        model.named_vars_to_dims.update(saved_dims)


def _restore_dim_names(idata: xr.DataTree, renames: dict[str, str]) -> None:
    """Give the groups of ``idata`` the dimension names that :func:`_comma_free_dims` changed."""
    back = {new: old for old, new in renames.items()}
    for name in list(idata.children):
        dataset = _datatree.group(idata, name)
        present = {new: old for new, old in back.items() if new in dataset.dims}
        if present:
            _datatree.set_group(idata, name, dataset.rename(present))


def _tidy(idata: xr.DataTree, wall: float, sampler: str) -> None:
    """Keep the model's own variable names and record timings in ``idata.attrs``.

    nutpie also returns the unconstrained values (``sigma_log__``); they are dropped. Timings:
    ``sampling_wall_s`` is compile plus sampling; ``sampling_s`` is the sampler's own clock for
    warm-up and draws where the sampler reports it (nutpie), so compile time is the difference.
    """
    internal = [name for name in idata.posterior.data_vars if name.endswith("__")]
    if internal:
        _datatree.set_group(idata, "posterior",
                            _datatree.group(idata, "posterior").drop_vars(internal))
    idata.attrs["sampling_wall_s"] = round(wall, 2)
    idata.attrs["sampler"] = sampler
    own_clock = idata.posterior.attrs.get("sampling_time")
    if own_clock is not None:
        idata.attrs["sampling_s"] = round(float(own_clock), 2)


def sample_pymc(
    model: pm.Model,
    *,
    random_seed: int,
    draws: int = DEFAULTS["draws"],
    tune: int = DEFAULTS["tune"],
    chains: int = DEFAULTS["chains"],
    target_accept: float | None = None,
    sampler: str = DEFAULTS["sampler"],
    log_likelihood: bool = True,
    progressbar: bool | None = None,
    label: str | None = None,
    **kwargs,
) -> xr.DataTree:
    """Sample a PyMC model with the course's defaults.

    Parameters
    ----------
    model : pymc.Model
        The model to sample.
    random_seed : int
        Seed; required so that every fit in the course is reproducible.
    draws, tune, chains : int
        Posterior draws and warm-up steps per chain, and the number of chains.
    target_accept : float, optional
        NUTS step-size adaptation target; the sampler's default when ``None``.
    sampler : {"nutpie", "pymc", "numpyro"}
        NUTS implementation.
    log_likelihood : bool
        Add the pointwise log-likelihood group (needed for LOO).
    progressbar : bool, optional
        Overrides :func:`progressbar_enabled`.
    label : str, optional
        What the model is, for the fit log of the benchmark (:mod:`course_pkg.fitlog`); by
        default the model's name or its free variables.
    **kwargs
        Passed on to :func:`pymc.sample`.

    Returns
    -------
    xarray.DataTree
        With ``attrs["sampling_wall_s"]`` (wall seconds of compile plus sampling) and, for nutpie,
        ``attrs["sampling_s"]`` (warm-up and draws only).
    """
    if not isinstance(model, pm.Model):
        raise TypeError(f"model must be a pymc.Model, got {type(model).__name__}")
    _check_settings(draws, tune, chains, random_seed, sampler, target_accept)
    if progressbar is None:
        progressbar = progressbar_enabled()
    extra = _sampler_kwargs(kwargs, sampler, chains, target_accept)
    if sampler == "numpyro":  # course_pkg's own operations need their JAX versions
        from course_pkg.linalg import register_jax

        register_jax()
    start = time.perf_counter()
    with model, portable_numerics(), _comma_free_dims(model) as renames:
        idata = pm.sample(
            draws=draws, tune=tune, chains=chains, random_seed=sampler_seed(random_seed),
            nuts_sampler=sampler, progressbar=progressbar, **extra,
        )
        wall = time.perf_counter() - start
        _tidy(idata, wall, sampler)
        if log_likelihood and not _datatree.has_group(idata, "log_likelihood") and model.observed_RVs:
            pm.compute_log_likelihood(idata, model=model, progressbar=False)
    _restore_dim_names(idata, renames)
    fitlog.record_fit(idata, model, label=label or fitlog.describe(model),
                      settings=_settings(sampler, draws, tune, chains, target_accept))
    return idata


def fit_bambi(
    model,
    *,
    random_seed: int,
    draws: int = DEFAULTS["draws"],
    tune: int = DEFAULTS["tune"],
    chains: int = DEFAULTS["chains"],
    target_accept: float | None = None,
    sampler: str = DEFAULTS["sampler"],
    log_likelihood: bool = True,
    progressbar: bool | None = None,
    **kwargs,
) -> xr.DataTree:
    """Fit a :class:`bambi.Model` with the course's defaults.

    Parameters are those of :func:`sample_pymc`; ``model`` is a Bambi model. With nutpie, Bambi
    ignores ``idata_kwargs``, so the log-likelihood is computed afterwards with
    :meth:`bambi.Model.compute_log_likelihood`.

    Returns
    -------
    xarray.DataTree
        With ``attrs["sampling_wall_s"]`` and, for nutpie, ``attrs["sampling_s"]``; nutpie's
        unconstrained copies (``*_log__``) are dropped from the posterior.
    """
    import bambi as bmb

    if not isinstance(model, bmb.Model):
        raise TypeError(f"model must be a bambi.Model, got {type(model).__name__}")
    _check_settings(draws, tune, chains, random_seed, sampler, target_accept)
    if progressbar is None:
        progressbar = progressbar_enabled()
    extra = _sampler_kwargs(kwargs, sampler, chains, target_accept)
    start = time.perf_counter()
    if not model.built:
        model.build()
    with portable_numerics(), _comma_free_dims(model.backend.model) as renames:
        idata = model.fit(
            draws=draws, tune=tune, chains=chains, random_seed=sampler_seed(random_seed),
            inference_method=sampler, progressbar=progressbar, **extra,
        )
    _restore_dim_names(idata, renames)
    wall = time.perf_counter() - start
    _tidy(idata, wall, sampler)
    if log_likelihood and not _datatree.has_group(idata, "log_likelihood"):
        model.compute_log_likelihood(idata)
    formulas = " | ".join((model.formula.main, *model.formula.additionals))
    fitlog.record_fit(idata, model.backend.model, label=f"{formulas} (Bambi, {model.family.name})",
                      settings=_settings(sampler, draws, tune, chains, target_accept))
    return idata


def _settings(sampler, draws, tune, chains, target_accept) -> dict:
    """The sampler settings a fit log records."""
    return {"sampler": sampler, "draws": draws, "tune": tune, "chains": chains,
            "target_accept": target_accept}
