#!/usr/bin/env bash
# `make audit`: pip-audit over every pinned dependency as installed in .venv (the runtime
# and dev pins of pyproject.toml, with what they pull in). Fails on a known vulnerability
# (the report names the versions that fix it) and, with --strict, on any dependency that
# could not be looked up: an unreachable vulnerability database never reads as "no known
# vulnerabilities". Needs the network: PyPI's JSON API, or OSV with
# PIP_AUDIT_VULNERABILITY_SERVICE=osv. Not part of `make test` (see README.md).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

ensure_venv dev

# pip-audit lives in a venv of its own (the `audit` group of pyproject.toml), so that its
# own dependencies are not counted among the project's.
AUDIT_VENV="$VENV/audit"
if [ ! -x "$AUDIT_VENV/bin/python" ]; then
  "$(pick_python)" -m venv "$AUDIT_VENV" || die "python -m venv failed: install python3-venv."
fi
read -r -a pins < <("$PY" -c 'import tomllib; print(*tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["audit"])')
stamp="$AUDIT_VENV/.installed-$(printf '%s\n' "${pins[@]}" | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  log "Installing ${pins[*]}"
  "$AUDIT_VENV/bin/python" -m pip install -q --disable-pip-version-check "${pins[@]}"
  rm -f "$AUDIT_VENV"/.installed-*
  touch "$stamp"
fi

log "pip-audit over the packages installed in $VENV"
report="$(mktemp)"
trap 'rm -f "$report"' EXIT
set +e
PIPAPI_PYTHON_LOCATION="$PY" "$AUDIT_VENV/bin/pip-audit" --strict --skip-editable \
  --progress-spinner off --desc on "$@" 2>&1 | tee "$report"
rc=${PIPESTATUS[0]}
set -e
if [ "$rc" -ne 0 ] && grep -qE "could not be audited|ConnectionError|NameResolutionError|Max retries exceeded|timed out" "$report"; then
  die "pip-audit could not look the dependencies up in its vulnerability database (see above), so nothing was checked. Run 'make audit' on a machine that reaches PyPI's JSON API, or OSV (PIP_AUDIT_VULNERABILITY_SERVICE=osv)."
fi
exit "$rc"
