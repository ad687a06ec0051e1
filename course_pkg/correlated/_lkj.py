"""The LKJ prior in Stan's coordinates: canonical partial correlations to a Cholesky factor."""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt


def _cpc_alphas(n: int, eta: float) -> np.ndarray:
    """Beta shape of each canonical partial correlation (row-major strict lower triangle)."""
    rows, cols = np.tril_indices(n, -1)
    return eta + (n - 2 - cols) / 2.0


def lkj_cholesky_corr(name: str, n: int, eta: float):
    """Cholesky factor of an LKJ(eta) correlation matrix, parameterised as Stan and brms do.

    PyMC's ``LKJCholeskyCov`` samples the packed Cholesky factor of the *covariance*, so a
    standard deviation near zero pulls a whole row of that factor toward zero with it. Stan
    (and so brms) samples the standard deviations apart from the correlations, and the
    correlations as canonical partial correlations (CPCs) ``z = tanh(y)`` of unconstrained
    ``y``; the Cholesky factor of the correlation matrix follows row by row,
    ``L[i, j] = z[i, j] * prod_{l < j} sqrt(1 - z[i, l]**2)`` and
    ``L[i, i] = prod_{l < i} sqrt(1 - z[i, l]**2)``. Under LKJ(eta) the CPCs are independent,
    ``(z[i, j] + 1) / 2 ~ Beta(a_j, a_j)`` with ``a_j = eta + (n - 2 - j) / 2`` (Lewandowski,
    Kurowicka and Joe 2009, the basis of Stan's ``lkj_corr_cholesky_rng``), which gives the log
    density of ``y`` exactly, normalising constant included, and prior draws.

    Hand-written: PyMC's ``LKJCorr`` samples the correlations themselves, each in (-1, 1), and
    rejects proposals that are not positive definite. Must be called inside a model context.

    Parameters
    ----------
    name : str
        Name of the free variable (the ``n (n - 1) / 2`` unconstrained CPCs, row by row).
    n : int
        Dimension of the correlation matrix, at least 2.
    eta : float
        LKJ shape, positive (1: uniform over correlation matrices).

    Returns
    -------
    pytensor.tensor.TensorVariable
        The ``(n, n)`` lower-triangular Cholesky factor of the correlation matrix.

    Examples
    --------
    >>> with pm.Model():  # doctest: +SKIP
    ...     L = lkj_cholesky_corr("cpc", n=3, eta=2.0)
    """
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 2:
        raise ValueError(f"n must be an int >= 2, got {n!r}")
    if isinstance(eta, bool) or not isinstance(eta, int | float) or not eta > 0:
        raise ValueError(f"eta must be a positive number, got {eta!r}")
    from scipy.special import betaln

    n, eta = int(n), float(eta)
    m = n * (n - 1) // 2
    alphas = _cpc_alphas(n, eta)
    const = float(np.sum(-(alphas - 1.0) * np.log(4.0) - betaln(alphas, alphas) - np.log(2.0)))

    def log1m_tanh2(y):
        # log(1 - tanh(y)^2) = 2 (log 2 - |y| - log1p(exp(-2 |y|))), stable for large |y|.
        a = pt.abs(y)
        return 2.0 * (np.log(2.0) - a - pt.log1p(pt.exp(-2.0 * a)))

    def logp(value, a):
        # Density of y: independent CPCs z = tanh(y) with (z + 1)/2 ~ Beta(a, a), times the
        # tanh Jacobian (1 - z^2): sum of a * log(1 - z^2) plus the constant.
        return pt.sum(a * log1m_tanh2(value), axis=-1) + const

    def random(a, rng=None, size=None):
        shape = (*(() if size is None else np.atleast_1d(size)), m)
        z = 2.0 * rng.beta(a, a, size=shape) - 1.0
        return np.arctanh(np.clip(z, -1 + 1e-15, 1 - 1e-15))

    # The Beta shapes are passed as the parameter so that PyMC knows the support's length.
    y = pm.CustomDist(name, alphas, logp=logp, random=random, signature="(m)->(m)",
                      dtype="float64")
    rows, cols = np.tril_indices(n, -1)
    diag = np.arange(n)
    # Z: the CPCs below the diagonal and ones on it. (Not Z + pt.eye(n): PyTensor folds slices of
    # the factor into the constant identity, and a non-contiguous constant array stops numba from
    # caching the compiled log-density between processes.)
    Z = pt.set_subtensor(pt.zeros((n, n))[rows, cols], pt.tanh(y))
    Z = pt.set_subtensor(Z[diag, diag], 1.0)
    W = pt.set_subtensor(pt.zeros((n, n))[rows, cols], log1m_tanh2(y))
    # Exclusive cumulative sum along each row: sum over l < j of log(1 - z[i, l]^2).
    before = pt.cumsum(W, axis=1) - W
    return pt.tril(Z * pt.exp(0.5 * before))
