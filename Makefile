.PHONY: run test lint fmt bench messages

# Set up and run the whole app (web, worker, beat) on SQLite with demo data.
run:
	bash scripts/run.sh

# Set up and pass every check and test on real PostgreSQL, Redis and Chromium.
test:
	bash scripts/test.sh

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && MAKLUMAT_TESTING=1 .venv/bin/mypy .

fmt:
	.venv/bin/ruff check --fix . && .venv/bin/ruff format .

messages:
	DEBUG=1 .venv/bin/python manage.py makemessages -l id --ignore=.venv --ignore=var --no-location

bench:
	bash bench/run.sh
