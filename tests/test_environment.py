"""The locked environment: environment.yml mirrors requirements.lock; pins that matter hold."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lock_pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            pins[_norm(name.split("[")[0])] = version.strip()
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


def test_lock_has_many_exact_pins():
    pins = lock_pins()
    assert len(pins) > 100
    for name in ("bambi", "pymc", "arviz", "matplotlib", "nutpie", "jupyter-book", "nbval"):
        assert name in pins, name


def test_environment_yml_agrees_with_lock():
    lock, env = lock_pins(), env_yml_pins()
    env.pop("python", None)
    assert len(env) >= 20, "environment.yml should pin the course's main packages"
    missing = sorted(set(env) - set(lock))
    assert not missing, f"environment.yml pins packages the lock does not have: {missing}"
    mismatched = {name: (env[name], lock[name]) for name in env if env[name] != lock[name]}
    assert not mismatched, f"environment.yml vs requirements.lock disagree: {mismatched}"


def test_matplotlib_pinned_below_311():
    major, minor = (int(x) for x in lock_pins()["matplotlib"].split(".")[:2])
    assert (major, minor) < (3, 11), "matplotlib 3.11 breaks `import arviz`"


@pytest.mark.parametrize("name", ["bambi", "pymc", "arviz", "matplotlib", "nutpie", "pandas"])
def test_installed_versions_match_lock(name):
    assert metadata.version(name) == lock_pins()[name]
