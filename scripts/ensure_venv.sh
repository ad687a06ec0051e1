#!/bin/sh
# Make sure VENV (default .venv) is a virtual environment of a Python the locks install on.
#
# Keeps an existing VENV whose Python runs and is >= LOCK_PYTHON (and, when PYTHON is given, is
# the same X.Y as PYTHON). Otherwise removes it and creates it again with the interpreter that
# scripts/find_python.sh picks, so the Makefile reinstalls the locked packages into it (the
# Makefile's stamps live inside VENV and its pyvenv.cfg becomes newer than them).
set -eu

venv=${1:-.venv}
here=$(dirname "$0")
LOCK_PYTHON=${LOCK_PYTHON:-3.12}
export LOCK_PYTHON

version_of() {
    "$1" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || true
}

current=""
[ -x "$venv/bin/python" ] && current=$(version_of "$venv/bin/python")

reason=""
if [ -z "$current" ]; then
    [ -e "$venv" ] && reason="$venv has no working Python"
elif [ "$(printf '%s\n%s\n' "$LOCK_PYTHON" "$current" | sort -t. -k1,1n -k2,2n | head -n1)" != "$LOCK_PYTHON" ]; then
    reason="$venv was made with Python $current; the course needs >= $LOCK_PYTHON"
fi

python=""
if [ -n "${PYTHON:-}" ] || [ -z "$current" ] || [ -n "$reason" ]; then
    python=$(sh "$here/find_python.sh") || exit 1
    wanted=$(version_of "$python")
    if [ -z "$reason" ] && [ -n "$current" ] && [ "$wanted" != "$current" ]; then
        reason="$venv was made with Python $current; PYTHON=$PYTHON is $wanted"
    fi
fi

if [ -n "$current" ] && [ -z "$reason" ]; then
    exit 0
fi
[ -n "$reason" ] && echo "$reason: recreating it"
rm -rf "$venv"
echo "creating $venv with $python (Python $(version_of "$python"))"
"$python" -m venv "$venv"
