#!/usr/bin/env bash
# Install what the tests need and run all of them (the README's test command; CI runs it too).
#  - Debian packages, when missing: prometheus (prometheus, promtool), prometheus-alertmanager
#    (alertmanager, amtool), victoria-metrics (the fleet's second store, tests/test_fleet.py),
#    systemd (systemd-analyze, to verify the shipped unit), chromium and chromium-driver
#    (the status page in a real browser), podman, runc, catatonit and mmdebstrap (the
#    image, the compose stack and the pod, run for real), pipx (the documented pipx
#    install), git (the install from a repository URL)
#  - this project, its client and the test extras (the OpenTelemetry SDK and OTLP
#    exporters among them), into ./.venv (scripts/venv.sh)
#  - ruff (lint and format check), mypy, then pytest; extra arguments go to pytest:
#    ./run-tests.sh -m "not e2e" runs the unit tests alone
set -euo pipefail
cd "$(dirname "$0")"
. scripts/venv.sh

missing=()
command -v promtool >/dev/null || missing+=(prometheus)
command -v prometheus-alertmanager >/dev/null || missing+=(prometheus-alertmanager)
command -v victoria-metrics >/dev/null || missing+=(victoria-metrics)
command -v systemd-analyze >/dev/null || missing+=(systemd)
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
command -v podman >/dev/null || missing+=(podman)
command -v runc >/dev/null || missing+=(runc)
command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
command -v catatonit >/dev/null || missing+=(catatonit)
command -v pipx >/dev/null || missing+=(pipx)
command -v git >/dev/null || missing+=(git)
if ((${#missing[@]})); then
  apt_install "${missing[@]}"
fi

ensure_venv -e './client[aio]' -e '.[test,traces-test]'
export PATH="$PWD/.venv/bin:$PATH"

ruff check exporter client tests scripts
ruff format --check exporter client tests scripts
mypy
exec pytest "$@"
