"""Sum the test durations in a pytest JUnit XML file per file (each notebook is one file).

Usage: python scripts/test_times.py _build/test-results.xml [--slowest N]

`make test` writes that file; the per-notebook sums are how long nbval took to re-execute each
chapter, the number the chapters' time budgets refer to. ``--slowest N`` also lists the N slowest
cells of each notebook (the instructors' page names them).
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from collections import defaultdict


def main(path: str, slowest: int = 0) -> int:
    totals: dict[str, float] = defaultdict(float)
    cells: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for case in ET.parse(path).getroot().iter("testcase"):
        name = case.get("classname") or case.get("file") or "?"
        key = name.split("::")[0]
        seconds = float(case.get("time", 0))
        totals[key] += seconds
        cells[key].append((seconds, case.get("name", "?")))
    for key, seconds in sorted(totals.items(), key=lambda kv: -kv[1]):
        print(f"{seconds:8.1f} s  {key}")
        if slowest and key.endswith(".ipynb"):
            for cell_s, cell in sorted(cells[key], reverse=True)[:slowest]:
                print(f"{'':10}{cell_s:8.1f} s  {cell}")
    print(f"{sum(totals.values()):8.1f} s  total")
    return 0


if __name__ == "__main__":
    args = sys.argv[1:]
    n = 0
    if "--slowest" in args:
        i = args.index("--slowest")
        n = int(args[i + 1])
        del args[i:i + 2]
    sys.exit(main(args[0] if args else "_build/test-results.xml", n))
