"""The Gaussian likelihood from per-group moments, with the group effects sampled
(``likelihood="grouped"``) or integrated out (``likelihood="marginal"``), and the post-hoc draws of
integrated-out effects.

The per-group algebra of the marginal likelihood (:func:`group_terms`, :func:`precision_matrix`)
is written once for NumPy and PyTensor (``lib`` is either module): the log density uses it on
random variables, :func:`draw_group_effects` on posterior draws. Hand-written: PyMC has no
grouped-Gaussian likelihood and marginalises discrete variables, not Gaussian group effects.
"""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt

from course_pkg import _datatree
from course_pkg.correlated._effects import Context, pop_vector
from course_pkg.correlated._scales import bivariate_scales, residual_precision, sigma_rv
from course_pkg.linalg import spd_logdet_quad


def plan(design, likelihood: str) -> dict:
    """Check that the grouped likelihood applies; precompute each group's moments.

    Group j's rows give ``W`` (rows x K): per outcome its response then its block columns;
    ``M[j] = W_j' W_j``. ``select[o]`` (K x k) picks outcome o's block columns out of ``W``, so
    that ``select[o]' M_j select[p]`` is group j's sum of ``z_o z_p'`` (``ZZ[o, p, j]``).
    """
    def no(reason):
        raise ValueError(f"likelihood={likelihood!r} does not apply to this model: {reason}")

    if len(design.blocks) != 1:
        no(f"it needs exactly one grouping block, the model has {len(design.blocks)}")
    b = design.blocks[0]
    n = len(design.data)
    cols, segments = [], []  # block columns per outcome; (y, Z) per outcome
    for part in (p for p in design.parts.values() if p.dpar == "mu"):
        own = {c.label: j for j, c in enumerate(b.columns) if c.part == part.name}
        for lab in (["Intercept"] if part.has_intercept else []) + part.b_labels:
            j = own.get(part.prefix + lab)
            data_col = (np.ones(n) if lab == "Intercept"
                        else part.X[:, part.b_labels.index(lab)])
            if j is None or not np.allclose(b.Xi[j], data_col):
                no(f"population term {part.prefix + lab!r} does not also vary by "
                   f"{b.factor!r} with the same values, so the mean is not a per-group linear "
                   "function of the group's design")
        js = sorted(own.values())
        cols.append(js)
        y = design.data[part.response].to_numpy(dtype=float)
        segments.append(np.column_stack([y] + [b.Xi[j] for j in js]))
    sig_cols = [j for j, c in enumerate(b.columns) if c.part == "sigma"]
    if "sigma" in design.parts:
        sp = design.parts["sigma"]
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
    select = np.zeros((len(cols), K, b.k))
    unit = np.zeros((len(cols), K))  # unit[o]: 1 at outcome o's response column of W
    for o, (js, off) in enumerate(zip(cols, offsets, strict=True)):
        unit[o, off] = 1.0
        for t, j in enumerate(js):
            select[o, off + 1 + t, j] = 1.0
    out = {"cols": cols, "sig_cols": sig_cols, "M": M, "offsets": offsets, "select": select,
           "unit": unit, "n_j": np.bincount(b.idx, minlength=L).astype(float)}
    if likelihood == "marginal":
        out["ZZ"] = np.einsum("oak,lab,pbm->oplkm", select, M, select)
    return out


