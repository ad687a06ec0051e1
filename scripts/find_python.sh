#!/bin/sh
# Print the path of a Python interpreter the course's locks install on, or stop with one message.
#
# The locks (locks/*.txt) are compiled for Python $LOCK_PYTHON and also install on
# $LOCK_PYTHON..$MAX_PYTHON. Candidates, first match wins:
#   1. $PYTHON, when set: it must run and be >= $LOCK_PYTHON, or this script stops;
#   2. python3.13, python3.12, python3 on PATH, each only if it runs (pyenv's shims for versions
#      that are not selected exit with an error) and reports a version in the range;
#   3. pyenv's installed versions ($(pyenv root)/versions, else ~/.pyenv/versions): the newest
#      patch release of $LOCK_PYTHON, else the newest other version in the range.
# Used by scripts/ensure_venv.sh (make book, make test, make env, make lab).
set -u

LOCK_PYTHON=${LOCK_PYTHON:-3.12}
MAX_PYTHON=${MAX_PYTHON:-3.13}

# "X.Y" of an interpreter, or nothing when it does not run.
version_of() {
    "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null
}

# Compare "X.Y" versions: at_least A B is true when A >= B.
at_least() {
    a_major=${1%%.*} a_minor=${1#*.} b_major=${2%%.*} b_minor=${2#*.}
    [ "$a_major" -gt "$b_major" ] || { [ "$a_major" -eq "$b_major" ] && [ "$a_minor" -ge "$b_minor" ]; }
}

in_range() {
    at_least "$1" "$LOCK_PYTHON" && at_least "$MAX_PYTHON" "$1"
}

if [ -n "${PYTHON:-}" ]; then
    found=$(version_of "$PYTHON")
    if [ -z "$found" ]; then
        echo "PYTHON=$PYTHON does not run. Point PYTHON at a Python >= $LOCK_PYTHON," \
             "e.g. make book PYTHON=/usr/bin/python$LOCK_PYTHON" >&2
        exit 1
    fi
    if ! at_least "$found" "$LOCK_PYTHON"; then
        echo "PYTHON=$PYTHON is Python $found; the course needs Python >= $LOCK_PYTHON" \
             "(the locks are made for $LOCK_PYTHON). Point PYTHON at a newer one." >&2
        exit 1
    fi
    if ! at_least "$MAX_PYTHON" "$found"; then
        echo "note: PYTHON=$PYTHON is Python $found; the locks are tested on $LOCK_PYTHON" \
             "and known to install up to $MAX_PYTHON only" >&2
    fi
    command -v "$PYTHON" 2>/dev/null || echo "$PYTHON"
    exit 0
fi

tried=""
for name in python3.13 python3.12 python3; do
    path=$(command -v "$name" 2>/dev/null) || continue
    found=$(version_of "$path")
    tried="$tried${tried:+, }$name (${found:-does not run})"
    if [ -n "$found" ] && in_range "$found"; then
        echo "$path"
        exit 0
    fi
done

if command -v pyenv >/dev/null 2>&1 && root=$(pyenv root 2>/dev/null) && [ -n "$root" ]; then
    :
else
    root=${PYENV_ROOT:-$HOME/.pyenv}
fi
candidates=""
for python in "$root"/versions/3.1[2-9]*/bin/python; do
    release=${python%/bin/python}
    release=${release##*/}
    case $release in *[!0-9.]*) continue ;; esac  # plain CPython releases, not 3.13.0t or a venv
    found=$(version_of "$python")
    if [ -n "$found" ] && in_range "$found"; then
        candidates="$candidates$release $python
"
    fi
done
tried="$tried${tried:+, }pyenv versions in $root/versions"
# Oldest first; take the newest patch release of LOCK_PYTHON, else the newest in the range.
sorted=$(printf '%s' "$candidates" | sort -t. -k1,1n -k2,2n -k3,3n)
best=$(printf '%s\n' "$sorted" | grep "^$LOCK_PYTHON\." | tail -n 1)
[ -n "$best" ] || best=$(printf '%s\n' "$sorted" | tail -n 1)
if [ -n "$best" ]; then
    echo "${best#* }"
    exit 0
fi

echo "No Python >= $LOCK_PYTHON found (the course's locks need $LOCK_PYTHON to $MAX_PYTHON;" \
     "tried: $tried). Install Python $LOCK_PYTHON and run again, pointing PYTHON" \
     "at it if it is not on PATH: make book PYTHON=/path/to/python$LOCK_PYTHON" >&2
exit 1
