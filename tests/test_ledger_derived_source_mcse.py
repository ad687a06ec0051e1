"""check_ledger with the source's Monte Carlo error derived by the chapter: (value, mcse,
source_mcse) tuples, for a printed number without SD or ESS of its own."""

from __future__ import annotations

import csv

import pytest

from course_pkg.ledger import COLUMNS, check_ledger, ledger_tolerance
from course_pkg.parity import ParityError

BASE = {"model": "m1", "kind": "result", "origin": "source", "location": "summary",
        "note": "", "k": "", "reason": ""}


def _ledger(tmp_path):
    rows = [
        # a derived number printed without SD or ESS
        BASE | {"id": "m1.avg.mean", "quantity": "average", "statistic": "mean",
                "printed": "2.96", "decimals": "2", "check": "compare"},
        BASE | {"id": "data.n", "model": "data", "quantity": "rows", "statistic": "value",
                "printed": "24", "decimals": "0", "kind": "data", "check": "exact"},
    ]
    path = tmp_path / "toy.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=COLUMNS)
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in COLUMNS})
    return str(path)


def test_derived_source_mcse_replaces_ours_as_the_sources_error(tmp_path):
    path = _ledger(tmp_path)
    # without it the source's error is taken to equal ours: 0.005 + 4 sqrt(2) 0.001
    table = check_ledger(path, {"m1.avg.mean": (2.96, 0.001), "data.n": 24})
    assert table.loc["m1.avg.mean", "tolerance"] == pytest.approx(
        ledger_tolerance(2, 0.001, 0.001))
    # with it: 0.005 + 4 hypot(0.001, 0.004)
    table = check_ledger(path, {"m1.avg.mean": (2.96, 0.001, 0.004), "data.n": 24})
    assert table.loc["m1.avg.mean", "tolerance"] == pytest.approx(
        0.005 + 4 * (0.001**2 + 0.004**2) ** 0.5)
    # a difference that the derived error allows and the equal-error rule does not
    ours = {"m1.avg.mean": (2.975, 0.001, 0.004), "data.n": 24}
    assert check_ledger(path, ours).loc["m1.avg.mean", "status"] == "pass"
    with pytest.raises(ParityError, match="m1.avg.mean"):
        check_ledger(path, {"m1.avg.mean": (2.975, 0.001), "data.n": 24})


@pytest.mark.parametrize(
    ("ours", "error", "match"),
    [
        ({"m1.avg.mean": (2.96, 0.001, -0.1), "data.n": 24}, ValueError, "non-negative"),
        ({"m1.avg.mean": (2.96, 0.001, float("nan")), "data.n": 24}, ValueError,
         "non-negative finite"),
        ({"m1.avg.mean": (2.96, 0.001), "data.n": (24, 0.0, 0.1)}, ValueError,
         "'exact' row"),
        ({"m1.avg.mean": (2.96, 0.001, 0.002, 0.003), "data.n": 24}, TypeError,
         r"\(number, mcse, source_mcse\)"),
        ({"m1.avg.mean": (2.96, 0.001, "big"), "data.n": 24}, TypeError,
         r"\(number, mcse, source_mcse\)"),
    ],
)
def test_bad_source_mcse(tmp_path, ours, error, match):
    with pytest.raises(error, match=match):
        check_ledger(_ledger(tmp_path), ours)
