"""List the decimal numbers typed into the notebooks' Markdown, outside glue roles, math and code.

Usage: python scripts/unglued_numbers.py [book/ch01_virus_load.ipynb ...]

Every number a cell computes belongs in the prose through MyST-NB's glue
(``{glue:text}`key:.2f```), never typed: a typed number drifts from the output on the next
execution. This script finds the candidates, one line per number with the cell index and some
context, and prints a count per notebook. Inputs (priors, settings, the source's own quoted
values) are legitimately typed; a notebook's allow-list says which.
"""

from __future__ import annotations

import argparse
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted(Path("book").glob("*.ipynb"))
    for path in paths:
        found = unglued(path)
        for index, number, context in found:
            print(f"{path.name}:{index}: {number:>10}  ...{context}...")
        print(f"{path.name}: {len(found)} typed decimal numbers", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
