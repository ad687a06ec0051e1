"""The builder's design: parts (linear predictors) and blocks (group effects) read from formulas.

formulae parses every formula and builds the design matrices; this module only decides which
columns form one block (all columns of one ``( ... | g)``, or of every segment sharing an
``|ID|``) and checks the data against the formulas.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from course_pkg.correlated._blocks import _Block, _BlockColumn, _Part
from course_pkg.correlated._formula import (
    FormulaError,
    GroupSegment,
    _split_formula,
    split_group_terms,
)


def _mad(y) -> float:
    return float(1.4826 * np.median(np.abs(y - np.median(y))))


@dataclass
class Design:
    """What the formulas make of the data: rows used, outcomes, parts and blocks."""

    formulas: list[str]
    sigma_formula: str | None
    data: pd.DataFrame  # complete rows only, index reset
    n_dropped: int
    responses: list[str]
    parts: dict[str, _Part]
    blocks: list[_Block]

    @property
    def multivariate(self) -> bool:
        return len(self.formulas) == 2

    def correlated_labels(self) -> list[str]:
        """Column labels of every correlated block with more than one column."""
        return [lab for b in self.blocks if b.correlated and b.k > 1 for lab in b.coef_labels]

    def coords(self) -> dict:
        """PyMC coordinates of the model's variables."""
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


def build_design(formulas: list[str], sigma_formula: str | None, data: pd.DataFrame,
                 correlated: bool) -> Design:
    """Parse the formulas, drop incomplete rows and build every part's and block's columns.

    ``correlated=False`` makes every block independent (as if written with ``||``).
    """
    import formulae as fm

    multivariate = len(formulas) == 2
    responses = [_split_formula(f, need_response=True)[0] for f in formulas]
    specs = []  # (part name, prefix, dpar, formula string)
    if multivariate:
        if responses[0] == responses[1]:
            raise FormulaError(f"the two formulas must have different responses, both are "
                               f"{responses[0]!r}")
        for f, r in zip(formulas, responses, strict=True):
            specs.append((f"mu_{r}", f"{r}_", "mu", f))
    else:
        specs.append(("mu", "", "mu", formulas[0]))
        if sigma_formula is not None:
            lhs, rhs = _split_formula(sigma_formula, need_response=False)
            if lhs not in (None, "sigma"):
                raise FormulaError(f"the scale formula must model sigma ('sigma ~ ...'), got "
                                   f"{sigma_formula!r}")
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
        raise KeyError(f"the formula uses column(s) {missing} that are not in data; columns "
                       f"are {list(data.columns)}")
    df = data[sorted(used_vars)].dropna()
    if len(df) == 0:
        raise ValueError("no complete rows left after dropping missing values")
    df = df.reset_index(drop=True)

    parts: dict[str, _Part] = {}
    blocks: list[_Block] = []
    by_label: dict[tuple[str, str], _Block] = {}
    for name, prefix, dpar, lhs, common, segments in parsed:
        part = _Part(name, prefix, dpar, lhs, common)
        try:
            part.dm = fm.design_matrices(common, df, na_action="error")
        except Exception as err:
            raise FormulaError(f"formulae cannot build the design matrix of {common!r}: "
                               f"{err}") from err
        cdf = part.dm.common.as_dataframe()
        part.has_intercept = "Intercept" in cdf.columns
        part.b_labels = [c for c in cdf.columns if c != "Intercept"]
        part.X = cdf[part.b_labels].to_numpy(dtype=float)
        if lhs is not None:
            y = df[lhs].to_numpy(dtype=float)
            part.center_y, part.scale_y = float(np.median(y)), max(2.5, _mad(y))
        parts[name] = part
        for seg in segments:
            if seg.label is not None and (seg.factor, seg.label) in by_label:
                block = by_label[(seg.factor, seg.label)]
            else:
                block = _Block("", seg.factor, [], seg.correlated and correlated, seg.label)
                if seg.label is not None:
                    by_label[(seg.factor, seg.label)] = block
                blocks.append(block)
            _add_segment(block, part, seg, df)
    names = [b.factor.replace(":", "_") for b in blocks]
    for i, (b, base) in enumerate(zip(blocks, names, strict=True)):
        b.name = base if names.count(base) == 1 else f"{base}_{b.label or i + 1}"
    return Design(list(formulas), sigma_formula, df, len(data) - len(df), responses, parts,
                  blocks)


def _add_segment(block: _Block, part: _Part, seg: GroupSegment, df: pd.DataFrame) -> None:
    """Add one group term's columns to its block (levels must match the block's)."""
    import formulae as fm

    try:
        dm = fm.design_matrices(f"0 + {seg.clean}", df, na_action="error")
    except Exception as err:
        raise FormulaError(f"formulae cannot parse group term {seg.text!r}: {err}") from err
    terms = list(dm.group.terms.values())
    factor_vars = [c.name for c in terms[0].factor.components]
    groups = list(terms[0].groups)
    if len(groups) < 2:
        raise ValueError(f"grouping factor {seg.factor!r} in {seg.text!r} has {len(groups)} "
                         f"level ({groups}); a varying effect needs at least two groups")
    if not block.levels:
        block.levels, block.factor_vars = groups, factor_vars
        block.idx = terms[0].factor.data.argmax(1)
    elif groups != block.levels:
        raise ValueError(f"group term {seg.text!r}: levels of {seg.factor!r} differ from those "
                         "of the block it shares")
    for term in terms:
        xi = np.asarray(term.expr.data, dtype=float)
        if xi.ndim == 1:
            xi = xi[:, None]
        for j, lab in enumerate(term.expr.labels):
            block.columns.append(_BlockColumn(part.name, term, j, part.prefix + lab))
            block.Xi.append(xi[:, j])
    if len(set(block.coef_labels)) != block.k:
        raise FormulaError(f"group term {seg.text!r} repeats a column already in its block")


def new_design(design: Design, data: pd.DataFrame | None):
    """Population and group columns of new data: ``(rows, {part: (X, has_intercept)},
    [(level index or -1, Z, level keys) per block])``; the fitted data when ``data`` is None."""
    if data is None:
        parts = {name: (p.X, p.has_intercept) for name, p in design.parts.items()}
        blocks = [(b.idx, np.column_stack(b.Xi), np.zeros(0, dtype=object))
                  for b in design.blocks]
        return len(design.data), parts, blocks
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame or None, got {type(data).__name__}")
    parts = {}
    for name, p in design.parts.items():
        cdf = p.dm.common.evaluate_new_data(data).as_dataframe()
        parts[name] = (cdf[p.b_labels].to_numpy(dtype=float), p.has_intercept)
    blocks = []
    for b in design.blocks:
        missing = [v for v in b.factor_vars if v not in data.columns]
        if missing:
            raise KeyError(f"new data lacks grouping column(s) {missing}")
        cols = []
        for c in b.columns:
            xi = np.asarray(c.term.expr.eval_new_data(data), dtype=float)
            cols.append(xi.reshape(len(data), -1)[:, c.col])
        keys = data[b.factor_vars].astype(str).agg(":".join, axis=1).to_numpy()
        lookup = {lev: i for i, lev in enumerate(b.levels)}
        idx = np.array([lookup.get(k, -1) for k in keys])
        blocks.append((idx, np.column_stack(cols), keys))
    return len(data), parts, blocks
