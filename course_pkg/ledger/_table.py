"""Reading a chapter's ledger file: columns, row checks, clear errors."""

from __future__ import annotations

import csv
import math
from importlib import resources
from pathlib import Path

import pandas as pd

#: The columns every ledger file has, in order.
COLUMNS = ("id", "model", "quantity", "statistic", "printed", "decimals", "kind", "origin",
           "location", "note", "check", "k", "reason")
#: The columns of a checked ledger that the reproduction report shows.
REPORT_COLUMNS = ("model", "quantity", "statistic", "printed", "ours", "tolerance", "status",
                  "reason")
_CHECKS = ("compare", "exact", "not-checked")
_KINDS = ("result", "setting", "data")
_ORIGINS = ("source", "reference")
# At 4 Monte Carlo standard errors a correct fit misses a given row with probability 6e-5
# (normal tails): any of 100 rows with probability under 1%, any of chapter 2's 579 about 3.6%;
# at 3 it would be 0.27% per row, about 24% for 100 rows.
_DEFAULT_K = 4.0


class LedgerError(ValueError):
    """A ledger file is malformed; the message names the file, the row and the field."""


def _ledger_path(chapter: str) -> Path:
    if not isinstance(chapter, str) or not chapter:
        raise TypeError(f"chapter must be a chapter name such as 'ch05_affect_melsm', got "
                        f"{chapter!r}")
    if chapter.endswith(".csv") or "/" in chapter:
        return Path(chapter)
    return Path(str(resources.files("course_pkg.ledger") / "data" / f"{chapter}.csv"))


def _parse_number(text: str) -> float:
    return float(text.replace("−", "-").replace(",", ""))


def _decimals_shown(printed: str) -> int | None:
    """Decimal places a printed number resolves: ``0.19`` 2, ``1.651024e+04`` 2 (the last
    mantissa digit is in the hundredths), ``1,200`` 0; None for inf/nan."""
    text = printed.replace("−", "-").replace(",", "").replace("_", "").lower()
    if not any(ch.isdigit() for ch in text):
        return None
    mantissa, _, exponent = text.partition("e")
    places = len(mantissa.split(".")[1]) if "." in mantissa else 0
    try:
        return max(0, places - int(exponent)) if exponent else places
    except ValueError:  # not a number: load_ledger reports the row
        return None


def load_ledger(chapter: str) -> pd.DataFrame:
    """Read and validate a chapter's ledger.

    Parameters
    ----------
    chapter : str
        The chapter's notebook name (``"ch05_affect_melsm"``) or a path to a ledger CSV file.

    Returns
    -------
    pandas.DataFrame
        One row per printed number, indexed by ``id``; ``value`` holds the printed number as a
        float, ``decimals`` and ``k`` are numbers.

    Raises
    ------
    FileNotFoundError
        No ledger for that chapter.
    LedgerError
        Missing or extra columns; a duplicate ``id``; a ``printed`` value that is not a number;
        ``decimals`` that do not match it; an unknown ``kind``, ``origin`` or ``check``; a
        ``not-checked`` row without a reason; a ``k`` that is not a positive number. The message
        names the file, the row (as numbered in the file, header = 1) and the field.

    Examples
    --------
    >>> load_ledger("ch05_affect_melsm").loc["ref.m1.sigma.mean", "value"]  # doctest: +SKIP
    0.61
    """
    path = _ledger_path(chapter)
    if not path.is_file():
        raise FileNotFoundError(f"no ledger at {path}")
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        header = tuple(reader.fieldnames or ())
        if header != COLUMNS:
            missing = [c for c in COLUMNS if c not in header]
            extra = [c for c in header if c not in COLUMNS]
            raise LedgerError(f"{path.name}: the header must be {','.join(COLUMNS)}; missing "
                              f"{missing}, unexpected {extra}" if missing or extra else
                              f"{path.name}: columns out of order; expected {','.join(COLUMNS)}")
        rows = list(reader)
    seen: dict[str, int] = {}
    records = []
    for line, row in enumerate(rows, start=2):
        def bad(field, why, line=line, row=row):
            raise LedgerError(f"{path.name}, row {line} (id {row.get('id')!r}), field "
                              f"{field!r}: {why}")

        if None in row or any(v is None for v in row.values()):
            bad("-", f"expected {len(COLUMNS)} fields")
        rid = row["id"].strip()
        if not rid:
            bad("id", "empty")
        if rid in seen:
            bad("id", f"duplicate of row {seen[rid]}")
        seen[rid] = line
        try:
            value = _parse_number(row["printed"])
        except ValueError:
            bad("printed", f"{row['printed']!r} is not a number")
        try:
            decimals = int(row["decimals"])
        except ValueError:
            bad("decimals", f"{row['decimals']!r} is not an integer")
        shown = _decimals_shown(row["printed"])
        if shown is not None and shown != decimals:
            bad("decimals", f"{decimals} but {row['printed']!r} shows {shown}")
        for field, allowed in (("kind", _KINDS), ("origin", _ORIGINS), ("check", _CHECKS)):
            if row[field] not in allowed:
                bad(field, f"{row[field]!r} is not one of {allowed}")
        if row["check"] == "not-checked" and not row["reason"].strip():
            bad("reason", "a row that is not checked must say why")
        k = _DEFAULT_K
        if row["k"].strip():
            try:
                k = float(row["k"])
            except ValueError:
                bad("k", f"{row['k']!r} is not a number")
            if not (math.isfinite(k) and k > 0):
                bad("k", f"must be a positive number, got {k}")
        records.append({**row, "id": rid, "value": value, "decimals": decimals, "k": k})
    if not records:
        raise LedgerError(f"{path.name}: no rows")
    return pd.DataFrame(records).set_index("id")
