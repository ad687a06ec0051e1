"""scripts/draw_dependent_cells.py: nbval's comparison, tagging and error listing (no kernel)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import nbformat
import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "draw_dependent_cells.py"
spec = importlib.util.spec_from_file_location("draw_dependent_cells", SCRIPT)
ddc = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ddc)

PATTERNS = ddc.sanitize_patterns()


def _notebook(outputs_per_cell, tags=None):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("text")]
    for i, outputs in enumerate(outputs_per_cell):
        cell = nbformat.v4.new_code_cell(f"x{i} = 1", outputs=outputs)
        if tags and tags[i]:
            cell.metadata["tags"] = list(tags[i])
        nb.cells.append(cell)
    return nb


def _stream(text, name="stdout"):
    return nbformat.v4.new_output("stream", name=name, text=text)


def _result(data):
    return nbformat.v4.new_output("execute_result", data=data, execution_count=1)


def test_changed_cells_compares_as_nbval_does():
    old = _notebook([
        [_stream("mean 0.123456789012345\n")],                    # differs past 10 decimals
        [_stream("sampled in 3.2 s\n")],                          # wall clock, sanitized
        [_result({"text/plain": "1.5", "image/png": "AAA"})],     # only the image differs
        [_stream("R-hat 1.004\n")],                               # draw-dependent
        [_result({"text/plain": "a"})],                           # an output key disappears
        [_stream("x\n", name="stderr")],                          # a stream changes its name
    ])
    new = _notebook([
        [_stream("mean 0.123456789099999\n")],
        [_stream("sampled in 13.9 s\n")],
        [_result({"text/plain": "1.5", "image/png": "BBB"})],
        [_stream("R-hat 1.011\n")],
        [],
        [_stream("x\n", name="stdout")],
    ])
    assert ddc.changed_cells(old, new, PATTERNS) == [3, 4, 5]
    assert ddc.changed_cells(old, old, PATTERNS) == []


def test_changed_cells_refuses_notebooks_of_different_shape():
    with pytest.raises(ValueError, match="2 code cells committed but 1 executed"):
        ddc.changed_cells(_notebook([[], []]), _notebook([[]]), PATTERNS)


def test_add_tags_keeps_other_tags_and_is_idempotent(tmp_path):
    path = tmp_path / "nb.ipynb"
    nbformat.write(_notebook([[], [], []], tags=[None, ["hide-input"], None]), path)
    ddc.add_tags(path, [1, 2])
    ddc.add_tags(path, [1])
    cells = [c for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"]
    assert [c["metadata"].get("tags") for c in cells] == [
        None, ["hide-input", ddc.TAG], [ddc.TAG]]
    assert path.read_text().endswith("}\n")


def test_errors_lists_failing_cells_except_those_meant_to_raise():
    error = nbformat.v4.new_output("error", ename="ConvergenceError", evalue="sd_id[week]",
                                   traceback=[])
    nb = _notebook([[error], [], [error]], tags=[None, None, ["raises-exception"]])
    assert ddc.errors(nb) == [(0, "ConvergenceError: sd_id[week]")]


def test_shift_zero_is_refused(capsys):
    with pytest.raises(SystemExit):
        ddc.main(["--shift", "0", str(SCRIPT)])
    assert "--shift 0" in capsys.readouterr().err
