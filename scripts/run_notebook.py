"""Execute course notebooks top to bottom in place and strip stray metadata.

Usage: python scripts/run_notebook.py book/ch01_virus_load.ipynb [more.ipynb ...]

Runs each notebook in a fresh kernel of the current environment (so execution counts are 1..N),
with progress bars off and Python's hash seed fixed at 0 (as `make test` runs nbval), keeps only
cell tags as cell metadata and only kernelspec/language_info as notebook metadata, and prints the
wall time. A cell tagged ``raises-exception`` may raise; any
other error stops the run and leaves the file untouched.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

KEEP_NB_META = ("kernelspec", "language_info")


def clean(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop execution timestamps, widget state and editor metadata; keep tags."""
    nb.metadata = nbformat.NotebookNode(
        {k: v for k, v in nb.metadata.items() if k in KEEP_NB_META}
    )
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python",
                                 "name": "python3"}
    for cell in nb.cells:
        tags = cell.get("metadata", {}).get("tags")
        cell.metadata = nbformat.NotebookNode({"tags": tags} if tags else {})
        if cell.cell_type == "code":
            for out in cell.get("outputs", []):
                out.get("metadata", {}).pop("execution", None)
    return nb


def execute(path: Path, timeout: int,
            allow_errors: bool = False) -> tuple[nbformat.NotebookNode, float]:
    """Execute a notebook in a fresh kernel as the tests do; return it and the wall seconds.

    The file is not written; :func:`run` does that, and the benchmark times notebooks with this.
    With ``allow_errors`` every cell runs and errors stay in the outputs (for
    ``scripts/draw_dependent_cells.py``, which lists them all).
    """
    nb = nbformat.read(path, as_version=4)
    env_before = {k: os.environ.get(k) for k in ("COURSE_PROGRESS", "PYTHONHASHSEED")}
    os.environ["COURSE_PROGRESS"] = "0"
    os.environ["PYTHONHASHSEED"] = "0"
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    start = time.perf_counter()
    try:
        NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=allow_errors,
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    finally:
        for key, value in env_before.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return nb, time.perf_counter() - start


def run(path: Path, timeout: int) -> float:
    """Execute a notebook, write it back with clean metadata, and return the wall seconds."""
    nb, wall = execute(path, timeout)
    nbformat.write(clean(nb), path)
    return wall


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--timeout", type=int, default=900, help="seconds per cell")
    args = parser.parse_args(argv)
    for path in args.notebooks:
        if path.suffix != ".ipynb" or not path.is_file():
            parser.error(f"not a notebook file: {path}")
        wall = run(path, args.timeout)
        print(f"{path}: executed in {wall:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
