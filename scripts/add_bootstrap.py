"""Insert (or refresh) the hosted-notebook bootstrap cell at the top of the book's notebooks.

Usage: python scripts/add_bootstrap.py book/*.ipynb
       python scripts/add_bootstrap.py --check book/*.ipynb   (exit 1 if a notebook lacks it)

The cell installs the runtime group (locks/runtime.txt) and ``course_pkg`` with the notebook's own
Python, only when ``course_pkg`` is not installed (a fresh Colab or Binder session); on a machine
set up with ``make book`` it does nothing. It carries the tag ``remove-input``, so the HTML book
does not show it. The repository URL is read from ``_config.yml`` so there is one place to change
it. Re-execute the notebook afterwards (scripts/run_notebook.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
MARKER = "# course bootstrap"
TAG = "remove-input"
RUNTIME_LOCK = "locks/runtime.txt"


def bootstrap_source() -> str:
    """The cell's code, with the repository URL from _config.yml."""
    repo = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    return f'''{MARKER}: in a hosted notebook (Colab, Binder) install the course package
# and the locked versions it runs on (the runtime group) when it is missing; on a
# machine set up with `make book` this does nothing.
import importlib.util
import subprocess
import sys

if importlib.util.find_spec("course_pkg") is None:
    REPO = "{repo}"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",
                    "-r", f"{{REPO}}/raw/main/{RUNTIME_LOCK}",
                    f"course-pkg @ git+{{REPO}}"], check=True)'''


def _first_code_cell(nb):
    return next((c for c in nb.cells if c.cell_type == "code"), None)


def is_current(path: Path) -> bool:
    """True if the notebook's first code cell is the current bootstrap cell, tagged."""
    cell = _first_code_cell(nbformat.read(path, as_version=4))
    return (cell is not None and cell.source == bootstrap_source()
            and TAG in cell.get("metadata", {}).get("tags", []))


def add(path: Path) -> bool:
    """Put the bootstrap cell first among the code cells; return True if the file changed."""
    nb = nbformat.read(path, as_version=4)
    source = bootstrap_source()
    cell = _first_code_cell(nb)
    if cell is not None and cell.source.startswith(MARKER):
        if cell.source == source and TAG in cell.metadata.get("tags", []):
            return False
        cell.source = source
    else:
        cell = nbformat.v4.new_code_cell(source)
        first_code = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"),
                          len(nb.cells))
        nb.cells.insert(first_code, cell)
    tags = cell.metadata.setdefault("tags", [])
    if TAG not in tags:
        tags.append(TAG)
    nbformat.write(nb, path)
    return True


def main(argv: list[str]) -> int:
    check = "--check" in argv
    paths = [Path(arg) for arg in argv if arg != "--check"]
    if not paths:
        print(__doc__)
        return 2
    for path in paths:
        if path.suffix != ".ipynb" or not path.is_file():
            print(f"not a notebook: {path}", file=sys.stderr)
            return 2
    if check:
        stale = [path for path in paths if not is_current(path)]
        for path in stale:
            print(f"{path}: lacks the current bootstrap cell "
                  f"(run: python scripts/add_bootstrap.py {path})", file=sys.stderr)
        return 1 if stale else 0
    for path in paths:
        print(f"{path}: {'updated' if add(path) else 'already current'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
