"""course_pkg._nutpie_wrapper: nutpie's wrapper calls the cached log density without linking it."""

from __future__ import annotations

import ctypes

import numba
import numpy as np
import nutpie
import pymc as pm
import pytest

import course_pkg  # noqa: F401  (applies the patch)
from course_pkg._nutpie_wrapper import call_without_linking


@numba.njit
def _callee(x, *arrays):
    if x[0] < 0:
        raise ValueError("negative")
    total = x.sum()
    for a in arrays:
        total += a.sum()
    return total, x * 2.0


_call = call_without_linking(_callee, 2)


@numba.njit
def _caller(x, y):
    try:
        total, doubled = _call(x, y)
    except Exception:  # noqa: BLE001 - the error status must reach the caller's handler
        return -1.0
    return total + doubled.sum()


@numba.njit
def _direct(x, y):
    total, doubled = _callee(x, y)
    return total + doubled.sum()


def _linked(dispatcher):
    (cres,) = dispatcher.overloads.values()
    return [lib.name for lib in cres.library._linking_libraries]


def test_call_gives_the_callee_results_and_errors_without_linking_it():
    x, y = np.array([1.0, 2.0]), np.array([10.0])
    assert _caller(x, y) == 13.0 + 6.0
    assert _caller(np.array([-1.0, 2.0]), y) == -1.0
    linked = _linked(_caller)
    assert linked, "the caller should still link numba's helpers"
    assert not any("_callee" in name for name in linked)


def test_the_name_check_sees_a_callee_that_is_linked():
    # The control for the test above: a direct call links the callee's library, and the check by
    # name finds it (were numba to rename its libraries, this fails instead of the other passing).
    assert _direct(np.array([1.0, 2.0]), np.array([10.0])) == 13.0 + 6.0
    assert any("_callee" in name for name in _linked(_direct))


@pytest.mark.parametrize(
    "args, match",
    [((np.sum, 1), "numba-compiled"), ((_callee, 0), "n_args"), ((_callee, True), "n_args")],
)
def test_bad_input(args, match):
    with pytest.raises(TypeError, match=match):
        call_without_linking(*args)


def test_nutpie_log_density_is_unchanged_and_not_linked():
    with pm.Model() as model:
        shift = pm.Data("shift", np.arange(5.0))
        mu = pm.Normal("mu", 0, 1)
        sigma = pm.HalfNormal("sigma", 1)
        pm.Normal("y", mu + shift, sigma, observed=np.arange(5.0) * 1.1)
    compiled = nutpie.compile_pymc_model(model)
    linked = [lib.name for lib in compiled.compiled_logp_func._library._linking_libraries]
    assert not any("fgraph" in name for name in linked)

    point = np.array([0.3, -0.2])  # mu, log(sigma): nutpie's order is the model's value variables
    grad, logp = np.zeros(2), np.zeros(())
    func = compiled.compiled_logp_func.ctypes
    status = func(
        2,
        point.ctypes.data_as(ctypes.POINTER(ctypes.c_double)),
        grad.ctypes.data_as(ctypes.POINTER(ctypes.c_double)),
        logp.ctypes.data_as(ctypes.POINTER(ctypes.c_double)),
        compiled.user_data.ctypes.data_as(ctypes.c_void_p),
    )
    assert status == 0
    ip = {"mu": 0.3, "sigma_log__": -0.2}
    assert float(logp) == pytest.approx(float(model.compile_logp()(ip)), rel=1e-12)
    np.testing.assert_allclose(grad, model.compile_dlogp()(ip), rtol=1e-12)


def _status(func, *args):
    return func.ctypes(*args)


def test_nutpie_wrappers_copy_by_loops_with_nutpie_status_codes():
    with pm.Model() as model:
        mu = pm.Normal("mu", 0, 1)
        sigma = pm.HalfNormal("sigma", 1)
        pm.Deterministic("twice_mu", 2 * mu)
        pm.Normal("y", mu, sigma, observed=np.array([0.5, 1.5]))
    # cache=False: numba compiles the wrappers here, so their LLVM code can be inspected (code
    # loaded from the cache cannot be).
    compiled = nutpie.compile_pymc_model(model, cache=False)
    # No slice assignment is left in either wrapper: numba's shape-mismatch message
    # (compiled for every process when nutpie's own wrapper is used) is absent.
    for func in (compiled.compiled_logp_func, compiled.compiled_expand_func):
        assert "raise_with_shape_context" not in func.inspect_llvm()

    dbl = ctypes.POINTER(ctypes.c_double)
    point = np.array([0.3, -0.2])
    user = compiled.user_data.ctypes.data_as(ctypes.c_void_p)
    n_exp = compiled.n_expanded
    values = np.full(n_exp, np.nan)
    expand = compiled.compiled_expand_func
    assert _status(expand, 2, n_exp, point.ctypes.data_as(dbl), values.ctypes.data_as(dbl),
                   user) == 0
    # stored draws: mu, log(sigma), sigma, twice_mu in some order nutpie chooses
    np.testing.assert_allclose(np.sort(values), np.sort([0.3, -0.2, np.exp(-0.2), 0.6]))
    assert _status(expand, 3, n_exp, point.ctypes.data_as(dbl), values.ctypes.data_as(dbl),
                   user) == -1
    grad, logp = np.zeros(2), np.zeros(())
    logp_func = compiled.compiled_logp_func
    assert _status(logp_func, 3, point.ctypes.data_as(dbl), grad.ctypes.data_as(dbl),
                   logp.ctypes.data_as(dbl), user) == -1
    bad = np.array([np.inf, -0.2])
    assert _status(logp_func, 2, bad.ctypes.data_as(dbl), grad.ctypes.data_as(dbl),
                   logp.ctypes.data_as(dbl), user) in (3, 4)


