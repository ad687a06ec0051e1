"""Group effects of one block in PyMC: covariance (LKJ), and the non-centred, centred and
partly centred parameterisations.

Every function takes the :class:`Context` of the model being built (design, priors, the
choices of :mod:`course_pkg.correlated._options`, and the population coefficients already
created) and returns the tensors it made; nothing is stored elsewhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from course_pkg.correlated._blocks import _Block
from course_pkg.correlated._lkj import lkj_cholesky_corr
from course_pkg.correlated._options import Parameterization
from course_pkg.correlated._priors import _standardise_scale


@dataclass
class Context:
    """What building a model needs: its design, priors and choices, and the population
    coefficients created so far (``pop[part][label]``)."""

    design: object  # course_pkg.correlated._design.Design
    priors: object  # course_pkg.correlated._priors.PriorSet
    effects: Parameterization
    cov_parameterization: str
    pop: dict = field(default_factory=dict)


def pop_vector(ctx: Context, b: _Block):
    """Population coefficients matching a block's columns (0 where there is none)."""
    values = []
    for c in b.columns:
        prefix = ctx.design.parts[c.part].prefix
        label = c.label[len(prefix):]
        values.append(ctx.pop.get(c.part, {}).get(label, pt.as_tensor_variable(0.0)))
    return pt.stack(values)


def block_cov(ctx: Context, b: _Block):
    """Sample a correlated block's SDs and correlations; record ``sd_`` and ``cor_``.

    Returns ``(chol, chol_p, perm, first)``: the Cholesky factor of the covariance with rows
    in the block's column order, the factor built in ``perm`` order (``cholesky_order``
    first), that order, and the labels put first.
    """
    coef = f"{b.name}__coef"
    sd_prior = ctx.priors.block_sd(b)
    # The SD prior is written as scale * (its family at scale 1): vector scales stay out
    # of LKJCholeskyCov's sd_dist, and the sampled SDs are all on a unit scale.
    name, args, scale = _standardise_scale(sd_prior)
    # The Cholesky factor is built for the columns in `perm` order (cholesky_order);
    # rows of `chol` below are in the block's own column order, chol @ chol.T = Sigma.
    first = [lab for lab in ctx.effects.cholesky_order if lab in b.coef_labels]
    perm = [b.coef_labels.index(lab) for lab in first]
    perm += [j for j in range(b.k) if j not in perm]
    inverse = np.argsort(perm)
    scale = np.broadcast_to(scale, (b.k,)).astype(float)[perm]
    scale = pt.as_tensor_variable(scale)
    if ctx.cov_parameterization == "stan":
        # SDs apart from the correlations, as Stan and brms sample them.
        sd_unit = getattr(pm, name)(f"sd_unit_{b.name}", **args, dims=coef)
        L_corr = lkj_cholesky_corr(f"cpc_{b.name}", n=b.k, eta=ctx.priors.block_eta(b))
        chol_p = (scale * sd_unit[perm])[:, None] * L_corr
    else:
        sd_dist = getattr(pm, name).dist(**args, shape=b.k)
        chol_std, _, _ = pm.LKJCholeskyCov(
            f"chol_{b.name}", n=b.k, eta=ctx.priors.block_eta(b), sd_dist=sd_dist,
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

def block_chol(ctx: Context, b: _Block):
    """A Cholesky factor of a block's covariance (diagonal for independent effects)."""
    if b.k > 1 and b.correlated:
        return block_cov(ctx, b)[0]
    sd_prior = ctx.priors.block_sd(b)
    sd = getattr(pm, sd_prior.name)(f"sd_{b.name}", **sd_prior.args, dims=f"{b.name}__coef")
    return pt.diag(sd)

def block_effects(ctx: Context, b: _Block):
    level, coef = b.name + "__level", f"{b.name}__coef"
    sd_prior = ctx.priors.block_sd(b)
    if b.k > 1 and b.correlated:
        chol, chol_p, perm, first = block_cov(ctx, b)
        inverse = np.argsort(perm)
        if ctx.effects.all_centred:
            # Hierarchical centring: sample each group's coefficients m_j ~ MvN(beta, Sigma)
            # around the matching population coefficients, so that beta and the group
            # means are not tied along a ridge; r_j = m_j - beta.
            pop = pop_vector(ctx, b)
            if first:
                order_dim = f"{b.name}__cholesky"
                pm.modelcontext(None).add_coord(order_dim, [b.coef_labels[j] for j in perm])
                m = pm.MvNormal(f"m_{b.name}", mu=pop[perm], chol=chol_p,
                                dims=(level, order_dim))
                return pm.Deterministic(f"r_{b.name}", (m - pop[perm])[:, inverse],
                                        dims=(level, coef))
            m = pm.MvNormal(f"m_{b.name}", mu=pop, chol=chol, dims=(level, coef))
            return pm.Deterministic(f"r_{b.name}", m - pop, dims=(level, coef))
        cen = [j for j, lab in enumerate(b.coef_labels) if lab in ctx.effects.partly_centred]
        if cen and first and set(perm[:len(cen)]) == set(cen):
            return _centred_first(ctx, b, chol_p, perm, len(cen))
        if cen:
            return _partly_centred(ctx, b, chol, cen)
        # z's columns follow the Cholesky order; r = (z @ chol_p.T) in the block's order.
        z_dim = coef
        if first:
            z_dim = f"{b.name}__cholesky"
            pm.modelcontext(None).add_coord(z_dim, [b.coef_labels[j] for j in perm])
        z = pm.Normal(f"z_{b.name}", 0.0, 1.0, dims=(level, z_dim))
        r = pt.dot(z, chol_p.T)[:, inverse]
    else:
        sd = getattr(pm, sd_prior.name)(f"sd_{b.name}", **sd_prior.args, dims=coef)
        if ctx.effects.all_centred:
            pop = pop_vector(ctx, b)
            m = pm.Normal(f"m_{b.name}", pop, sd, dims=(level, coef))
            return pm.Deterministic(f"r_{b.name}", m - pop, dims=(level, coef))
        z = pm.Normal(f"z_{b.name}", 0.0, 1.0, dims=(level, coef))
        r = z * sd
    return pm.Deterministic(f"r_{b.name}", r, dims=(level, coef))

def _centred_first(ctx: Context, b: _Block, chol_p, perm: list[int], c: int):
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
    pop = pop_vector(ctx, b)[perm]
    C, N = slice(0, c), slice(c, b.k)
    m_c = pm.MvNormal(f"m_{b.name}", mu=pop[C], chol=chol_p[C, C],
                      dims=(level, f"{b.name}__centred"))
    r_c = m_c - pop[C]
    z_c = solve_triangular(chol_p[C, C], r_c.T, lower=True).T
    z_n = pm.Normal(f"z_{b.name}", 0.0, 1.0, dims=(level, f"{b.name}__noncentred"))
    r_n = pt.dot(z_c, chol_p[N, C].T) + pt.dot(z_n, chol_p[N, N].T)
    r = pt.concatenate([r_c, r_n], axis=1)[:, np.argsort(perm)]
    return pm.Deterministic(f"r_{b.name}", r, dims=(level, f"{b.name}__coef"))

def _partly_centred(ctx: Context, b: _Block, chol, cen: list[int]):
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
    pop = pop_vector(ctx, b)
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
