#!/usr/bin/env bash
# Install what the tests need and run all of them (the README's test command; CI runs it too).
#  - Debian packages, when missing: prometheus (prometheus, promtool), prometheus-alertmanager
#    (alertmanager, amtool), systemd (systemd-analyze, to verify the shipped unit)
#  - this project with its test extras, into the current Python (or .venv when the system
#    Python is marked externally managed, as Debian's is)
#  - ruff (lint and format check), mypy, then pytest; extra arguments go to pytest
set -euo pipefail
cd "$(dirname "$0")"

missing=()
command -v promtool >/dev/null || missing+=(prometheus)
command -v prometheus-alertmanager >/dev/null || missing+=(prometheus-alertmanager)
command -v systemd-analyze >/dev/null || missing+=(systemd)
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

python=python3
if [ -z "${VIRTUAL_ENV:-}" ] && $python -c 'import sys, sysconfig, pathlib; sys.exit(not (pathlib.Path(sysconfig.get_path("stdlib")) / "EXTERNALLY-MANAGED").exists())'; then
  [ -x .venv/bin/python ] || $python -m venv .venv
  python=.venv/bin/python
  export PATH="$PWD/.venv/bin:$PATH"
fi
$python -m pip install --quiet --disable-pip-version-check -e '.[test]'

$python -m ruff check exporter tests
$python -m ruff format --check exporter tests
$python -m mypy
exec $python -m pytest "$@"
