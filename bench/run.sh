#!/usr/bin/env bash
# Run every benchmark under bench/, then print one summary table (bench/summary.py).
#
#   bash bench/run.sh            # the issues' sizes (long: tens of minutes)
#   bash bench/run.sh --quick    # small sizes: checks the whole chain in a few minutes
#
# Each bench_*.py prints its own figures and writes its headline figures as JSON to
# $BENCH_OUT/<name>.json (default: var/bench/<UTC time>/). A benchmark that fails or
# misses a checked target does not stop the others; the exit status is 1 if any did.
# The full run also runs bench_public at the load test's size (50 connections, 60 s per
# page, then every public page at once for 60 s: --mix) into load.json. Needs a PostgreSQL DATABASE_URL (bench/README.md).
set -uo pipefail
cd "$(dirname "$0")"
quick=0
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    *) echo "usage: bash bench/run.sh [--quick]" >&2; exit 2 ;;
  esac
done
shopt -s nullglob
scripts=(bench_*.py)
if [ ${#scripts[@]} -eq 0 ]; then echo "No benchmark yet."; exit 0; fi
export BENCH_OUT="${BENCH_OUT:-../var/bench/$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$BENCH_OUT"

# Small sizes for --quick (per script; scripts not listed run with their defaults).
declare -A QUICK=(
  [bench_deliveries.py]="--rows 5000"
  [bench_export.py]="--services 300"
  [bench_national.py]="--requests 20000 --base 5000 --changes 2000 --repeat 1"
  [bench_notifications.py]="--messages 300"
  [bench_public.py]="--services 300 --deliveries 3000 --seconds 2 --connections 10 --mix"
  [bench_search.py]="--services 300 1000 --seconds 2 --connections 4 --repeat 3"
  [bench_review_queue.py]="--breaches 5000 --agencies 20 --repeat 1"
  [bench_sweep.py]="--history 20000 --changes 2000"
)

failed=0
run() {
  echo "== $*"
  if ! ../.venv/bin/python "$@"; then
    echo "!! $1 exited non-zero"
    failed=1
  fi
}
for script in "${scripts[@]}"; do
  if [ "$quick" = 1 ]; then
    # shellcheck disable=SC2086
    run "$script" ${QUICK[$script]:-}
  else
    run "$script"
  fi
done
if [ "$quick" = 0 ] && [ -f bench_public.py ]; then
  run bench_public.py --connections 50 --seconds 60 --mix --json "$BENCH_OUT/load.json"
fi

echo
echo "Summary ($BENCH_OUT):"
echo
../.venv/bin/python summary.py "$BENCH_OUT"
exit "$failed"
