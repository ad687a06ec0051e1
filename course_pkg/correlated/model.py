"""``CorrelatedModel``: the builder's front. It checks its arguments, reads the design, and
hands the work to the modules by concern (design, priors, backend, grouped likelihood,
prediction)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd
import pymc as pm
import xarray as xr

from course_pkg import _datatree
from course_pkg.correlated import _backend, _grouped, _predict
from course_pkg.correlated._design import build_design
from course_pkg.correlated._effects import Context
from course_pkg.correlated._formula import FormulaError
from course_pkg.correlated._options import (
    Parameterization,
    check_likelihood,
    parse_group_effects,
)
from course_pkg.correlated._priors import PriorSet
from course_pkg.sampling import DEFAULTS


class CorrelatedModel:
    """A Gaussian multilevel model whose group terms have correlated effects (LKJ prior).

    Hand-written because Bambi has no correlated group effects with an LKJ prior, no ``|ID|``
    blocks and no residual correlation; formulae parses the formula and builds the design
    matrices.

    Parameters
    ----------
    formula : str or sequence of two str
        lme4/brms-style formula(s), e.g. ``"y ~ x + (1 + x | g)"``. Two formulas make a
        bivariate model (one per outcome); see ``rescor``.
    data : pandas.DataFrame
        The data. Rows with missing values in any used column are dropped
        (``n_dropped`` says how many).
    sigma : str, optional
        A scale formula for the residual SD on the log scale, e.g. ``"sigma ~ 1 + (1 | g)"``
        (the ``sigma ~`` is optional). Univariate models only.
    priors : mapping, optional
        Priors per class, as brms writes them: ``"Intercept"``, ``"b"``, ``"sd"`` (all blocks)
        or ``"sd_<block>"``, ``"cor"`` or ``"cor_<block>"`` (LKJ eta: a number or
        ``Prior("LKJ", eta=2)``), ``"sigma"``. Scale-formula classes carry a ``sigma_`` prefix
        (``"sigma_Intercept"``, ``"sigma_b"``); with two outcomes, location classes carry the
        outcome name (``"y1_Intercept"``, ``"y1_b"``, ``"sigma_y1"``) and ``"rescor"`` is the
        LKJ eta of the residual correlation. Values are :class:`Prior` or ``bambi.Prior``.
        Unspecified classes get weakly informative defaults (see :meth:`prior_table`).
    correlated : bool
        ``False`` switches every correlation off (as if each term were written with ``||``).
    rescor : bool
        With two outcomes, estimate their residual correlation (brms ``set_rescor(TRUE)``).
    group_effects : {"noncentered", "centered"} or Parameterization
        How the group effects are sampled. ``"noncentered"`` (default):
        ``z ~ N(0, 1)``, ``r = z @ (diag(sd) L)^T``. ``"centered"``: each group's
        coefficients are sampled around the population ones, ``m_j ~ MvN(beta, Sigma)``,
        ``r_j = m_j - beta`` (hierarchical centring), which samples better when every group
        has many observations. A :class:`Parameterization` centres only some columns of
        correlated blocks, or sets the order of their Cholesky factor (hand-written: PyMC has
        no partially centred multivariate normal). Ignored by ``likelihood="marginal"``.
    cov_parameterization : {"pymc", "stan"}
        How a correlated block's covariance is sampled. ``"pymc"`` (default): PyMC's
        ``LKJCholeskyCov``, the packed Cholesky factor of the covariance. ``"stan"``: the SDs
        apart from the correlations, and the correlations as unconstrained canonical partial
        correlations (:func:`lkj_cholesky_corr`), as Stan and brms do. Same prior either way;
        ``"stan"`` mixes better when one effect's SD is close to zero, because in the packed
        factor that SD drags its whole row, correlations included. The free variables are then
        ``sd_unit_<block>`` (the SDs at unit prior scale) and ``cpc_<block>``.
    center_predictors : bool
        Centre the population-level predictors of every formula part with an intercept, as brms
        does internally: the ``Intercept`` prior then applies to the intercept at the
        predictors' means (sampled as ``Intercept_c``), and ``Intercept`` is reported at
        predictors = 0 (brms's ``b_Intercept``). With ``group_effects="centered"`` this also
        removes the ridge between the intercept and the slopes that uncentred predictors create
        when every group has many observations.
    likelihood : {"rows", "grouped", "marginal"}
        How the Gaussian likelihood is evaluated; the model is the same. ``"rows"`` (default):
        row by row. ``"grouped"``: from per-group sums of squares and cross-products, exact, at
        a cost that grows with the number of groups rather than rows (13,000 diary days of 193
        people: one pass over 193 small matrices per gradient). It needs one grouping block
        that contains every population-level column of each mean formula, and a residual SD
        that is constant within groups (no scale formula, or ``sigma ~ 1 + (1 | g)`` in the
        same block); a clear error says which condition fails. ``"marginal"``: grouped, with
        the group effects integrated out (no scale formula): each group's data are, given the
        population coefficients and covariances, multivariate normal with covariance
        ``Z Sigma Z' + R``, so the sampler sees only the population parameters, free of the
        funnels and ridges that make centring choices necessary; :meth:`fit` then draws
        ``r_<block>`` from its exact conditional normal given each posterior draw, so the
        posterior is the same joint distribution as with sampled effects. The grouped
        likelihoods enter as a ``pm.Potential``; :meth:`fit` adds the pointwise
        log-likelihood for LOO from the posterior draws. Hand-written: PyMC has no
        grouped-Gaussian likelihood and marginalises discrete variables, not Gaussian effects.

    Raises
    ------
    FormulaError
        Syntax the builder does not support (the message says which part and what is
        supported) or that formulae cannot parse.
    KeyError
        A formula names a column that is not in ``data``.
    TypeError
        ``data``, ``formula``, ``priors`` or ``group_effects`` of the wrong type.
    ValueError
        A grouping factor with fewer than two levels; a prior for a class that does not exist;
        an unknown ``likelihood``, ``group_effects`` or ``cov_parameterization``; a likelihood
        that does not apply to the model; column labels that are not in a correlated block.

    Examples
    --------
    >>> m = CorrelatedModel("y ~ x + (1 + x | g)", df)  # doctest: +SKIP
    >>> idata = m.fit(random_seed=1)  # doctest: +SKIP
    >>> m.predict(idata, kind="mean")  # doctest: +SKIP
    """

    def __init__(
        self,
        formula: str | Sequence[str],
        data: pd.DataFrame,
        *,
        sigma: str | None = None,
        priors: Mapping | None = None,
        correlated: bool = True,
        rescor: bool = True,
        group_effects: str | Parameterization = "noncentered",
        cov_parameterization: str = "pymc",
        center_predictors: bool = False,
        likelihood: str = "rows",
    ):
        if not isinstance(data, pd.DataFrame):
            raise TypeError(f"data must be a pandas DataFrame, got {type(data).__name__}")
        if isinstance(formula, str):
            formulas = [formula]
        elif isinstance(formula, Sequence) and len(formula) == 2 and all(
            isinstance(f, str) for f in formula
        ):
            formulas = list(formula)
        else:
            raise TypeError("formula must be a string or a sequence of two strings (one per "
                            f"outcome), got {formula!r}")
        if sigma is not None and len(formulas) > 1:
            raise FormulaError("a scale formula (sigma=...) is supported for one outcome only")
        if priors is not None and not isinstance(priors, Mapping):
            raise TypeError(f"priors must be a mapping from class to prior, got {priors!r}")
        if cov_parameterization not in ("pymc", "stan"):
            raise ValueError("cov_parameterization must be 'pymc' (LKJCholeskyCov) or 'stan' "
                             f"(SDs and partial correlations), got {cov_parameterization!r}")
        self.likelihood = check_likelihood(likelihood, sigma is not None)
        self.cov_parameterization = cov_parameterization
        self.center_predictors = bool(center_predictors)
        self.design = build_design(formulas, sigma, data, bool(correlated))
        self.rescor = bool(rescor) and self.design.multivariate
        self.group_effects = parse_group_effects(group_effects,
                                                 self.design.correlated_labels())
        self.priors = PriorSet(self.design, priors or {}, self.rescor)
        self._plan = (_grouped.plan(self.design, likelihood) if likelihood != "rows"
                      else None)
        self._built = None
        self.idata = None

    # The design's parts, as attributes (read-only views).
    formulas = property(lambda self: self.design.formulas)
    sigma_formula = property(lambda self: self.design.sigma_formula)
    data = property(lambda self: self.design.data)
    n_dropped = property(lambda self: self.design.n_dropped)
    responses = property(lambda self: self.design.responses)
    parts = property(lambda self: self.design.parts)
    blocks = property(lambda self: self.design.blocks)
    multivariate = property(lambda self: self.design.multivariate)

    def prior_table(self) -> pd.DataFrame:
        """The prior of every class, the defaults filled in.

        Returns
        -------
        pandas.DataFrame
            Columns ``class`` and ``prior``, one row per parameter class.
        """
        return self.priors.table()

    @property
    def model(self) -> pm.Model:
        """The PyMC model (built on first use; ``build_s`` holds the seconds it took)."""
        if self._built is None:
            ctx = Context(self.design, self.priors, self.group_effects,
                          self.cov_parameterization)
            self._built = _backend.build(ctx, likelihood=self.likelihood,
                                         center_predictors=self.center_predictors,
                                         rescor=self.rescor, plan=self._plan)
        return self._built.model

    @property
    def build_s(self) -> float | None:
        """Seconds the PyMC model took to build (None before it is built)."""
        return None if self._built is None else self._built.build_s

    def fit(
        self,
        *,
        random_seed: int,
        draws: int = DEFAULTS["draws"],
        tune: int = DEFAULTS["tune"],
        chains: int = DEFAULTS["chains"],
        target_accept: float | None = None,
        sampler: str = DEFAULTS["sampler"],
        progressbar: bool | None = None,
        draw_effects: bool = True,
        **kwargs,
    ):
        """Sample the posterior with :func:`course_pkg.sampling.sample_pymc`.

        Parameters
        ----------
        random_seed : int
            Seed (required).
        draws, tune, chains : int
            Posterior draws and warm-up per chain; number of chains.
        target_accept : float, optional
            NUTS adaptation target.
        sampler : {"nutpie", "pymc", "numpyro"}
            NUTS implementation; nutpie by default.
        progressbar : bool, optional
            Progress bar; the course default when ``None``.
        draw_effects : bool
            With ``likelihood="marginal"``: draw the group effects after sampling (default).
            ``False`` leaves them out, for a fit whose group effects nothing reads: the
            sampled parameters and their draws are the same either way, and drawing and
            gating the effects costs seconds for thousands of them; it needs
            ``log_likelihood=False``. Ignored otherwise.
        **kwargs
            Passed on to :func:`pymc.sample`.

        Returns
        -------
        xarray.DataTree
            Posterior (helper variables ``z_*``, ``m_*``, ``m0_*``, ``chol_*`` and
            ``rescor_unit_`` removed), the pointwise log-likelihood for LOO,
            ``attrs["sampling_wall_s"]`` and ``attrs["build_s"]``. With
            ``likelihood="marginal"`` the group effects ``r_<block>`` are drawn after sampling,
            seeded by ``random_seed`` (unless ``draw_effects`` is ``False``).

        Raises
        ------
        TypeError
            ``draw_effects`` not a bool.
        ValueError
            ``draw_effects=False`` with the pointwise log-likelihood, which needs the effects.
        """
        if not isinstance(draw_effects, bool):
            raise TypeError(f"draw_effects must be True or False, got {draw_effects!r}")
        from course_pkg.sampling import sample_pymc

        model = self.model
        want_loglik = kwargs.pop("log_likelihood", True)
        if self.likelihood == "marginal" and want_loglik and not draw_effects:
            raise ValueError("the pointwise log-likelihood of a marginal fit is computed from "
                             "its group effects: pass log_likelihood=False with "
                             "draw_effects=False")
        grouped = self.likelihood != "rows"
        idata = sample_pymc(model, random_seed=random_seed, draws=draws, tune=tune,
                            chains=chains, target_accept=target_accept, sampler=sampler,
                            progressbar=progressbar,
                            log_likelihood=want_loglik and not grouped,
                            label=self._label(), **kwargs)
        helpers = [v for v in idata.posterior.data_vars
                   if v.startswith(("z_", "chol_", "m_", "m0_")) or v.endswith("_")]
        _datatree.set_group(idata, "posterior", _datatree.group(idata).drop_vars(helpers))
        idata.attrs["build_s"] = self.build_s
        if self.likelihood == "marginal" and draw_effects:
            _grouped.draw_group_effects(self.design, self._plan, self.rescor, idata,
                                        random_seed)
        if want_loglik and grouped:
            _predict.pointwise_loglik(self.design, self.rescor, idata)
        self.idata = idata
        return idata

    def _label(self) -> str:
        """The formulas (scale formula included), for the benchmark's fit log."""
        formulas = [*self.formulas, *([self.sigma_formula] if self.sigma_formula else [])]
        return " | ".join(formulas) + " (CorrelatedModel)"

    def predict(
        self,
        idata=None,
        data: pd.DataFrame | None = None,
        *,
        kind: str = "mean",
        allow_new_levels: bool = False,
        random_seed: int = 0,
    ) -> xr.DataArray:
        """Posterior draws of expected values or new observations.

        Parameters
        ----------
        idata : xarray.DataTree, optional
            A fit of this model; the last :meth:`fit` by default.
        data : pandas.DataFrame, optional
            New data; the model's data by default.
        kind : {"mean", "response", "sigma"}
            ``"mean"``: the expected value (brms ``posterior_epred``); ``"response"``: new
            observations (``posterior_predict``); ``"sigma"``: the residual SD per row.
        allow_new_levels : bool
            Whether groups not seen in fitting are allowed. Their effects are drawn, per
            posterior draw and per new level, from ``MvN(0, Sigma)`` (brms's
            ``sample_new_levels = "gaussian"``).
        random_seed : int
            Seed for new-level effects and new observations.

        Returns
        -------
        xarray.DataArray
            Dims ``(chain, draw, obs)``, plus ``response`` for two outcomes.

        Raises
        ------
        ValueError
            Unknown ``kind``, no fit, or new levels with ``allow_new_levels=False``.
        TypeError
            ``data`` not a DataFrame.
        KeyError
            New data without a grouping column.
        """
        idata = idata if idata is not None else self.idata
        if idata is None:
            raise ValueError("no posterior: call fit() first or pass idata")
        return _predict.predict(self.design, self.rescor, idata, data, kind=kind,
                                allow_new_levels=allow_new_levels, random_seed=random_seed)

    def __repr__(self) -> str:
        lines = [f"CorrelatedModel: {' | '.join(self.formulas)}"]
        if self.sigma_formula:
            lines.append(f"  scale: {self.sigma_formula}")
        lines.append(f"  rows: {len(self.data)} ({self.n_dropped} dropped for missing values)")
        for b in self.blocks:
            kind = "correlated" if b.k > 1 and b.correlated else "independent"
            if kind == "correlated" and self.cov_parameterization == "stan":
                kind += " (SDs and partial correlations sampled apart, as Stan)"
            lines.append(f"  block {b.name}: {len(b.levels)} levels of {b.factor}, "
                         f"{b.k} column(s) {b.coef_labels}, {kind}")
        if self.multivariate:
            lines.append(f"  residual correlation: {'estimated' if self.rescor else 'fixed at 0'}")
        kind = self.group_effects.describe()
        if self.likelihood == "marginal":
            kind = "integrated out of the likelihood, drawn after sampling"
        elif self.likelihood == "grouped":
            kind += "; likelihood from per-group moments"
        if self.center_predictors:
            kind += "; predictors centred (Intercept prior at their means)"
        lines.append(f"  group effects: {kind}")
        return "\n".join(lines)


def correlated_model(formula, data, **kwargs) -> CorrelatedModel:
    """Build a :class:`CorrelatedModel`; a function-style alias.

    Parameters
    ----------
    formula : str or sequence of two str
        See :class:`CorrelatedModel`.
    data : pandas.DataFrame
        The data.
    **kwargs
        ``sigma``, ``priors``, ``correlated``, ``rescor``, ``group_effects``,
        ``cov_parameterization``, ``center_predictors`` and ``likelihood`` of
        :class:`CorrelatedModel`.

    Returns
    -------
    CorrelatedModel

    Examples
    --------
    >>> m = correlated_model("y ~ x + (1 + x | g)", df, priors={"cor": 2})  # doctest: +SKIP
    """
    return CorrelatedModel(formula, data, **kwargs)
