"""The scanner that lists numbers typed into notebook Markdown instead of glued."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import nbformat
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "unglued_numbers.py"
spec = importlib.util.spec_from_file_location("unglued_numbers", SCRIPT)
unglued_numbers = importlib.util.module_from_spec(spec)
spec.loader.exec_module(unglued_numbers)


def test_finds_typed_numbers_and_skips_glue_math_code_and_links(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell(
            "The slope is 0.31 SD and sigma −0.79; glued {glue:text}`slope:.2f` is fine.\n"
            "Math $\\beta = 0.5$ and $$x = 1.25$$, code `tol=0.005`, a link "
            "<https://example.org/v1.2.3>, version 0.16.11 and 1,446.2 draws.\n"
            "```{note}\nInside a directive 3.14 is skipped.\n```"),
        nbformat.v4.new_code_cell("x = 2.71"),
    ]
    path = tmp_path / "demo.ipynb"
    nbformat.write(nb, path)
    found = [number for _, number, _ in unglued_numbers.unglued(path)]
    assert found == ["0.31", "−0.79", "1,446.2"]


def _write_allow(directory, stem, rows):
    directory.mkdir(exist_ok=True)
    lines = ["number,phrase,reason"] + [",".join(f'"{v}"' for v in row) for row in rows]
    (directory / f"{stem}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_allow_list_covers_inputs_and_reports_stale_rows(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("The source prints 0.31; ours is 0.29."),
                nbformat.v4.new_markdown_cell("A prior of sd 2.5 on the slope.")]
    path = tmp_path / "demo.ipynb"
    nbformat.write(nb, path)
    allow = tmp_path / "allow"
    _write_allow(allow, "demo", [("0.31", "source prints", "the source's printed value"),
                                 ("2.5", "prior of sd", "a prior setting"),
                                 ("9.9", "no such", "stale")])
    missing, stale = unglued_numbers.check(path, allow)
    assert [number for _, number, _ in missing] == ["0.29"]
    assert [row["number"] for row in stale] == ["9.9"]
    # The phrase must be in the same cell: 2.5 allowed for cell 1 does not cover it elsewhere.
    _write_allow(allow, "demo", [("0.29", "prior of sd", "wrong cell")])
    missing, stale = unglued_numbers.check(path, allow)
    assert sorted(n for _, n, _ in missing) == ["0.29", "0.31", "2.5"]


def test_malformed_allow_list_names_file_and_line(tmp_path):
    allow = tmp_path / "allow"
    allow.mkdir()
    (allow / "demo.csv").write_text('number,phrase,reason\n"0.3","",""\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"demo.csv, line 2: empty field"):
        unglued_numbers.load_allowed(allow / "demo.csv")
    (allow / "demo.csv").write_text("number,why\n0.3,x\n", encoding="utf-8")
    with pytest.raises(ValueError, match="columns must be"):
        unglued_numbers.load_allowed(allow / "demo.csv")


NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "book").glob("*.ipynb"))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_unglued_computed_number_in_the_book(notebook):
    """Every decimal typed in a chapter's Markdown is an input its allow-list names, or glued."""
    missing, stale = unglued_numbers.check(notebook)
    lines = [f"cell {i}: {n} ...{c}..." for i, n, c in missing]
    lines += [f"stale allow-list row {r['number']!r} / {r['phrase']!r}" for r in stale]
    assert not lines, (f"{notebook.name}: typed numbers to glue or allow in "
                       f"tests/typed_numbers/{notebook.stem}.csv:\n" + "\n".join(lines))
