"""course_pkg.linalg: one operation for log|B| / 2 and c' B^-1 c over a stack of SPD matrices."""

from __future__ import annotations

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.gradient import NullTypeGradError, verify_grad

from course_pkg import linalg
from course_pkg.linalg import spd_logdet_quad

MODES = ["NUMBA", "FAST_RUN"]


def _stack(n=6, k=4, seed=1):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, k, k))
    return X @ X.transpose(0, 2, 1) + 0.5 * np.eye(k), rng.normal(size=(n, k))


def _compiled(mode, k=4):
    B = pt.tensor3("B", shape=(None, k, k))
    c = pt.matrix("c", shape=(None, k))
    half_logdet, quad = spd_logdet_quad(B, c)
    return pytensor.function([B, c], [half_logdet, quad], mode=mode)


def _reference(B, c):
    sym = 0.5 * (B + B.transpose(0, 2, 1))
    x = np.linalg.solve(sym, c[..., None])[..., 0]
    return 0.5 * np.linalg.slogdet(sym)[1], (c * x).sum(-1)


@pytest.mark.parametrize("mode", MODES)
def test_values_match_numpy(mode):
    B, c = _stack()
    got = _compiled(mode)(B, c)
    for g, want in zip(got, _reference(B, c), strict=True):
        np.testing.assert_allclose(g, want, rtol=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_asymmetric_input_is_read_as_its_symmetric_part(mode):
    B, c = _stack()
    skew = np.random.default_rng(2).normal(size=B.shape)
    skew = skew - skew.transpose(0, 2, 1)
    f = _compiled(mode)
    for g, want in zip(f(B + skew, c), f(B, c), strict=True):
        np.testing.assert_allclose(g, want, rtol=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_gradient_matches_finite_differences(mode):
    B, c = _stack(n=3, k=3)

    def f(B, c):
        half_logdet, quad = spd_logdet_quad(B, c)
        return (1.3 * half_logdet + 0.7 * quad).sum()

    # Asymmetric points too: the gradient is that of the function of (B + B') / 2.
    noise = 0.1 * np.random.default_rng(3).normal(size=B.shape)
    verify_grad(f, [B + noise, c], rng=np.random.default_rng(4), mode=mode)


@pytest.mark.parametrize("mode", MODES)
def test_gradient_through_one_output(mode):
    B, c = _stack(n=3, k=3)
    verify_grad(lambda B, c: spd_logdet_quad(B, c)[0].sum(), [B, c],
                rng=np.random.default_rng(5), mode=mode)
    verify_grad(lambda B, c: spd_logdet_quad(B, c)[1].sum(), [B, c],
                rng=np.random.default_rng(6), mode=mode)


def test_helper_outputs_have_no_gradient():
    B = pt.tensor3("B", shape=(None, 3, 3))
    c = pt.matrix("c", shape=(None, 3))
    _, _, inv, x = linalg.SPDLogdetQuad()(B, c)
    for out in (inv, x):
        with pytest.raises(NullTypeGradError):
            pytensor.grad(out.sum(), B)


@pytest.mark.parametrize("mode", MODES)
def test_matrix_that_is_not_positive_definite_gives_nan_in_its_row_only(mode):
    B, c = _stack()
    B[2] = -np.eye(4)
    half_logdet, quad = _compiled(mode)(B, c)
    assert np.isnan(half_logdet[2]) and np.isnan(quad[2])
    keep = np.arange(len(B)) != 2
    for g, want in zip((half_logdet, quad), _reference(B[keep], c[keep]), strict=True):
        np.testing.assert_allclose(g[keep], want, rtol=1e-12)


def test_jax_implementation_and_its_gradient_match_numba():
    """numpyro samples through PyTensor's JAX backend: same values and gradient as numba."""
    pytest.importorskip("jax")
    linalg.register_jax()
    B, c = _stack()
    got = _compiled("JAX")(B, c)
    for g, want in zip(got, _reference(B, c), strict=True):
        np.testing.assert_allclose(np.asarray(g), want, rtol=1e-10)
    Bt = pt.tensor3("B", shape=(None, 4, 4))
    ct = pt.matrix("c", shape=(None, 4))
    half_logdet, quad = spd_logdet_quad(Bt, ct)
    grads = pytensor.grad((half_logdet - 0.5 * quad).sum(), [Bt, ct])
    by_jax, by_numba = (pytensor.function([Bt, ct], grads, mode=m)(B, c) for m in ("JAX", "NUMBA"))
    for g, want in zip(by_jax, by_numba, strict=True):
        np.testing.assert_allclose(np.asarray(g), want, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize(
    "B, c, error, match",
    [
        (pt.matrix("B"), pt.matrix("c"), ValueError, "B must be a stack of matrices"),
        (pt.tensor3("B"), pt.vector("c"), ValueError, "c must be a stack of vectors"),
        (pt.tensor3("B", dtype="float32"), pt.matrix("c"), TypeError, "B must be float64"),
        (pt.tensor3("B"), pt.matrix("c", dtype="int64"), TypeError, "c must be float64"),
    ],
)
def test_bad_input(B, c, error, match):
    with pytest.raises(error, match=match):
        spd_logdet_quad(B, c)


def test_cache_key_follows_the_kernel_source(monkeypatch):
    node = linalg.SPDLogdetQuad()(pt.tensor3("B"), pt.matrix("c"))[0].owner
    _, key = linalg._numba_funcify_spd_logdet_quad(node.op, node)
    assert key is not None
    monkeypatch.setattr(linalg.inspect, "getsource", lambda f: "an edited kernel")
    _, edited = linalg._numba_funcify_spd_logdet_quad(node.op, node)
    assert edited != key


_PROBE = """
import numpy as np, pytensor, pytensor.tensor as pt
from course_pkg.linalg import spd_logdet_quad
B = pt.tensor3("B", shape=(None, 3, 3)); c = pt.matrix("c", shape=(None, 3))
ld, q = spd_logdet_quad(B, c)
f = pytensor.function([B, c], [ld, q, *pytensor.grad((ld + q).sum(), [B, c])], mode="NUMBA")
B0 = np.eye(3)[None] * [[[2.0]], [[3.0]]]
print(repr([v.tolist() for v in f(B0, np.ones((2, 3)))]))
"""


def test_second_process_loads_the_kernel_from_the_cache(loads_from_cache):
    # The first process saves the kernel; the second loads the whole graph (kernel inside, under
    # a key that includes the kernel's).
    loads_from_cache(_PROBE, saved="spd_logdet_quad_kernel")
