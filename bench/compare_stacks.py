"""Put two library stacks side by side: the same models, machine and sitting, cold and warm.

Usage (from the repository root)::

    # the old stack: a worktree of the last commit before the change, with its own environment
    git worktree add /tmp/old <commit>
    (cd /tmp/old && PYTENSOR_FLAGS=base_compiledir=/tmp/cache-old-1 \\
        /tmp/old-venv/bin/python bench/run.py --samplers nutpie --repeats 4 --out /tmp/old/r1)
    # this stack, right after, on the same machine
    PYTENSOR_FLAGS=base_compiledir=/tmp/cache-new-1 \\
        .venv/bin/python bench/run.py --samplers nutpie --repeats 4 --out /tmp/new/r1
    # more passes, each from an empty cache (--repeats 1: one cold run per model), alternating
    python -m bench.compare_stacks --old /tmp/old/r*.csv --new /tmp/new/r*.csv \\
        --out bench/stack_comparison

Each pass (one CSV of ``bench/run.py``'s per-run output) starts from an empty PyTensor compile
directory, so its first run of a model compiles from scratch ("cold") and its later runs load the
compiled code ("warm"). Cold is the median over the passes' first runs, warm the median over all
later runs. A model is flagged when the new stack is more than 10% slower end to end (total
seconds: build, compile and sampling) cold or warm. Timing lives here, never in a unit test.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

#: A model counts as a regression when the new stack takes more than this much longer.
SLOWER_BY = 0.10


def cold_and_warm(passes: list[pd.DataFrame]) -> pd.DataFrame:
    """Per model and sampler over one stack's passes: the median of each pass's first run (cold),
    the median of all later runs (warm), the median min bulk ESS and the numbers of runs."""
    need = {"model", "sampler", "repeat", "total_s", "min_ess_bulk"}
    for runs in passes:
        missing = need - set(runs.columns)
        if missing:
            raise ValueError(f"runs lacks columns {sorted(missing)}: pass bench/run.py's CSV")
    runs = pd.concat(passes, keys=range(len(passes)), names=["pass", None]).reset_index(0)
    rows = []
    for (model, sampler), group in runs.groupby(["model", "sampler"], sort=False):
        first = group["repeat"] == group.groupby("pass")["repeat"].transform("min")
        cold, warm = group[first], group[~first]
        if warm.empty:
            raise ValueError(f"{model}/{sampler} has no warm run: run one pass with --repeats 2 "
                             "or more")
        rows.append({"model": model, "sampler": sampler,
                     "cold_s": float(cold["total_s"].median()),
                     "warm_s": float(warm["total_s"].median()),
                     "min_ess_bulk": float(group["min_ess_bulk"].median()),
                     "cold_runs": len(cold), "warm_runs": len(warm)})
    return pd.DataFrame(rows)


def compare(old, new) -> pd.DataFrame:
    """Side-by-side table of two stacks' runs, with new/old ratios and a regression flag.

    ``old`` and ``new`` are each one pass (a DataFrame of ``bench/run.py``'s runs) or a list of
    passes, each from an empty compile cache.
    """
    a, b = (cold_and_warm(x if isinstance(x, list) else [x]) for x in (old, new))
    table = a.merge(b, on=["model", "sampler"], suffixes=("_old", "_new"), how="inner")
    if table.empty:
        raise ValueError("the two runs share no (model, sampler) pair")
    table["cold_ratio"] = table["cold_s_new"] / table["cold_s_old"]
    table["warm_ratio"] = table["warm_s_new"] / table["warm_s_old"]
    table["slower"] = (table[["cold_ratio", "warm_ratio"]] > 1 + SLOWER_BY).any(axis=1)
    return table


def to_markdown(table: pd.DataFrame, old_label: str, new_label: str) -> str:
    """The comparison as a Markdown table, with the versions compared in its heading."""
    lines = [f"Old: {old_label}. New: {new_label}. Seconds end to end (build, compile, sample); "
             f"cold = median of {int(table['cold_runs_new'].min())} first runs, each from an "
             f"empty compile cache, warm = median of {int(table['warm_runs_new'].min())} later "
             f"runs; ratio = new / old; flagged when the new stack is more than "
             f"{SLOWER_BY:.0%} slower.", "",
             "| model | sampler | cold old | cold new | ratio | warm old | warm new | ratio | "
             "min bulk ESS old | new | flag |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in table.itertuples():
        lines.append(
            f"| {r.model} | {r.sampler} | {r.cold_s_old:.1f} | {r.cold_s_new:.1f} | "
            f"{r.cold_ratio:.2f} | {r.warm_s_old:.1f} | {r.warm_s_new:.1f} | {r.warm_ratio:.2f} | "
            f"{r.min_ess_bulk_old:.0f} | {r.min_ess_bulk_new:.0f} | "
            f"{'slower' if r.slower else ''} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old", type=Path, nargs="+", required=True,
                        help="bench/run.py CSVs of the old stack, one per pass")
    parser.add_argument("--new", type=Path, nargs="+", required=True,
                        help="bench/run.py CSVs of the new stack, one per pass")
    parser.add_argument("--old-label", default="old stack")
    parser.add_argument("--new-label", default="new stack")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "stack_comparison")
    args = parser.parse_args(argv)
    for path in (*args.old, *args.new):
        if not path.is_file():
            parser.error(f"no such CSV: {path}")
    table = compare([pd.read_csv(p) for p in args.old], [pd.read_csv(p) for p in args.new])
    table.to_csv(args.out.with_suffix(".csv"), index=False)
    args.out.with_suffix(".md").write_text(to_markdown(table, args.old_label, args.new_label))
    print(args.out.with_suffix(".md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
