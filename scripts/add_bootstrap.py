"""Insert (or refresh) the hosted-notebook bootstrap cell at the top of chapter notebooks.

Usage: python scripts/add_bootstrap.py book/ch*.ipynb

The cell installs ``course_pkg`` and the locked dependencies only when ``course_pkg`` cannot be
imported (a fresh Colab or Binder session); on a machine set up with ``make book`` it does
nothing. The repository URL is read from ``_config.yml`` so there is one place to change it.
Re-execute the notebook afterwards (scripts/run_notebook.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parents[1]
MARKER = "# course bootstrap"


def bootstrap_source() -> str:
    """The cell's code, with the repository URL from _config.yml."""
    repo = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    return f'''{MARKER}: in a hosted notebook (Colab, Binder) install the course package and its
# locked dependencies when they are missing; on a machine set up with `make book` this does nothing.
import importlib.util
import subprocess
import sys

if importlib.util.find_spec("course_pkg") is None:
    REPO = "{repo}"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",
                    "-r", f"{{REPO}}/raw/main/requirements.lock",
                    f"course-pkg @ git+{{REPO}}"], check=True)'''


def add(path: Path) -> bool:
    """Put the bootstrap cell first among the code cells; return True if the file changed."""
    nb = nbformat.read(path, as_version=4)
    source = bootstrap_source()
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    if code_cells and code_cells[0].source.startswith(MARKER):
        if code_cells[0].source == source:
            return False
        code_cells[0].source = source
    else:
        first_code = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"),
                          len(nb.cells))
        nb.cells.insert(first_code, nbformat.v4.new_code_cell(source))
    nbformat.write(nb, path)
    return True


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    for arg in argv:
        path = Path(arg)
        if path.suffix != ".ipynb" or not path.is_file():
            print(f"not a notebook: {path}", file=sys.stderr)
            return 2
        print(f"{path}: {'updated' if add(path) else 'already current'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
