"""List the decimal numbers typed into the notebooks' Markdown, outside glue roles, math and code.

Usage: python scripts/unglued_numbers.py [--all] [book/ch01_virus_load.ipynb ...]

Every number a cell computes belongs in the prose through MyST-NB's glue
(``{glue:text}`key:.2f```), never typed: a typed number drifts from the output on the next
execution. This script finds the candidates, one line per number with the cell index and some
context, and prints a count per notebook. Inputs (priors, settings, the source's own quoted
values) are legitimately typed; a notebook's allow-list, ``tests/typed_numbers/<stem>.csv``
with columns ``number,phrase,reason``, says which: a typed number is allowed when a row has the
same number and a phrase found in the same cell. By default only the numbers no row allows are
listed; ``--all`` lists every candidate.
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from pathlib import Path

import nbformat

# Decimal numbers: 0.19, -17.1, 1,446.2; not parts of identifiers, versions or dates.
NUMBER = re.compile(r"(?<![\w.\-/])[−-]?\d{1,3}(?:,\d{3})*\.\d+(?![\w.]*\d)")
SKIP = [
    re.compile(r"\$\$.*?\$\$", re.S),  # display math
    re.compile(r"(?<!\\)\$[^$\n]+\$"),  # inline math
    re.compile(r"```.*?```", re.S),  # fenced blocks (code, directives)
    re.compile(r"`[^`\n]+`"),  # inline code and glue roles' arguments
    re.compile(r"\{glue:[a-z]*\}`[^`]*`"),  # glue roles
    re.compile(r"<https?://[^>]+>|\]\([^)]+\)"),  # links
]


def unglued(path: Path) -> list[tuple[int, str, str]]:
    """(cell index, number, context) for every candidate in a notebook's Markdown cells."""
    nb = nbformat.read(path, as_version=4)
    out = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        text = cell.source
        for pattern in SKIP:
            text = pattern.sub(lambda m: " " * len(m.group(0)), text)
        for match in NUMBER.finditer(text):
            start, end = max(0, match.start() - 40), min(len(text), match.end() + 40)
            context = " ".join(cell.source[start:end].split())
            out.append((index, match.group(0), context))
    return out


ALLOW_DIR = Path(__file__).resolve().parents[1] / "tests" / "typed_numbers"
ALLOW_COLUMNS = ["number", "phrase", "reason"]


def load_allowed(path: Path) -> list[dict[str, str]]:
    """A notebook's allow-list rows; a missing file is an empty list, a malformed one raises."""
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames != ALLOW_COLUMNS:
            raise ValueError(f"{path}: columns must be {ALLOW_COLUMNS}, got {reader.fieldnames}")
        rows = list(reader)
    for line, row in enumerate(rows, start=2):
        empty = [key for key in ALLOW_COLUMNS if not (row.get(key) or "").strip()]
        if empty:
            raise ValueError(f"{path}, line {line}: empty field(s) {empty}")
    return rows


def _flat(text: str) -> str:
    return " ".join(text.split())


def check(path: Path, allow_dir: Path = ALLOW_DIR):
    """(numbers no row allows, rows that allow nothing) for one notebook.

    A row allows a typed number when its ``number`` equals it and its ``phrase`` occurs in the
    same Markdown cell (whitespace collapsed); a row that matches nothing is stale.
    """
    rows = load_allowed(allow_dir / f"{path.stem}.csv")
    nb = nbformat.read(path, as_version=4)
    used = [False] * len(rows)
    missing = []
    for index, number, context in unglued(path):
        cell = _flat(nb.cells[index].source)
        hits = [i for i, row in enumerate(rows)
                if row["number"] == number and _flat(row["phrase"]) in cell]
        for i in hits:
            used[i] = True
        if not hits:
            missing.append((index, number, context))
    stale = [row for row, ok in zip(rows, used, strict=True) if not ok]
    return missing, stale


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--all", action="store_true", help="list allowed numbers too")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted(Path("book").glob("*.ipynb"))
    status = 0
    for path in paths:
        if args.all:
            found, stale = unglued(path), []
        else:
            found, stale = check(path)
        for index, number, context in found:
            print(f"{path.name}:{index}: {number:>10}  ...{context}...")
        for row in stale:
            print(f"{path.name}: stale allow-list row {row['number']!r} / {row['phrase']!r}")
        label = "typed decimal numbers" if args.all else "typed numbers no allow-list row covers"
        print(f"{path.name}: {len(found)} {label}, {len(stale)} stale rows", file=sys.stderr)
        status |= bool(found or stale)
    return int(status)


if __name__ == "__main__":
    raise SystemExit(main())