def grouped_likelihood(ctx: Context, r, rescor: bool, plan: dict) -> None:
    """The Gaussian log-likelihood from per-group moments, group effects ``r`` (groups, k)."""
    d = ctx.design
    # Data rather than constants: PyTensor would fold slices of constant arrays into new,
    # non-contiguous constants, and numba does not cache a function that holds one.
    M = pm.Data("suff_moments_", plan["M"])
    n_j = pm.Data("suff_counts_", plan["n_j"])
    L, K = plan["M"].shape[:2]
    theta = pop_vector(ctx, d.blocks[0])[None, :] + r  # (L, k): each group's coefficients
    V = []  # residual of outcome o is W_i . V_o[j]: 1 at y_o, -theta at Z_o
    for js, off in zip(plan["cols"], plan["offsets"], strict=True):
        v = pt.zeros((L, K))
        v = pt.set_subtensor(v[:, off], 1.0)
        v = pt.set_subtensor(v[:, off + 1:off + 1 + len(js)], -theta[:, js])
        V.append(v)

    def cross(a, c):  # sum over each group's rows of e_a * e_c
        return ((V[a][:, :, None] * M).sum(axis=1) * V[c]).sum(axis=1)

    half_log_2pi = 0.5 * np.log(2 * np.pi)
    if not d.multivariate:
        if d.sigma_formula is None:
            log_sigma = pt.log(sigma_rv(ctx.priors))
        else:
            log_sigma = ctx.pop["sigma"]["Intercept"] + sum(r[:, j] for j in plan["sig_cols"])
        logp = (-n_j * (half_log_2pi + log_sigma)
                - 0.5 * cross(0, 0) * pt.exp(-2 * log_sigma)).sum()
    else:
        sig, rho = bivariate_scales(ctx.priors, d.responses, rescor)
        one_m = 1.0 - rho**2
        quad = (cross(0, 0) / sig[0] ** 2 - 2 * rho * cross(0, 1) / (sig[0] * sig[1])
                + cross(1, 1) / sig[1] ** 2)
        logp = (-n_j.sum() * (2 * half_log_2pi + pt.log(sig[0]) + pt.log(sig[1])
                              + 0.5 * pt.log(one_m))
                - 0.5 * quad.sum() / one_m)
    pm.Potential("loglik_grouped_", logp)


def group_terms(lib, plan: dict, M, ZZ, pop, P):
    """Per group j, at population coefficients ``pop`` (k,) and residual precision ``P``:
    ``quad_j = e_j' R^-1 e_j``, ``A_j = Z_j' R^-1 Z_j`` and ``b_j = Z_j' R^-1 e_j``, with
    ``e_j = y_j - X_j beta`` (both outcomes' rows stacked). ``lib``: numpy or pytensor.tensor.
    """
    select, n_out = plan["select"], len(plan["cols"])
    v = [plan["unit"][o] - lib.dot(select[o], pop) for o in range(n_out)]  # (K,) each
    u = [lib.dot(M, v_o) for v_o in v]  # (L, K): group sums of W_i * e_o,i
    quad, A, rhs = 0.0, 0.0, 0.0
    for o in range(n_out):
        for p in range(n_out):
            quad = quad + P[o, p] * lib.dot(u[o], v[p])
            A = A + P[o, p] * ZZ[o, p]
            rhs = rhs + P[o, p] * lib.dot(u[p], select[o])
    return quad, A, rhs


def precision_matrix(lib, chol, A):
    """``B_j = I + chol' A_j chol`` for every group (the conditional precision of the
    standardised effects)."""
    k = chol.shape[-1]
    return lib.eye(k) + lib.matmul(lib.matmul(chol.T[None], A), chol[None])


def marginal_likelihood(ctx: Context, chol, rescor: bool, plan: dict) -> None:
    """The grouped Gaussian likelihood with the group effects integrated out.

    Group j's rows (both outcomes stacked) are ``y_j ~ N(X_j beta, Z_j Sigma Z_j' + R_j)``,
    ``Sigma = chol chol'``. With :func:`group_terms` and ``B_j = C_j C_j'``
    (:func:`precision_matrix`), the determinant and inversion lemmas give
    ``log p(y_j) = -n_j log|2 pi R| / 2 - quad_j / 2 + |C_j^-1 chol' b_j|^2 / 2 - log|C_j|``:
    one k x k Cholesky factor per group and gradient.
    """
    d = ctx.design
    M = pm.Data("suff_moments_", plan["M"])
    n_j = pm.Data("suff_counts_", plan["n_j"])
    ZZ = pm.Data("suff_design_", plan["ZZ"])
    if d.multivariate:
        sig, rho = bivariate_scales(ctx.priors, d.responses, rescor)
        P, log_det_R = residual_precision(pt, sig, rho)
    else:
        P, log_det_R = residual_precision(pt, [sigma_rv(ctx.priors)])
    quad, A, rhs = group_terms(pt, plan, M, ZZ, pop_vector(ctx, d.blocks[0]), P)
    log_det_C, cBc = spd_logdet_quad(precision_matrix(pt, chol, A), pt.dot(rhs, chol))
    n_out = len(plan["cols"])
    logp = (-0.5 * n_j.sum() * (n_out * np.log(2 * np.pi) + log_det_R) - 0.5 * quad.sum()
            + 0.5 * cBc.sum() - log_det_C.sum())
    pm.Potential("loglik_marginal_", logp)


