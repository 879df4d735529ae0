#!/usr/bin/env bash
# `make backup [BACKUP_DIR=...]`: a consistent copy of the database (pg_dump, custom format)
# and of the media folder (uploaded logos and attachments), with their checksums, in
# BACKUP_DIR/maklumat-<UTC time>/ (default var/backups). Reads DATABASE_URL and MEDIA_ROOT
# the way the app does (config/settings.py). Restore with `make restore BACKUP=<that dir>`.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

PG_BIN="${MAKLUMAT_PG_BIN:+$MAKLUMAT_PG_BIN/}"
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-config.settings}"
# The database URL and media folder, as the settings resolve them (one line each).
mapfile -t conf < <("$PY" - <<'PY'
import django
django.setup()
from django.conf import settings
db = settings.DATABASES["default"]
print(db["ENGINE"])
print(settings.MEDIA_ROOT)
PY
)
engine="${conf[0]}"; media="${conf[1]}"
[ "$engine" = "django.db.backends.postgresql" ] ||
  die "make backup needs PostgreSQL (DATABASE_URL); the embedded SQLite file is var/maklumat.sqlite3: stop the app and copy var/."
[ -n "${DATABASE_URL:-}" ] || die "DATABASE_URL is not set."

dest_root="${1:-${BACKUP_DIR:-$ROOT/var/backups}}"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
dest="$dest_root/maklumat-$stamp"
partial="$dest.partial"
mkdir -p "$dest_root"
rm -rf "$partial"
mkdir -m 700 "$partial"
trap 'rm -rf "$partial"' EXIT

log "Dumping the database"
"${PG_BIN}pg_dump" --format=custom --no-owner --no-privileges --file "$partial/database.dump" "$DATABASE_URL"

log "Archiving the media folder ($media)"
if [ -d "$media" ]; then
  tar -C "$media" -czf "$partial/media.tar.gz" .
else
  tar -czf "$partial/media.tar.gz" --files-from /dev/null
fi

( cd "$partial" && sha256sum database.dump media.tar.gz > SHA256SUMS )
# Only a complete backup gets its final name.
mv "$partial" "$dest"
trap - EXIT
log "Backup written to $dest"
echo "$dest"
