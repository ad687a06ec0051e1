"""brms-style accessors for fitted mixed models: priors, fixed effects, random effects, variances.

brms users reach for ``prior_summary``, ``fixef``, ``ranef`` and ``VarCorr`` (and Michael Clark's
``mixedup::extract_random_effects`` for a tidy table of random effects). Bambi and ArviZ hold the
same information but not in those shapes, so this module reshapes it. Nothing here is estimated
anew: every number is a summary of the posterior draws already in the fit (an :class:`xarray.DataTree`).

Naming conventions (Bambi's, also used by the course's hand-written PyMC models):

* common ("fixed") effects are posterior variables named after their term (``Intercept``,
  ``occasion``);
* group-specific ("random") effects are named ``<expr>|<group>`` (``1|student``,
  ``occasion|student``) and have one dimension besides chain and draw, whose coordinates are the
  group labels; they are deviations from the common effect, as in brms's ``ranef``;
* their standard deviations are ``<expr>|<group>_sigma``;
* a correlation between two group-specific effects, where a model has one (Bambi's do not), is
  named ``cor(<expr1>,<expr2>)|<group>``, e.g. ``cor(Intercept,occasion)|student``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from course_pkg import _datatree
from course_pkg._builder_names import bambi_view
from course_pkg._prior_table import prior_table

__all__ = [
    "add_correlations",
    "fixef",
    "prior_table",
    "ranef",
    "varcorr",
]

_COR_RE = re.compile(r"^cor\((?P<e1>[^,]+),(?P<e2>[^)]+)\)\|(?P<group>.+)$")
_SAMPLE_DIMS = ("chain", "draw")


def _require_idata(idata) -> None:
    _datatree.require(idata)


def _check_prob(prob) -> tuple[float, float]:
    if isinstance(prob, bool) or not isinstance(prob, float | int) or not 0 < prob < 1:
        raise ValueError(f"prob must be a number strictly between 0 and 1, got {prob!r}")
    tail = (1 - prob) / 2
    return tail, 1 - tail


def _pct(q: float) -> str:
    return f"{100 * q:.3g}"


def _effect_label(expr: str) -> str:
    """Bambi writes the intercept of a group term as ``1``; brms and lme4 call it Intercept."""
    return "Intercept" if expr == "1" else expr


def _summarise(draws: np.ndarray, lo: float, hi: float) -> dict[str, float]:
    """Mean, sd and quantiles over the leading (chain, draw) axes of ``draws``."""
    flat = draws.reshape(-1, *draws.shape[2:])
    return {
        "mean": flat.mean(axis=0),
        "sd": flat.std(axis=0, ddof=1),
        "lo": np.quantile(flat, lo, axis=0),
        "hi": np.quantile(flat, hi, axis=0),
    }


def fixef(
    idata,
    model=None,
    *,
    var_names: Sequence[str] | None = None,
    prob: float = 0.95,
) -> pd.DataFrame:
    """Posterior summaries of the common ("fixed") effects, as brms's ``fixef``.

    Parameters
    ----------
    idata : xarray.DataTree
        A fitted model.
    model : bambi.Model or CorrelatedModel, optional
        The Bambi model, whose common terms (of the distributional parameter that the likelihood
        is centred on) name the variables to summarise; or the builder, whose population-level
        variables are ``Intercept``, ``b`` and, for other formulas, ``<name>_Intercept`` and
        ``<name>_b``.
    var_names : sequence of str, optional
        Names of the common effects, for models without a Bambi object (hand-written PyMC).
        Exactly one of ``model`` and ``var_names`` must be given.
    prob : float
        Interval mass (default 0.95, equal-tailed as in brms).

    Returns
    -------
    pandas.DataFrame
        Indexed by term (one row per element for vector-valued terms), columns ``Estimate``,
        ``Est.Error``, ``Q2.5``, ``Q97.5`` (labels follow ``prob``).

    Raises
    ------
    TypeError
        ``idata`` is not a DataTree, or ``model`` is neither a Bambi model nor a builder.
    ValueError
        Neither or both of ``model`` and ``var_names``; names not in the posterior; bad
        ``prob``.

    Examples
    --------
    >>> fixef(idata, model)  # doctest: +SKIP
               Estimate  Est.Error      Q2.5     Q97.5
    Intercept  2.599...
    """
    _require_idata(idata)
    lo, hi = _check_prob(prob)
    if (model is None) == (var_names is None):
        raise ValueError("give exactly one of model (a bambi.Model) and var_names")
    if model is not None:
        import bambi as bmb

        from course_pkg.correlated import CorrelatedModel

        if isinstance(model, CorrelatedModel):  # brms's names: Intercept, b, sigma_Intercept, ...
            names = [n for n in idata.posterior.data_vars
                     if n in ("Intercept", "b") or n.endswith(("_Intercept", "_b"))]
        elif not isinstance(model, bmb.Model):
            raise TypeError(f"model must be a bambi.Model or a CorrelatedModel, got "
                            f"{type(model).__name__}")
        else:
            parent = model.parameters[model.family.likelihood.parent]
            names = list(parent.common_terms)
            if parent.intercept_term is not None:
                names.insert(0, parent.intercept_term.name)
    else:
        names = [var_names] if isinstance(var_names, str) else list(var_names)
    missing = [n for n in names if n not in idata.posterior]
    if missing:
        raise ValueError(f"var_names has names not in the posterior: {missing}")
    rows = {}
    for name in names:
        da = idata.posterior[name]
        stats = _summarise(da.values, lo, hi)
        extra = [d for d in da.dims if d not in _SAMPLE_DIMS]
        if not extra:
            rows[name] = {k: float(v) for k, v in stats.items()}
            continue
        labels = pd.MultiIndex.from_product([da.coords[d].values for d in extra])
        for i, lab in enumerate(labels):
            idx = np.unravel_index(i, da.shape[2:])
            key = f"{name}[{', '.join(str(x) for x in lab)}]"
            rows[key] = {k: float(np.asarray(v)[idx]) for k, v in stats.items()}
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.columns = ["Estimate", "Est.Error", f"Q{_pct(lo)}", f"Q{_pct(hi)}"]
    return out


def _variables(idata) -> dict:
    """The posterior's variables, plus a builder fit's group-level arrays under Bambi's names."""
    return {**dict(idata.posterior.data_vars.items()), **bambi_view(idata.posterior)}


