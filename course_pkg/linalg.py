"""One compiled operation for many small positive-definite systems: ``log|B|`` and ``c' B^-1 c``.

Chapter 5's m2 integrates its person effects out of the likelihood; its log density needs, for
each of 193 people, half the log determinant of an 8 x 8 positive-definite matrix ``B_j`` and the
quadratic form ``c_j' B_j^-1 c_j``. PyTensor offers two ways to write that, both slow here:

- its batched ``cholesky`` and ``solve_triangular``: numba calls LAPACK once per matrix and per
  operation of the gradient (2.2 ms per log density and gradient for m2);
- the factorisation written out entry by entry (elementwise arithmetic that PyTensor fuses and
  differentiates; 1.1 ms), whose graph grows as k^3: PyTensor's graph rewrites took about 20 s for
  m2 in every process, and numba about 4 minutes on a machine's first run.

:func:`spd_logdet_quad` is a single PyTensor operation with a hand-written numba kernel (Cholesky
factor, two triangular solves and the inverse, each step a loop over all the matrices at once), a
NumPy version for PyTensor's other backends, a JAX version for numpyro, and its gradient in closed
form:

- ``d (log|B| / 2) / dB = B^-1 / 2``;
- ``d (c' B^-1 c) / dB = -x x'`` and ``d (c' B^-1 c) / dc = 2 x``, with ``x = B^-1 c``.

The operation returns ``B^-1`` and ``x`` as two more outputs, so that the gradient reuses the
forward pass instead of factorising again. No library provides this operation; it is written by
hand for that reason.
"""

from __future__ import annotations

import hashlib
import inspect

import numpy as np
import pytensor.tensor as pt
from pytensor.gradient import DisconnectedType, disconnected_type, grad_not_implemented
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from pytensor.link.numba.dispatch import basic as _numba_basic
from pytensor.link.numba.dispatch.basic import register_funcify_and_cache_key

__all__ = ["SPDLogdetQuad", "spd_logdet_quad"]


class SPDLogdetQuad(Op):
    """For stacks ``B`` (n, k, k) and ``c`` (n, k): ``log|B_j| / 2``, ``c_j' B_j^-1 c_j``,
    ``B_j^-1`` and ``B_j^-1 c_j``.

    ``B`` is read as ``(B + B') / 2``, so the operation and its gradient agree for any square
    input; meant for symmetric positive-definite ``B``. Where a matrix is not positive definite,
    its four outputs are NaN (a log density built from them is then not finite, which samplers
    reject). Differentiable through the first two outputs only. Use :func:`spd_logdet_quad`.
    """

    __props__ = ()

    def make_node(self, B, c):
        B = pt.as_tensor_variable(B)
        c = pt.as_tensor_variable(c)
        if B.type.ndim != 3:
            raise ValueError(f"B must be a stack of matrices (3 dimensions), got {B.type.ndim}")
        if c.type.ndim != 2:
            raise ValueError(f"c must be a stack of vectors (2 dimensions), got {c.type.ndim}")
        for name, v in (("B", B), ("c", c)):
            if v.type.dtype != "float64":
                raise TypeError(f"{name} must be float64, got {v.type.dtype}")
        n = B.type.shape[0] if B.type.shape[0] is not None else c.type.shape[0]
        k = next((s for s in (B.type.shape[1], B.type.shape[2], c.type.shape[1])
                  if s is not None), None)
        outputs = [
            pt.tensor(dtype="float64", shape=(n,)),
            pt.tensor(dtype="float64", shape=(n,)),
            pt.tensor(dtype="float64", shape=(n, k, k)),
            pt.tensor(dtype="float64", shape=(n, k)),
        ]
        return Apply(self, [B, c], outputs)

    def perform(self, node, inputs, output_storage):
        B, c = inputs
        half_logdet, quad, inv, x = _numpy_kernel(B, c)
        for storage, value in zip(output_storage, (half_logdet, quad, inv, x), strict=True):
            storage[0] = value

    def infer_shape(self, node, shapes):
        (n, k, _), _ = shapes
        return [(n,), (n,), (n, k, k), (n, k)]

    def pullback(self, inputs, outputs, cotangents):
        B, c = inputs
        _, _, inv, x = outputs
        g_logdet, g_quad, g_inv, g_x = cotangents
        helper = [n for n, g in (("B^-1", g_inv), ("B^-1 c", g_x))
                  if not isinstance(g.type, DisconnectedType)]
        if helper:  # only the first two outputs are meant to be differentiated
            why = f"gradient through the {' and '.join(helper)} output"
            return [grad_not_implemented(self, 0, B, why),
                    grad_not_implemented(self, 1, c, why) if "B^-1 c" in helper
                    else disconnected_type()]
        g_B = g_c = None
        if not isinstance(g_logdet.type, DisconnectedType):
            g_B = 0.5 * g_logdet[:, None, None] * inv
        if not isinstance(g_quad.type, DisconnectedType):
            outer = g_quad[:, None, None] * (x[:, :, None] * x[:, None, :])
            g_B = -outer if g_B is None else g_B - outer
            g_c = 2.0 * g_quad[:, None] * x
        # An input whose outputs do not reach the cost has a disconnected gradient, not zeros.
        return [disconnected_type() if g_B is None else g_B,
                disconnected_type() if g_c is None else g_c]

    def connection_pattern(self, node):
        return [[True, True, True, True], [False, True, False, True]]


