#!/usr/bin/env bash
# Start autobot-exporter (the README's run command): installs it into ./.venv on first use
# (printing what it installs), then serves http://127.0.0.1:9471/ on the embedded defaults. Arguments go to the
# exporter and are read from where you are: ./run-exporter.sh --config.file exporter.yml
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
(cd "$here" && . scripts/venv.sh && ensure_venv -e .)
exec "$here/.venv/bin/autobot-exporter" "$@"