def _group_vars(variables: dict) -> list[str]:
    """Variables holding group-specific effects (``<expr>|<group>``)."""
    names = []
    for name, da in variables.items():
        if "|" not in name or name.endswith("__") or name.endswith("_sigma"):
            continue
        if _COR_RE.match(name) or name.endswith("_offset"):
            continue
        if len([d for d in da.dims if d not in _SAMPLE_DIMS]) >= 1:
            names.append(name)
    return names


def ranef(
    idata,
    var_names: Sequence[str] | None = None,
    *,
    prob: float = 0.95,
) -> pd.DataFrame:
    """Group-specific ("random") effects as one tidy table, as ``mixedup::extract_random_effects``.

    brms's ``ranef`` returns a three-dimensional array per grouping factor; the tidy long table
    (one row per group and effect) is easier to filter, join and plot. Values are posterior
    means of the deviations from the common effect, ``se`` is the posterior standard deviation,
    and the bounds are equal-tailed quantiles.

    Parameters
    ----------
    idata : xarray.DataTree
        A fitted model whose group-specific effects follow Bambi's names (``1|student``), or a
        :class:`~course_pkg.correlated.CorrelatedModel` fit (``r_student``, read as Bambi's).
    var_names : sequence of str, optional
        Which group-specific variables to include; all of them by default.
    prob : float
        Interval mass (default 0.95).

    Returns
    -------
    pandas.DataFrame
        Columns ``group_var``, ``effect`` (``Intercept`` for ``1|...``), ``group``, ``value``,
        ``se``, ``lower_2.5``, ``upper_97.5`` (labels follow ``prob``); rows ordered by effect,
        then group, as in the variable's coordinates.

    Raises
    ------
    TypeError
        ``idata`` is not a DataTree.
    ValueError
        No group-specific effects found, a name that is not one, a variable with more than one
        dimension besides chain and draw (e.g. a categorical response's), or bad ``prob``.

    Examples
    --------
    >>> ranef(idata).head(2)  # doctest: +SKIP
      group_var     effect group  value     se  lower_2.5  upper_97.5
    0   student  Intercept     1 -0.203  0.117     -0.432       0.024
    """
    _require_idata(idata)
    lo, hi = _check_prob(prob)
    variables = _variables(idata)
    available = _group_vars(variables)
    if var_names is None:
        names = available
        if not names:
            raise ValueError(
                "no group-specific effects (variables named '<expr>|<group>') in the posterior"
            )
    else:
        names = [var_names] if isinstance(var_names, str) else list(var_names)
        wrong = [n for n in names if n not in available]
        if wrong:
            raise ValueError(
                f"var_names has names that are not group-specific effects: {wrong}; "
                f"available: {available}"
            )
    frames = []
    for name in names:
        da = variables[name]
        extra = [d for d in da.dims if d not in _SAMPLE_DIMS]
        if len(extra) != 1:
            raise ValueError(
                f"{name!r} has dimensions {extra} besides chain and draw; ranef handles one "
                "(the groups). Select a slice first."
            )
        expr, group_var = name.split("|", 1)
        stats = _summarise(da.values, lo, hi)
        frames.append(pd.DataFrame({
            "group_var": group_var,
            "effect": _effect_label(expr),
            "group": [str(g) for g in da.coords[extra[0]].values],
            "value": stats["mean"],
            "se": stats["sd"],
            f"lower_{_pct(lo)}": stats["lo"],
            f"upper_{_pct(hi)}": stats["hi"],
        }))
    return pd.concat(frames, ignore_index=True)


