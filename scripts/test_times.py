"""Sum the test durations in a pytest JUnit XML file per file (each notebook is one file).

Usage: python scripts/test_times.py _build/test-results.xml

`make test` writes that file; the per-notebook sums are how long nbval took to re-execute each
chapter, the number the chapters' time budgets refer to.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from collections import defaultdict


def main(path: str) -> int:
    totals: dict[str, float] = defaultdict(float)
    for case in ET.parse(path).getroot().iter("testcase"):
        name = case.get("classname") or case.get("file") or "?"
        key = name.split("::")[0]
        totals[key] += float(case.get("time", 0))
    for key, seconds in sorted(totals.items(), key=lambda kv: -kv[1]):
        print(f"{seconds:8.1f} s  {key}")
    print(f"{sum(totals.values()):8.1f} s  total")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "_build/test-results.xml"))
