"""The runtime group alone runs the course: a fresh environment from locks/runtime.txt and the
package, as a hosted notebook gets it, imports course_pkg and fits a model with nutpie.

A package course_pkg or the notebooks need but the runtime group lacks fails here."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import course_pkg
import ipykernel, matplotlib.pyplot, seaborn, statsmodels.api, watermark
import pymc as pm

print("course_pkg from", course_pkg.__file__)
with pm.Model():
    mu = pm.Normal("mu", 0, 1)
    pm.Normal("y", mu, 1, observed=[0.1, -0.3, 0.4])
    idata = pm.sample(draws=50, tune=50, chains=1, nuts_sampler="nutpie", random_seed=1,
                      progressbar=False)
print("draws", idata.posterior["mu"].shape)
"""


def find_uv() -> str | None:
    here = Path(sys.prefix) / "bin" / "uv"
    return str(here) if here.is_file() else shutil.which("uv")


@pytest.mark.slow
def test_runtime_lock_and_package_run_a_nutpie_fit(tmp_path):
    uv = find_uv()
    if uv is None:
        pytest.skip("uv is not installed in this environment (make env installs it)")
    # Install from a copy, so the build leaves nothing in the checkout.
    source = tmp_path / "src"
    shutil.copytree(ROOT / "course_pkg", source / "course_pkg",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    venv = tmp_path / "venv"
    python = venv / "bin" / "python"

    def run(*args: str, timeout: int = 600) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
        env["COURSE_PROGRESS"] = "0"
        result = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True,
                                timeout=timeout)
        assert result.returncode == 0, f"{' '.join(args)}\n{result.stdout}\n{result.stderr}"
        return result

    run(uv, "venv", "--quiet", "--python", sys.executable, str(venv))
    run(uv, "pip", "install", "--quiet", "--python", str(python),
        "-r", str(ROOT / "locks" / "runtime.txt"))
    run(uv, "pip", "install", "--quiet", "--python", str(python), "--no-deps", str(source))
    out = run(str(python), "-c", PROBE).stdout
    assert f"course_pkg from {venv}" in out
    assert "draws (1, 50)" in out
