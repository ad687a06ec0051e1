"""Run notebooks on other chains: every check must hold, and draw-dependent cells are found.

Usage: python scripts/draw_dependent_cells.py [--shift K] [--tag] book/ch02_partial_pooling.ipynb ...

A seed gives the same draws on the same kind of CPU only: another CPU rounds differently early in
warm-up and its chains go elsewhere (see the performance appendix, "The same seed on another
CPU"). So CI, on whatever CPU it gets, can compare digit for digit only the cells whose output does
not depend on the draws, and every gate and assert in a notebook must hold on other chains too.
This script tests both on one machine. It executes each notebook as ``scripts/run_notebook.py``
does, with ``COURSE_SEED_SHIFT=K`` (default 1000), so every sampler gets another seed while
simulated data keep theirs, and then:

- a cell that raises (a gate, a parity check or an assert that held only for the committed chains)
  is reported with its error and the script exits with 1 (every cell runs, so one run lists
  them all; cells tagged ``raises-exception`` may raise);
- each code cell's output is compared with the committed one as nbval compares them (the same
  skipped keys, images included, and the same sanitizer, ``tests/nbval_sanitize.cfg``). A cell
  whose output changed must carry the tag ``nbval-ignore-output``; ``--tag`` adds it (only
  when no cell failed). Untagged
  changed cells make the exit status 1.

The committed file is not re-executed or rewritten, only retagged with ``--tag``. The shifted
notebook is written to ``--out`` (default ``_build/shifted``) for a look at what changed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_notebook import execute  # noqa: E402

TAG = "nbval-ignore-output"
SANITIZE_CFG = ROOT / "tests" / "nbval_sanitize.cfg"
#: Output keys nbval does not compare (its ``IPyNbFile.skip_compare`` without ``--nbdime``).
SKIP = {"metadata", "traceback", "prompt_number", "output_type", "name", "execution_count",
        "application/vnd.jupyter.widget-view+json", "image/png", "image/jpeg"}


def sanitize_patterns(path: Path = SANITIZE_CFG) -> list[tuple[str, str]]:
    """The (regex, replacement) pairs of an nbval sanitize file, in order (nbval's parser)."""
    return re.findall("^regex: (.*)$\n^replace: (.*)$", path.read_text(), flags=re.MULTILINE)


def comparable(outputs: list, patterns: list[tuple[str, str]]) -> dict[str, list]:
    """A cell's outputs as nbval compares them: streams keyed by their name, MIME data flattened,
    skipped keys dropped, strings sanitized."""
    flat: dict[str, list] = {}
    for output in outputs:
        if output.get("output_type") == "stream":
            output = {"output_type": "stream", output["name"]: output["text"]}
        for key, value in output.items():
            items = value.items() if key == "data" else [(key, value)]
            for sub, content in items:
                if sub in SKIP:
                    continue
                if isinstance(content, list):
                    content = "".join(content)
                if isinstance(content, str):
                    for regex, replace in patterns:
                        content = re.sub(regex, replace, content)
                flat.setdefault(sub, []).append(content)
    return flat


def changed_cells(committed: nbformat.NotebookNode, executed: nbformat.NotebookNode,
                  patterns: list[tuple[str, str]]) -> list[int]:
    """Indices, among code cells, whose outputs nbval would find different."""
    old = [c for c in committed.cells if c.cell_type == "code"]
    new = [c for c in executed.cells if c.cell_type == "code"]
    if len(old) != len(new):
        raise ValueError(f"{len(old)} code cells committed but {len(new)} executed")
    return [i for i, (a, b) in enumerate(zip(old, new, strict=True))
            if comparable(a.get("outputs", []), patterns)
            != comparable(b.get("outputs", []), patterns)]


def tagged(cell) -> bool:
    """Whether nbval skips comparing this cell's output."""
    return TAG in cell.get("metadata", {}).get("tags", [])


def add_tags(path: Path, indices: list[int]) -> None:
    """Tag the given code cells of the committed notebook, keeping the file's JSON layout."""
    data = json.loads(path.read_text())
    code = [c for c in data["cells"] if c["cell_type"] == "code"]
    for i in indices:
        tags = code[i].setdefault("metadata", {}).setdefault("tags", [])
        if TAG not in tags:
            tags.append(TAG)
    path.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")


def errors(nb: nbformat.NotebookNode) -> list[tuple[int, str]]:
    """(code-cell index, "Error: message") of cells that raised without ``raises-exception``."""
    code = [c for c in nb.cells if c.cell_type == "code"]
    return [(i, f"{out['ename']}: {out['evalue']}")
            for i, cell in enumerate(code)
            if "raises-exception" not in cell.get("metadata", {}).get("tags", [])
            for out in cell.get("outputs", []) if out.get("output_type") == "error"]


def check(path: Path, shift: int, out: Path, tag: bool, timeout: int) -> bool:
    """Run one notebook on shifted seeds; report; return whether it passed."""
    committed = nbformat.read(path, as_version=4)
    before = os.environ.get("COURSE_SEED_SHIFT")
    os.environ["COURSE_SEED_SHIFT"] = str(shift)
    try:
        executed, wall = execute(path, timeout, allow_errors=True)
    finally:
        if before is None:
            os.environ.pop("COURSE_SEED_SHIFT", None)
        else:
            os.environ["COURSE_SEED_SHIFT"] = before
    out.mkdir(parents=True, exist_ok=True)
    nbformat.write(executed, out / path.name)
    failed = errors(executed)
    for index, message in failed:
        print(f"{path}: code cell {index} FAILED on shifted seeds (COURSE_SEED_SHIFT={shift}): "
              f"{message[:2000]}")
    changed = changed_cells(committed, executed, sanitize_patterns())
    code = [c for c in committed.cells if c.cell_type == "code"]
    untagged = [i for i in changed if not tagged(code[i])]
    unchanged_tagged = [i for i, c in enumerate(code) if tagged(c) and i not in changed]
    print(f"{path}: ran in {wall:.0f} s on shifted seeds; {len(changed)} code cells changed "
          f"output, {len(untagged)} of them untagged {untagged}; tagged but unchanged "
          f"{unchanged_tagged} (wall-clock output or chance equality)")
    if failed:
        return False  # outputs after an error say nothing about the draws; tag nothing
    if untagged and tag:
        add_tags(path, untagged)
        print(f"{path}: tagged code cells {untagged} {TAG}")
        return True
    return not untagged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--shift", type=int, default=1000, help="added to every sampler seed")
    parser.add_argument("--tag", action="store_true", help="tag changed cells")
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "shifted")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per cell")
    args = parser.parse_args(argv)
    if args.shift == 0:
        parser.error("--shift 0 runs the committed chains; give another integer")
    for path in args.notebooks:
        if path.suffix != ".ipynb" or not path.is_file():
            parser.error(f"not a notebook file: {path}")
    results = [check(p, args.shift, args.out, args.tag, args.timeout) for p in args.notebooks]
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