_spd_logdet_quad_op = SPDLogdetQuad()


def spd_logdet_quad(B, c):
    """Half the log determinant and the quadratic form of many small positive-definite systems.

    Parameters
    ----------
    B : pytensor.tensor.TensorVariable
        Symmetric positive-definite matrices, float64 of shape (n, k, k); read as
        ``(B + B') / 2``.
    c : pytensor.tensor.TensorVariable
        One vector per matrix, float64 of shape (n, k).

    Returns
    -------
    half_logdet, quad : pytensor.tensor.TensorVariable
        Each of shape (n,): ``log|B_j| / 2`` (the log determinant of ``B_j``'s Cholesky factor)
        and ``c_j' B_j^-1 c_j``. Both are differentiable with respect to ``B`` and ``c``.

    Raises
    ------
    ValueError
        ``B`` is not 3-dimensional or ``c`` not 2-dimensional.
    TypeError
        ``B`` or ``c`` is not float64.

    Examples
    --------
    >>> import numpy as np, pytensor.tensor as pt
    >>> B = np.stack([np.eye(2) * 4.0, np.array([[2.0, 1.0], [1.0, 2.0]])])
    >>> half_logdet, quad = spd_logdet_quad(pt.as_tensor(B), pt.as_tensor(np.ones((2, 2))))
    >>> np.round(half_logdet.eval(), 4).tolist(), np.round(quad.eval(), 4).tolist()
    ([1.3863, 0.5493], [0.5, 0.6667])
    """
    half_logdet, quad, _, _ = _spd_logdet_quad_op(B, c)
    return half_logdet, quad


def _numpy_kernel(B, c):
    """The operation in NumPy (PyTensor's Python and C backends): batched LAPACK calls."""
    B = np.asarray(B, dtype=float)
    c = np.asarray(c, dtype=float)
    sym = 0.5 * (B + np.swapaxes(B, -1, -2))
    n, k = c.shape
    L = np.full((n, k, k), np.nan)
    try:
        L[:] = np.linalg.cholesky(sym)
    except np.linalg.LinAlgError:  # factorise one at a time; a matrix that fails stays NaN
        for j in range(n):
            try:
                L[j] = np.linalg.cholesky(sym[j])
            except np.linalg.LinAlgError:
                pass
    half_logdet = np.log(np.diagonal(L, axis1=-2, axis2=-1)).sum(-1)
    L_inv = np.linalg.solve(L, np.broadcast_to(np.eye(k), L.shape))
    inv = np.swapaxes(L_inv, -1, -2) @ L_inv
    x = (inv @ c[..., None])[..., 0]
    return half_logdet, (c * x).sum(-1), inv, x


