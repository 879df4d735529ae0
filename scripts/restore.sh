#!/usr/bin/env bash
# `make restore BACKUP=<dir> [RESTORE_CONFIRM=yes]`: put a `make backup` back: the database
# (pg_restore's script through psql into DATABASE_URL, replacing what is there, in one
# transaction) and the media
# folder (the current one is kept beside it as MEDIA_ROOT.before-restore-<time>).
# Stop web, the workers and beat first. Destructive: asks for RESTORE_CONFIRM=yes.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

backup="${1:-${BACKUP:-}}"
[ -n "$backup" ] || die "Usage: make restore BACKUP=var/backups/maklumat-<time>"
[ -f "$backup/database.dump" ] && [ -f "$backup/media.tar.gz" ] && [ -f "$backup/SHA256SUMS" ] ||
  die "$backup is not a complete backup (database.dump, media.tar.gz, SHA256SUMS)."
( cd "$backup" && sha256sum --quiet --check SHA256SUMS ) || die "The backup's checksums do not match: refusing."
[ "${RESTORE_CONFIRM:-}" = "yes" ] ||
  die "This replaces the database at DATABASE_URL and the media folder. Run again with RESTORE_CONFIRM=yes."

PG_BIN="${MAKLUMAT_PG_BIN:+$MAKLUMAT_PG_BIN/}"
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-config.settings}"
mapfile -t conf < <("$PY" - <<'PY'
import django
django.setup()
from django.conf import settings
print(settings.DATABASES["default"]["ENGINE"])
print(settings.MEDIA_ROOT)
PY
)
[ "${conf[0]}" = "django.db.backends.postgresql" ] && [ -n "${DATABASE_URL:-}" ] ||
  die "make restore needs DATABASE_URL on PostgreSQL."
media="${conf[1]}"

log "Restoring the database (one transaction: all or nothing)"
# The schema is dropped and recreated in the restore's own transaction rather than with
# pg_restore --clean: --clean drops each object one by one, and PostgreSQL refuses to drop
# a monthly partition's inherited primary key (oversight_breach and delivery_servicedelivery
# are partitioned).
{
  echo "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;"
  "${PG_BIN}pg_restore" --no-owner --no-privileges --file - "$backup/database.dump"
} | "${PG_BIN}psql" --quiet --no-psqlrc --set ON_ERROR_STOP=1 --single-transaction \
  --output /dev/null --dbname "$DATABASE_URL"

log "Restoring the media folder ($media)"
media_parent="$(dirname "$media")"
mkdir -p "$media_parent"
incoming="$(mktemp -d "$media_parent/.media-restoring.XXXXXX")"
trap 'rm -rf "$incoming"' EXIT
tar -C "$incoming" -xzf "$backup/media.tar.gz"
chmod 755 "$incoming"
if [ -e "$media" ]; then
  mv "$media" "$media.before-restore-$(date -u +%Y%m%dT%H%M%SZ)"
fi
mv "$incoming" "$media"
trap - EXIT
log "Restored $backup"
