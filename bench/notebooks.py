"""Time every notebook of the book against the course's execution budgets.

Usage (from the repository root, inside the course environment)::

    python -m bench.notebooks                 # every notebook under book/, caches as they are
    python -m bench.notebooks --cold          # empty PyTensor/numba caches (a first run)
    python -m bench.notebooks book/ch02_partial_pooling.ipynb --out /tmp/nb

Each notebook runs top to bottom in a fresh kernel, as ``make test`` executes it (progress bars
off, hash seed 0, ``CI`` set); the notebook file is not modified. Wall seconds per notebook and for
the whole book are compared with the budgets of the performance issue: 3 minutes per notebook and
12 minutes for the book with warm caches, 20 minutes for the book from empty caches. The results
go to ``<out>.csv`` and ``<out>.md``; the book's performance appendix includes the Markdown table.

Every fit the notebooks make is logged as well (:mod:`course_pkg.fitlog`): ``<out>_fits.csv`` and
``<out>_fits.md`` list each model the book fits, with its chapter's sampler settings, compile and
sampling seconds, smallest bulk and tail ESS, ESS per second, largest R-hat and divergences.

``--cold`` points PyTensor's compile directory (where its numba functions are cached) and numba's
own cache at fresh temporary folders, so every model compiles from scratch. It does not make a
fresh virtual environment: the Python bytecode of the installed libraries stays compiled.
Timing lives here, never in a unit test.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from datetime import date
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))

from course_pkg.fitlog import FIT_LOG_ENV, NOTEBOOK_ENV, read_fit_log  # noqa: E402
from scripts.run_notebook import execute as execute_notebook  # noqa: E402

#: Budgets from the performance issue, in seconds.
NOTEBOOK_BUDGET_S = 180.0
BOOK_BUDGET_S = {"warm": 720.0, "cold": 1200.0}


def verdicts(seconds: dict[str, float], caches: str) -> pd.DataFrame:
    """Table of notebook seconds against the budgets, with a last row for the whole book.

    Parameters
    ----------
    seconds : dict
        Wall seconds per notebook name.
    caches : {"warm", "cold"}
        Which budget the book total is held to. Per-notebook budgets apply to warm runs only.
    """
    if caches not in BOOK_BUDGET_S:
        raise ValueError(f"caches must be one of {sorted(BOOK_BUDGET_S)}, got {caches!r}")
    if not seconds:
        raise ValueError("seconds must name at least one notebook")
    rows = []
    for name, secs in seconds.items():
        budget = NOTEBOOK_BUDGET_S if caches == "warm" else float("nan")
        rows.append({"notebook": name, "seconds": secs, "budget_s": budget,
                     "within": bool(secs <= budget) if caches == "warm" else None})
    total = float(sum(seconds.values()))
    rows.append({"notebook": "whole book", "seconds": total, "budget_s": BOOK_BUDGET_S[caches],
                 "within": bool(total <= BOOK_BUDGET_S[caches])})
    return pd.DataFrame(rows)


def to_markdown(table: pd.DataFrame, caches: str, when: str) -> str:
    """The table as Markdown, with the cache state and date stated above it."""
    def fmt(value):
        if value is None or value != value:  # None or NaN
            return ""
        return "yes" if value is True else "no" if value is False else f"{value:.0f}"

    lines = [f"Notebook execution, {caches} caches, measured {when} "
             "(`python -m bench.notebooks`).", "",
             "| notebook | seconds | budget s | within budget |", "|---|---|---|---|"]
    for row in table.itertuples():
        lines.append(f"| {row.notebook} | {row.seconds:.0f} | {fmt(row.budget_s)} | "
                     f"{fmt(row.within)} |")
    return "\n".join(lines) + "\n"


def fits_markdown(fits: pd.DataFrame, caches: str, when: str) -> str:
    """The fit log as a Markdown table, one row per fit, in the order the notebooks ran them.

    ESS/s is the smallest bulk ESS over the wall seconds of compile plus sampling.
    """
    if fits.empty:
        raise ValueError("fits must hold at least one fit")
    fits = fits.reindex(columns=["notebook", "fit", "label", "sampler", "target_accept",
                                 "chains", "draws", "compile_s", "sample_s", "wall_s",
                                 "min_ess_bulk", "min_ess_tail", "max_rhat", "divergences"])

    def num(value, digits=0):
        return "" if value is None or value != value else f"{value:.{digits}f}"

    lines = [f"Every fit in the book, {caches} caches, measured {when} (`python -m bench.notebooks`"
             "; compile = wall minus nutpie's own sampling clock).", "",
             "| notebook | # | model | sampler | target | chains × draws | compile s | sample s | total s "
             "| min bulk ESS | min tail ESS | ESS/s | max R-hat | div |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for row in fits.itertuples():
        label = str(row.label).replace("|", "\\|")
        ess_per_s = (row.min_ess_bulk / row.wall_s
                     if row.min_ess_bulk == row.min_ess_bulk and row.wall_s else None)
        lines.append(
            f"| {row.notebook} | {row.fit} | `{label}` | {row.sampler} | "
            f"{num(row.target_accept, 2) or 'default'} | {num(row.chains)} × {num(row.draws)} | "
            f"{num(row.compile_s, 1)} | "
            f"{num(row.sample_s, 1)} | {num(row.wall_s, 1)} | {num(row.min_ess_bulk)} | "
            f"{num(row.min_ess_tail)} | {num(ess_per_s, 1)} | {num(row.max_rhat, 3)} | "
            f"{num(row.divergences)} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to run (default: every notebook under book/)")
    parser.add_argument("--cold", action="store_true",
                        help="empty PyTensor and numba caches for this run")
    parser.add_argument("--out", type=Path, default=HERE / "notebooks",
                        help="path stem for the .csv and .md results")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "book").glob("*.ipynb"))
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        parser.error(f"no such notebook: {', '.join(missing)}")
    caches = "cold" if args.cold else "warm"
    saved = dict(os.environ)  # kernels inherit the environment; restored afterwards
    try:
        with tempfile.TemporaryDirectory(prefix="course-cold-") as tmp:
            os.environ["CI"] = "true"  # progress bars and hash seed: set by execute_notebook
            if args.cold:
                os.environ["PYTENSOR_FLAGS"] = f"base_compiledir={tmp}/pytensor"
                os.environ["NUMBA_CACHE_DIR"] = f"{tmp}/numba"
            log = Path(tmp) / "fits.jsonl"
            os.environ[FIT_LOG_ENV] = str(log)
            seconds = {}
            for path in paths:
                os.environ[NOTEBOOK_ENV] = path.stem
                _, wall = execute_notebook(path, timeout=1800)
                seconds[path.stem] = round(wall, 1)
                print(f"{path.stem}: {seconds[path.stem]:.0f} s", flush=True)
            fits = read_fit_log(log) if log.is_file() else pd.DataFrame()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    table = verdicts(seconds, caches)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out.with_suffix(".csv"), index=False)
    args.out.with_suffix(".md").write_text(to_markdown(table, caches, date.today().isoformat()))
    print(table.to_string(index=False))
    if not fits.empty:
        stem = args.out.with_name(args.out.name + "_fits")
        fits.to_csv(stem.with_suffix(".csv"), index=False)
        stem.with_suffix(".md").write_text(fits_markdown(fits, caches, date.today().isoformat()))
        print(f"{len(fits)} fits logged: {stem.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
