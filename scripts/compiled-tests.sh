#!/usr/bin/env bash
# The unit tests again on the compiled build. ./run-tests.sh tests the source as an editable
# install, which setup.py leaves pure Python; a non-editable install compiles the ingest
# path with mypyc where a C compiler is found. This builds that wheel (as pip install .
# does, with the pinned build requirements), unpacks it over a clean copy of the tracked
# files, checks that the copy imports the compiled modules, and runs the unit tests there
# (pytest -m "not e2e"). CI runs it after ./run-tests.sh, which made ./.venv.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
python="$top/.venv/bin/python"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

git ls-files -z | tar --null --files-from=- --create --file=- | tar --extract --directory="$work"
"$python" -m pip wheel --quiet --disable-pip-version-check --no-deps --wheel-dir "$work/dist" "$work"
"$python" -m zipfile --extract "$work"/dist/autobot_exporter-*.whl "$work"

cd "$work"
"$python" -c '
import exporter.workflows.metrics as metrics
assert metrics.COMPILED, f"not the compiled build: {metrics.__file__}"
print("compiled build:", metrics.__file__)
'
PATH="$top/.venv/bin:$PATH" "$python" -m pytest -m "not e2e" -q -p no:cacheprovider
