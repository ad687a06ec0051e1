"""Tests for the reproduction ledgers: the loader's checks, the tolerance and the comparison."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest

from course_pkg.ledger import (
    COLUMNS,
    LedgerError,
    check_ledger,
    ledger_tolerance,
    load_ledger,
    source_mcse,
)
from course_pkg.parity import ParityError

DATA = Path(__file__).resolve().parents[1] / "course_pkg" / "ledger" / "data"

BASE = {"model": "m1", "kind": "result", "origin": "source", "location": "summary, line 10",
        "note": "", "k": "", "reason": ""}


def _write(tmp_path, rows, name="toy.csv", header=COLUMNS):
    path = tmp_path / name
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=header)
        w.writeheader()
        for r in rows:
            w.writerow({k: r.get(k, "") for k in header})
    return str(path)


def _rows():
    return [
        BASE | {"id": "m1.b.mean", "quantity": "b", "statistic": "mean", "printed": "0.19",
                "decimals": "2", "check": "compare"},
        BASE | {"id": "m1.b.sd", "quantity": "b", "statistic": "sd", "printed": "0.05",
                "decimals": "2", "check": "not-checked", "reason": "shown, not asserted"},
        BASE | {"id": "m1.b.ess", "quantity": "b", "statistic": "ess_bulk", "printed": "400",
                "decimals": "0", "check": "not-checked", "reason": "sampler-dependent"},
        BASE | {"id": "data.n", "model": "data", "quantity": "rows", "statistic": "value",
                "printed": "1,200", "decimals": "0", "kind": "data", "check": "exact"},
    ]


def test_load_and_source_mcse(tmp_path):
    ledger = load_ledger(_write(tmp_path, _rows()))
    assert ledger.loc["m1.b.mean", "value"] == 0.19 and ledger.loc["data.n", "value"] == 1200
    assert ledger.loc["m1.b.mean", "k"] == 4.0
    # the printed SD over the square root of the printed bulk ESS
    assert source_mcse(ledger, "m1.b.mean") == pytest.approx(0.05 / 20)
    assert source_mcse(ledger, "data.n") is None


def test_tolerance_is_printed_precision_plus_mcse_never_sd():
    assert ledger_tolerance(2) == 0.005
    assert ledger_tolerance(2, 0.003, 0.004, k=3) == pytest.approx(0.005 + 3 * 0.005)
    with pytest.raises(ValueError, match="decimals"):
        ledger_tolerance(-1)
    with pytest.raises(ValueError, match="mcse_ours"):
        ledger_tolerance(2, math.nan)


def test_check_passes_fails_and_names_rows(tmp_path):
    path = _write(tmp_path, _rows())
    ok = check_ledger(path, {"m1.b.mean": (0.195, 0.001), "data.n": 1200})
    assert ok.attrs["totals"] == {"rows": 4, "checked": 2, "pass": 2, "fail": 0,
                                  "not checked": 2}
    assert ok.loc["m1.b.mean", "tolerance"] == pytest.approx(
        ledger_tolerance(2, 0.001, 0.05 / 20))
    # 0.19 + tolerance 0.0158 < 0.21: a wrong model's value fails, and is named
    with pytest.raises(ParityError, match="m1.b.mean: ours 0.21 vs printed 0.19"):
        check_ledger(path, {"m1.b.mean": (0.21, 0.001), "data.n": 1200})
    shown = check_ledger(path, {"m1.b.mean": 0.21, "data.n": 1201}, raise_on_fail=False)
    assert shown.attrs["totals"]["fail"] == 2
    with pytest.raises(KeyError, match="did not produce ledger rows \\['data.n'\\]"):
        check_ledger(path, {"m1.b.mean": 0.19})
    with pytest.raises(KeyError, match="not checked rows of the ledger: \\['m1.b.sd'\\]"):
        check_ledger(path, {"m1.b.mean": 0.19, "data.n": 1200, "m1.b.sd": 0.05})
    with pytest.raises(TypeError, match="number or \\(number, mcse\\)"):
        check_ledger(path, {"m1.b.mean": "x", "data.n": 1200})


@pytest.mark.parametrize(
    ("change", "match"),
    [({"printed": "abc"}, "row 2 .*field 'printed'"),
     ({"decimals": "3"}, "row 2 .*field 'decimals': 3 but '0.19' shows 2"),
     ({"kind": "estimate"}, "row 2 .*field 'kind'"),
     ({"origin": "brms"}, "row 2 .*field 'origin'"),
     ({"check": "maybe"}, "row 2 .*field 'check'"),
     ({"check": "not-checked", "reason": ""}, "row 2 .*field 'reason': a row that is not checked"),
     ({"k": "-1"}, "row 2 .*field 'k'"),
     ({"id": "m1.b.sd"}, "row 2 .*field 'id': duplicate of row 3")],
)
def test_malformed_rows_name_file_row_and_field(tmp_path, change, match):
    rows = _rows()
    rows[0] = rows[0] | change
    if change.get("id") == "m1.b.sd":  # make the duplicate come second
        rows[0], rows[1] = rows[1], rows[0]
        match = "row 3 .*field 'id': duplicate of row 2"
    with pytest.raises(LedgerError, match="toy.csv, " + match):
        load_ledger(_write(tmp_path, rows))


def test_bad_header_and_missing_file(tmp_path):
    with pytest.raises(LedgerError, match="missing \\['reason'\\]"):
        load_ledger(_write(tmp_path, _rows(), header=COLUMNS[:-1]))
    with pytest.raises(FileNotFoundError):
        load_ledger("no_such_chapter")
    with pytest.raises(TypeError, match="chapter must be"):
        load_ledger(5)


@pytest.mark.parametrize("path", sorted(DATA.glob("*.csv")), ids=lambda p: p.stem)
def test_every_chapter_ledger_is_well_formed(path):
    ledger = load_ledger(path.stem)
    assert len(ledger) > 0
    # a ledger that checks nothing is a list, not a check
    assert (ledger["check"] != "not-checked").any()


def test_unknown_source_error_is_taken_as_ours(tmp_path):
    rows = [BASE | {"id": "r.q", "quantity": "u1", "statistic": "q2.5", "printed": "-0.203",
                    "decimals": "3", "check": "compare"}]
    path = _write(tmp_path, rows)
    assert source_mcse(load_ledger(path), "r.q") is None
    table = check_ledger(path, {"r.q": (-0.2, 0.002)})
    assert table.loc["r.q", "tolerance"] == pytest.approx(ledger_tolerance(3, 0.002, 0.002))


def test_models_limit_the_rows_checked(tmp_path):
    path = _write(tmp_path, _rows())
    part = check_ledger(path, {"data.n": 1200}, models=["data"])
    assert list(part.index) == ["data.n"]
    with pytest.raises(KeyError, match="no ledger rows for models \\['m9'\\]"):
        check_ledger(path, {}, models=["m9"])
    with pytest.raises(TypeError, match="models must be a sequence"):
        check_ledger(path, {}, models="data")


def test_glue_ledger_binds_totals_and_table(tmp_path, capsys):
    from course_pkg.ledger import glue_ledger

    table = check_ledger(_write(tmp_path, _rows()), {"m1.b.mean": 0.19, "data.n": 1200})
    assert glue_ledger(table) == table.attrs["totals"]
    with pytest.raises(ValueError, match="result of check_ledger"):
        glue_ledger(table.drop(columns="status").iloc[:0].assign(), prefix="x") if False else \
            glue_ledger(__import__("pandas").DataFrame({"a": [1]}))


def test_fit_values_cap_our_mcse_at_the_gate_ess(tmp_path):
    """A badly mixing variable cannot widen its own tolerance: its MCSE is capped at ESS 400."""
    import arviz as az

    from course_pkg.ledger import fit_values

    rng = np.random.default_rng(3)
    # A random walk: very low ESS, so ArviZ's MCSE is far above sd / 20.
    walk = np.cumsum(rng.normal(size=(4, 500)), axis=1)
    good = rng.normal(size=(4, 500))
    idata = az.from_dict({"posterior": {"walk": walk, "good": good}})
    rows = [BASE | {"id": f"m1.{name}.mean", "quantity": name, "statistic": "mean",
                    "printed": "0.0", "decimals": "1", "check": "compare"}
            for name in ("walk", "good")]
    rows += [BASE | {"id": "m1.walk.q97.5", "quantity": "walk", "statistic": "q97.5",
                     "printed": "0.0", "decimals": "1", "check": "compare"}]
    values = fit_values(_write(tmp_path, rows), idata, model="m1",
                        quantities={"walk": "walk", "good": "good"})
    sd = walk.std(ddof=1)
    assert float(az.mcse(idata.posterior["walk"])) > sd / 20
    assert values["m1.walk.mean"][1] == pytest.approx(sd / 20)
    assert values["m1.walk.q97.5"][1] < float(
        az.mcse(idata.posterior["walk"], method="quantile", prob=0.975))
    # A well-mixed variable keeps ArviZ's own MCSE.
    assert values["m1.good.mean"][1] == pytest.approx(float(az.mcse(idata.posterior["good"])))
