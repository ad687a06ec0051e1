"""The book: table of contents matches the files, notebooks are clean, and the build is warning-free."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]


def toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        for chapter in part.get("chapters", []):
            files.append(chapter["file"])
            files.extend(section["file"] for section in chapter.get("sections", []))
    return files


def book_pages() -> list[Path]:
    return sorted(p for p in (ROOT / "book").rglob("*")
                  if p.suffix in {".md", ".ipynb"} and ".ipynb_checkpoints" not in p.parts)


def test_toc_lists_exactly_the_pages():
    listed = set(toc_files())
    on_disk = {str(p.relative_to(ROOT).with_suffix("")) for p in book_pages()}
    assert listed - on_disk == set(), "the TOC lists pages that do not exist"
    assert on_disk - listed == set(), "pages in book/ that the TOC does not list"


NOTEBOOKS = [p for p in book_pages() if p.suffix == ".ipynb"]


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_executed_and_clean(nb):
    data = json.loads(nb.read_text())
    assert set(data["metadata"]) <= {"kernelspec", "language_info"}, "stray notebook metadata"
    code = [c for c in data["cells"] if c["cell_type"] == "code" and "".join(c["source"]).strip()]
    counts = [c.get("execution_count") for c in code]
    assert counts == list(range(1, len(code) + 1)), "not executed top to bottom in one kernel"
    for cell in data["cells"]:
        assert set(cell.get("metadata", {})) <= {"tags"}, "stray cell metadata"
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                assert "raises-exception" in cell["metadata"].get("tags", []), (
                    "unexpected error output committed"
                )


CHAPTERS = [p for p in NOTEBOOKS if re.match(r"ch\d\d_", p.name)]

#: The course's calls that draw from a posterior. A method ``.fit`` counts when it is given a
#: seed (Bambi's and the course's builders'; statsmodels' REML fits take none).
SAMPLERS = {"fit", "fit_bambi", "sample_pymc", "sample_posterior_predictive"}  # fit: course_pkg.fitting


def first_fit_cell(code_cells: list[dict]) -> int:
    """Index of the first code cell that runs a sampler, directly or through a helper.

    Helpers are the notebook's own top-level functions whose bodies call a sampler or an
    earlier helper; a cell that only defines them samples nothing.
    """
    samplers = set(SAMPLERS)

    def calls_sampler(node) -> bool:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Call):
                func = sub.func
                if isinstance(func, ast.Name) and func.id in samplers:
                    return True
                if (isinstance(func, ast.Attribute) and func.attr in {"fit", *samplers}
                        and any(k.arg == "random_seed" for k in sub.keywords)):
                    return True
        return False

    for index, cell in enumerate(code_cells):
        source = "".join(cell["source"])
        tree = ast.parse("\n".join(line for line in source.splitlines()
                                   if not line.lstrip().startswith(("%", "!"))))
        for stmt in tree.body:
            if isinstance(stmt, ast.FunctionDef):
                if calls_sampler(stmt):
                    samplers.add(stmt.name)
            elif calls_sampler(stmt):
                return index
    raise AssertionError("no cell runs a sampler")


@pytest.mark.parametrize("nb", CHAPTERS, ids=lambda p: p.name)
def test_outputs_left_unchecked_only_after_a_fit(nb):
    """nbval skips the output of a tagged cell only where posterior draws can reach it.

    A seed's draws are the same on the same kind of CPU only, so the cells whose output changes
    when every sampler seed is shifted (``scripts/draw_dependent_cells.py``) carry the tag
    ``nbval-ignore-output`` (they still run, and the parity checks hold the numbers). Data
    loading, simulation and everything before a chapter's first fit must keep its output checked.
    """
    data = json.loads(nb.read_text())
    code = [c for c in data["cells"] if c["cell_type"] == "code"]
    first_fit = first_fit_cell(code)
    tagged = [i for i, c in enumerate(code)
              if "nbval-ignore-output" in c.get("metadata", {}).get("tags", [])]
    assert all(i >= first_fit for i in tagged), (
        f"cells {[i for i in tagged if i < first_fit]} skip nbval's output check before the "
        f"first fit (cell {first_fit})")


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_bootstrap_cell_does_nothing_locally(nb):
    """The first code cell (the hosted-notebook bootstrap; its source is checked in
    tests/test_bootstrap.py) installs nothing where course_pkg is installed: no output."""
    data = json.loads(nb.read_text())
    first = next(c for c in data["cells"] if c["cell_type"] == "code")
    assert "".join(first["source"]).startswith("# course bootstrap")
    assert first["outputs"] == [], "locally the bootstrap cell must do nothing"


#: The rendered book shows code in a box about 88 characters wide and cuts longer lines off.
CODE_WIDTH = 88


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_code_lines_fit_the_rendered_page(nb):
    """Every code line a reader sees (the hidden bootstrap cell included) fits the page."""
    data = json.loads(nb.read_text())
    wide = [(i, len(line)) for i, cell in enumerate(data["cells"]) if cell["cell_type"] == "code"
            for line in "".join(cell["source"]).splitlines() if len(line) > CODE_WIDTH]
    assert not wide, f"(cell, width) of code lines over {CODE_WIDTH} characters: {wide}"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_no_deprecation_or_future_warning_in_outputs(nb):
    """Committed outputs teach today's APIs: no library says a call is deprecated."""
    data = json.loads(nb.read_text())
    found = [(i, line.strip()[:160]) for i, cell in enumerate(data["cells"])
             for out in cell.get("outputs", []) if out.get("output_type") == "stream"
             for line in "".join(out.get("text", "")).splitlines()
             if re.search(r"(Deprecation|Future|PendingDeprecation)Warning|deprecated", line)]
    assert not found, f"deprecation warnings in committed outputs: {found}"


@pytest.mark.book
def test_book_builds_without_warnings(built_book):
    """`jupyter-book build -n -W --keep-going`: nitpicky, warnings are errors."""
    returncode, log, html = built_book
    assert returncode == 0, log[-5000:]
    for page in ["book/intro.html", "book/running.html", "book/bibliography.html"]:
        assert (html / page).is_file(), page
    assert "Boatwright" in (html / "book" / "bibliography.html").read_text()
    # MathJax is served from the book itself (sphinx-mathjax-offline), so math renders offline.
    assert (html / "_static" / "mathjax" / "tex-chtml.js").is_file()


def test_api_page_documents_every_public_function(built_book):
    """Every name in a public module's ``__all__`` that is a function or class has an entry."""
    import importlib
    import inspect

    import course_pkg

    returncode, log, html = built_book
    assert returncode == 0, log[-5000:]
    page = (html / "book" / "api.html").read_text()
    modules = [name for name in course_pkg.__all__
               if inspect.ismodule(getattr(course_pkg, name, None))]
    missing = []
    for module_name in modules:
        module = importlib.import_module(f"course_pkg.{module_name}")
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and \
                    f'id="course_pkg.{module_name}.{name}"' not in page:
                missing.append(f"course_pkg.{module_name}.{name}")
    assert not missing, f"not on the API page: {missing}"
