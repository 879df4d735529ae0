# Shared helpers for scripts/run.sh and scripts/test.sh (sourced, not executed).
# shellcheck shell=bash

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf '\033[31mERROR: %s\033[0m\n' "$*" >&2; exit 1; }

pick_python() {
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' 2>/dev/null; then
      echo "$candidate"; return 0
    fi
  done
  die "Python 3.11 is required (Django 5.2 on Debian 12). Install python3 (3.11) and python3-venv."
}

# Install Debian packages that are missing (only those: never upgrade installed ones).
ensure_debian_packages() {
  local missing=()
  for pkg in "$@"; do
    if [ "$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null)" != "installed" ]; then
      missing+=("$pkg")
    fi
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$(id -u)" -ne 0 ]; then
    die "Missing Debian packages: ${missing[*]}. Install them with: sudo apt-get install -y --no-install-recommends ${missing[*]}"
  fi
  log "Installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Create the virtual environment and install the pinned packages when pyproject.toml changed.
ensure_venv() {
  local extras="${1:-}"
  local python; python="$(pick_python)"
  if [ ! -x "$PY" ]; then
    log "Creating the virtual environment in $VENV"
    "$python" -m venv "$VENV" || die "python -m venv failed: install python3-venv."
  fi
  local stamp="$VENV/.installed-$(sha256sum "$ROOT/pyproject.toml" | cut -c1-16)${extras:+-$extras}"
  if [ ! -f "$stamp" ]; then
    log "Installing Python packages${extras:+ (with $extras)}"
    "$PY" -m pip install -q --disable-pip-version-check --upgrade pip >/dev/null
    local pip_log; pip_log="$(mktemp)"
    if ! ( cd "$ROOT" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 "$PY" -m pip install -q --disable-pip-version-check -e ".${extras:+[$extras]}" >"$pip_log" 2>&1 ); then
      cat "$pip_log"; rm -f "$pip_log"; die "pip install failed"
    fi
    rm -f "$pip_log"
    rm -f "$VENV"/.installed-*
    touch "$stamp"
  fi
}

free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

compile_messages() {
  if ! command -v msgfmt >/dev/null 2>&1; then
    ensure_debian_packages gettext
  fi
  ( cd "$ROOT" && "$PY" manage.py compilemessages -v0 --ignore=.venv )
}