def varcorr(
    idata,
    *,
    residual: str | None = "sigma",
    prob: float = 0.95,
) -> pd.DataFrame:
    """Standard deviations and correlations of the group-level effects, as brms's ``VarCorr``.

    Reads ``<expr>|<group>_sigma`` (standard deviations), ``cor(<e1>,<e2>)|<group>``
    (correlations, where the model has them) and the residual standard deviation; a
    :class:`~course_pkg.correlated.CorrelatedModel` fit's ``sd_<group>`` and ``cor_<group>`` are
    read under those names.

    Parameters
    ----------
    idata : xarray.DataTree
        A fitted model.
    residual : str or None
        Name of the residual standard deviation (``"sigma"`` for Gaussian models); ``None`` or
        a name absent from the posterior leaves it out.
    prob : float
        Interval mass (default 0.95).

    Returns
    -------
    pandas.DataFrame
        Columns ``group_var``, ``term`` (``sd(Intercept)``, ``cor(Intercept,occasion)``,
        ``sigma``), ``Estimate``, ``Est.Error``, ``Q2.5``, ``Q97.5``; the residual row has
        ``group_var`` ``"Residual"``.

    Raises
    ------
    TypeError
        ``idata`` is not a DataTree.
    ValueError
        No standard deviations found, or bad ``prob``.

    Examples
    --------
    >>> varcorr(idata)  # doctest: +SKIP
      group_var                     term  Estimate ...
    0   student            sd(Intercept)     0.212 ...
    """
    _require_idata(idata)
    lo, hi = _check_prob(prob)
    rows = []
    for name, da in _variables(idata).items():
        if name.endswith("__"):
            continue
        match = _COR_RE.match(name)
        if "|" in name and name.endswith("_sigma") and not match:
            expr, group_var = name[: -len("_sigma")].split("|", 1)
            term, kind = f"sd({_effect_label(expr)})", 0
        elif match:
            group_var = match["group"]
            term = f"cor({_effect_label(match['e1'])},{_effect_label(match['e2'])})"
            kind = 1
        else:
            continue
        if [d for d in da.dims if d not in _SAMPLE_DIMS]:
            raise ValueError(f"{name!r} is not a scalar per draw; varcorr expects scalars")
        stats = _summarise(da.values, lo, hi)
        rows.append((group_var, kind, {"group_var": group_var, "term": term,
                                       **{k: float(v) for k, v in stats.items()}}))
    if not rows:
        raise ValueError(
            "no group-level standard deviations (variables named '<expr>|<group>_sigma')"
        )
    rows.sort(key=lambda r: (r[0], r[1]))  # by group, sds before correlations
    records = [r[2] for r in rows]
    if residual is not None and residual in idata.posterior:
        stats = _summarise(idata.posterior[residual].values, lo, hi)
        records.append({"group_var": "Residual", "term": residual,
                        **{k: float(v) for k, v in stats.items()}})
    out = pd.DataFrame(records)
    return out.rename(columns={"mean": "Estimate", "sd": "Est.Error",
                               "lo": f"Q{_pct(lo)}", "hi": f"Q{_pct(hi)}"})


def add_correlations(idata, group: str) -> list[str]:
    """Add each correlation of a builder fit's ``cor_<group>`` to its posterior as one scalar
    variable ``cor(<a>, <b>)`` (brms's names), so that summaries and parity checks can name it.

    Parameters
    ----------
    idata : xarray.DataTree
        A :class:`~course_pkg.correlated.CorrelatedModel` fit with ``cor_<group>``.
    group : str
        The block's name (``"id"`` for ``(... | id)``).

    Returns
    -------
    list of str
        The names added, lower triangle row by row (``cor(Intercept, day01)``, ...).

    Raises
    ------
    TypeError
        ``idata`` is not a DataTree.
    KeyError
        No ``cor_<group>`` in the posterior (the names of the ``cor_`` variables are listed).
    """
    _require_idata(idata)
    post = idata.posterior
    name = f"cor_{group}"
    if name not in post:
        have = [v for v in post.data_vars if str(v).startswith("cor_")]
        raise KeyError(f"the posterior has no {name!r}; correlation matrices: {have}")
    cor = post[name]
    coef, bis = f"{group}__coef", f"{group}__coef_bis"
    labels = [str(c) for c in cor[coef].values]
    names = []
    for i, a in enumerate(labels):
        for b in labels[:i]:
            label = f"cor({b}, {a})"
            post[label] = cor.sel({coef: b, bis: a}, drop=True)
            names.append(label)
    return names
