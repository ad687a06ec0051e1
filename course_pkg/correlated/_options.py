"""The builder's two sampling choices, each one argument with named values.

``likelihood`` says how the data enter (row by row, per-group moments, or with the group
effects integrated out); ``group_effects`` says how the group effects are sampled (non-centred,
centred, or a mix given as a :class:`Parameterization`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

LIKELIHOODS = ("rows", "grouped", "marginal")


@dataclass(frozen=True)
class Parameterization:
    """How the group effects of correlated blocks are sampled, beyond the two named choices.

    ``group_effects="noncentered"`` is ``Parameterization()`` and ``group_effects="centered"``
    is ``Parameterization(centered="all")``.

    Parameters
    ----------
    centered : "all" or sequence of str
        ``"all"``: every group's coefficients are sampled around the population ones,
        ``m_j ~ MvN(beta, Sigma)``, ``r_j = m_j - beta`` (hierarchical centring; independent
        blocks too). A sequence of column labels of correlated blocks (e.g. ``"Intercept"``,
        ``"y1_day01"``): those columns are centred and the rest of their block non-centred,
        ``r_N = L_NN z_N`` and the centred columns from their exact conditional given ``r_N``;
        a centred intercept is taken at each group's own mean of the block's other predictors.
        Empty (default): non-centred, ``z ~ N(0, 1)``, ``r = z @ (diag(sd) L)^T``.
    cholesky_order : sequence of str
        Column labels to put first in a correlated block's Cholesky factor, the others following
        in formula order. The prior is unchanged (LKJ is exchangeable) but a non-centred
        parameterisation is not: column ``i`` of the effects is built from ``z`` of columns
        ``0..i``, so putting well-identified effects first keeps them clear of weakly
        identified ones. ``z_<block>``'s (or ``m_<block>``'s) columns are in this order.

    Raises
    ------
    TypeError
        ``centered`` neither ``"all"`` nor a sequence of labels; ``cholesky_order`` not a
        sequence of labels.
    """

    centered: str | tuple[str, ...] = ()
    cholesky_order: tuple[str, ...] = ()

    def __post_init__(self):
        c = self.centered
        if c != "all":
            if not _labels(c):
                raise TypeError(f"centered must be 'all' or a sequence of column labels, got "
                                f"{c!r}")
            object.__setattr__(self, "centered", tuple(c))
        if not _labels(self.cholesky_order):
            raise TypeError(f"cholesky_order must be a sequence of column labels, got "
                            f"{self.cholesky_order!r}")
        object.__setattr__(self, "cholesky_order", tuple(self.cholesky_order))

    @property
    def all_centred(self) -> bool:
        return self.centered == "all"

    @property
    def partly_centred(self) -> tuple[str, ...]:
        """Labels of the columns centred within otherwise non-centred blocks."""
        return () if self.all_centred else self.centered

    def describe(self) -> str:
        kind = "hierarchically centred" if self.all_centred else "non-centred"
        if self.partly_centred:
            kind += f", except {list(self.partly_centred)} (centred)"
        if self.cholesky_order:
            kind += f"; Cholesky order starts {list(self.cholesky_order)}"
        return kind


def _labels(value) -> bool:
    return (isinstance(value, Sequence) and not isinstance(value, str)
            and all(isinstance(v, str) for v in value))


_NAMED = {"noncentered": Parameterization(), "centered": Parameterization(centered="all")}


def parse_group_effects(value, known: list[str]) -> Parameterization:
    """``group_effects`` as a :class:`Parameterization`, its labels checked against ``known``."""
    if isinstance(value, str):
        if value not in _NAMED:
            raise ValueError(f"group_effects must be 'noncentered', 'centered' or a "
                             f"Parameterization, got {value!r}")
        return _NAMED[value]
    if not isinstance(value, Parameterization):
        raise TypeError(f"group_effects must be 'noncentered', 'centered' or a "
                        f"Parameterization, got {type(value).__name__}")
    for arg, labels in (("centered", value.partly_centred),
                        ("cholesky_order", value.cholesky_order)):
        unknown = [c for c in labels if c not in known]
        if unknown:
            raise ValueError(f"{arg} names {unknown}, which are not columns of a correlated "
                             f"block; the columns are {known}")
    return value


def check_likelihood(value, has_scale_formula: bool) -> str:
    """``likelihood`` checked: one of :data:`LIKELIHOODS`, ``"marginal"`` without a scale
    formula."""
    if value not in LIKELIHOODS:
        raise ValueError(f"likelihood must be 'rows', 'grouped' or 'marginal', got {value!r}")
    if value == "marginal" and has_scale_formula:
        raise ValueError("likelihood='marginal' needs a residual SD that does not vary by group; "
                         "with a scale formula the group effects cannot be integrated out in "
                         "closed form")
    return value
