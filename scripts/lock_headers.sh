#!/bin/sh
# Put a header on each lock that `make lock` has just written with uv: what the lock holds and how
# to regenerate it. Usage: sh scripts/lock_headers.sh PYTHON_VERSION (run by `make lock`).
set -eu
py=${1:?usage: lock_headers.sh PYTHON_VERSION}
cd "$(dirname "$0")/../locks"

header() {
    file=$1
    what=$2
    tmp="$file.tmp"
    {
        echo "# locks/$file: $what"
        echo "# Exact versions for Python $py, resolved from pyproject.toml; every lock in locks/ has the"
        echo "# same version of each package it shares with the others. Do not edit: regenerate all four"
        echo "# with \`make lock\` (\`make lock UPGRADE=--upgrade\` moves to the newest allowed releases)."
        cat "$file"
    } > "$tmp"
    mv "$tmp" "$file"
}

header test.txt "every group: course_pkg's dependencies and the runtime, book, test and bench extras (make test, make env, CI)."
header runtime.txt "course_pkg's dependencies and the runtime extra: what the notebooks import (hosted notebooks install this)."
header book.txt "the runtime lock plus the book extra: Jupyter Book 1.x and JupyterLab (make book, make lab)."
header bench.txt "the runtime lock plus the bench extra: numpyro and JAX for bench/run.py (make bench-env)."
