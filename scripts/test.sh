#!/usr/bin/env bash
# `make test`: install what is missing, start a throwaway PostgreSQL and Redis on
# their own loopback ports, run every check and the whole test suite against them,
# and stop exactly what this script started.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

ensure_debian_packages postgresql postgresql-contrib redis-server chromium fonts-dejavu-core gettext
ensure_venv dev

PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
[ -x "$PG_BIN/initdb" ] || die "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin (install postgresql)."
command -v redis-server >/dev/null || die "redis-server not found (install redis-server)."
command -v chromium >/dev/null || die "chromium not found (install chromium)."

WORK="$(mktemp -d /tmp/maklumat-test.XXXXXX)"
PG_DIR="$WORK/pg"
PG_PORT="$(free_port)"
REDIS_PORT="$(free_port)"
REDIS_PID_FILE="$WORK/redis.pid"
PG_STARTED=0

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ -f "$REDIS_PID_FILE" ]; then
    kill "$(cat "$REDIS_PID_FILE")" 2>/dev/null || true
  fi
  if [ "$PG_STARTED" = 1 ]; then
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT INT TERM

# initdb refuses to run as root: run the server as the postgres user then.
as_pg() {
  if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

log "Starting a throwaway PostgreSQL on 127.0.0.1:$PG_PORT"
mkdir -p "$PG_DIR"
if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$PG_DIR"; chmod 755 "$WORK"; fi
as_pg "$PG_BIN/initdb" -D "$PG_DIR" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$WORK/initdb.log" 2>&1 ||
  { cat "$WORK/initdb.log"; die "initdb failed"; }
as_pg "$PG_BIN/pg_ctl" -D "$PG_DIR" -w -l "$PG_DIR/server.log" start \
  -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" >/dev/null ||
  { cat "$PG_DIR/server.log"; die "PostgreSQL did not start"; }
PG_STARTED=1
"$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres maklumat

log "Starting a throwaway Redis on 127.0.0.1:$REDIS_PORT"
redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save '' --appendonly no \
  --pidfile "$REDIS_PID_FILE" --logfile "$WORK/redis.log" --dir "$WORK"
for _ in $(seq 1 50); do [ -s "$REDIS_PID_FILE" ] && break; sleep 0.1; done

export MAKLUMAT_TESTING=1
export DJANGO_SETTINGS_MODULE=config.settings
export DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/maklumat"
export REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
export CELERY_BROKER_URL="redis://127.0.0.1:$REDIS_PORT/1"
export CELERY_RESULT_BACKEND="redis://127.0.0.1:$REDIS_PORT/2"
export CACHE_URL="redis://127.0.0.1:$REDIS_PORT/3"
export MAKLUMAT_VAR_DIR="$WORK/var"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
export DJANGO_ALLOW_ASYNC_UNSAFE=true
export MAKLUMAT_PG_BIN="$PG_BIN"
# The standards' fixtures (../shared/fixtures) are not part of a clone: where they are absent
# the conformance tests are skipped, naming MAKLUMAT_SHARED_FIXTURES (../shared/fixtures/README.md).
# Set MAKLUMAT_REQUIRE_SHARED_FIXTURES=1 to make their absence fail the run instead.
if [ -d "${MAKLUMAT_SHARED_FIXTURES:-$ROOT/../shared/fixtures}" ]; then
  log "shared fixtures: ${MAKLUMAT_SHARED_FIXTURES:-$ROOT/../shared/fixtures}"
else
  log "WARNING: shared fixtures absent: the CPSV-AP and HSDS conformance tests will be skipped"
fi

compile_messages

log "ruff"
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .
log "mypy"
"$VENV/bin/mypy" .
log "manage.py check"
"$PY" manage.py check --fail-level WARNING
log "manage.py check --deploy (production settings)"
env -u MAKLUMAT_TESTING -u DJANGO_ALLOW_ASYNC_UNSAFE DEBUG=0 SECRET_KEY="$("$PY" -c 'import secrets; print(secrets.token_urlsafe(50))')" \
  ALLOWED_HOSTS=maklumat.example.org "$PY" manage.py check --deploy --fail-level WARNING
log "makemigrations --check"
"$PY" manage.py makemigrations --check --dry-run
log "lint-imports (the floor plan: apps depend downward only, docs/architecture.md)"
"$VENV/bin/lint-imports" --no-cache

log "pytest"
set +e
"$VENV/bin/pytest" -n "${PYTEST_WORKERS:-auto}" --dist loadgroup "$@"
rc=$?
set -e
if [ "$rc" -eq 5 ]; then die "pytest collected no tests"; fi
exit "$rc"
