#!/usr/bin/env bash
# The unit tests (pytest -m "not e2e") on the lowest versions of the runtime dependencies
# that pyproject.toml and client/pyproject.toml allow, in ./.venv-lowest. CI runs it after
# ./run-tests.sh, which has installed the Debian packages and made sure venv works.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x .venv-lowest/bin/python ] || "${PYTHON:-python3}" -m venv .venv-lowest
.venv-lowest/bin/python scripts/lowest_versions.py >.venv-lowest/constraints.txt
echo "lowest allowed versions:" $(cat .venv-lowest/constraints.txt)
.venv-lowest/bin/python -m pip install --quiet --disable-pip-version-check \
  -c .venv-lowest/constraints.txt -e './client[aio]' -e '.[test]'
export PATH="$PWD/.venv-lowest/bin:$PATH"
exec .venv-lowest/bin/python -m pytest -m "not e2e" -q -p no:cacheprovider
