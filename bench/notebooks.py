"""Time every notebook of the book against the course's execution budgets.

Usage (from the repository root, inside the course environment)::

    python -m bench.notebooks                 # every notebook under book/, caches as they are
    python -m bench.notebooks --cold          # empty PyTensor/numba caches (a first run)
    python -m bench.notebooks --cold --jobs 2  # two notebooks at a time, as `make test` runs them
    python -m bench.notebooks book/ch02_partial_pooling.ipynb --out /tmp/nb

Each notebook runs top to bottom in a fresh kernel, as ``make test`` executes it (progress bars
off, hash seed 0, ``CI`` set); the notebook file is not modified. Wall seconds per notebook and for
the whole book are compared with the budgets of the performance issue: 3 minutes per notebook and
12 minutes for the book with warm caches, 20 minutes for the book from empty caches. The results
go to ``<out>.csv`` and ``<out>.md``; the book's performance appendix includes the Markdown table.

``--jobs N`` executes up to N notebooks at once, each in its own process and kernel, longest first
(by the seconds in an earlier ``<out>.csv``), as ``make test`` does with pytest-xdist. The whole
book's time is then the wall time of the run, not the sum over the notebooks.

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
import multiprocessing
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
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


def verdicts(seconds: dict[str, float], caches: str,
             book_wall: float | None = None) -> pd.DataFrame:
    """Table of notebook seconds against the budgets, with a last row for the whole book.

    Parameters
    ----------
    seconds : dict
        Wall seconds per notebook name.
    caches : {"warm", "cold"}
        Which budget the book total is held to. Per-notebook budgets apply to warm runs only.
    book_wall : float, optional
        Wall seconds of the whole run, for notebooks executed side by side. Default: the sum of
        ``seconds`` (one notebook after another).
    """
    if caches not in BOOK_BUDGET_S:
        raise ValueError(f"caches must be one of {sorted(BOOK_BUDGET_S)}, got {caches!r}")
    if not seconds:
        raise ValueError("seconds must name at least one notebook")
    if book_wall is not None and not book_wall > 0:
        raise ValueError(f"book_wall must be a positive number of seconds, got {book_wall!r}")
    rows = []
    for name, secs in seconds.items():
        budget = NOTEBOOK_BUDGET_S if caches == "warm" else float("nan")
        rows.append({"notebook": name, "seconds": secs, "budget_s": budget,
                     "within": bool(secs <= budget) if caches == "warm" else None})
    total = float(sum(seconds.values())) if book_wall is None else float(book_wall)
    rows.append({"notebook": "whole book", "seconds": total, "budget_s": BOOK_BUDGET_S[caches],
                 "within": bool(total <= BOOK_BUDGET_S[caches])})
    return pd.DataFrame(rows)


def to_markdown(table: pd.DataFrame, caches: str, when: str, jobs: int = 1,
                machine: str | None = None) -> str:
    """The table as Markdown, with the cache state, date, notebooks at a time and machine above it."""
    def fmt(value):
        if value is None or value != value:  # None or NaN
            return ""
        return "yes" if value is True else "no" if value is False else f"{value:.0f}"

    if jobs == 1:
        how = "one notebook after another"
    else:
        summed = table["seconds"].iloc[:-1].sum()
        how = (f"{jobs} notebooks at a time (`--jobs {jobs}`); the whole book is the run's wall "
               f"time, the notebooks' own times add up to {summed:.0f} s")
    where = f" on {machine}" if machine else ""
    lines = [f"Notebook execution, {caches} caches, {how}, measured {when}{where} "
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


def machine_description() -> str:
    """The CPU, whether it has AVX-512, and its cores, for the heading of a results table."""
    from bench.run import machine_info

    info = machine_info()
    return f"{info['cpu']} ({info['cores']} cores, AVX-512: {info['avx512']})"


def _execute_timed(path: Path, notebook_env: dict[str, str]) -> float:
    """Execute one notebook with *notebook_env* added to the environment; its wall seconds.

    Runs in the calling process or in a worker of :func:`run_notebooks`; the kernel inherits
    the environment.
    """
    os.environ.update(notebook_env)
    _, wall = execute_notebook(path, timeout=1800)
    return round(wall, 1)


def run_notebooks(paths: list[Path], jobs: int = 1,
                  expected: dict[str, float] | None = None) -> tuple[dict[str, float], float]:
    """Execute *paths* with up to *jobs* at once; (seconds per notebook, wall seconds of all).

    With more than one job the notebooks start longest first by *expected* seconds (unknown ones
    last), each in a fresh worker process (spawned, so each sees its own environment), and the
    results are listed in the order of *paths*.
    """
    if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1:
        raise ValueError(f"jobs must be a positive integer, got {jobs!r}")
    start = time.perf_counter()
    seconds: dict[str, float] = {}
    if jobs == 1:
        for path in paths:
            seconds[path.stem] = _execute_timed(path, {NOTEBOOK_ENV: path.stem})
            print(f"{path.stem}: {seconds[path.stem]:.0f} s", flush=True)
        return seconds, time.perf_counter() - start
    expected = expected or {}
    order = sorted(paths, key=lambda p: -expected.get(p.stem, -1.0))
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=context,
                             max_tasks_per_child=1) as pool:
        futures = {p.stem: pool.submit(_execute_timed, p, {NOTEBOOK_ENV: p.stem})
                   for p in order}
        for path in order:
            seconds[path.stem] = futures[path.stem].result()
            print(f"{path.stem}: {seconds[path.stem]:.0f} s", flush=True)
    return {p.stem: seconds[p.stem] for p in paths}, time.perf_counter() - start


def _previous_seconds(csv: Path) -> dict[str, float]:
    """Seconds per notebook from an earlier results CSV, or nothing if there is none."""
    if not csv.is_file():
        return {}
    table = pd.read_csv(csv)
    if not {"notebook", "seconds"} <= set(table.columns):
        return {}
    return dict(zip(table["notebook"], table["seconds"], strict=True))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to run (default: every notebook under book/)")
    parser.add_argument("--cold", action="store_true",
                        help="empty PyTensor and numba caches for this run")
    parser.add_argument("--out", type=Path, default=HERE / "notebooks",
                        help="path stem for the .csv and .md results")
    parser.add_argument("--jobs", type=int, default=1,
                        help="notebooks executed at once, each in its own process (default 1)")
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be at least 1, got {args.jobs}")
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
            seconds, wall = run_notebooks(paths, args.jobs,
                                          _previous_seconds(args.out.with_suffix(".csv")))
            fits = read_fit_log(log) if log.is_file() else pd.DataFrame()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    if not fits.empty:  # side by side, the kernels' lines interleave: order them by notebook
        rank = {path.stem: i for i, path in enumerate(paths)}
        fits = (fits.assign(_rank=fits["notebook"].map(rank))
                .sort_values(["_rank", "fit"], kind="stable").drop(columns="_rank")
                .reset_index(drop=True))
    table = verdicts(seconds, caches, book_wall=None if args.jobs == 1 else round(wall, 1))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out.with_suffix(".csv"), index=False)
    args.out.with_suffix(".md").write_text(
        to_markdown(table, caches, date.today().isoformat(), jobs=args.jobs,
                    machine=machine_description()))
    print(table.to_string(index=False))
    if not fits.empty:
        stem = args.out.with_name(args.out.name + "_fits")
        fits.to_csv(stem.with_suffix(".csv"), index=False)
        stem.with_suffix(".md").write_text(fits_markdown(fits, caches, date.today().isoformat()))
        print(f"{len(fits)} fits logged: {stem.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
