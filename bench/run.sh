#!/usr/bin/env bash
# Run every benchmark under bench/ (each prints its own ratios).
set -euo pipefail
cd "$(dirname "$0")"
shopt -s nullglob
scripts=(bench_*.py)
if [ ${#scripts[@]} -eq 0 ]; then echo "No benchmark yet."; exit 0; fi
for script in "${scripts[@]}"; do ../.venv/bin/python "$script"; done
