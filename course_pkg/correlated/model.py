"""``CorrelatedModel``: the builder's front, PyMC backend, likelihoods and prediction."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import pymc as pm
import pytensor.tensor as pt
import xarray as xr

from course_pkg import _datatree
from course_pkg.correlated._blocks import _Block, _BlockColumn, _Part
from course_pkg.correlated._formula import (
    FormulaError,
    GroupSegment,
    _split_formula,
    split_group_terms,
)
from course_pkg.correlated._lkj import lkj_cholesky_corr
from course_pkg.correlated._priors import Prior, _as_prior, _eta, _standardise_scale
from course_pkg.linalg import spd_logdet_quad
from course_pkg.sampling import DEFAULTS


def _flat_draws(post, name: str) -> np.ndarray:
    """A posterior variable's draws with chains and draws merged: (chains * draws, ...)."""
    v = post[name].values
    return v.reshape(v.shape[0] * v.shape[1], *v.shape[2:])


def _mad(y):
    return float(1.4826 * np.median(np.abs(y - np.median(y))))


class CorrelatedModel:
    """A Gaussian multilevel model whose group terms have correlated effects (LKJ prior).

    Hand-written because Bambi 0.17 has no correlated group effects, no ``|ID|`` blocks and no
    residual correlation; formulae parses the formula and builds the design matrices.

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
    noncentered : bool
        Non-centred group effects (default): ``z ~ N(0, 1)``, ``r = z @ (diag(sd) L)^T``.
        ``False`` samples each group's coefficients around the population ones,
        ``m_j ~ MvN(beta, Sigma)``, ``r_j = m_j - beta`` (hierarchical centring), which samples
        better when every group has many observations.
    centered : sequence of str
        Partial centring for non-centred models: the named columns of correlated blocks (their
        coefficient labels, e.g. ``"Intercept"`` or ``"y1_day01"``) are sampled hierarchically
        centred and the rest of their block non-centred: ``r_N = L_NN z_N``, then the centred
        columns from their exact conditional given ``r_N``; a centred intercept is taken at
        each group's own mean of the block's other predictors (see ``_partly_centred``). For
        blocks mixing well-identified effects (intercepts of people with many observations)
        and weakly identified ones (small slope SDs). Naming every column of a block centres
        it all, with the intercepts still taken at the group means. Hand-written: PyMC has no
        partially centred multivariate normal.
    cov_parameterization : {"pymc", "stan"}
        How a correlated block's covariance is sampled. ``"pymc"`` (default): PyMC's
        ``LKJCholeskyCov``, the packed Cholesky factor of the covariance. ``"stan"``: the SDs
        apart from the correlations, and the correlations as unconstrained canonical partial
        correlations (:func:`lkj_cholesky_corr`), as Stan and brms do. Same prior either way;
        ``"stan"`` mixes better when one effect's SD is close to zero, because in the packed
        factor that SD drags its whole row, correlations included. The free variables are then
        ``sd_unit_<block>`` (the SDs at unit prior scale) and ``cpc_<block>``.
    cholesky_order : sequence of str
        Column labels to put first in a correlated block's Cholesky factor, the others following
        in formula order. The prior is unchanged (LKJ is exchangeable) but the non-centred
        parameterisation is not: column ``i`` of the group effects is built from ``z`` of
        columns ``0..i``. Putting well-identified effects (large SDs: intercepts, time slopes)
        first keeps them clear of the weakly identified ones, whose correlations the data barely
        inform. ``z_<block>``'s columns are in this order.
    rescor : bool
        With two outcomes, estimate their residual correlation (brms ``set_rescor(TRUE)``).
    center_predictors : bool
        Centre the population-level predictors of every formula part with an intercept, as brms
        does internally: the ``Intercept`` prior then applies to the intercept at the
        predictors' means (sampled as ``Intercept_c``), and ``Intercept`` is reported at
        predictors = 0 (brms's ``b_Intercept``). With hierarchical centring
        (``noncentered=False``) this also removes the ridge between the intercept and the
        slopes that uncentred predictors create when every group has many observations.
    sufficient_statistics : bool
        Evaluate the Gaussian likelihood from per-group sums of squares and cross-products
        instead of row by row. Exact, and its cost grows with the number of groups rather than
        rows (13,000 diary days of 193 people: one pass over 193 small matrices per gradient).
        Needs one grouping block that contains every population-level column of each mean
        formula, and a residual SD that is constant within groups (no scale formula, or
        ``sigma ~ 1 + (1 | g)`` in the same block); a clear error says which condition fails.
        The likelihood enters as a ``pm.Potential``; :meth:`fit` adds the pointwise
        log-likelihood for LOO from the posterior draws. Hand-written because PyMC has no
        grouped-Gaussian likelihood.
    marginalize : bool
        Integrate the group effects out of the likelihood instead of sampling them (needs
        ``sufficient_statistics=True`` and no scale formula). The effects enter a Gaussian
        likelihood linearly, so each group's data are, given the population coefficients and
        covariances alone, multivariate normal with covariance ``Z Sigma Z' + R``; the sampler
        then sees only the population parameters (47 for a bivariate model with eight
        correlated effects, instead of 47 + 8 per group), free of the funnels and ridges that
        make centring choices necessary. The log density uses the matrix determinant and
        inversion lemmas on each group's moments (one k x k Cholesky factor per group and
        gradient). After sampling, :meth:`fit` draws ``r_<block>`` from its exact conditional
        normal given each posterior draw, so the posterior is the same joint distribution as
        with sampled effects. ``noncentered``, ``centered`` and ``cholesky_order`` do not
        apply. Hand-written: PyMC marginalises discrete variables, not Gaussian group effects.

    Raises
    ------
    FormulaError
        Syntax the builder does not support (the message says which part and what is
        supported) or that formulae cannot parse.
    KeyError
        A formula names a column that is not in ``data``.
    ValueError
        A grouping factor with fewer than two levels; a prior for a class that does not exist.

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
        noncentered: bool = True,
        centered: Sequence[str] = (),
        cov_parameterization: str = "pymc",
        cholesky_order: Sequence[str] = (),
        center_predictors: bool = False,
        sufficient_statistics: bool = False,
        marginalize: bool = False,
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
        self.formulas = formulas
        self.sigma_formula = sigma
        self.correlated = bool(correlated)
        self.noncentered = bool(noncentered)
        if isinstance(centered, str) or not isinstance(centered, Sequence) or not all(
            isinstance(c, str) for c in centered
        ):
            raise TypeError(f"centered must be a sequence of column labels, got {centered!r}")
        self.centered = tuple(centered)
        if cov_parameterization not in ("pymc", "stan"):
            raise ValueError("cov_parameterization must be 'pymc' (LKJCholeskyCov) or 'stan' "
                             f"(SDs and partial correlations), got {cov_parameterization!r}")
        self.cov_parameterization = cov_parameterization
        if isinstance(cholesky_order, str) or not isinstance(cholesky_order, Sequence) or not all(
            isinstance(c, str) for c in cholesky_order
        ):
            raise TypeError(f"cholesky_order must be a sequence of column labels, got "
                            f"{cholesky_order!r}")
        self.cholesky_order = tuple(cholesky_order)
        if self.centered and not self.noncentered:
            raise ValueError("centered lists columns to centre within non-centred blocks; with "
                             "noncentered=False every column is centred already")
        self.center_predictors = bool(center_predictors)
        self.sufficient_statistics = bool(sufficient_statistics)
        self.marginalize = bool(marginalize)
        if self.marginalize and not self.sufficient_statistics:
            raise ValueError("marginalize=True integrates the group effects out of the grouped "
                             "likelihood; it needs sufficient_statistics=True")
        if self.marginalize and sigma is not None:
            raise ValueError("marginalize=True needs a residual SD that does not vary by group; "
                             "with a scale formula the group effects cannot be integrated out "
                             "in closed form")
        self.multivariate = len(formulas) == 2
        self.rescor = bool(rescor) and self.multivariate
        self._priors_in = dict(priors or {})
        self._setup(data)
        known = [lab for b in self.blocks if b.correlated and b.k > 1 for lab in b.coef_labels]
        for arg, labels in (("centered", self.centered), ("cholesky_order", self.cholesky_order)):
            unknown = [c for c in labels if c not in known]
            if unknown:
                raise ValueError(f"{arg} names {unknown}, which are not columns of a "
                                 f"correlated block; the columns are {known}")
        if self.sufficient_statistics:
            self._suff_plan = self._sufficient_plan()
        self._model = None
        self.build_s = None

    # ---------------------------------------------------------------- set-up
    def _setup(self, data: pd.DataFrame) -> None:
        import formulae as fm

        specs = []  # (part name, prefix, dpar, formula string)
        responses = []
        for f in self.formulas:
            lhs, _ = _split_formula(f, need_response=True)
            responses.append(lhs)
        if self.multivariate:
            if responses[0] == responses[1]:
                raise FormulaError(f"the two formulas must have different responses, both "
                                   f"are {responses[0]!r}")
            for f, r in zip(self.formulas, responses, strict=True):
                specs.append((f"mu_{r}", f"{r}_", "mu", f))
        else:
            specs.append(("mu", "", "mu", self.formulas[0]))
            if self.sigma_formula is not None:
                lhs, rhs = _split_formula(self.sigma_formula, need_response=False)
                if lhs not in (None, "sigma"):
                    raise FormulaError(f"the scale formula must model sigma ('sigma ~ ...'), "
                                       f"got {self.sigma_formula!r}")
                specs.append(("sigma", "sigma_", "sigma", rhs))

        # Read each part: response, common right-hand side, group segments.
        parsed = []
        used_vars: set[str] = set()
        for name, prefix, dpar, f in specs:
            lhs, rhs = _split_formula(f, need_response=dpar == "mu")
            common, segments = split_group_terms(rhs)
            clean = common + "".join(" + " + s.clean for s in segments)
            try:
                desc = fm.model_description(f"{lhs or 'placeholderresponse'} ~ {clean}")
            except Exception as err:  # formulae raises several error types
                raise FormulaError(f"formulae cannot parse {f!r}: {err}") from err
            used_vars |= set(desc.var_names) - {"placeholderresponse"}
            parsed.append((name, prefix, dpar, lhs, common, segments))
        missing = sorted(v for v in used_vars if v not in data.columns)
        if missing:
            raise KeyError(
                f"the formula uses column(s) {missing} that are not in data; columns are "
                f"{list(data.columns)}"
            )
        df = data[sorted(used_vars)].dropna()
        self.n_dropped = len(data) - len(df)
        if len(df) == 0:
            raise ValueError("no complete rows left after dropping missing values")
        self.data = df.reset_index(drop=True)
        self.responses = responses

        self.parts: dict[str, _Part] = {}
        self.blocks: list[_Block] = []
        block_by_label: dict[tuple[str, str], _Block] = {}
        for name, prefix, dpar, lhs, common, segments in parsed:
            part = _Part(name, prefix, dpar, lhs, common)
            try:
                part.dm = fm.design_matrices(common, self.data, na_action="error")
            except Exception as err:
                raise FormulaError(f"formulae cannot build the design matrix of {common!r}: "
                                   f"{err}") from err
            cdf = part.dm.common.as_dataframe()
            part.has_intercept = "Intercept" in cdf.columns
            part.b_labels = [c for c in cdf.columns if c != "Intercept"]
            part.X = cdf[part.b_labels].to_numpy(dtype=float)
            if lhs is not None:
                y = self.data[lhs].to_numpy(dtype=float)
                part.center_y, part.scale_y = float(np.median(y)), max(2.5, _mad(y))
            self.parts[name] = part
            for seg in segments:
                block = self._segment_block(seg, block_by_label)
                self._add_segment(block, part, seg)
        names = [b.factor.replace(":", "_") for b in self.blocks]
        for b, base in zip(self.blocks, names, strict=True):
            clash = names.count(base) > 1
            b.name = base if not clash else f"{base}_{b.label or self.blocks.index(b) + 1}"
        self._check_priors()

    def _segment_block(self, seg: GroupSegment, by_label) -> _Block:
        if seg.label is not None and (seg.factor, seg.label) in by_label:
            return by_label[(seg.factor, seg.label)]
        block = _Block("", seg.factor, [], seg.correlated and self.correlated, seg.label)
        if seg.label is not None:
            by_label[(seg.factor, seg.label)] = block
        self.blocks.append(block)
        return block

    def _add_segment(self, block: _Block, part: _Part, seg: GroupSegment) -> None:
        import formulae as fm

        try:
            dm = fm.design_matrices(f"0 + {seg.clean}", self.data, na_action="error")
        except Exception as err:
            raise FormulaError(f"formulae cannot parse group term {seg.text!r}: {err}") from err
        terms = list(dm.group.terms.values())
        factor_vars = [c.name for c in terms[0].factor.components]
        groups = list(terms[0].groups)
        if len(groups) < 2:
            raise ValueError(
                f"grouping factor {seg.factor!r} in {seg.text!r} has {len(groups)} level "
                f"({groups}); a varying effect needs at least two groups"
            )
        if not block.levels:
            block.levels, block.factor_vars = groups, factor_vars
            block.idx = terms[0].factor.data.argmax(1)
        elif groups != block.levels:
            raise ValueError(f"group term {seg.text!r}: levels of {seg.factor!r} differ from "
                             "those of the block it shares")
        for term in terms:
            xi = np.asarray(term.expr.data, dtype=float)
            if xi.ndim == 1:
                xi = xi[:, None]
            for j, lab in enumerate(term.expr.labels):
                block.columns.append(_BlockColumn(part.name, term, j, part.prefix + lab))
                block.Xi.append(xi[:, j])
        if len(set(block.coef_labels)) != block.k:
            raise FormulaError(f"group term {seg.text!r} repeats a column already in its block")

    # ---------------------------------------------------------------- priors
    def _valid_prior_keys(self) -> list[str]:
        keys = []
        for part in self.parts.values():
            if part.has_intercept:
                keys.append(f"{part.prefix}Intercept")
            if part.b_labels:
                keys.append(f"{part.prefix}b")
        keys.append("sd")
        keys += [f"sd_{b.name}" for b in self.blocks]
        if any(b.k > 1 and b.correlated for b in self.blocks):
            keys.append("cor")
            keys += [f"cor_{b.name}" for b in self.blocks if b.k > 1 and b.correlated]
        if self.multivariate:
            keys += [f"sigma_{r}" for r in self.responses]
            if self.rescor:
                keys.append("rescor")
        elif self.sigma_formula is None:
            keys.append("sigma")
        return keys

    def _check_priors(self) -> None:
        valid = self._valid_prior_keys()
        bad = [k for k in self._priors_in if k not in valid]
        if bad:
            raise ValueError(
                f"priors given for class(es) {bad} that this model does not have; its classes "
                f"are {valid}"
            )
        for k, v in self._priors_in.items():
            if k == "cor" or k.startswith("cor_") or k == "rescor":
                _eta(v, k)
            else:
                _as_prior(v, k)

    def _prior(self, key: str, default: Prior) -> Prior:
        if key in self._priors_in:
            return _as_prior(self._priors_in[key], key)
        return default

    def _defaults(self) -> dict[str, Prior]:
        out = {}
        for part in self.parts.values():
            p = part.prefix
            if part.dpar == "mu":
                if part.has_intercept:
                    out[f"{p}Intercept"] = Prior("StudentT", nu=3, mu=round(part.center_y, 3),
                                                 sigma=round(2.5 * part.scale_y, 3))
                if part.b_labels:
                    sd_x = np.where(part.X.std(0) > 0, part.X.std(0), 1.0)
                    out[f"{p}b"] = Prior("Normal", mu=0,
                                         sigma=np.round(2.5 * part.scale_y / sd_x, 3))
            else:
                if part.has_intercept:
                    out[f"{p}Intercept"] = Prior("StudentT", nu=3, mu=0, sigma=2.5)
                if part.b_labels:
                    sd_x = np.where(part.X.std(0) > 0, part.X.std(0), 1.0)
                    out[f"{p}b"] = Prior("Normal", mu=0, sigma=np.round(2.5 / sd_x, 3))
        if self.multivariate:
            for r in self.responses:
                out[f"sigma_{r}"] = Prior("HalfStudentT", nu=3,
                                          sigma=round(self.parts[f"mu_{r}"].scale_y, 3))
        elif self.sigma_formula is None:
            out["sigma"] = Prior("HalfStudentT", nu=3, sigma=round(self.parts["mu"].scale_y, 3))
        return out

    def _sd_default(self, block: _Block) -> Prior:
        scales = []
        for c in block.columns:
            part = self.parts[c.part]
            scales.append(part.scale_y if part.dpar == "mu" else 2.5)
        return Prior("HalfStudentT", nu=3, sigma=np.round(np.asarray(scales), 3))

    def prior_table(self) -> pd.DataFrame:
        """The prior of every class, the defaults filled in.

        Returns
        -------
        pandas.DataFrame
            Columns ``class`` and ``prior``, one row per parameter class.
        """
        rows = []
        defaults = self._defaults()
        for key, default in defaults.items():
            rows.append((key, self._prior(key, default)))
        for b in self.blocks:
            rows.append((f"sd_{b.name}", self._block_sd_prior(b)))
            if b.k > 1 and b.correlated:
                rows.append((f"cor_{b.name}", Prior("LKJ", eta=self._block_eta(b))))
        if self.rescor:
            rows.append(("rescor", Prior("LKJ", eta=self._rescor_eta())))

        def fmt(p):
            args = ", ".join(f"{k}={np.asarray(v).tolist()}" for k, v in p.args.items())
            return f"{p.name}({args})"

        return pd.DataFrame([(k, fmt(p)) for k, p in rows], columns=["class", "prior"])

    def _block_sd_prior(self, b: _Block) -> Prior:
        key = f"sd_{b.name}"
        if key in self._priors_in:
            return _as_prior(self._priors_in[key], key)
        if "sd" in self._priors_in:
            return _as_prior(self._priors_in["sd"], "sd")
        return self._sd_default(b)

    def _block_eta(self, b: _Block) -> float:
        for key in (f"cor_{b.name}", "cor"):
            if key in self._priors_in:
                return _eta(self._priors_in[key], key)
        return 1.0

    def _rescor_eta(self) -> float:
        return _eta(self._priors_in["rescor"], "rescor") if "rescor" in self._priors_in else 1.0

    # ---------------------------------------------------------------- model
    @property
    def model(self) -> pm.Model:
        """The PyMC model (built on first use; ``build_s`` holds the seconds it took)."""
        if self._model is None:
            start = time.perf_counter()
            self._model = self._build()
            self.build_s = round(time.perf_counter() - start, 3)
        return self._model

    def _coords(self) -> dict:
        coords = {"obs": np.arange(len(self.data))}
        for part in self.parts.values():
            if part.b_labels:
                coords[f"{part.prefix}b_dim"] = part.b_labels
        for b in self.blocks:
            coords[b.name + "__level"] = b.levels
            coords[f"{b.name}__coef"] = b.coef_labels
            if b.k > 1 and b.correlated:
                coords[f"{b.name}__coef_bis"] = b.coef_labels
        if self.multivariate:
            coords["response"] = self.responses
        return coords

    def _build(self) -> pm.Model:
        defaults = self._defaults()
        n = len(self.data)
        self._pop = {}
        with pm.Model(coords=self._coords()) as model:
            eta = {}
            for part in self.parts.values():
                p = part.prefix
                lin = pt.zeros(n)
                pop = self._pop.setdefault(part.name, {})
                # brms-style centring: the Intercept prior applies at the predictors' means.
                centre = self.center_predictors and part.has_intercept and bool(part.b_labels)
                if part.has_intercept:
                    prior = self._prior(f"{p}Intercept", defaults[f"{p}Intercept"])
                    name = f"{p}Intercept_c" if centre else f"{p}Intercept"
                    icept = getattr(pm, prior.name)(name, **prior.args)
                    lin = lin + icept
                    if not centre:
                        pop["Intercept"] = icept
                if part.b_labels:
                    prior = self._prior(f"{p}b", defaults[f"{p}b"])
                    beta = getattr(pm, prior.name)(f"{p}b", **prior.args, dims=f"{p}b_dim")
                    for j, lab in enumerate(part.b_labels):
                        pop[lab] = beta[j]
                    X = pm.Data(f"X_{part.name}", part.X)
                    if centre:
                        means = part.X.mean(axis=0)
                        lin = lin + pt.dot(X - means, beta)
                        pop["Intercept"] = pm.Deterministic(f"{p}Intercept",
                                                            icept - pt.dot(means, beta))
                    else:
                        lin = lin + pt.dot(X, beta)
                eta[part.name] = lin
            if self.marginalize:
                self._marginal_likelihood(self._block_chol(self.blocks[0]))
                return model
            if self.sufficient_statistics:
                self._sufficient_likelihood(self._block_effects(self.blocks[0]))
                return model
            for b in self.blocks:
                r = self._block_effects(b)
                idx = pm.Data(f"idx_{b.name}", b.idx.astype("int64"))
                Xi = pm.Data(f"Z_{b.name}", np.column_stack(b.Xi))
                # One 1-D gather per column: its gradient (a scatter-add into r[:, j]) is about
                # five times faster in numba than that of a 2-D row gather r[idx].
                for j, c in enumerate(b.columns):
                    eta[c.part] = eta[c.part] + r[idx, j] * Xi[:, j]
            self._likelihood(eta, defaults)
        return model

    def _block_cov(self, b: _Block):
        """Sample a correlated block's SDs and correlations; record ``sd_`` and ``cor_``.

        Returns ``(chol, chol_p, perm, first)``: the Cholesky factor of the covariance with rows
        in the block's column order, the factor built in ``perm`` order (``cholesky_order``
        first), that order, and the labels put first.
        """
        coef = f"{b.name}__coef"
        sd_prior = self._block_sd_prior(b)
        # The SD prior is written as scale * (its family at scale 1): vector scales stay out
        # of LKJCholeskyCov's sd_dist, and the sampled SDs are all on a unit scale.
        name, args, scale = _standardise_scale(sd_prior)
        # The Cholesky factor is built for the columns in `perm` order (cholesky_order);
        # rows of `chol` below are in the block's own column order, chol @ chol.T = Sigma.
        first = [lab for lab in self.cholesky_order if lab in b.coef_labels]
        perm = [b.coef_labels.index(lab) for lab in first]
        perm += [j for j in range(b.k) if j not in perm]
        inverse = np.argsort(perm)
        scale = np.broadcast_to(scale, (b.k,)).astype(float)[perm]
        scale = pt.as_tensor_variable(scale)
        if self.cov_parameterization == "stan":
            # SDs apart from the correlations, as Stan and brms sample them.
            sd_unit = getattr(pm, name)(f"sd_unit_{b.name}", **args, dims=coef)
            L_corr = lkj_cholesky_corr(f"cpc_{b.name}", n=b.k, eta=self._block_eta(b))
            chol_p = (scale * sd_unit[perm])[:, None] * L_corr
        else:
            sd_dist = getattr(pm, name).dist(**args, shape=b.k)
            chol_std, _, _ = pm.LKJCholeskyCov(
                f"chol_{b.name}", n=b.k, eta=self._block_eta(b), sd_dist=sd_dist,
                compute_corr=True, store_in_trace=False,
            )
            chol_p = scale[:, None] * chol_std
        chol = chol_p[inverse]
        cov = chol @ chol.T
        sd = pt.sqrt(pt.diag(cov))
        pm.Deterministic(f"sd_{b.name}", sd, dims=coef)
        pm.Deterministic(f"cor_{b.name}", cov / pt.outer(sd, sd),
                         dims=(coef, f"{b.name}__coef_bis"))
        return chol, chol_p, perm, first

    def _block_chol(self, b: _Block):
        """A Cholesky factor of a block's covariance (diagonal for independent effects)."""
        if b.k > 1 and b.correlated:
            return self._block_cov(b)[0]
        sd_prior = self._block_sd_prior(b)
        sd = getattr(pm, sd_prior.name)(f"sd_{b.name}", **sd_prior.args, dims=f"{b.name}__coef")
        return pt.diag(sd)

    def _block_effects(self, b: _Block):
        level, coef = b.name + "__level", f"{b.name}__coef"
        sd_prior = self._block_sd_prior(b)
        if b.k > 1 and b.correlated:
            chol, chol_p, perm, first = self._block_cov(b)
            inverse = np.argsort(perm)
            if not self.noncentered:
                # Hierarchical centring: sample each group's coefficients m_j ~ MvN(beta, Sigma)
                # around the matching population coefficients, so that beta and the group
                # means are not tied along a ridge; r_j = m_j - beta.
                pop = self._pop_vector(b)
                if first:
                    order_dim = f"{b.name}__cholesky"
                    pm.modelcontext(None).add_coord(order_dim, [b.coef_labels[j] for j in perm])
                    m = pm.MvNormal(f"m_{b.name}", mu=pop[perm], chol=chol_p,
                                    dims=(level, order_dim))
                    return pm.Deterministic(f"r_{b.name}", (m - pop[perm])[:, inverse],
                                            dims=(level, coef))
                m = pm.MvNormal(f"m_{b.name}", mu=pop, chol=chol, dims=(level, coef))
                return pm.Deterministic(f"r_{b.name}", m - pop, dims=(level, coef))
            cen = [j for j, lab in enumerate(b.coef_labels) if lab in self.centered]
            if cen and first and set(perm[:len(cen)]) == set(cen):
                return self._centred_first(b, chol_p, perm, len(cen))
            if cen:
                return self._partly_centred(b, chol, cen)
            # z's columns follow the Cholesky order; r = (z @ chol_p.T) in the block's order.
            z_dim = coef
            if first:
                z_dim = f"{b.name}__cholesky"
                pm.modelcontext(None).add_coord(z_dim, [b.coef_labels[j] for j in perm])
            z = pm.Normal(f"z_{b.name}", 0.0, 1.0, dims=(level, z_dim))
            r = pt.dot(z, chol_p.T)[:, inverse]
        else:
            sd = getattr(pm, sd_prior.name)(f"sd_{b.name}", **sd_prior.args, dims=coef)
            if not self.noncentered:
                pop = self._pop_vector(b)
                m = pm.Normal(f"m_{b.name}", pop, sd, dims=(level, coef))
                return pm.Deterministic(f"r_{b.name}", m - pop, dims=(level, coef))
            z = pm.Normal(f"z_{b.name}", 0.0, 1.0, dims=(level, coef))
            r = z * sd
        return pm.Deterministic(f"r_{b.name}", r, dims=(level, coef))

    def _centred_first(self, b: _Block, chol_p, perm: list[int], c: int):
        """Group effects whose first ``c`` columns in Cholesky order are centred, the rest not.

        Used when ``centered`` names exactly the columns that ``cholesky_order`` puts first:
        ``m_C ~ MvN(beta_C, L_CC)`` for the well-identified columns, and the others
        non-centred given them, ``r_N = L_NC z_C + L_NN z_N`` with
        ``z_C = L_CC^{-1} (m_C - beta_C)``, which is ``r = L z`` again (the prior is
        unchanged). ``chol_p`` is the Cholesky factor in ``perm`` order.
        """
        from pytensor.tensor.linalg import solve_triangular

        level = b.name + "__level"
        labels = [b.coef_labels[j] for j in perm]
        model = pm.modelcontext(None)
        model.add_coord(f"{b.name}__centred", labels[:c])
        model.add_coord(f"{b.name}__noncentred", labels[c:])
        pop = self._pop_vector(b)[perm]
        C, N = slice(0, c), slice(c, b.k)
        m_c = pm.MvNormal(f"m_{b.name}", mu=pop[C], chol=chol_p[C, C],
                          dims=(level, f"{b.name}__centred"))
        r_c = m_c - pop[C]
        z_c = solve_triangular(chol_p[C, C], r_c.T, lower=True).T
        z_n = pm.Normal(f"z_{b.name}", 0.0, 1.0, dims=(level, f"{b.name}__noncentred"))
        r_n = pt.dot(z_c, chol_p[N, C].T) + pt.dot(z_n, chol_p[N, N].T)
        r = pt.concatenate([r_c, r_n], axis=1)[:, np.argsort(perm)]
        return pm.Deterministic(f"r_{b.name}", r, dims=(level, f"{b.name}__coef"))

    def _partly_centred(self, b: _Block, chol, cen: list[int]):
        """Group effects with the columns ``cen`` centred and the others non-centred.

        ``chol`` is the Cholesky factor of the block's covariance in column order. The columns
        are reordered as N (non-centred), S (centred slopes) and I (centred intercepts: columns
        of ones), and a factor ``L`` of the same covariance in that order is taken (reordering
        changes the parameterisation, not the prior). With ``r = L z``:

        - ``r_N = L_NN z_N``;
        - ``m_S ~ MvN(beta_S + L_SN z_N, L_SS)``, ``r_S = m_S - beta_S``, the exact conditional
          of ``r_S`` given ``z_N``;
        - ``m_I ~ MvN(c_j + L_IN z_N + L_IS z_S, L_II)``, ``r_I = m_I - c_j``, with
          ``c_j = beta_I + xbar_j (beta_P + r_P)``: each centred intercept is taken at the
          group's own mean ``xbar_j`` of the other predictors P = N + S of the same formula
          part (for every slope, the group's mean of ``x`` times the group's slope). When groups
          sit far from ``x = 0`` this removes the strong posterior correlation between a
          group's intercept and its slopes. The shift is exact, so the model is unchanged.
        """
        from pytensor.tensor.linalg import cholesky, solve_triangular

        level = b.name + "__level"
        labels = b.coef_labels
        ones = [j for j in cen if np.all(b.Xi[j] == 1.0)]
        non = [j for j in range(b.k) if j not in cen]
        slopes = [j for j in cen if j not in ones]
        order = non + slopes + ones
        inverse = np.argsort(order)
        cov = chol @ chol.T
        L = cholesky(cov[order][:, order])
        n, s = len(non), len(slopes)
        rn, rs, ri = slice(0, n), slice(n, n + s), slice(n + s, b.k)
        model = pm.modelcontext(None)
        pop = self._pop_vector(b)
        parts = []
        z_n = None
        if non:
            model.add_coord(f"{b.name}__noncentred", [labels[j] for j in non])
            z_n = pm.Normal(f"z_{b.name}", 0.0, 1.0, dims=(level, f"{b.name}__noncentred"))
            parts.append(pt.dot(z_n, L[rn, rn].T))
        z_s = None
        if slopes:
            model.add_coord(f"{b.name}__centred", [labels[j] for j in slopes])
            mu = pop[slopes] + (pt.dot(z_n, L[rs, rn].T) if non else 0.0)
            m_s = pm.MvNormal(f"m_{b.name}", mu=mu, chol=L[rs, rs],
                              dims=(level, f"{b.name}__centred"))
            r_s = m_s - pop[slopes]
            parts.append(r_s)
            if ones:
                z_s = solve_triangular(L[rs, rs], (r_s - (mu - pop[slopes])).T, lower=True).T
        if ones:
            # X[j, a, p]: group j's mean of predictor p (non-centred or centred slope) when
            # p is in the same formula part as intercept a, else 0.
            given = non + slopes
            n_levels = len(b.levels)
            counts = np.bincount(b.idx, minlength=n_levels).astype(float)
            X = np.zeros((n_levels, len(ones), len(given)))
            for a, ja in enumerate(ones):
                for p_, jp in enumerate(given):
                    if b.columns[jp].part == b.columns[ja].part:
                        sums = np.bincount(b.idx, weights=b.Xi[jp], minlength=n_levels)
                        X[:, a, p_] = sums / np.maximum(counts, 1.0)
            model.add_coord(f"{b.name}__intercepts", [labels[j] for j in ones])
            r_given = pt.concatenate(parts, axis=1) if parts else None
            shift = pop[ones]
            if given:
                shift = shift + (pt.as_tensor_variable(X)
                                 * (pop[given] + r_given)[:, None, :]).sum(axis=-1)
            mu = shift
            if non:
                mu = mu + pt.dot(z_n, L[ri, rn].T)
            if slopes:
                mu = mu + pt.dot(z_s, L[ri, rs].T)
            m_i = pm.MvNormal(f"m0_{b.name}", mu=mu, chol=L[ri, ri],
                              dims=(level, f"{b.name}__intercepts"))
            parts.append(m_i - shift)
        r = pt.concatenate(parts, axis=1)[:, inverse]
        return pm.Deterministic(f"r_{b.name}", r, dims=(level, f"{b.name}__coef"))

    def _pop_vector(self, b: _Block):
        """Population coefficients matching a block's columns (0 where there is none)."""
        values = []
        for c in b.columns:
            prefix = self.parts[c.part].prefix
            label = c.label[len(prefix):]
            values.append(self._pop.get(c.part, {}).get(label, pt.as_tensor_variable(0.0)))
        return pt.stack(values)

    def _sufficient_plan(self) -> dict:
        """Check that the grouped-Gaussian likelihood applies; precompute per-group moments."""
        def no(reason):
            raise ValueError(f"sufficient_statistics=True does not apply to this model: {reason}")

        if len(self.blocks) != 1:
            no(f"it needs exactly one grouping block, the model has {len(self.blocks)}")
        b = self.blocks[0]
        n = len(self.data)
        mu_parts = [p for p in self.parts.values() if p.dpar == "mu"]
        cols, segments = [], []  # block columns per outcome; (y, Z) per outcome
        for part in mu_parts:
            own = {c.label: j for j, c in enumerate(b.columns) if c.part == part.name}
            pop = (["Intercept"] if part.has_intercept else []) + part.b_labels
            for lab in pop:
                j = own.get(part.prefix + lab)
                data_col = (np.ones(n) if lab == "Intercept"
                            else part.X[:, part.b_labels.index(lab)])
                if j is None or not np.allclose(b.Xi[j], data_col):
                    no(f"population term {part.prefix + lab!r} does not also vary by "
                       f"{b.factor!r} with the same values, so the mean is not a per-group "
                       "linear function of the group's design")
            js = sorted(own.values())
            cols.append(js)
            y = self.data[part.response].to_numpy(dtype=float)
            segments.append(np.column_stack([y] + [b.Xi[j] for j in js]))
        sig_cols = [j for j, c in enumerate(b.columns) if c.part == "sigma"]
        if "sigma" in self.parts:
            sp = self.parts["sigma"]
            if sp.b_labels or any(not np.allclose(b.Xi[j], 1.0) for j in sig_cols):
                no("the scale formula may hold only an intercept and a group intercept in the "
                   "same block (sigma must be constant within groups)")
        W = np.column_stack(segments)  # (n, K): [y1, Z1, (y2, Z2)]
        L, K = len(b.levels), W.shape[1]
        M = np.empty((L, K, K))
        for a in range(K):
            for c in range(a, K):
                M[:, a, c] = M[:, c, a] = np.bincount(b.idx, weights=W[:, a] * W[:, c],
                                                      minlength=L)
        offsets = np.cumsum([0] + [1 + len(js) for js in cols])[:-1]
        plan = {"cols": cols, "sig_cols": sig_cols, "M": M, "offsets": offsets,
                "n_j": np.bincount(b.idx, minlength=L).astype(float)}
        if self.marginalize:
            # select[o] (K, k) picks outcome o's design columns of W out as block columns, so
            # that select[o].T @ M_j @ select[p] is group j's sum of z_o z_p' in block order.
            select = np.zeros((len(cols), K, b.k))
            for o, (js, off) in enumerate(zip(cols, offsets, strict=True)):
                for t, j in enumerate(js):
                    select[o, off + 1 + t, j] = 1.0
            plan["select"] = select
            plan["ZZ"] = np.einsum("oak,lab,pbm->oplkm", select, M, select)
        return plan

    def _sufficient_likelihood(self, r) -> None:
        """The Gaussian log-likelihood from per-group moments (see ``sufficient_statistics``)."""
        plan = self._suff_plan
        b = self.blocks[0]
        # Data rather than constants: PyTensor would fold slices of constant arrays into new,
        # non-contiguous constants, and numba does not cache a function that holds one.
        M = pm.Data("suff_moments_", plan["M"])
        n_j = pm.Data("suff_counts_", plan["n_j"])
        L, K = plan["M"].shape[:2]
        theta = self._pop_vector(b)[None, :] + r  # (L, k): each group's coefficients
        V = []  # residual of outcome o is W_i . V_o[j]: 1 at y_o, -theta at Z_o
        for js, off in zip(plan["cols"], plan["offsets"], strict=True):
            v = pt.zeros((L, K))
            v = pt.set_subtensor(v[:, off], 1.0)
            v = pt.set_subtensor(v[:, off + 1:off + 1 + len(js)], -theta[:, js])
            V.append(v)

        def cross(a, c):  # sum over each group's rows of e_a * e_c
            return ((V[a][:, :, None] * M).sum(axis=1) * V[c]).sum(axis=1)

        half_log_2pi = 0.5 * np.log(2 * np.pi)
        defaults = self._defaults()
        if not self.multivariate:
            if self.sigma_formula is None:
                log_sigma = pt.log(self._sigma_rv(defaults))
            else:
                log_sigma = self._pop["sigma"]["Intercept"] + sum(
                    r[:, j] for j in plan["sig_cols"])
            logp = (-n_j * (half_log_2pi + log_sigma)
                    - 0.5 * cross(0, 0) * pt.exp(-2 * log_sigma)).sum()
        else:
            sig, rho = self._bivariate_scales(defaults)
            one_m = 1.0 - rho**2
            quad = (cross(0, 0) / sig[0] ** 2 - 2 * rho * cross(0, 1) / (sig[0] * sig[1])
                    + cross(1, 1) / sig[1] ** 2)
            logp = (-n_j.sum() * (2 * half_log_2pi + pt.log(sig[0]) + pt.log(sig[1])
                                  + 0.5 * pt.log(one_m))
                    - 0.5 * quad.sum() / one_m)
        pm.Potential("loglik_grouped_", logp)

    def _residual_precision(self, defaults):
        """The residual precision matrix P (n_out x n_out) and log det of its inverse."""
        if not self.multivariate:
            sigma = self._sigma_rv(defaults)
            return pt.reshape(sigma**-2, (1, 1)), 2 * pt.log(sigma)
        (s1, s2), rho = self._bivariate_scales(defaults)
        one_m = 1.0 - rho**2
        P = pt.stack([pt.stack([1 / s1**2, -rho / (s1 * s2)]),
                      pt.stack([-rho / (s1 * s2), 1 / s2**2])]) / one_m
        return P, 2 * pt.log(s1) + 2 * pt.log(s2) + pt.log(one_m)

    def _marginal_likelihood(self, chol) -> None:
        """The grouped Gaussian likelihood with the group effects integrated out.

        Group j's rows (both outcomes stacked) are ``y_j ~ N(X_j beta, Z_j Sigma Z_j' + R_j)``,
        ``R_j`` the residual covariance of its rows, ``Sigma = chol chol'``. With
        ``A_j = Z_j' R_j^-1 Z_j``, ``b_j = Z_j' R_j^-1 e_j``, ``e_j = y_j - X_j beta`` and
        ``B_j = I + chol' A_j chol = C_j C_j'``, the determinant and inversion lemmas give
        ``log p(y_j) = -n_j log|2 pi R| / 2 - e_j' R_j^-1 e_j / 2
        + |C_j^-1 chol' b_j|^2 / 2 - log|C_j|``. Every term comes from the per-group moments
        (``sufficient_statistics``), so a gradient costs one k x k Cholesky factor per group.
        """
        plan = self._suff_plan
        b = self.blocks[0]
        M = pm.Data("suff_moments_", plan["M"])
        n_j = pm.Data("suff_counts_", plan["n_j"])
        ZZ = pm.Data("suff_design_", plan["ZZ"])
        select = plan["select"]
        K = plan["M"].shape[1]
        P, log_det_R = self._residual_precision(self._defaults())
        pop = self._pop_vector(b)
        u = []  # u[o] = M_j v_o: group sums of W_i * e_o,i at the population coefficients
        v = []
        for js, off in zip(plan["cols"], plan["offsets"], strict=True):
            v_o = pt.zeros(K)
            v_o = pt.set_subtensor(v_o[off], 1.0)
            v_o = pt.set_subtensor(v_o[off + 1:off + 1 + len(js)], -pop[js])
            v.append(v_o)
            u.append(pt.dot(M, v_o))
        n_out = len(u)
        quad = 0.0  # e_j' R^-1 e_j per group
        A = 0.0
        rhs = 0.0  # b_j
        for o in range(n_out):
            for p in range(n_out):
                quad = quad + P[o, p] * pt.dot(u[o], v[p])
                A = A + P[o, p] * ZZ[o, p]
                rhs = rhs + P[o, p] * pt.dot(u[p], select[o])
        B = pt.eye(b.k) + pt.matmul(pt.matmul(chol.T[None], A), chol[None])
        log_det_C, cBc = spd_logdet_quad(B, pt.dot(rhs, chol))
        n_rows = n_j.sum()
        logp = (-0.5 * n_rows * (n_out * np.log(2 * np.pi) + log_det_R) - 0.5 * quad.sum()
                + 0.5 * cBc.sum() - log_det_C.sum())
        pm.Potential("loglik_marginal_", logp)

    def _pop_draws(self, post, b: _Block) -> np.ndarray:
        """Posterior draws (chain, draw, k) of the population coefficients of a block's columns."""
        out = np.zeros((post.sizes["chain"], post.sizes["draw"], b.k))
        for j, c in enumerate(b.columns):
            prefix = self.parts[c.part].prefix
            label = c.label[len(prefix):]
            part = self.parts[c.part]
            if label == "Intercept" and part.has_intercept:
                out[..., j] = post[f"{prefix}Intercept"].values
            elif label in part.b_labels:
                out[..., j] = post[f"{prefix}b"].sel({f"{prefix}b_dim": label}).values
        return out

    def _draw_group_effects(self, idata, random_seed: int) -> None:
        """Add ``r_<block>`` to a marginal fit: one draw from its exact conditional per draw.

        Given a posterior draw of the population parameters, group j's effects are normal with
        covariance ``(Sigma^-1 + A_j)^-1 = chol B_j^-1 chol'`` and mean ``chol B_j^-1 chol' b_j``
        (see :meth:`_marginal_likelihood`); drawn as ``chol C_j'^-1 (w_j + z)``, ``z ~ N(0, I)``.
        """
        plan = self._suff_plan
        b = self.blocks[0]
        post = _datatree.group(idata)
        rng = np.random.default_rng([random_seed, 1])
        M, ZZ, select = plan["M"], plan["ZZ"], plan["select"]
        K, n_out = M.shape[1], len(plan["cols"])
        pop = self._pop_draws(post, b)
        sd = post[f"sd_{b.name}"].values
        if b.k > 1 and b.correlated:
            cov = sd[..., :, None] * post[f"cor_{b.name}"].values * sd[..., None, :]
        else:
            cov = sd[..., :, None] * np.eye(b.k) * sd[..., None, :]
        if self.multivariate:
            s1, s2 = (post[f"sigma_{r}"].values for r in self.responses)
            rho = post["rescor"].values if self.rescor else np.zeros_like(s1)
            P = np.stack([np.stack([1 / s1**2, -rho / (s1 * s2)], -1),
                          np.stack([-rho / (s1 * s2), 1 / s2**2], -1)], -2)
            P /= (1 - rho**2)[..., None, None]
        else:
            P = (post["sigma"].values ** -2)[..., None, None]
        r = np.empty(sd.shape[:2] + (len(b.levels), b.k))
        for c in range(sd.shape[0]):  # chain by chain: (draws, groups, k, k) arrays
            chol = np.linalg.cholesky(cov[c])
            u = []
            for js, off in zip(plan["cols"], plan["offsets"], strict=True):
                v_o = np.zeros((pop.shape[1], K))
                v_o[:, off] = 1.0
                v_o[:, off + 1:off + 1 + len(js)] = -pop[c][:, js]
                u.append(np.tensordot(v_o, M, axes=([1], [2])))  # (draws, groups, K)
            A = sum(P[c][:, o, p, None, None, None] * ZZ[o, p][None]
                    for o in range(n_out) for p in range(n_out))
            rhs = sum(P[c][:, o, p, None, None] * (u[p] @ select[o])
                      for o in range(n_out) for p in range(n_out))
            chol_t = np.swapaxes(chol, -1, -2)[:, None]
            B = np.eye(b.k) + chol_t @ A @ chol[:, None]
            C = np.linalg.cholesky(B)
            w = np.linalg.solve(C, (rhs @ chol)[..., None])
            z = rng.standard_normal(w.shape)
            t = np.linalg.solve(np.swapaxes(C, -1, -2), w + z)
            r[c] = (chol[:, None] @ t)[..., 0]
        post[f"r_{b.name}"] = (("chain", "draw", f"{b.name}__level", f"{b.name}__coef"), r)
        post.coords[f"{b.name}__level"] = b.levels
        post.coords[f"{b.name}__coef"] = b.coef_labels
        _datatree.set_group(idata, "posterior", post)

    def _pointwise_loglik(self, idata) -> None:
        """Add the per-row log-likelihood (and observed data) to a sufficient-statistics fit."""
        post = _datatree.group(idata)
        C, D = post.sizes["chain"], post.sizes["draw"]
        if not self.multivariate:
            # The normal log density, computed in place on the (draws, rows) linear predictors
            # built once (the mean and the scale from a single pass over the group effects).
            y = self.data[self.responses[0]].to_numpy(dtype=float)
            _, eta = self._linear_predictors(post, None, False, None)
            ll = eta["mu"]
            np.subtract(y[None, :], ll, out=ll)  # residuals
            if self.sigma_formula is None:
                sigma = post["sigma"].values.reshape(C * D, 1)
                ll /= sigma
                log_sigma = np.log(sigma)
            else:
                log_sigma = eta["sigma"]
                ll *= np.exp(-log_sigma)
            np.square(ll, out=ll)
            ll *= -0.5
            ll -= log_sigma
            ll -= 0.5 * np.log(2 * np.pi)
            ll = ll.reshape(C, D, -1)
            dims = ("chain", "draw", "obs")
            obs = xr.Dataset({self.responses[0]: (("obs",), y)})
            name = self.responses[0]
        else:
            mean = self.predict(idata, kind="mean")
            sigma = self.predict(idata, kind="sigma")
            Y = self.data[self.responses].to_numpy(dtype=float)
            e = (Y - mean.values) / sigma.values  # standardised residuals
            rho = (idata.posterior["rescor"].values[..., None] if self.rescor
                   else np.zeros(mean.shape[:2] + (1,)))
            one_m = 1.0 - rho**2
            ll = (-np.log(2 * np.pi) - np.log(sigma.values).sum(-1) - 0.5 * np.log(one_m)
                  - (e[..., 0] ** 2 - 2 * rho * e[..., 0] * e[..., 1] + e[..., 1] ** 2)
                  / (2 * one_m))
            dims = ("chain", "draw", "obs")
            obs = xr.Dataset({"Y": (("obs", "response"), Y)},
                             coords={"response": self.responses})
            name = "Y"
        loglik = xr.Dataset({name: (dims, ll)},
                            coords={"chain": post.chain, "draw": post.draw})
        _datatree.set_group(idata, "log_likelihood", loglik)
        _datatree.set_group(idata, "observed_data", obs)

    def _sigma_rv(self, defaults):
        """The residual SD of a one-outcome model without a scale formula."""
        prior = self._prior("sigma", defaults["sigma"])
        return getattr(pm, prior.name)("sigma", **prior.args)

    def _bivariate_scales(self, defaults):
        """Both outcomes' residual SDs and their residual correlation (0 without rescor)."""
        sig = []
        for r in self.responses:
            prior = self._prior(f"sigma_{r}", defaults[f"sigma_{r}"])
            sig.append(getattr(pm, prior.name)(f"sigma_{r}", **prior.args))
        if self.rescor:
            # LKJ(eta) on a 2x2 correlation matrix is (rho + 1) / 2 ~ Beta(eta, eta).
            e = self._rescor_eta()
            u = pm.Beta("rescor_unit_", e, e)
            rho = pm.Deterministic("rescor", 2.0 * u - 1.0)
        else:
            rho = pt.as_tensor_variable(0.0)
        return sig, rho

    def _likelihood(self, eta, defaults) -> None:
        if not self.multivariate:
            y = self.data[self.responses[0]].to_numpy(dtype=float)
            if self.sigma_formula is None:
                sigma = self._sigma_rv(defaults)
            else:
                sigma = pm.math.exp(eta["sigma"])
            pm.Normal(self.responses[0], mu=eta["mu"], sigma=sigma,
                      observed=pm.Data("y_obs", y), dims="obs")
            return
        r1, r2 = self.responses
        Y = self.data[[r1, r2]].to_numpy(dtype=float)
        sig, rho = self._bivariate_scales(defaults)
        chol = pt.stack([pt.stack([sig[0], 0.0]),
                         pt.stack([rho * sig[1], sig[1] * pt.sqrt(1.0 - rho**2)])])
        mu = pt.stack([eta[f"mu_{r1}"], eta[f"mu_{r2}"]], axis=1)
        pm.MvNormal("Y", mu=mu, chol=chol, observed=pm.Data("Y_obs", Y),
                    dims=("obs", "response"))

    # ---------------------------------------------------------------- fitting
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
        **kwargs
            Passed on to :func:`pymc.sample`.

        Returns
        -------
        xarray.DataTree
            Posterior (helper variables ``z_*``, ``m_*``, ``m0_*``, ``chol_*`` and
            ``rescor_unit_`` removed), the pointwise log-likelihood for LOO,
            ``attrs["sampling_wall_s"]`` and ``attrs["build_s"]``. With ``marginalize=True``
            the group effects ``r_<block>`` are drawn after sampling, seeded by
            ``random_seed``.
        """
        from course_pkg.sampling import sample_pymc

        model = self.model
        want_loglik = kwargs.pop("log_likelihood", True)
        idata = sample_pymc(model, random_seed=random_seed, draws=draws, tune=tune,
                            chains=chains, target_accept=target_accept, sampler=sampler,
                            progressbar=progressbar,
                            log_likelihood=want_loglik and not self.sufficient_statistics,
                            label=self._label(), **kwargs)
        helpers = [v for v in idata.posterior.data_vars
                   if v.startswith(("z_", "chol_", "m_", "m0_")) or v.endswith("_")]
        _datatree.set_group(idata, "posterior", _datatree.group(idata).drop_vars(helpers))
        idata.attrs["build_s"] = self.build_s
        if self.marginalize:
            self._draw_group_effects(idata, random_seed)
        if want_loglik and self.sufficient_statistics:
            self._pointwise_loglik(idata)
        self.idata = idata
        return idata

    def _label(self) -> str:
        """The formulas (scale formula included), for the benchmark's fit log."""
        formulas = [*self.formulas, *([self.sigma_formula] if self.sigma_formula else [])]
        return " | ".join(formulas) + " (CorrelatedModel)"

    # ---------------------------------------------------------------- prediction
    def _new_design(self, data: pd.DataFrame | None):
        if data is None:
            parts = {name: (p.X, p.has_intercept) for name, p in self.parts.items()}
            blocks = [(b.idx, np.column_stack(b.Xi), np.zeros(0, dtype=object))
                      for b in self.blocks]
            return len(self.data), parts, blocks
        if not isinstance(data, pd.DataFrame):
            raise TypeError(f"data must be a pandas DataFrame or None, got {type(data)}")
        parts = {}
        for name, p in self.parts.items():
            cdf = p.dm.common.evaluate_new_data(data).as_dataframe()
            parts[name] = (cdf[p.b_labels].to_numpy(dtype=float), p.has_intercept)
        blocks = []
        for b in self.blocks:
            cols = []
            for c in b.columns:
                xi = np.asarray(c.term.expr.eval_new_data(data), dtype=float)
                cols.append(xi.reshape(len(data), -1)[:, c.col])
            missing = [v for v in b.factor_vars if v not in data.columns]
            if missing:
                raise KeyError(f"new data lacks grouping column(s) {missing}")
            keys = data[b.factor_vars].astype(str).agg(":".join, axis=1).to_numpy()
            lookup = {lev: i for i, lev in enumerate(b.levels)}
            idx = np.array([lookup.get(k, -1) for k in keys])
            blocks.append((idx, np.column_stack(cols), keys))
        return len(data), parts, blocks

    def _linear_predictors(self, post, data, allow_new_levels, rng) -> tuple[int, dict]:
        """Per-draw linear predictors of every part: (rows, {part: (draws, rows) array})."""
        n, parts, blocks = self._new_design(data)
        S = post.sizes["chain"] * post.sizes["draw"]

        def draws(name):
            return _flat_draws(post, name)

        eta = {}
        for name, p in self.parts.items():
            X, has_int = parts[name]
            lin = np.zeros((S, n))
            if has_int:
                lin += draws(f"{p.prefix}Intercept")[:, None]
            if p.b_labels:
                lin += draws(f"{p.prefix}b") @ X.T
            eta[name] = lin
        for b, (idx, Z, keys) in zip(self.blocks, blocks, strict=True):
            r = draws(f"r_{b.name}")  # (S, L, k)
            new = idx < 0
            if not new.any():  # column by column: no (S, n, k) array (GBs for 13k rows)
                for j, c in enumerate(b.columns):
                    eta[c.part] += r[:, idx, j] * Z[None, :, j]
                continue
            if not allow_new_levels:
                unseen = sorted(set(keys[new]))[:5]
                raise ValueError(f"new data has levels of {b.factor!r} not in the fit "
                                 f"({unseen}...); pass allow_new_levels=True to draw "
                                 "their effects from the population distribution")
            eff = np.zeros((S, n, b.k))
            eff[:, ~new, :] = r[:, idx[~new], :]
            sd = draws(f"sd_{b.name}")  # (S, k)
            if b.k > 1 and b.correlated:
                L = np.linalg.cholesky(draws(f"cor_{b.name}") + 1e-12 * np.eye(b.k))
                chol = sd[:, :, None] * L
            else:
                chol = sd[:, :, None] * np.eye(b.k)[None]
            for key in np.unique(keys[new]):
                rows = np.where(keys == key)[0]
                zz = rng.standard_normal((S, b.k))
                eff[:, rows, :] = np.einsum("skj,sj->sk", chol, zz)[:, None, :]
            for j, c in enumerate(b.columns):
                eta[c.part] += eff[:, :, j] * Z[None, :, j]
        return n, eta

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
            Unknown ``kind``, or new levels with ``allow_new_levels=False``.
        """
        if kind not in ("mean", "response", "sigma"):
            raise ValueError(f"kind must be 'mean', 'response' or 'sigma', got {kind!r}")
        idata = idata if idata is not None else getattr(self, "idata", None)
        if idata is None:
            raise ValueError("no posterior: call fit() first or pass idata")
        post = _datatree.group(idata)
        rng = np.random.default_rng(random_seed)
        C, D = post.sizes["chain"], post.sizes["draw"]
        S = C * D
        n, eta = self._linear_predictors(post, data, allow_new_levels, rng)

        def draws(name):
            return _flat_draws(post, name)

        if not self.multivariate:
            mu = eta["mu"]
            if self.sigma_formula is None:
                sigma = np.broadcast_to(draws("sigma")[:, None], mu.shape)
            else:
                sigma = np.exp(eta["sigma"])
            out = {"mean": mu, "sigma": sigma}.get(kind)
            if kind == "response":
                out = rng.normal(mu, sigma)
            return xr.DataArray(out.reshape(C, D, n), dims=("chain", "draw", "obs"),
                                coords={"chain": post.chain, "draw": post.draw},
                                name=self.responses[0])
        mu = np.stack([eta[f"mu_{r}"] for r in self.responses], axis=-1)  # (S, n, 2)
        sig = np.stack([draws(f"sigma_{r}") for r in self.responses], axis=-1)  # (S, 2)
        if kind == "mean":
            out = mu
        elif kind == "sigma":
            out = np.broadcast_to(sig[:, None, :], mu.shape)
        else:
            rho = draws("rescor") if self.rescor else np.zeros(S)
            z1, z2 = rng.standard_normal((2, S, n))
            e1 = sig[:, None, 0] * z1
            e2 = sig[:, None, 1] * (rho[:, None] * z1 + np.sqrt(1 - rho[:, None] ** 2) * z2)
            out = mu + np.stack([e1, e2], axis=-1)
        return xr.DataArray(out.reshape(C, D, n, 2), dims=("chain", "draw", "obs", "response"),
                            coords={"chain": post.chain, "draw": post.draw,
                                    "response": self.responses})

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
        kind = "non-centred" if self.noncentered else "hierarchically centred"
        if self.centered:
            kind += f", except {list(self.centered)} (centred)"
        if self.marginalize:
            kind = "integrated out of the likelihood, drawn after sampling"
        lines.append(f"  group effects: {kind}"
                     f"{'; predictors centred (Intercept prior at their means)' if self.center_predictors else ''}")
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
        ``sigma``, ``priors``, ``correlated``, ``rescor``, ``noncentered``,
        ``center_predictors``, ``sufficient_statistics``, ``marginalize`` and the sampling
        options of :class:`CorrelatedModel`.

    Returns
    -------
    CorrelatedModel

    Examples
    --------
    >>> m = correlated_model("y ~ x + (1 + x | g)", df, priors={"cor": 2})  # doctest: +SKIP
    """
    return CorrelatedModel(formula, data, **kwargs)
