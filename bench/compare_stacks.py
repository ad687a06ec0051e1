"""Put two library stacks side by side: the same models, machine and sitting, cold and warm.

Usage (from the repository root)::

    # the old stack: a worktree of the last commit before the change, with its own environment
    git worktree add /tmp/old <commit>
    (cd /tmp/old && PYTENSOR_FLAGS=base_compiledir=/tmp/cache-old \\
        /tmp/old-venv/bin/python bench/run.py --samplers nutpie --repeats 4 --out /tmp/old/r)
    # this stack, right after, on the same machine
    PYTENSOR_FLAGS=base_compiledir=/tmp/cache-new \\
        .venv/bin/python bench/run.py --samplers nutpie --repeats 4 --out /tmp/new/r
    python -m bench.compare_stacks /tmp/old/r.csv /tmp/new/r.csv --out bench/stack_comparison

Each stack starts from an empty PyTensor compile directory, so the first of a model's runs
compiles from scratch ("cold") and the later ones load the compiled code ("warm", the median of
runs 2 to N). A model is flagged when the new stack is more than 10% slower end to end (total
seconds: build, compile and sampling) cold or warm. Both CSVs are ``bench/run.py``'s per-run
output. Timing lives here, never in a unit test.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

#: A model counts as a regression when the new stack takes more than this much longer.
SLOWER_BY = 0.10


def cold_and_warm(runs: pd.DataFrame) -> pd.DataFrame:
    """Per model and sampler: the first run's total seconds (cold), the median of the others
    (warm), the median min bulk ESS and the number of warm runs."""
    need = {"model", "sampler", "repeat", "total_s", "min_ess_bulk"}
    missing = need - set(runs.columns)
    if missing:
        raise ValueError(f"runs lacks columns {sorted(missing)}: pass bench/run.py's CSV")
    rows = []
    for (model, sampler), group in runs.groupby(["model", "sampler"], sort=False):
        group = group.sort_values("repeat")
        warm = group.iloc[1:]
        if warm.empty:
            raise ValueError(f"{model}/{sampler} has one run: run with --repeats 2 or more")
        rows.append({"model": model, "sampler": sampler,
                     "cold_s": float(group.iloc[0]["total_s"]),
                     "warm_s": float(warm["total_s"].median()),
                     "min_ess_bulk": float(group["min_ess_bulk"].median()),
                     "warm_runs": len(warm)})
    return pd.DataFrame(rows)


def compare(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """Side-by-side table of two stacks' runs, with new/old ratios and a regression flag."""
    a, b = cold_and_warm(old), cold_and_warm(new)
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
             f"cold = first run from an empty compile cache, warm = median of the next "
             f"{int(table['warm_runs_new'].min())} runs; ratio = new / old; flagged when the new "
             f"stack is more than {SLOWER_BY:.0%} slower.", "",
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
    parser.add_argument("old", type=Path, help="bench/run.py CSV of the old stack")
    parser.add_argument("new", type=Path, help="bench/run.py CSV of the new stack")
    parser.add_argument("--old-label", default="old stack")
    parser.add_argument("--new-label", default="new stack")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "stack_comparison")
    args = parser.parse_args(argv)
    for path in (args.old, args.new):
        if not path.is_file():
            parser.error(f"no such CSV: {path}")
    table = compare(pd.read_csv(args.old), pd.read_csv(args.new))
    table.to_csv(args.out.with_suffix(".csv"), index=False)
    args.out.with_suffix(".md").write_text(to_markdown(table, args.old_label, args.new_label))
    print(args.out.with_suffix(".md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