@register_funcify_and_cache_key(SPDLogdetQuad)
def _numba_funcify_spd_logdet_quad(op, node, **kwargs):
    """The numba kernel and its cache key: the kernel's own source, so that an edited kernel is
    compiled again instead of loaded from a cache filled by an older one."""
    @_numba_basic.numba_njit
    def spd_logdet_quad_kernel(B, c):
        n = B.shape[0]
        k = B.shape[1]
        # The matrix index is the last axis of every work array, so that each step below is one
        # loop over the n matrices, which numba vectorises (twice as fast as a loop over matrices
        # with the factorisation inside, for m2's 193 matrices of size 8).
        L = np.empty((k, k, n))
        for i in range(k):
            for j in range(i + 1):
                for m in range(n):
                    L[i, j, m] = 0.5 * (B[m, i, j] + B[m, j, i])
        for j in range(k):  # Cholesky factor, in place of the lower triangle
            for p in range(j):
                for m in range(n):
                    L[j, j, m] -= L[j, p, m] * L[j, p, m]
            for m in range(n):
                d = L[j, j, m]
                L[j, j, m] = np.sqrt(d) if d > 0.0 else np.nan
            for i in range(j + 1, k):
                for p in range(j):
                    for m in range(n):
                        L[i, j, m] -= L[i, p, m] * L[j, p, m]
                for m in range(n):
                    L[i, j, m] /= L[j, j, m]
        half_logdet = np.zeros(n)
        for j in range(k):
            for m in range(n):
                half_logdet[m] += np.log(L[j, j, m])
        w = np.empty((k, n))  # w = L^-1 c
        quad = np.zeros(n)
        for i in range(k):
            for m in range(n):
                w[i, m] = c[m, i]
            for p in range(i):
                for m in range(n):
                    w[i, m] -= L[i, p, m] * w[p, m]
            for m in range(n):
                w[i, m] /= L[i, i, m]
                quad[m] += w[i, m] * w[i, m]
        xt = np.empty((k, n))  # x = L'^-1 w = B^-1 c
        for i in range(k - 1, -1, -1):
            for m in range(n):
                xt[i, m] = w[i, m]
            for p in range(i + 1, k):
                for m in range(n):
                    xt[i, m] -= L[p, i, m] * xt[p, m]
            for m in range(n):
                xt[i, m] /= L[i, i, m]
        Li = np.zeros((k, k, n))  # L^-1, lower triangular
        for j in range(k):
            for m in range(n):
                Li[j, j, m] = 1.0 / L[j, j, m]
            for i in range(j + 1, k):
                for p in range(j, i):
                    for m in range(n):
                        Li[i, j, m] -= L[i, p, m] * Li[p, j, m]
                for m in range(n):
                    Li[i, j, m] /= L[i, i, m]
        inv = np.empty((n, k, k))
        acc = np.empty(n)
        for a in range(k):  # B^-1 = L^-T L^-1
            for b in range(a + 1):
                acc[:] = 0.0
                for p in range(a, k):
                    for m in range(n):
                        acc[m] += Li[p, a, m] * Li[p, b, m]
                for m in range(n):
                    inv[m, a, b] = acc[m]
                    inv[m, b, a] = acc[m]
        x = np.empty((n, k))
        for i in range(k):
            for m in range(n):
                x[m, i] = xt[i, m]
        return half_logdet, quad, inv, x

    source = inspect.getsource(_numba_funcify_spd_logdet_quad)
    key = hashlib.sha256(f"{type(op).__module__}.{type(op).__qualname__}\n{source}".encode())
    return spd_logdet_quad_kernel, key.hexdigest()


_JAX_REGISTERED = False


def register_jax() -> None:
    """Give the operation a JAX implementation (for numpyro); imports JAX, so called on demand."""
    global _JAX_REGISTERED
    if _JAX_REGISTERED:
        return
    import jax.numpy as jnp
    from pytensor.link.jax.dispatch import jax_funcify

    @jax_funcify.register(SPDLogdetQuad)
    def _jax_funcify_spd_logdet_quad(op, **kwargs):
        def spd_logdet_quad_jax(B, c):
            sym = 0.5 * (B + jnp.swapaxes(B, -1, -2))
            L = jnp.linalg.cholesky(sym)
            half_logdet = jnp.log(jnp.diagonal(L, axis1=-2, axis2=-1)).sum(-1)
            inv = jnp.linalg.inv(sym)
            x = jnp.einsum("nab,nb->na", inv, c)
            return half_logdet, (c * x).sum(-1), inv, x

        return spd_logdet_quad_jax

    _JAX_REGISTERED = True
