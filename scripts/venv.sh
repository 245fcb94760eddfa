# Sourced by run-exporter.sh and run-tests.sh: make sure ./.venv exists and holds this
# project, on any Debian or Ubuntu Python (whose system Python refuses a bare pip install,
# PEP 668, and may lack the venv module until python3-venv is installed).
# `ensure_venv <pip install arguments>` installs only when the arguments or a pyproject.toml
# changed since the last install, saying so first (the first install takes a while);
# $venv_python is then the venv's interpreter.

apt_install() {
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing Debian packages: $*" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >&2
}

ensure_venv() {
  local python=${PYTHON:-python3}
  if [ ! -x .venv/bin/python ]; then
    if ! $python -c 'import ensurepip, venv' 2>/dev/null; then
      apt_install python3-venv
    fi
    $python -m venv .venv
  fi
  venv_python=.venv/bin/python
  local stamp=.venv/installed-$(echo "$*" | cksum | cut -d' ' -f1)
  local wanted
  wanted=$(cat pyproject.toml client/pyproject.toml | cksum)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$wanted" ]; then
    echo "installing autobot-exporter into $PWD/.venv (pip install $*) ..." >&2
    "$venv_python" -m pip install --disable-pip-version-check --progress-bar off "$@" |
      { grep --line-buffered -E '^(Collecting|Installing|Successfully)' >&2 || true; }
    echo "$wanted" >"$stamp"
  fi
}
