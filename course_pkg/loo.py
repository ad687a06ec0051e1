"""Exact leave-one-out refits of Bambi models, for ArviZ's ``reloo``.

PSIS-LOO (``arviz.loo``) is unreliable for observations whose Pareto shape k is large. For them,
:func:`arviz_stats.reloo` refits the model without the observation and evaluates the held-out
log-likelihood exactly. ArviZ needs a :class:`arviz_stats.SamplingWrapper` that knows how to refit
the model; :class:`BambiRefit` is that wrapper for a Bambi model, fitted with the course's
:func:`course_pkg.fitting.fit` (so every refit passes the same convergence gate).

Example
-------
>>> wrapper = BambiRefit(model, idata, priors=priors, random_seed=9)   # doctest: +SKIP
>>> loo_exact = azs.reloo(wrapper, pointwise=True)                      # doctest: +SKIP

``reloo`` computes PSIS-LOO from ``wrapper.idata_orig`` (the fit, its observation dimension renamed
to :attr:`BambiRefit.OBS_DIM`) and refits where Pareto k exceeds ``k_threshold``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping

import arviz_stats as azs
import bambi as bmb
import numpy as np
import pandas as pd
import xarray as xr
from arviz_stats.loo.wrapper import SamplingWrapper

from course_pkg.fitting import fit

__all__ = ["PSIS_STATISTICS", "BambiRefit", "psis_blocks", "psis_mcse", "psis_summary"]


class BambiRefit(SamplingWrapper):
    """Refit a Bambi model without chosen rows of its data (a wrapper for ``reloo``).

    Every categorical or text column of the data keeps all its levels in a refit (passed to
    Bambi as an ordered categorical with the original levels), so a level whose only row is left out keeps
    its coefficient, whose posterior is then its prior: the exact leave-one-out answer for a
    no-pooling model.

    Parameters
    ----------
    model : bambi.Model
        The model fitted to the full data; its formula, family, link and data are reused.
    idata : xarray.DataTree
        Its fit, with a ``log_likelihood`` group (``course_pkg.fitting.fit`` stores one).
    priors : mapping, optional
        Priors for the refits; by default the fitted model's own (:meth:`model_priors`), so
        Bambi's data-dependent default priors are not recomputed for each reduced data set.
        Every refit is built with the fitted model's family, link, potentials and settings
        (``dropna``, ``auto_scale``, ``noncentered``, ``center_predictors``) and checked to
        have the fitted model's free variables (names and shapes) and priors.
    random_seed : int
        Seed of every refit.
    **fit_settings
        Sampler settings passed on to :func:`course_pkg.fitting.fit` (``draws``, ``tune``, ...).

    Attributes
    ----------
    refits : list of dict
        One record per refit: the row left out (``row``), its seconds (``seconds``) and, once
        ``reloo`` has asked for the row's log-likelihood, the Monte Carlo standard error of its
        log predictive density (``elpd_mcse``, from the refit's draws).

    Raises
    ------
    TypeError
        ``model`` is not a ``bambi.Model``, ``priors`` is not a mapping, or ``random_seed``
        is not an int.
    ValueError
        ``idata`` has no ``log_likelihood`` group; from :meth:`sample`, a refit whose free
        variables or priors differ from the fitted model's (named).
    """

    def __init__(self, model, idata, *, priors: Mapping | None = None, random_seed: int,
                 **fit_settings):
        if not isinstance(model, bmb.Model):
            raise TypeError(f"model must be a bambi.Model, got {type(model).__name__}")
        if priors is not None and not isinstance(priors, Mapping):
            raise TypeError(f"priors must be a mapping of term names to bambi.Prior or None, "
                            f"got {type(priors).__name__}")
        if not isinstance(random_seed, int | np.integer) or isinstance(random_seed, bool):
            raise TypeError(f"random_seed must be an int, got {random_seed!r}")
        if not isinstance(idata, xr.DataTree) or "log_likelihood" not in idata.children:
            raise ValueError("idata must be a DataTree with a log_likelihood group (fit with "
                             "course_pkg.fitting.fit, which stores it)")
        # Bambi names the observation dimension "__obs__", the name reloo uses internally when
        # it stacks observation dimensions: the wrapper's copy calls it OBS_DIM instead.
        super().__init__(model, idata_orig=self._renamed(idata))
        self.priors = dict(priors) if priors is not None else self.model_priors(model)
        self.random_seed = int(random_seed)
        self.fit_settings = fit_settings
        self.data = self._keep_levels(model.data)
        self.refits: list[dict] = []
        self._current = None
        self._reference = None

    #: Name of the observation dimension in ``idata_orig`` and in the refits' log-likelihoods.
    OBS_DIM = "observation"

    @classmethod
    def _renamed(cls, tree: xr.DataTree) -> xr.DataTree:
        log_lik = tree["log_likelihood"].to_dataset()
        if "__obs__" in log_lik.dims:
            tree = tree.copy()
            tree["log_likelihood"] = xr.DataTree(log_lik.rename({"__obs__": cls.OBS_DIM}))
        return tree

    @staticmethod
    def _keep_levels(data: pd.DataFrame) -> pd.DataFrame:
        data = data.copy()
        for column in data.columns:
            values = data[column]
            if isinstance(values.dtype, pd.CategoricalDtype):
                data[column] = values.cat.as_ordered()
            elif pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values):
                # a text column (e.g. a grouping factor): all its levels, sorted as formulae
                # sorts them, so that a refit without a level's only row keeps that level
                levels = sorted(values.dropna().unique())
                data[column] = pd.Categorical(values, categories=levels, ordered=True)
        return data

    @staticmethod
    def model_priors(model) -> dict:
        """The prior of every term and auxiliary parameter of a Bambi model, by name.

        These are the priors Bambi settled on (the user's, or its data-dependent defaults for
        the full data), so a refit given them uses the same priors whatever rows it leaves out.
        """
        if not isinstance(model, bmb.Model):
            raise TypeError(f"model must be a bambi.Model, got {type(model).__name__}")
        priors = {}
        for name, component in model.parameters.items():
            terms = getattr(component, "terms", None)
            if terms is None:  # a constant component: an auxiliary parameter such as sigma
                priors[name] = component.prior
            else:
                priors.update({term_name: term.prior for term_name, term in terms.items()
                               if getattr(term, "prior", None) is not None})
        return priors

    @staticmethod
    def _signature(model) -> dict:
        """Free variables (name: shape) and the prior of every term of a built Bambi model."""
        pymc_model = model.backend.model
        free = {rv.name: tuple(int(n) for n in pymc_model.initial_point()[
            pymc_model.rvs_to_values[rv].name].shape) for rv in pymc_model.free_RVs}
        priors = {name: str(prior) for name, prior in BambiRefit.model_priors(model).items()}
        return {"free variables": free, "priors": priors}

    def sel_observations(self, idx):
        """Split the data into the rows kept and the row (a one-row table) left out.

        Parameters
        ----------
        idx : int
            Position of the row to leave out (as ``reloo`` passes it).
        """
        if not isinstance(idx, int | np.integer) or isinstance(idx, bool):
            raise TypeError(f"idx must be an int row position, got {idx!r}")
        if not 0 <= idx < len(self.data):
            raise IndexError(f"idx={idx} is outside the data's {len(self.data)} rows")
        left_out = self.data.iloc[[int(idx)]]
        return self.data.drop(index=left_out.index), left_out

    def sample(self, modified_observed_data):
        """Build the model on the kept rows and fit it (gated) with the course's ``fit``."""
        start = time.perf_counter()
        original = self.model
        model = bmb.Model(original.formula, modified_observed_data, priors=self.priors,
                          family=original.family, link=None, potentials=original.potentials,
                          dropna=original.dropna, auto_scale=original.auto_scale,
                          noncentered=original.noncentered,
                          center_predictors=original.center_predictors)
        model.build()
        if self._reference is None:
            if not original.built:
                original.build()
            self._reference = self._signature(original)
        refit = self._signature(model)
        for part, expected in self._reference.items():
            if refit[part] != expected:
                differ = sorted(k for k in set(expected) | set(refit[part])
                                if expected.get(k) != refit[part].get(k))
                raise ValueError(f"the refit is not the fitted model: its {part} differ for "
                                 f"{differ} (fitted: {[expected.get(k) for k in differ]}, "
                                 f"refit: {[refit[part].get(k) for k in differ]})")
        dropped = self.data.index.difference(modified_observed_data.index)
        pymc_log = logging.getLogger("pymc")  # quiet PyMC's "NUTS[...]" line for every refit
        level = pymc_log.level
        pymc_log.setLevel(logging.WARNING)
        try:
            idata = fit(model, random_seed=self.random_seed, report=False,
                        name=f"refit without row {list(dropped)}", **self.fit_settings)
        finally:
            pymc_log.setLevel(level)
        self._current = model
        self.refits.append({"row": list(dropped), "seconds": time.perf_counter() - start})
        return idata

    def get_inference_data(self, fitted_model):
        """The refit's DataTree (``sample`` already returns it)."""
        return fitted_model

    def log_likelihood__i(self, excluded_obs, idata__i):
        """Log-likelihood of the left-out row under the refit, one value per draw."""
        if self._current is None:
            raise RuntimeError("call sample before log_likelihood__i")
        tree = self._current.compute_log_likelihood(idata__i, data=excluded_obs, inplace=False)
        log_lik = tree["log_likelihood"][self._current.response_term.name]
        # log p(y_i | y_-i) is the log of the mean of exp(log_lik) over the draws; its Monte
        # Carlo error is that of the mean (ESS-based, arviz-stats) over the mean (delta method)
        density = np.exp(log_lik - log_lik.max())
        ratio = azs.mcse(xr.Dataset({"p": density}))["p"] / density.mean(("chain", "draw"))
        self.refits[-1]["elpd_mcse"] = float(ratio.max())
        return log_lik.rename({"__obs__": self.OBS_DIM}) if "__obs__" in log_lik.dims else log_lik


#: The statistics :func:`psis_mcse` gives a Monte Carlo error for (the columns loo prints).
PSIS_STATISTICS = ("elpd_loo", "se_elpd_loo", "p_loo", "se_p_loo", "looic", "se_looic")


def _psis_pointwise(log_lik: xr.DataArray, posterior: xr.Dataset) -> tuple[np.ndarray,
                                                                         np.ndarray]:
    """PSIS-LOO elpd_i and p_loo_i of one block of draws (an ArviZ ``loo`` call)."""
    import warnings

    from scipy.special import logsumexp

    tree = xr.DataTree.from_dict({"log_likelihood": log_lik.to_dataset(name="y"),
                                  "posterior": posterior})

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Estimated shape parameter of Pareto")
        res = azs.loo(tree, pointwise=True)
    values = log_lik.stack(__sample__=("chain", "draw")).transpose(..., "__sample__").to_numpy()
    values = values.reshape(-1, values.shape[-1])
    lpd_i = logsumexp(values, axis=1) - np.log(values.shape[1])
    elpd_i = np.asarray(res.elpd_i).reshape(-1)
    return elpd_i, lpd_i - elpd_i


def _totals(elpd_i: np.ndarray, p_i: np.ndarray) -> dict:
    n = elpd_i.size
    se = float(np.sqrt(n * np.var(elpd_i, ddof=1)))
    return {"elpd_loo": float(elpd_i.sum()), "se_elpd_loo": se, "p_loo": float(p_i.sum()),
            "se_p_loo": float(np.sqrt(n * np.var(p_i, ddof=1))),
            "looic": -2 * float(elpd_i.sum()), "se_looic": 2 * se}


def psis_blocks(idata: xr.DataTree, *, blocks_per_chain: int = 2,
                var_name: str | None = None) -> tuple[pd.DataFrame, np.ndarray]:
    """PSIS-LOO computed again on independent blocks of a fit's draws.

    Each chain is cut into ``blocks_per_chain`` consecutive blocks of equal length and PSIS-LOO
    (``arviz_stats.loo``) is computed on every block alone, as if it were a separate, shorter run.

    Parameters
    ----------
    idata : xarray.DataTree
        A fit with a ``log_likelihood`` group (with ``chain`` and ``draw`` dimensions).
    blocks_per_chain : int
        Blocks per chain (>= 1); every block must keep at least 100 draws.
    var_name : str, optional
        The log-likelihood variable; required when the group holds more than one.

    Returns
    -------
    (pandas.DataFrame, numpy.ndarray)
        One row per block with the columns :data:`PSIS_STATISTICS`, and the blocks' pointwise
        elpd (blocks x observations).

    Raises
    ------
    TypeError
        ``idata`` is not a DataTree, or ``blocks_per_chain`` is not an int.
    ValueError
        No ``log_likelihood`` group, several variables and no ``var_name``, fewer than two blocks
        in all, or blocks shorter than 100 draws.
    """
    if not isinstance(idata, xr.DataTree):
        raise TypeError(f"idata must be an xarray.DataTree, got {type(idata).__name__}")
    if "log_likelihood" not in idata.children:
        raise ValueError("idata has no log_likelihood group")
    if isinstance(blocks_per_chain, bool) or not isinstance(blocks_per_chain, int | np.integer):
        raise TypeError(f"blocks_per_chain must be an int, got {blocks_per_chain!r}")
    log_lik = idata["log_likelihood"].to_dataset()
    names = list(log_lik.data_vars)
    if var_name is None:
        if len(names) != 1:
            raise ValueError(f"the log_likelihood group holds {names}: pass var_name")
        var_name = names[0]
    elif var_name not in names:
        raise ValueError(f"var_name={var_name!r} is not in the log_likelihood group ({names})")
    values = log_lik[var_name]
    posterior = idata["posterior"].to_dataset() if "posterior" in idata.children else None
    if posterior is None:
        raise ValueError("idata has no posterior group (PSIS's relative efficiency needs it)")
    n_chains, n_draws = values.sizes["chain"], values.sizes["draw"]
    size = n_draws // blocks_per_chain if blocks_per_chain >= 1 else 0
    if blocks_per_chain < 1 or n_chains * blocks_per_chain < 2:
        raise ValueError(f"need at least two blocks in all, got {n_chains} chain(s) x "
                         f"blocks_per_chain={blocks_per_chain}")
    if size < 100:
        raise ValueError(f"blocks of {size} draws are too short for PSIS (at least 100 needed); "
                         f"use fewer blocks_per_chain")
    rows, pointwise = [], []
    for chain in range(n_chains):
        for block in range(blocks_per_chain):
            where = {"chain": [chain], "draw": slice(block * size, (block + 1) * size)}
            elpd_i, p_i = _psis_pointwise(values.isel(where), posterior.isel(where))
            rows.append(_totals(elpd_i, p_i))
            pointwise.append(elpd_i)
    return pd.DataFrame(rows, columns=list(PSIS_STATISTICS)), np.vstack(pointwise)


def psis_mcse(idata: xr.DataTree, other: xr.DataTree | None = None, *,
              blocks_per_chain: int = 2, var_name: str | None = None) -> pd.Series:
    """An empirical Monte Carlo standard error of PSIS-LOO, from independent blocks of draws.

    Where Pareto k exceeds 0.7, ``loo`` reports no Monte Carlo error. This estimates one from
    the spread of the PSIS-LOO statistics over :func:`psis_blocks`: for ``m`` blocks, each a
    ``1/m`` share of the draws, the error of the full run is ``sd(block values) / sqrt(m)``.
    Caveats: that scaling assumes the variance falls as one over the number of draws, which
    heavy-tailed importance ratios (large k) violate, so it may understate the error; ``m`` is
    small, so the SD is itself uncertain; and short blocks shift PSIS's estimate (its bias
    depends on the number of draws), which this does not measure.

    Parameters
    ----------
    idata : xarray.DataTree
        A fit with a ``log_likelihood`` group.
    other : xarray.DataTree, optional
        A second fit of the same observations: adds ``elpd_diff`` (``idata`` minus ``other``)
        and ``se_diff``, whose blocks pair block ``b`` of one fit with block ``b`` of the other.
    blocks_per_chain, var_name
        As in :func:`psis_blocks`.

    Returns
    -------
    pandas.Series
        Monte Carlo standard errors indexed by statistic (:data:`PSIS_STATISTICS`, then
        ``elpd_diff`` and ``se_diff`` with ``other``); ``attrs["blocks"]`` is the block count.

    Raises
    ------
    ValueError
        ``other`` has a different number of blocks or observations; and as :func:`psis_blocks`.
    """
    table, pointwise = psis_blocks(idata, blocks_per_chain=blocks_per_chain, var_name=var_name)
    m = len(table)
    out = table.std(ddof=1) / np.sqrt(m)
    if other is not None:
        table_b, pointwise_b = psis_blocks(other, blocks_per_chain=blocks_per_chain,
                                           var_name=var_name)
        if pointwise_b.shape != pointwise.shape:
            raise ValueError(f"other gives {pointwise_b.shape[0]} blocks x "
                             f"{pointwise_b.shape[1]} observations, idata "
                             f"{pointwise.shape[0]} x {pointwise.shape[1]}: they must match")
        diff_i = pointwise - pointwise_b
        n = diff_i.shape[1]
        diffs = pd.DataFrame({"elpd_diff": diff_i.sum(axis=1),
                              "se_diff": np.sqrt(n * np.var(diff_i, axis=1, ddof=1))})
        out = pd.concat([out, diffs.std(ddof=1) / np.sqrt(m)])
    out.attrs["blocks"] = m
    return out


def psis_summary(idata: xr.DataTree, other: xr.DataTree | None = None, *,
                 var_name: str | None = None) -> pd.Series:
    """PSIS-LOO of the whole fit, with the statistics R's ``loo`` prints.

    ``elpd_loo``, ``p_loo`` and ``looic`` (``-2 elpd_loo``) with their standard errors (R's
    ``sqrt(n var(pointwise))``), and with ``other`` also ``elpd_diff`` (``idata`` minus
    ``other``) and ``se_diff``: the values :func:`psis_mcse` gives errors for.

    Parameters
    ----------
    idata, other, var_name
        As in :func:`psis_mcse`.

    Returns
    -------
    pandas.Series

    Raises
    ------
    ValueError, TypeError
        As :func:`psis_blocks` (the whole run is one block here).
    """
    per_chain = {}
    for name, tree in (("idata", idata), ("other", other)):
        if tree is None:
            continue
        if not isinstance(tree, xr.DataTree):
            raise TypeError(f"{name} must be an xarray.DataTree, got {type(tree).__name__}")
        if "log_likelihood" not in tree.children or "posterior" not in tree.children:
            raise ValueError(f"{name} needs log_likelihood and posterior groups")
        log_lik = tree["log_likelihood"].to_dataset()
        names = list(log_lik.data_vars)
        key = var_name if var_name is not None else (names[0] if len(names) == 1 else None)
        if key not in names:
            raise ValueError(f"the log_likelihood group holds {names}: pass a var_name in it")
        per_chain[name] = _psis_pointwise(log_lik[key], tree["posterior"].to_dataset())
    elpd_i, p_i = per_chain["idata"]
    out = pd.Series(_totals(elpd_i, p_i))
    if other is not None:
        diff_i = elpd_i - per_chain["other"][0]
        if diff_i.shape != elpd_i.shape:
            raise ValueError("idata and other must have the same observations")
        out["elpd_diff"] = float(diff_i.sum())
        out["se_diff"] = float(np.sqrt(diff_i.size * np.var(diff_i, ddof=1)))
    return out
