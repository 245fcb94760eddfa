#!/usr/bin/env bash
# The tests on the lowest versions of the runtime dependencies that pyproject.toml and
# client/pyproject.toml allow. CI runs it after ./run-tests.sh, which has installed the
# Debian packages and made sure venv works.
#  1. ./.venv-lowest: server and client, each package at the higher of their floors; the
#     unit tests (pytest -m "not e2e"). The trace tests that send through the OpenTelemetry
#     SDK (tests/test_traces_*.py, all end to end) need the traces-test extra, whose pins
#     would lift opentelemetry-proto off its floor: they are left out here.
#  2. ./.venv-lowest-client: the client alone at its own floors; scripts/client_floor_check.py.
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
pip_install() { "$1/bin/python" -m pip install --quiet --disable-pip-version-check "${@:2}"; }

[ -x .venv-lowest/bin/python ] || $python -m venv .venv-lowest
pip_install .venv-lowest packaging
.venv-lowest/bin/python scripts/lowest_versions.py >.venv-lowest/constraints.txt
echo "lowest allowed versions (server and client):" $(cat .venv-lowest/constraints.txt)
pip_install .venv-lowest -c .venv-lowest/constraints.txt -e './client[aio]' -e '.[test]'
PATH="$PWD/.venv-lowest/bin:$PATH" .venv-lowest/bin/python -m pytest -m "not e2e" -q -p no:cacheprovider \
  --ignore-glob='tests/test_traces_*'

[ -x .venv-lowest-client/bin/python ] || $python -m venv .venv-lowest-client
.venv-lowest/bin/python scripts/lowest_versions.py --client >.venv-lowest-client/constraints.txt
echo "lowest allowed versions (client alone):" $(cat .venv-lowest-client/constraints.txt)
pip_install .venv-lowest-client -c .venv-lowest-client/constraints.txt './client[aio]'
exec .venv-lowest-client/bin/python scripts/client_floor_check.py
