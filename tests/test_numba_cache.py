"""course_pkg._numba_cache: SciPy special functions no longer stop numba from caching a graph."""

from __future__ import annotations

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
import scipy.special
from pytensor.link.numba.dispatch.basic import numba_funcify_and_cache_key

import course_pkg  # noqa: F401  (applies the patch)
from course_pkg import _numba_cache


def _scalar_node(fn, dtype="float64"):
    x = pt.scalar("x", dtype=dtype)
    return fn(x).owner


@pytest.mark.parametrize(
    "fn, reference",
    [(pt.psi, scipy.special.psi), (pt.i0, scipy.special.i0), (pt.erfcx, scipy.special.erfcx)],
)
def test_scipy_scalar_ops_get_a_cache_key_and_the_same_values(fn, reference):
    node = _scalar_node(fn)
    _, key = _numba_cache.funcify_scalar_op(node.op.scalar_op, node)
    assert key is not None
    # PyTensor compiles scalar functions without a Python entry point; call them through a graph.
    x = pt.vector("x")
    f = pytensor.function([x], fn(x), mode="NUMBA")
    values = np.array([0.3, 1.0, 2.5, 7.0])
    np.testing.assert_array_equal(f(values), reference(values))


def test_key_depends_on_dtypes_and_function():
    keys = {
        _numba_cache.funcify_scalar_op(n.op.scalar_op, n)[1]
        for n in (_scalar_node(pt.psi), _scalar_node(pt.psi, "float32"), _scalar_node(pt.i0))
    }
    assert len(keys) == 3


def test_gradient_of_gammaln_graph_is_cacheable():
    # d/dx gammaln(x) = psi(x): the graph of every Student-t or negative binomial gradient.
    x = pt.vector("x")
    grad = pytensor.grad(pt.gammaln(x).sum(), x)
    f = pytensor.function([x], grad, mode="NUMBA")
    fgraph = f.maker.fgraph
    assert any("psi" in str(node.op).lower() for node in fgraph.apply_nodes)
    _, key = numba_funcify_and_cache_key(fgraph)
    assert key is not None
    np.testing.assert_allclose(f(np.array([0.5, 3.0])), scipy.special.psi([0.5, 3.0]))


_PROBE = """
import numpy as np, pytensor, pytensor.tensor as pt
import course_pkg
x = pt.vector("x")
f = pytensor.function([x], pytensor.grad(pt.gammaln(x).sum(), x), mode="NUMBA")
print(repr(f(np.array([0.5, 3.0])).tolist()))
"""


def test_second_process_loads_the_graph_from_the_cache(loads_from_cache):
    loads_from_cache(_PROBE, saved="numba_funcified_fgraph")
