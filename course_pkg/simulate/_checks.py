"""Argument checks shared by the simulators: one message style for every bad input."""

from __future__ import annotations

from collections.abc import Sequence
from numbers import Integral, Real

import numpy as np


def rng_from(seed) -> np.random.Generator:
    """A Generator from an int seed (or the Generator itself)."""
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, Integral) and not isinstance(seed, bool):
        return np.random.default_rng(int(seed))
    raise TypeError(f"seed must be an int or a numpy.random.Generator, got {seed!r}")


def real(value, name: str) -> float:
    """A finite real number."""
    if not isinstance(value, Real) or isinstance(value, bool) or not np.isfinite(value):
        raise TypeError(f"{name} must be a finite real number, got {value!r}")
    return float(value)


def sd(value, name: str, *, positive: bool = False) -> float:
    """A standard deviation: finite, >= 0 (> 0 with ``positive``)."""
    value = real(value, name)
    if value < 0 or (positive and value == 0):
        raise ValueError(f"{name} is a standard deviation and must be "
                         f"{'> 0' if positive else '>= 0'}, got {value}")
    return value


def count(value, name: str, *, minimum: int = 1) -> int:
    """An int of at least ``minimum``."""
    if not isinstance(value, Integral) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def vector(values, name: str, *, length: int | None = None) -> np.ndarray:
    """A non-empty one-dimensional sequence of finite numbers (of a given length)."""
    if isinstance(values, str | bytes) or not isinstance(values, Sequence | np.ndarray):
        raise TypeError(f"{name} must be a sequence of numbers, got {type(values).__name__}")
    arr = np.asarray(values, dtype=float)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty one-dimensional sequence, got shape "
                         f"{arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite, got {values!r}")
    if length is not None and arr.size != length:
        raise ValueError(f"{name} must have {length} entries, got {arr.size}")
    return arr


def sds(values, name: str, *, length: int | None = None) -> np.ndarray:
    """A vector of standard deviations, each >= 0."""
    arr = vector(values, name, length=length)
    if np.any(arr < 0):
        raise ValueError(f"{name} holds standard deviations and must be >= 0, got {values!r}")
    return arr


def correlation(value, name: str, k: int) -> np.ndarray:
    """A k x k correlation matrix; a number is taken as every off-diagonal entry (k = 2 mostly)."""
    if isinstance(value, Real) and not isinstance(value, bool):
        r = real(value, name)
        if not -1 < r < 1:
            raise ValueError(f"{name} must be strictly between -1 and 1, got {r}")
        matrix = np.full((k, k), r)
        np.fill_diagonal(matrix, 1.0)
    else:
        matrix = np.asarray(value, dtype=float)
    if matrix.shape != (k, k):
        raise ValueError(f"{name} must be a number or a {k} x {k} matrix, got shape {matrix.shape}")
    if not np.all(np.isfinite(matrix)) or not np.allclose(matrix, matrix.T):
        raise ValueError(f"{name} must be a finite symmetric matrix")
    if not np.allclose(np.diag(matrix), 1.0) or np.any(np.abs(matrix) > 1):
        raise ValueError(f"{name} must have a unit diagonal and entries in [-1, 1]")
    if np.linalg.eigvalsh(matrix).min() <= 1e-10:
        raise ValueError(f"{name} is not positive definite, so it is not a correlation matrix")
    return matrix


def draw_effects(rng: np.random.Generator, n: int, scales: np.ndarray,
                 cor: np.ndarray) -> np.ndarray:
    """``n`` draws of zero-mean multivariate normal effects with SDs ``scales`` and correlation
    ``cor``: rows are groups, columns effects (``scales * (z @ L.T)`` with ``L L' = cor``)."""
    z = rng.standard_normal((n, len(scales)))
    return (z @ np.linalg.cholesky(cor).T) * scales


def residual_cor(value, n_outcomes: int) -> float:
    """A correlation of two outcomes' residuals: strictly inside (-1, 1), and 0 with one."""
    rho = real(value, "residual_cor")
    if not -1 < rho < 1:
        raise ValueError(f"residual_cor must be strictly between -1 and 1, got {rho}")
    if n_outcomes == 1 and rho != 0:
        raise ValueError("residual_cor needs two outcomes")
    return rho


def matrix(value, name: str, shape: tuple[int, int]) -> np.ndarray:
    """A finite matrix of a given shape, or a number repeated into one."""
    arr = np.asarray(value, dtype=float)
    if arr.ndim == 0:
        arr = np.full(shape, float(arr))
    if arr.shape != shape or not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be a number or a finite {shape[0]} x {shape[1]} matrix, "
                         f"got {value!r}")
    return arr
