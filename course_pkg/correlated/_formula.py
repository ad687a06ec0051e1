"""Formula pre-processing for the builder: find the ``( ... | g)`` segments and read brms's
``||`` and ``|ID|`` markers before formulae sees the formula."""

from __future__ import annotations

import re
from dataclasses import dataclass


class FormulaError(ValueError):
    """A formula uses syntax the builder does not support, or cannot be parsed."""



# --------------------------------------------------------------------------------------------
# Formula pre-processing: find ( ... | g ) segments; read || and |ID| markers.
# --------------------------------------------------------------------------------------------

_UNSUPPORTED_CALLS = ("gr(", "mm(", "mmc(", "s(", "t2(", "me(", "mi(", "mo(", "cs(", "cbind(",
                      "mvbind(", "offset(", "arma(", "ar(", "car(", "gp(")


@dataclass
class GroupSegment:
    """One parenthesised group term of a formula, as written."""

    text: str  # the segment as written, parentheses included
    expr: str  # left of the bar(s)
    factor: str  # right of the bar(s)
    correlated: bool  # False for "||"
    label: str | None  # the ID of "|ID|", else None

    @property
    def clean(self) -> str:
        """The segment with a single bar, as formulae parses it."""
        return f"({self.expr} | {self.factor})"


def split_group_terms(rhs: str) -> tuple[str, list[GroupSegment]]:
    """Find the top-level ``( expr | g )`` segments of a formula's right-hand side.

    This is a bracket scan, not a formula parser: everything inside and outside the segments
    is parsed by formulae afterwards. Its job is to keep the columns of one segment together
    and to read brms's ``||`` and ``|ID|`` markers, which formulae cannot parse.

    Parameters
    ----------
    rhs : str
        Right-hand side of a formula (``"x + (1 + x | g)"``).

    Returns
    -------
    common : str
        The right-hand side without the group segments (``"x"``; ``"1"`` if nothing is left).
    segments : list of GroupSegment
        One per group segment, in order.

    Raises
    ------
    FormulaError
        Unbalanced parentheses, more than one ``|ID|`` marker, an empty side of a bar.

    Examples
    --------
    >>> common, segs = split_group_terms("x + (1 + x |p| g) + (1 || h)")
    >>> common, [(s.expr, s.factor, s.correlated, s.label) for s in segs]
    ('x', [('1 + x', 'g', True, 'p'), ('1', 'h', False, None)])
    """
    segments: list[GroupSegment] = []
    spans: list[tuple[int, int]] = []
    depth, start = 0, None
    for i, ch in enumerate(rhs):
        if ch == "(":
            if depth == 0:
                start = i
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise FormulaError(f"unbalanced ')' at position {i} in {rhs!r}")
            if depth == 0 and "|" in rhs[start:i]:
                inner = rhs[start + 1 : i]
                segments.append(_read_segment(rhs[start : i + 1], inner))
                spans.append((start, i + 1))
    if depth != 0:
        raise FormulaError(f"unbalanced '(' in {rhs!r}")
    common = rhs
    for a, b in reversed(spans):
        common = common[:a] + common[b:]
    # Tidy the leftover "+" signs.
    pieces = [p.strip() for p in common.split("+")]
    pieces = [p for p in pieces if p]
    common = " + ".join(pieces) if pieces else "1"
    if common.startswith("- "):
        common = "1 " + common
    return common, segments


def _read_segment(text: str, inner: str) -> GroupSegment:
    depth = 0
    bars = []
    for i, ch in enumerate(inner):
        depth += ch == "("
        depth -= ch == ")"
        if ch == "|" and depth == 0:
            bars.append(i)
    if len(bars) == 1:
        expr, factor, correlated, label = inner[: bars[0]], inner[bars[0] + 1 :], True, None
    elif len(bars) == 2 and bars[1] == bars[0] + 1:
        expr, factor, correlated, label = inner[: bars[0]], inner[bars[1] + 1 :], False, None
    elif len(bars) == 2:
        label = inner[bars[0] + 1 : bars[1]].strip()
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", label):
            raise FormulaError(
                f"group term {text!r}: the text between the bars must be a block ID such as "
                f"'|i|' (letters, digits, underscore), got {label!r}"
            )
        expr, factor, correlated = inner[: bars[0]], inner[bars[1] + 1 :], True
    else:
        raise FormulaError(
            f"group term {text!r} has {len(bars)} bars; supported are (expr | g), (expr || g) "
            "and (expr |ID| g)"
        )
    expr, factor = expr.strip(), factor.strip()
    if not expr or not factor:
        raise FormulaError(f"group term {text!r} needs an expression left of the bar and a "
                           "grouping factor right of it, as in (1 + x | g)")
    if "/" in factor:
        raise FormulaError(
            f"group term {text!r}: nested grouping with '/' is not supported; write the levels "
            "out, e.g. (1 | a) + (1 | a:b) instead of (1 | a/b)"
        )
    if re.search(r"[+*()]", factor):
        raise FormulaError(
            f"group term {text!r}: the grouping factor must be a column or an interaction of "
            f"columns (g or a:b), got {factor!r}"
        )
    return GroupSegment(text, expr, factor, correlated, label)


def _split_formula(formula: str, *, need_response: bool) -> tuple[str | None, str]:
    if not isinstance(formula, str) or not formula.strip():
        raise TypeError(f"formula must be a non-empty string, got {formula!r}")
    for call in _UNSUPPORTED_CALLS:
        if re.search(r"(?<![A-Za-z0-9_.])" + re.escape(call), formula):
            raise FormulaError(
                f"formula {formula!r} uses brms's {call[:-1]}(), which the builder does not "
                "support; supported are population terms that formulae parses (x, x:z, x*z, "
                "C(x), I(...), functions of columns) and group terms (expr | g), (expr || g), "
                "(expr |ID| g)"
            )
    if formula.count("~") > 1:
        raise FormulaError(f"formula {formula!r} has more than one '~'")
    if "~" in formula:
        lhs, rhs = (s.strip() for s in formula.split("~"))
    else:
        lhs, rhs = None, formula.strip()
    if need_response and not lhs:
        raise FormulaError(f"formula {formula!r} needs a response left of '~', as in 'y ~ x'")
    if lhs and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.]*", lhs):
        raise FormulaError(
            f"response {lhs!r} in {formula!r}: the builder supports a single column name as "
            "the response (no transformations, no brms addition terms such as y | se(s))"
        )
    if not rhs:
        raise FormulaError(f"formula {formula!r} has an empty right-hand side; use 1 for an "
                           "intercept only")
    return lhs, rhs
