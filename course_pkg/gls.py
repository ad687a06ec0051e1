"""Generalised least squares for a linear multilevel model whose variance parameters are given.

:func:`gls_coefficients` returns what the likelihood of a linear model with correlated varying
intercepts and slopes (one or two outcomes, correlated residuals) makes of its population
coefficients when the covariances are known. Chapter 5 uses it to measure the bias of m2's lag
slopes on many simulated panels without fitting m2 to each.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from course_pkg.lags import _as_columns

__all__ = ["gls_coefficients"]


def gls_coefficients(
    data: pd.DataFrame,
    *,
    outcomes,
    predictors,
    sd,
    correlation,
    sigma,
    residual_cor: float = 0.0,
    group: str = "id",
) -> pd.DataFrame:
    """Population coefficients by generalised least squares, the variance parameters given.

    The model: for group j, every outcome o is linear in the predictors, with an intercept and
    every slope varying by group, all of them (every outcome's) in one correlated block, and with
    two outcomes a correlation between their residuals on the same row (chapter 5's m2). Stacking
    group j's rows of both outcomes, y_j has mean X_j b and covariance
    V_j = X_j G X_j' + Sigma (x) I, with G the covariance of the group effects and Sigma that of
    the residuals. Given G and Sigma, the coefficients that maximise the likelihood (and, under
    flat priors, their posterior mean) are

    .. math::

        \\hat b = \\Big(\\sum_j X_j' V_j^{-1} X_j\\Big)^{-1} \\sum_j X_j' V_j^{-1} y_j,

    computed with one small matrix per group (Woodbury's identity: X_j' V_j^{-1} X_j =
    A_j - A_j (G^{-1} + A_j)^{-1} A_j with A_j = X_j' (Sigma (x) I)^{-1} X_j). This lets a
    simulation study measure what such a model estimates on many simulated panels in seconds,
    where each fit would take a minute. Written with NumPy: statsmodels' ``MixedLM`` fits one
    outcome and estimates the variance parameters, and nothing here needed either.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per observation, with the ``group``, ``outcomes`` and ``predictors`` columns, all
        finite (drop rows with missing values first).
    outcomes : str or sequence of str
        One or two outcome columns.
    predictors : str or sequence of str
        Predictor columns (an intercept is added).
    sd : array_like
        SDs of the group effects, ``n_outcomes x (1 + n_predictors)``, intercept first; all > 0.
    correlation : array_like
        Correlation matrix of the group effects, in the order outcome by outcome, intercept first
        (the order of ``simulate_on_rows``'s ``effect_names``).
    sigma : float or sequence of float
        Residual SD per outcome.
    residual_cor : float
        Correlation of two outcomes' residuals on the same row.
    group : str
        Grouping column.

    Returns
    -------
    pandas.DataFrame
        One row per outcome, columns ``Intercept`` and the predictors.

    Raises
    ------
    TypeError
        ``data`` not a DataFrame.
    KeyError
        A named column that ``data`` lacks.
    ValueError
        Non-finite values; more than two outcomes; shapes that disagree; SDs that are not
        positive; a correlation matrix that is not positive definite; a residual correlation
        outside (-1, 1) or with one outcome.
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}")
    ys = _as_columns(outcomes, "outcomes")
    xs = _as_columns(predictors, "predictors")
    for name in [group, *ys, *xs]:
        if name not in data.columns:
            raise KeyError(f"column {name!r} is not in data (columns: {list(data.columns)})")
    if len(ys) > 2:
        raise ValueError(f"outcomes must name one or two columns, got {ys}")
    n_out, q = len(ys), 1 + len(xs)
    values = data[[*ys, *xs]].to_numpy(dtype=float)
    if not np.all(np.isfinite(values)):
        raise ValueError(f"columns {[*ys, *xs]} must be finite (drop rows with missing values "
                         f"first)")
    scales = np.asarray(sd, dtype=float)
    if scales.shape != (n_out, q) or not np.all(scales > 0):
        raise ValueError(f"sd must be a {n_out} x {q} matrix of SDs > 0 (outcomes x intercept "
                         f"and predictors), got {sd!r}")
    cor = np.asarray(correlation, dtype=float)
    k = n_out * q
    if cor.shape != (k, k) or not np.allclose(cor, cor.T) or not np.allclose(np.diag(cor), 1):
        raise ValueError(f"correlation must be a symmetric {k} x {k} matrix with a unit "
                         f"diagonal, got shape {cor.shape}")
    sigmas = np.broadcast_to(np.asarray(sigma, dtype=float), (n_out,))
    if not np.all(sigmas > 0):
        raise ValueError(f"sigma must be > 0 for each outcome, got {sigma!r}")
    rho = float(residual_cor)
    if not -1 < rho < 1 or (n_out == 1 and rho != 0):
        raise ValueError(f"residual_cor must be in (-1, 1), and 0 with one outcome, got {rho}")
    g = np.outer(scales.ravel(), scales.ravel()) * cor
    try:
        np.linalg.cholesky(g)
    except np.linalg.LinAlgError:
        raise ValueError("correlation is not positive definite") from None
    g_inv = np.linalg.inv(g)
    resid = np.diag(sigmas) @ (np.eye(n_out) if n_out == 1
                               else np.array([[1.0, rho], [rho, 1.0]])) @ np.diag(sigmas)
    s_inv = np.linalg.inv(resid)
    codes = pd.Categorical(data[group]).codes
    n_groups = codes.max() + 1
    x = np.column_stack([np.ones(len(data)), values[:, n_out:]])
    y = values[:, :n_out]
    xtx = np.zeros((n_groups, q, q))
    np.add.at(xtx, codes, x[:, :, None] * x[:, None, :])
    xty = np.zeros((n_groups, n_out, q))
    np.add.at(xty, codes, y[:, :, None] * x[:, None, :])
    a = np.einsum("oc,jkl->jokcl", s_inv, xtx).reshape(n_groups, k, k)
    b = np.einsum("oc,jcl->jol", s_inv, xty).reshape(n_groups, k)
    m = np.linalg.solve(g_inv + a, np.concatenate([a, b[..., None]], axis=2))
    lhs = (a - a @ m[..., :k]).sum(0)
    rhs = (b - (a @ m[..., k:])[..., 0]).sum(0)
    coef = np.linalg.solve(lhs, rhs).reshape(n_out, q)
    return pd.DataFrame(coef, index=ys, columns=["Intercept", *xs])
