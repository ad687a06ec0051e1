"""``prior_table``: every prior of a Bambi model and who set it (brms's ``prior_summary``).

Kept apart from :mod:`course_pkg.effects`, which re-exports it, so that each module stays small.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["prior_table"]


def _prior_string(prior) -> str:
    if prior is None:
        return "(none)"
    if isinstance(prior, int | float):
        return f"scalar {prior}"
    return str(prior)


def prior_table(model) -> pd.DataFrame:
    """Every parameter of a Bambi model with its prior and who chose it (brms ``prior_summary``).

    Bambi prints priors with ``print(model)`` but does not say which were set by the user and
    which are its (automatically scaled) defaults; brms's ``prior_summary`` does. This function
    is hand-written because no library provides that table for Bambi. A prior counts as set by
    the user when Bambi marked it as exempt from automatic scaling, which Bambi does for every
    prior passed in ``priors=`` or through :meth:`bambi.Model.set_priors`.

    After :meth:`bambi.Model.set_priors`, Bambi rebuilds all priors and marks every one of them
    as fixed, so the flag no longer tells user from default: then only the terms named in
    ``set_priors`` are reported as ``"user"`` and the others as ``"unknown (set_priors was
    used)"``. Pass every prior at construction (as the course does) for an exact table.

    Note that ``priors={"common": ...}`` at construction also replaces the *intercept's* prior
    (Bambi treats the intercept as a common term there); set ``"Intercept"`` explicitly too.

    Parameters
    ----------
    model : bambi.Model
        A Bambi model (built or not; priors are complete once the model exists).

    Returns
    -------
    pandas.DataFrame
        One row per parameter: ``parameter`` (the name in the posterior), ``class`` (brms's
        classes: ``Intercept``, ``b``, ``sd`` for group-level standard deviations, ``r`` for the
        group-level effects themselves, or the name of an auxiliary parameter such as
        ``sigma``), ``component`` (the distributional parameter the term belongs to), ``prior``
        and ``source`` (``"user"``, ``"default (auto-scaled)"``, ``"default"`` or
        ``"hierarchical"`` for group effects whose prior is implied by their standard
        deviation).

    Raises
    ------
    TypeError
        If ``model`` is not a :class:`bambi.Model`.

    Examples
    --------
    >>> import bambi as bmb  # doctest: +SKIP
    >>> model = bmb.Model("y ~ x + (1 | g)", df, priors={"x": bmb.Prior("Normal", mu=0, sigma=1)})
    >>> prior_table(model)  # doctest: +SKIP
    """
    import bambi as bmb
    from bambi.terms import CommonTerm, GroupSpecificTerm

    if not isinstance(model, bmb.Model):
        raise TypeError(f"model must be a bambi.Model, got {type(model).__name__}")

    # After Model.set_priors Bambi rebuilds every prior and marks all of them as fixed, so the
    # flag no longer separates user from default; only the names passed to set_priors are known.
    added = {k: v for k, v in getattr(model, "_added_priors", {}).items() if v is not None}
    named_later = set(added.get("priors") or {})

    def source_of(prior, name: str | None = None, kind: str | None = None) -> str:
        if added:
            if name in named_later or (kind is not None and kind in added):
                return "user"
            return "unknown (set_priors was used)"
        if getattr(prior, "auto_scale", True) is False:
            return "user"
        return "default (auto-scaled)" if model.auto_scale else "default"

    parent = model.family.likelihood.parent
    rows = []
    for comp_name, component in model.conditional_parameters.items():
        prefix = "" if comp_name == parent else f"{comp_name}_"
        for term_name, term in component.terms.items():
            prior = term.prior
            if isinstance(term, GroupSpecificTerm):
                hyper = prior.args.get("sigma") if hasattr(prior, "args") else None
                rows.append({"parameter": f"{prefix}{term_name}_sigma", "class": "sd",
                             "component": comp_name, "prior": _prior_string(hyper),
                             "source": source_of(prior, term_name, "group_specific")})
                rows.append({"parameter": f"{prefix}{term_name}", "class": "r",
                             "component": comp_name,
                             "prior": f"Normal(mu: 0, sigma: {prefix}{term_name}_sigma)",
                             "source": "hierarchical"})
            elif isinstance(term, CommonTerm):
                is_intercept = getattr(term, "kind", None) == "intercept"
                rows.append({"parameter": f"{prefix}{term_name}",
                             "class": "Intercept" if is_intercept else "b",
                             "component": comp_name, "prior": _prior_string(prior),
                             "source": source_of(prior, term_name,
                                                 None if is_intercept else "common")})
            elif getattr(term, "kind", None) == "offset":
                continue
            else:  # splines, HSGP and other special terms
                rows.append({"parameter": f"{prefix}{term_name}", "class": "b",
                             "component": comp_name, "prior": _prior_string(prior),
                             "source": source_of(prior, term_name)})
    for comp_name, component in model.marginal_parameters.items():
        prior = component.prior
        if isinstance(prior, int | float):
            source = "user (fixed value)"
        elif added:
            source = "user" if comp_name in named_later else "unknown (set_priors was used)"
        else:
            source = "user" if getattr(prior, "auto_scale", True) is False else "default"
        rows.append({"parameter": comp_name, "class": comp_name, "component": comp_name,
                     "prior": _prior_string(prior), "source": source})
    return pd.DataFrame(rows, columns=["parameter", "class", "component", "prior", "source"])
