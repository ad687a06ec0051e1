"""Benchmark every model in the book with each NUTS implementation.

Usage (from the repository root, inside the course environment)::

    python bench/run.py                      # all models, nutpie/pymc/numpyro, median of 3 runs
    python bench/run.py --models ch01_m1_big ch01_m3_big ch01_m4_big --out bench/results_scale
    python bench/run.py --models ch02_m2 --samplers nutpie --repeats 1
    python bench/run.py --models ch04_intercept --update   # re-measure one model, keep the rest

The larger problems of the Scale section run only when named, as in the second line.
For each model, sampler and repeat it measures, separately:

* ``build_s``: constructing the model (formula parsing, design matrices, PyMC graph);
* ``compile_s``: compiling the log density and its gradient (nutpie compiles before sampling; for
  PyMC's sampler and numpyro compilation happens inside ``pm.sample`` and is counted there);
* ``sample_s``: warm-up plus sampling;
* ``min_ess_bulk`` / ``min_ess_tail``: the smallest ESS over all free parameters;
* ``ess_per_s``: ``min_ess_bulk`` divided by total wall time (build + compile + sample).

Each configuration uses the same draws, tune, chains and seed. Results go to ``bench/results.csv``
(every run, with the date it was measured) and ``bench/results.md`` (medians, machine and library
versions), which the book's performance appendix includes. ``--update`` re-measures only the
models and samplers named and keeps every other row of the existing CSV, so one chapter's change
does not cost a whole re-run. Timing is done here, never in a unit test.
"""

from __future__ import annotations

import argparse
import importlib.metadata as md
import os
import platform
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pymc as pm

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.models import MODELS, ModelSpec  # noqa: E402
from course_pkg.fitlog import mixing_extremes  # noqa: E402
from course_pkg.sampling import portable_numerics  # noqa: E402

SAMPLERS = ("nutpie", "pymc", "numpyro")
LIBRARIES = ("pymc", "pytensor", "bambi", "nutpie", "numpyro", "jax", "arviz", "numpy")


@dataclass
class Run:
    model: str
    sampler: str
    repeat: int
    build_s: float
    compile_s: float
    sample_s: float
    total_s: float
    min_ess_bulk: float
    min_ess_tail: float
    ess_per_s: float
    max_rhat: float
    divergences: int
    date: str = ""


def measure(spec: ModelSpec, sampler: str, repeat: int, *, draws: int, tune: int, chains: int,
            seed: int) -> Run:
    """Build, compile and sample one model once; return the timings and ESS."""
    t0 = time.perf_counter()
    model = spec.build()
    t1 = time.perf_counter()
    compile_s = float("nan")
    # The course's numerics: fastmath off, BLAS on one thread (course_pkg.sampling).
    with portable_numerics():
        if sampler == "nutpie":
            import nutpie

            compiled = nutpie.compile_pymc_model(model)
            t2 = time.perf_counter()
            compile_s = t2 - t1
            idata = nutpie.sample(compiled, draws=spec.draws or draws, tune=tune, chains=chains,
                                  seed=seed, progress_bar=False,
                                  target_accept=spec.target_accept or 0.8,
                                  adaptation="low_rank" if spec.low_rank else "diag")
        else:
            if sampler == "numpyro":
                from course_pkg.linalg import register_jax

                register_jax()  # JAX versions of course_pkg's own operations
            t2 = t1
            # Every core for PyMC's chains too: left alone, PyMC takes half the CPUs to be
            # hyperthreads and samples one chain at a time on this 2-core machine.
            extra = {"cores": min(chains, os.cpu_count() or 1)} if sampler == "pymc" else {}
            with model:
                idata = pm.sample(draws=spec.draws or draws, tune=tune, chains=chains,
                                  random_seed=seed, **extra,
                                  nuts_sampler=sampler, progressbar=False,
                                  target_accept=spec.target_accept or 0.8,
                                  compute_convergence_checks=False)
        t3 = time.perf_counter()
    mixing = mixing_extremes(idata, model)  # over the free variables, as the fit log
    min_bulk = mixing["min_ess_bulk"]
    divergences = int(idata.sample_stats["diverging"].values.sum())
    total = t3 - t0
    return Run(spec.name, sampler, repeat, t1 - t0, compile_s, t3 - t2, total, min_bulk,
               mixing["min_ess_tail"], min_bulk / total, mixing["max_rhat"], divergences,
               time.strftime("%Y-%m-%d"))


