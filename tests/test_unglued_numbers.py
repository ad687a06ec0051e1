"""The scanner that lists numbers typed into notebook Markdown instead of glued."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import nbformat

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
