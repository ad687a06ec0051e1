"""The hosted-notebook bootstrap cell: current in every notebook, hidden, runtime group only."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "add_bootstrap.py"
NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))

sys.path.insert(0, str(ROOT / "scripts"))
import add_bootstrap  # noqa: E402


def run_script(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)],
                          capture_output=True, text=True, timeout=120)


def test_every_notebook_has_the_current_cell():
    assert len(NOTEBOOKS) >= 7, NOTEBOOKS
    result = run_script("--check", *NOTEBOOKS)
    assert result.returncode == 0, result.stderr


def test_cell_installs_the_runtime_lock_from_the_configured_repository():
    source = add_bootstrap.bootstrap_source()
    repo = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    assert f'REPO = "{repo}"' in source
    assert '"-r", f"{REPO}/raw/main/locks/runtime.txt"' in source
    assert 'f"course-pkg @ git+{REPO}"' in source
    assert "sys.executable" in source and 'find_spec("course_pkg") is None' in source
    assert (ROOT / add_bootstrap.RUNTIME_LOCK).is_file()
    compile(source, "bootstrap", "exec")


@pytest.fixture
def notebook(tmp_path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Title"), nbformat.v4.new_code_cell("x = 1")]
    path = tmp_path / "chapter.ipynb"
    nbformat.write(nb, path)
    return path


def test_add_then_check(notebook):
    assert run_script("--check", notebook).returncode == 1
    assert run_script(notebook).returncode == 0
    cells = nbformat.read(notebook, as_version=4).cells
    assert [c.cell_type for c in cells] == ["markdown", "code", "code"]
    assert cells[1].source == add_bootstrap.bootstrap_source()
    assert cells[1].metadata["tags"] == ["remove-input"]
    assert run_script("--check", notebook).returncode == 0
    assert "already current" in run_script(notebook).stdout


def test_stale_or_untagged_cells_are_refreshed(notebook):
    add_bootstrap.add(notebook)
    nb = nbformat.read(notebook, as_version=4)
    nb.cells[1].source = nb.cells[1].source.replace("locks/runtime.txt", "requirements.lock")
    nb.cells[1].metadata["tags"] = []
    nbformat.write(nb, notebook)
    assert not add_bootstrap.is_current(notebook)
    assert add_bootstrap.add(notebook)
    assert add_bootstrap.is_current(notebook)
    assert len(nbformat.read(notebook, as_version=4).cells) == 3
