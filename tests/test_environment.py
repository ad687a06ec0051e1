"""The locked environment: pyproject.toml, the locks in locks/ and environment.yml agree.

locks/test.txt holds every group of pyproject.toml; runtime.txt, book.txt and bench.txt are
resolved within it (`make lock`), so all four give a package the same version. environment.yml
(the conda route) pins every package pyproject.toml names at those versions.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib import metadata
from itertools import combinations
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
LOCKS = ("runtime", "book", "test", "bench")
# Which extras each lock resolves, besides course_pkg's own [project] dependencies.
LOCK_EXTRAS = {
    "runtime": ("runtime",),
    "book": ("runtime", "book"),
    "test": ("runtime", "book", "test", "bench"),
    "bench": ("runtime", "bench"),
}
# Modules course_pkg imports only inside a function, for an optional path, with the extra that
# provides them: JAX serves the numpyro sampler (course_pkg.linalg.register_jax).
OPTIONAL_IMPORTS = {"jax": "bench"}
# Packages that only their own group brings in (others come in with several groups).
SIGNATURES = {"book": ("jupyter-book", "jupyterlab"), "test": ("nbval", "pytest", "ruff"),
              "bench": ("jax", "numpyro")}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def requirements(group: str | None = None) -> list[Requirement]:
    """[project] dependencies (group None) or one optional-dependencies group, parsed."""
    project = pyproject()["project"]
    specs = project["dependencies"] if group is None else project["optional-dependencies"][group]
    return [Requirement(spec) for spec in specs]


def all_requirements() -> list[Requirement]:
    extras = pyproject()["project"]["optional-dependencies"]
    return [*requirements(), *(req for group in extras for req in requirements(group))]


def lock_python() -> str:
    """The Python version the Makefile compiles the locks for (LOCK_PYTHON)."""
    match = re.search(r"^LOCK_PYTHON := (\d+\.\d+)$", (ROOT / "Makefile").read_text(), re.M)
    assert match, "the Makefile should set LOCK_PYTHON := X.Y"
    return match.group(1)


def lock_pins(name: str = "test") -> dict[str, str]:
    pins = {}
    for line in (ROOT / "locks" / f"{name}.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            package, version = line.split("==", 1)
            pins[_norm(package.split("[")[0])] = version.strip()
    return pins


def env_yml_pins() -> dict[str, str]:
    """Parse the conda (``name=ver``) and pip (``name==ver``) entries of environment.yml."""
    pins = {}
    for raw in (ROOT / "environment.yml").read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line.startswith("- ") or line.endswith(":"):
            continue
        spec = line[2:].strip()
        match = re.fullmatch(r"([A-Za-z0-9_.\-]+)\s*(==|=)\s*([^\s=]+)", spec)
        if match:
            pins[_norm(match.group(1))] = match.group(3)
    return pins


def test_every_lock_is_exact_and_regenerated_by_make_lock():
    for name in LOCKS:
        text = (ROOT / "locks" / f"{name}.txt").read_text()
        assert f"Python {lock_python()}" in text and "make lock" in text, name
        for line in text.splitlines():
            line = line.split("#", 1)[0].strip()
            assert not line or re.fullmatch(r"[A-Za-z0-9_.\-\[\],]+==\S+", line), (name, line)
    assert len(lock_pins("test")) > 100


def test_requires_python_admits_the_lock_python():
    spec = pyproject()["project"]["requires-python"]
    assert spec == f">={lock_python()}"


@pytest.mark.parametrize("name", LOCKS)
def test_each_lock_holds_its_groups(name):
    """Every requirement of the lock's groups is in it; the other groups' own packages are not."""
    pins = lock_pins(name)
    wanted = [*requirements(), *(r for g in LOCK_EXTRAS[name] for r in requirements(g))]
    missing = sorted(r.name for r in wanted if _norm(r.name) not in pins)
    assert not missing, f"locks/{name}.txt lacks {missing}"
    for group, packages in SIGNATURES.items():
        present = sorted(p for p in packages if p in pins)
        if group in LOCK_EXTRAS[name]:
            assert present == sorted(packages), (name, group)
        else:
            assert not present, f"locks/{name}.txt holds the {group} group's {present}"


def test_locks_agree_on_every_shared_package():
    pins = {name: lock_pins(name) for name in LOCKS}
    for a, b in combinations(LOCKS, 2):
        differ = {p: (pins[a][p], pins[b][p]) for p in set(pins[a]) & set(pins[b])
                  if pins[a][p] != pins[b][p]}
        assert not differ, f"locks/{a}.txt and locks/{b}.txt disagree: {differ}"


def test_groups_nest():
    """runtime is in book and bench, and test.txt holds them all (make test installs it)."""
    pins = {name: set(lock_pins(name)) for name in LOCKS}
    assert pins["runtime"] <= pins["book"] <= pins["test"]
    assert pins["runtime"] <= pins["bench"] <= pins["test"]


def test_pyproject_ranges_admit_the_locked_versions():
    lock = lock_pins("test")
    outside = {r.name: (str(r.specifier), lock.get(_norm(r.name))) for r in all_requirements()
               if _norm(r.name) not in lock or not r.specifier.contains(lock[_norm(r.name)])}
    assert not outside, f"pyproject.toml ranges that exclude the locked version: {outside}"


def test_environment_yml_pins_the_lock_versions():
    lock, env = lock_pins("test"), env_yml_pins()
    assert env.pop("python") == lock_python()
    missing = sorted(set(env) - set(lock))
    assert not missing, f"environment.yml pins packages the lock does not have: {missing}"
    mismatched = {name: (env[name], lock[name]) for name in env if env[name] != lock[name]}
    assert not mismatched, f"environment.yml vs locks/test.txt disagree: {mismatched}"


def test_environment_yml_has_every_package_pyproject_names():
    """The conda route installs every group: each direct dependency, at the lock's version."""
    lock, env = lock_pins("test"), env_yml_pins()
    absent = sorted({r.name for r in all_requirements() if _norm(r.name) not in env})
    assert not absent, f"pyproject.toml names packages environment.yml lacks: {absent}"
    assert all(env[_norm(r.name)] == lock[_norm(r.name)] for r in all_requirements())


