.PHONY: run test audit lint fmt bench messages backup restore

# Set up and run the whole app (web, worker, beat) on SQLite with demo data.
run:
	bash scripts/run.sh

# Set up and pass every check and test on real PostgreSQL, Redis and Chromium.
test:
	bash scripts/test.sh

# Check the pinned dependencies for known vulnerabilities (needs PyPI's JSON API or OSV;
# not part of `make test`). Extra pip-audit arguments: make audit AUDIT_ARGS="--ignore-vuln ID".
audit:
	bash scripts/audit.sh $(AUDIT_ARGS)

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && MAKLUMAT_TESTING=1 .venv/bin/mypy . && .venv/bin/lint-imports

fmt:
	.venv/bin/ruff check --fix . && .venv/bin/ruff format .

messages:
	DEBUG=1 .venv/bin/python manage.py makemessages -l id --ignore=.venv --ignore=var --no-location

# make bench BENCH_ARGS=--quick: small sizes (bench/run.sh).
bench:
	bash bench/run.sh $(BENCH_ARGS)

# Database (pg_dump) and media to BACKUP_DIR (default var/backups); docs/operations.md.
backup:
	bash scripts/backup.sh $(BACKUP_DIR)

# Put a backup back: make restore BACKUP=var/backups/maklumat-<time> RESTORE_CONFIRM=yes
restore:
	bash scripts/restore.sh $(BACKUP)