_WRAPPER_PROBE = """
import ctypes, json
import numpy as np, nutpie, pymc as pm
import course_pkg
from course_pkg import _nutpie_wrapper

with pm.Model() as model:
    shift = pm.Data("shift", np.arange(5.0))
    scale = pm.Data("scale", np.array(2.0))  # a 0-d data array
    groups = pm.Data("groups", np.arange(6.0).reshape(3, 2))
    mu = pm.Normal("mu", 0, 1)
    sigma = pm.HalfNormal("sigma", 1)
    pm.Deterministic("total", mu + groups.sum())
    pm.Normal("y", mu + shift, sigma * scale, observed=np.arange(5.0) * 1.1)
compiled = nutpie.compile_pymc_model(model)
dbl = ctypes.POINTER(ctypes.c_double)
point = np.array([0.3, -0.2])
grad, logp = np.zeros(2), np.zeros(())
status = compiled.compiled_logp_func.ctypes(
    2, point.ctypes.data_as(dbl), grad.ctypes.data_as(dbl), logp.ctypes.data_as(dbl),
    compiled.user_data.ctypes.data_as(ctypes.c_void_p))
values = np.zeros(compiled.n_expanded)
status_expand = compiled.compiled_expand_func.ctypes(
    2, compiled.n_expanded, point.ctypes.data_as(dbl), values.ctypes.data_as(dbl),
    compiled.user_data.ctypes.data_as(ctypes.c_void_p))
ip = {"mu": 0.3, "sigma_log__": -0.2}
print(json.dumps({
    "hits": [compiled.compiled_logp_func.cache_hits, compiled.compiled_expand_func.cache_hits],
    "status": [status, status_expand], "fallbacks": _nutpie_wrapper.FALLBACKS,
    "logp": float(logp), "expected_logp": float(model.compile_logp()(ip)),
    "grad": grad.tolist(), "expected_grad": model.compile_dlogp()(ip).tolist(),
    "values": sorted(values.tolist())}))
"""


def test_second_process_loads_nutpie_wrappers_from_the_cache_with_the_same_results(tmp_path):
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTENSOR_FLAGS": f"base_compiledir={tmp_path}"}

    def run():
        out = subprocess.run([sys.executable, "-c", _WRAPPER_PROBE], env=env, check=True,
                             capture_output=True, text=True, timeout=600)
        return json.loads(out.stdout.strip().splitlines()[-1])

    first, second = run(), run()
    assert first["hits"] == [0, 0]
    assert second["hits"] == [1, 1]  # both C wrappers loaded, not compiled
    for res in (first, second):
        assert res["status"] == [0, 0]
        assert res["fallbacks"] == []  # every call went by symbol name: cacheable
        assert res["logp"] == pytest.approx(res["expected_logp"], rel=1e-12)
        np.testing.assert_allclose(res["grad"], res["expected_grad"], rtol=1e-12)
    # stored draws: mu, log(sigma), sigma, total = mu + 15
    np.testing.assert_allclose(second["values"], sorted([0.3, -0.2, np.exp(-0.2), 15.3]))
    assert first["values"] == second["values"]


def test_density_without_cache_key_is_called_by_address_and_not_cached():
    import course_pkg._nutpie_wrapper as wrapper

    with pm.Model() as model:
        mu = pm.Normal("mu", 0, 1)
        pm.Normal("y", mu, 1, observed=np.array([0.5, 1.5]))
    original = wrapper._wrapper_key
    wrapper._wrapper_key = lambda *args, **kwargs: None  # as for a density PyTensor cannot cache
    try:
        compiled = nutpie.compile_pymc_model(model)
    finally:
        wrapper._wrapper_key = original
    assert compiled.compiled_logp_func._library.has_dynamic_globals  # numba will not save it
    point, grad, logp = np.array([0.3]), np.zeros(1), np.zeros(())
    dbl = ctypes.POINTER(ctypes.c_double)
    status = compiled.compiled_logp_func.ctypes(
        1, point.ctypes.data_as(dbl), grad.ctypes.data_as(dbl), logp.ctypes.data_as(dbl),
        compiled.user_data.ctypes.data_as(ctypes.c_void_p))
    assert status == 0
    assert float(logp) == pytest.approx(float(model.compile_logp()({"mu": 0.3})), rel=1e-12)