def _pop_draws(design, post, b) -> np.ndarray:
    """Posterior draws (chain, draw, k) of the population coefficients of a block's columns."""
    out = np.zeros((post.sizes["chain"], post.sizes["draw"], b.k))
    for j, c in enumerate(b.columns):
        part = design.parts[c.part]
        label = c.label[len(part.prefix):]
        if label == "Intercept" and part.has_intercept:
            out[..., j] = post[f"{part.prefix}Intercept"].values
        elif label in part.b_labels:
            out[..., j] = post[f"{part.prefix}b"].sel({f"{part.prefix}b_dim": label}).values
    return out


def draw_group_effects(design, plan: dict, rescor: bool, idata, random_seed: int) -> None:
    """Add ``r_<block>`` to a marginal fit: one draw from its exact conditional per draw.

    Given a posterior draw of the population parameters, group j's effects are normal with
    covariance ``(Sigma^-1 + A_j)^-1 = chol B_j^-1 chol'`` and mean ``chol B_j^-1 chol' b_j``
    (:func:`marginal_likelihood`); drawn as ``chol C_j'^-1 (w_j + z)``, ``w_j = C_j^-1 chol' b_j``,
    ``z ~ N(0, I)``, seeded by ``random_seed``.
    """
    b = design.blocks[0]
    post = _datatree.group(idata)
    rng = np.random.default_rng([random_seed, 1])
    pop = _pop_draws(design, post, b)
    sd = post[f"sd_{b.name}"].values
    cor = post[f"cor_{b.name}"].values if b.k > 1 and b.correlated else np.eye(b.k)
    cov = sd[..., :, None] * cor * sd[..., None, :]
    if design.multivariate:
        s1, s2 = (post[f"sigma_{r}"].values for r in design.responses)
        rho = post["rescor"].values if rescor else np.zeros_like(s1)
        sigmas = [s1, s2]
    else:
        sigmas, rho = [post["sigma"].values], np.zeros(sd.shape[:2])
    n_chains, n_draws = sd.shape[:2]
    r = np.empty((n_chains, n_draws, len(b.levels), b.k))
    for c in range(n_chains):
        z = rng.standard_normal((n_draws, len(b.levels), b.k))
        for s in range(n_draws):
            chol = np.linalg.cholesky(cov[c, s])
            P, _ = residual_precision(np, [x[c, s] for x in sigmas], rho[c, s])
            _, A, rhs = group_terms(np, plan, plan["M"], plan["ZZ"], pop[c, s], P)
            C = np.linalg.cholesky(precision_matrix(np, chol, A))
            w = np.linalg.solve(C, (rhs @ chol)[..., None])
            t = np.linalg.solve(np.swapaxes(C, -1, -2), w + z[s, ..., None])
            r[c, s] = (chol @ t)[..., 0]
    post[f"r_{b.name}"] = (("chain", "draw", f"{b.name}__level", f"{b.name}__coef"), r)
    post.coords[f"{b.name}__level"] = b.levels
    post.coords[f"{b.name}__coef"] = b.coef_labels
    _datatree.set_group(idata, "posterior", post)
