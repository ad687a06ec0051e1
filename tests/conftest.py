"""Shared fixtures. Tests read data from ../shared/data (or $COURSE_DATA_DIR) and never go online."""

from __future__ import annotations

import functools
import http.server
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pymc as pm
import pytest
from filelock import FileLock

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"

if not os.environ.get("COURSE_DATA_DIR") and SHARED_DATA.is_dir():
    os.environ["COURSE_DATA_DIR"] = str(SHARED_DATA)
os.environ.setdefault("COURSE_PROGRESS", "0")


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The folder holding the course CSV files for tests."""
    path = Path(os.environ["COURSE_DATA_DIR"]) if os.environ.get("COURSE_DATA_DIR") else None
    if path is None or not path.is_dir():
        pytest.skip("no local data folder: set COURSE_DATA_DIR to the folder of course CSVs")
    return path


@pytest.fixture
def loads_from_cache(tmp_path):
    """A check that a script's compiled graph is saved once and loaded by a second process.

    ``check(probe, saved)`` runs the Python source ``probe`` twice with a fresh PyTensor
    compiledir: the first run must save numba code whose name contains ``saved``; the second
    must save nothing, load the whole compiled graph, and print the same last line.
    """

    def check(probe: str, saved: str) -> None:
        env = {**os.environ, "PYTENSOR_FLAGS": f"base_compiledir={tmp_path}",
               "NUMBA_DEBUG_CACHE": "1"}

        def run():
            out = subprocess.run([sys.executable, "-c", probe], env=env, check=True,
                                 capture_output=True, text=True, timeout=600)
            return out.stdout

        first, second = run(), run()
        assert any("data saved" in line and saved in line for line in first.splitlines())
        assert "data saved" not in second
        loaded = [line for line in second.splitlines() if "data loaded" in line]
        assert any("numba_funcified_fgraph" in line for line in loaded)
        assert first.splitlines()[-1] == second.splitlines()[-1]

    return check


@pytest.fixture(scope="session")
def good_idata():
    """A well-specified normal model with plenty of draws: passes the gate."""
    rng = np.random.default_rng(11)
    y = rng.normal(1.0, 2.0, size=50)
    with pm.Model() as model:
        mu = pm.Normal("mu", 0, 5)
        sigma = pm.HalfNormal("sigma", 5)
        pm.Normal("y", mu, sigma, observed=y)
    from course_pkg.sampling import sample_pymc

    return sample_pymc(model, random_seed=1, draws=600, tune=600, chains=4)


@pytest.fixture(scope="session")
def funnel_idata():
    """Neal's funnel, centred, with few draws: divergences and poor mixing by construction.

    Four chains: with two, one seed's chains can stay in the funnel's wide part and diverge
    nowhere on some CPUs (seen on an AMD EPYC for seed 4); over seeds 1 to 6, four chains
    gave 21 to 141 divergent transitions each.
    """
    with pm.Model() as model:
        log_tau = pm.Normal("log_tau", 0, 3)
        pm.Normal("theta", 0, pm.math.exp(log_tau), shape=8)
    with model:
        return pm.sample(draws=200, tune=200, chains=4, random_seed=4, progressbar=False,
                         nuts_sampler="pymc", target_accept=0.6,
                         compute_convergence_checks=False)


def _build_book(out: Path) -> tuple[int, str]:
    """Run ``jupyter-book build`` with ``-n -W --keep-going`` into *out*; (returncode, log)."""
    jb = Path(sys.executable).parent / "jupyter-book"
    cmd = [str(jb), "build", str(ROOT), "--path-output", str(out), "-n", "-W", "--keep-going"]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=1200)
    return result.returncode, result.stdout + result.stderr


@pytest.fixture(scope="session")
def built_book(tmp_path_factory, worker_id):
    """Build the book once per test run; (returncode, log, html dir).

    Under pytest-xdist (``make test`` runs on every core) each worker has its own session, so the
    first worker that asks builds the book into the run's shared temporary folder while holding a
    file lock, and the others wait for it and read the same build.
    """
    if worker_id == "master":  # not under xdist
        out = tmp_path_factory.mktemp("book")
        returncode, log = _build_book(out)
        return returncode, log, out / "_build" / "html"
    shared = tmp_path_factory.getbasetemp().parent / "built_book"
    with FileLock(str(shared) + ".lock"):
        done = shared / "result.json"
        if not done.is_file():
            shared.mkdir(exist_ok=True)
            returncode, log = _build_book(shared)
            done.write_text(json.dumps({"returncode": returncode, "log": log}))
        result = json.loads(done.read_text())
    return result["returncode"], result["log"], shared / "_build" / "html"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output readable
        pass


@pytest.fixture(scope="session")
def serve_folder():
    """Factory: serve a folder over HTTP on 127.0.0.1 and return its base URL (ends with /)."""
    servers = []

    def start(folder: Path) -> str:
        handler = functools.partial(_QuietHandler, directory=str(folder))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()