def test_no_reference_to_the_old_requirements_files():
    paths = [ROOT / "Makefile", ROOT / "README.md", ROOT / "environment.yml",
             ROOT / "pyproject.toml", ROOT / ".ci" / "run", *(ROOT / "book").glob("*.md"),
             *(ROOT / "scripts").iterdir()]
    stale = [str(p.relative_to(ROOT)) for p in paths
             if p.is_file() and re.search(r"requirements\.(lock|in)\b", p.read_text())]
    assert not stale, f"still naming requirements.in/.lock: {stale}"


@pytest.mark.parametrize("name", sorted({_norm(r.name) for r in all_requirements()}))
def test_installed_versions_match_lock(name):
    try:
        installed = metadata.version(name)
    except metadata.PackageNotFoundError:
        pytest.fail(f"{name} is not installed: `make env` installs locks/test.txt")
    assert installed == lock_pins("test")[name]


def _imports(tree: ast.AST) -> list[tuple[str, bool]]:
    """(top-level module, imported inside a function) for each absolute import in ``tree``."""
    found = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import):
                found.extend((a.name.split(".")[0], in_function) for a in child.names)
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                found.append((child.module.split(".")[0], in_function))
            visit(child, in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef))

    visit(tree, False)
    return found


def test_dependencies_are_exactly_what_course_pkg_imports():
    """An import without a declaration (or a declaration nothing imports) fails here."""
    distributions = metadata.packages_distributions()
    imported: dict[str, set[str]] = {}
    lazy_only: dict[str, bool] = {}
    for path in sorted((ROOT / "course_pkg").rglob("*.py")):  # subpackages too
        for module, in_function in _imports(ast.parse(path.read_text())):
            if module in sys.stdlib_module_names or module in {"__future__", "course_pkg"}:
                continue
            imported.setdefault(module, set()).add(str(path.relative_to(ROOT / "course_pkg")))
            lazy_only[module] = lazy_only.get(module, True) and in_function
    for module, extra in OPTIONAL_IMPORTS.items():
        if module in imported:
            assert lazy_only.pop(module), f"course_pkg imports the optional {module} at module level"
            imported.pop(module)
            assert module in {_norm(r.name) for r in requirements(extra)}, (module, extra)
    needed = {_norm(distributions.get(m, [m])[0]): m for m in imported}
    declared = {_norm(r.name) for r in requirements()}
    undeclared = {dist: sorted(imported[m]) for dist, m in needed.items() if dist not in declared}
    assert not undeclared, f"course_pkg imports packages [project] dependencies lacks: {undeclared}"
    unused = sorted(declared - set(needed))
    assert not unused, f"[project] dependencies that course_pkg does not import: {unused}"
