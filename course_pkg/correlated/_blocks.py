"""The builder's parts (linear predictors) and blocks (correlated group effects)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# --------------------------------------------------------------------------------------------
# Parts and blocks
# --------------------------------------------------------------------------------------------


@dataclass
class _Part:
    """One linear predictor: the mean of an outcome or its log sigma."""

    name: str  # "mu", "sigma", "mu_y1", ...
    prefix: str  # "" / "sigma_" / "y1_" ...
    dpar: str  # "mu" or "sigma"
    response: str | None
    formula: str
    dm: object = None  # formulae DesignMatrices of the common part
    X: np.ndarray | None = None  # common columns without the intercept
    b_labels: list[str] = field(default_factory=list)
    has_intercept: bool = False
    scale_y: float = 1.0
    center_y: float = 0.0


@dataclass
class _BlockColumn:
    part: str
    term: object  # formulae GroupSpecificTerm
    col: int  # column of term.expr
    label: str  # coordinate label, e.g. "Intercept" or "sigma_Intercept"


@dataclass
class _Block:
    name: str  # e.g. "rater_id"
    factor: str
    factor_vars: list[str]
    correlated: bool
    label: str | None
    levels: list[str] = field(default_factory=list)
    columns: list[_BlockColumn] = field(default_factory=list)
    Xi: list[np.ndarray] = field(default_factory=list)  # per column, length n
    idx: np.ndarray | None = None

    @property
    def k(self) -> int:
        return len(self.columns)

    @property
    def coef_labels(self) -> list[str]:
        return [c.label for c in self.columns]
