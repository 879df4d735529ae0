#!/usr/bin/env bash
# `make run`: set up and start the whole app (web, Celery worker, Celery beat) on the
# embedded defaults: SQLite and kombu's filesystem broker. No PostgreSQL, no Redis.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

export DEBUG="${DEBUG:-1}"
export DJANGO_SETTINGS_MODULE=config.settings
# Each email an .eml file in var/mail/ and one line in the terminal (core/mail.py),
# not the whole message: the demo's first sweep sends hundreds.
export EMAIL_URL="${EMAIL_URL:-emlfile://}"
# Web, worker and beat run as separate processes: they must share one cache (job state,
# rate limits), never Django's per-process in-memory cache.
export CACHE_URL="${CACHE_URL:-filecache://${MAKLUMAT_VAR_DIR:-$ROOT/var}/cache}"
HOST="${HOST:-127.0.0.1}"
PORT="${PORT:-8000}"

ensure_venv
compile_messages
log "Migrating the database"
"$PY" manage.py migrate --noinput -v0
log "Loading the demo data (idempotent)"
"$PY" manage.py seed_demo

pids=()
stop_all() {
  trap - INT TERM EXIT
  log "Stopping web, worker and beat"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop_all INT TERM EXIT

"$PY" manage.py runserver "$HOST:$PORT" --noreload &
pids+=($!)
"$VENV/bin/celery" -A config worker --loglevel=INFO --concurrency=1 --pool=solo --without-gossip --without-mingle &
pids+=($!)
"$VENV/bin/celery" -A config beat --loglevel=INFO --schedule="$ROOT/var/celerybeat-schedule" &
pids+=($!)

log "Maklumat is running at http://$HOST:$PORT/ (staff: http://$HOST:$PORT/staff/, password for demo accounts: maklumat-demo). Ctrl-C stops all three."
if [ "$EMAIL_URL" = "emlfile://" ]; then
  log "Email is not sent: each message is written to ${MAKLUMAT_VAR_DIR:-$ROOT/var}/mail/ as an .eml file, one line each below."
fi
# Stop everything as soon as one of the three exits.
wait -n "${pids[@]}"