def machine_info() -> dict[str, str]:
    """CPU, cores, Python and library versions, recorded with every results table."""
    cpu = platform.processor() or platform.machine()
    avx512 = "unknown"  # a seed's draws differ between CPUs with and without it (see the appendix)
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
    except OSError:
        lines = []
    names = [line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")]
    flags = [line.split(":", 1)[1].split() for line in lines if line.startswith("flags")]
    if names:
        cpu = names[0]
    if flags:
        avx512 = "yes" if "avx512f" in flags[0] else "no"
    info = {"cpu": cpu, "avx512": avx512, "cores": str(os.cpu_count()),
            "python": platform.python_version()}
    for lib in LIBRARIES:
        try:
            info[lib] = md.version(lib)
        except md.PackageNotFoundError:
            info[lib] = "not installed"
    return info


def merge_runs(previous: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """Every run of ``new``, plus the runs of ``previous`` for (model, sampler) pairs it lacks.

    Rows come out in the registry's order of models (then nutpie, PyMC, numpyro), so a partial
    re-measurement leaves the table's order as a full run would write it. Models no longer in the
    registry are dropped.
    """
    missing = {"model", "sampler"} - set(previous.columns)
    if missing:
        raise ValueError(f"previous runs lack the columns {sorted(missing)}")
    pairs = ["model", "sampler"]
    redone = pd.MultiIndex.from_frame(new[pairs])
    kept = previous[~pd.MultiIndex.from_frame(previous[pairs]).isin(redone)]
    frame = pd.concat([kept, new], ignore_index=True)
    frame = frame[frame["model"].isin(list(MODELS))]
    rank = {"model": {name: i for i, name in enumerate(MODELS)},
            "sampler": {name: i for i, name in enumerate(SAMPLERS)}}
    frame = frame.sort_values(
        ["model", "sampler", "repeat"], kind="stable",
        key=lambda col: col.map(rank[col.name]) if col.name in rank else col)
    return frame.reset_index(drop=True)


def summarise(runs: pd.DataFrame) -> pd.DataFrame:
    """Median over repeats for every (model, sampler), with the brms ratio where known."""
    cols = ["build_s", "compile_s", "sample_s", "total_s", "min_ess_bulk", "min_ess_tail",
            "ess_per_s", "max_rhat"]
    med = runs.groupby(["model", "sampler"], sort=False)[cols].median()
    med["divergences"] = runs.groupby(["model", "sampler"], sort=False)["divergences"].max()
    med["repeats"] = runs.groupby(["model", "sampler"], sort=False).size()
    brms = {name: spec.brms_s for name, spec in MODELS.items()}
    med["brms_s"] = [brms.get(m) for m, _ in med.index]
    med["speedup_vs_brms"] = med["brms_s"] / med["total_s"]
    return med.reset_index()


def runs_each(repeats: pd.Series) -> str:
    """How many runs each row of the table is a median of, for the table's settings line."""
    most = int(repeats.max())
    if repeats.nunique() == 1:
        return f"{most} run(s) each"
    return f"{most} runs each where the runs column does not say fewer"


def to_markdown(summary: pd.DataFrame, info: dict[str, str], settings: str,
                dates: list[str] | None = None) -> str:
    """The results table as Markdown, with the machine and settings it was measured on.

    ``dates`` are the days the runs were measured on (today when not given); the header names the
    first and the last.
    """
    fmt = summary.copy()
    for col in ("build_s", "compile_s", "sample_s", "total_s"):
        fmt[col] = fmt[col].map(lambda x: "in sampling" if pd.isna(x) else f"{x:.1f}")
    for col in ("min_ess_bulk", "min_ess_tail"):
        fmt[col] = fmt[col].map(lambda x: f"{x:.0f}")
    fmt["ess_per_s"] = fmt["ess_per_s"].map(lambda x: f"{x:.1f}")
    fmt["max_rhat"] = fmt["max_rhat"].map(lambda x: f"{x:.3f}")
    fmt["brms_s"] = fmt["brms_s"].map(lambda x: "" if pd.isna(x) else f"{x:.0f}")
    fmt["speedup_vs_brms"] = fmt["speedup_vs_brms"].map(
        lambda x: "" if pd.isna(x) else f"{x:.1f}x")
    header = ("| model | sampler | build s | compile s | sample s | total s | min bulk ESS "
              "| min tail ESS | ESS/s | max R-hat | divergences | runs | brms s | vs brms |")
    lines = [header, "|" + "---|" * 14]
    for r in fmt.itertuples(index=False):
        lines.append(
            f"| {r.model} | {r.sampler} | {r.build_s} | {r.compile_s} | {r.sample_s} | "
            f"{r.total_s} | {r.min_ess_bulk} | {r.min_ess_tail} | {r.ess_per_s} | {r.max_rhat} | "
            f"{r.divergences} | {r.repeats} | {r.brms_s} | {r.speedup_vs_brms} |"
        )
    machine = ", ".join(f"{k} {v}" for k, v in info.items())
    days = sorted({d for d in (dates or []) if isinstance(d, str) and d}) or [
        time.strftime("%Y-%m-%d")]
    when = days[0] if len(days) == 1 else f"{days[0]} to {days[-1]}"
    return (f"Measured {when} on: {machine}.\n\nSettings: {settings}. "
            "Medians over runs; ESS/s is min bulk ESS over total wall seconds.\n\n"
            + "\n".join(lines) + "\n")


def build_parser() -> argparse.ArgumentParser:
    """The command line of ``bench/run.py``."""
    parser = argparse.ArgumentParser(description="Benchmark the book's models.")
    parser.add_argument("--models", nargs="*", choices=list(MODELS),
                        default=[name for name, spec in MODELS.items() if not spec.scale],
                        help="default: every model but the Scale section's larger problems")
    parser.add_argument("--samplers", nargs="*", default=list(SAMPLERS), choices=SAMPLERS)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--draws", type=int, default=1000)
    parser.add_argument("--tune", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=4)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--update", action="store_true",
                        help="keep the other models' and samplers' runs of the existing CSV")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")

    runs = []
    for name in args.models:
        spec = MODELS[name]
        for sampler in args.samplers:
            for repeat in range(args.repeats):
                run = measure(spec, sampler, repeat, draws=args.draws, tune=args.tune,
                              chains=args.chains, seed=args.seed)
                runs.append(run)
                print(f"{name:>18} {sampler:>8} #{repeat}: total {run.total_s:6.1f} s, "
                      f"min ESS {run.min_ess_bulk:6.0f}, {run.ess_per_s:6.1f} ESS/s", flush=True)
    frame = pd.DataFrame([r.__dict__ for r in runs])
    csv = args.out.with_suffix(".csv")
    if args.update and csv.is_file():
        frame = merge_runs(pd.read_csv(csv), frame)
    summary = summarise(frame)
    settings = (f"{args.chains} chains x {args.draws} draws after {args.tune} tuning steps, "
                f"seed {args.seed}, {runs_each(summary['repeats'])}")
    own = [f"{n} {MODELS[n].draws} draws per chain" for n in dict.fromkeys(frame["model"])
           if MODELS[n].draws]
    if own:
        settings += " (as in the book: " + ", ".join(own) + ")"
    args.out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(csv, index=False)
    dates = list(frame["date"]) if "date" in frame else None
    args.out.with_suffix(".md").write_text(to_markdown(summary, machine_info(), settings, dates))
    print(f"wrote {args.out.with_suffix('.csv')} and {args.out.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
