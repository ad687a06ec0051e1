"""The builder's group-level variables under Bambi's names, for ``effects.ranef`` and ``varcorr``.

A :class:`course_pkg.correlated.CorrelatedModel` fit names its group-level quantities as brms's
Stan code does: ``r_<g>`` (levels x coefficients), ``sd_<g>`` (one per coefficient) and ``cor_<g>``
(a matrix). Bambi names one variable per term: ``1|g``, ``x|g``, ``1|g_sigma``, and the course's
hand-written models add ``cor(Intercept,x)|g``. :func:`bambi_view` renames the builder's arrays so
that one reader serves both.
"""

from __future__ import annotations

import xarray as xr

__all__ = ["bambi_view"]


def _term(coef: str) -> str:
    return "1" if coef == "Intercept" else coef


def bambi_view(posterior) -> dict[str, xr.DataArray]:
    """Bambi-named views of a builder fit's ``r_<g>``, ``sd_<g>`` and ``cor_<g>`` (empty if none).

    ``r_<g>[level, coef]`` becomes ``<coef>|<g>`` over the levels, ``sd_<g>[coef]`` becomes
    ``<coef>|<g>_sigma``, and each lower-triangle entry of ``cor_<g>`` becomes
    ``cor(<a>,<b>)|<g>``; ``Intercept`` is written ``1`` as in Bambi's terms.
    """
    out: dict[str, xr.DataArray] = {}
    for name, da in posterior.data_vars.items():
        for prefix in ("r_", "sd_", "cor_"):
            if not name.startswith(prefix):
                continue
            group = name[len(prefix):]
            coef_dim = f"{group}__coef"
            if coef_dim not in da.dims:
                continue
            coefs = [str(c) for c in da.coords[coef_dim].values]
            if prefix == "r_" and f"{group}__level" in da.dims:
                for coef in coefs:
                    out[f"{_term(coef)}|{group}"] = da.sel({coef_dim: coef}, drop=True)
            elif prefix == "sd_" and da.ndim == 3:
                for coef in coefs:
                    out[f"{_term(coef)}|{group}_sigma"] = da.sel({coef_dim: coef}, drop=True)
            elif prefix == "cor_" and f"{group}__coef_bis" in da.dims:
                for i, a in enumerate(coefs):
                    for b in coefs[:i]:
                        out[f"cor({b},{a})|{group}"] = da.sel(
                            {coef_dim: b, f"{group}__coef_bis": a}, drop=True)
    return out
