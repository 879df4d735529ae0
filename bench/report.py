"""Headline figures of a benchmark, written as JSON for bench/summary.py.

Every bench_*.py takes `--json PATH`; without it, when the environment variable BENCH_OUT
names a directory (bench/run.sh sets it), the figures go to $BENCH_OUT/<name>.json. With
neither, nothing is written. The file holds the benchmark's name, the UTC time, the
machine's load average and core count, the command's arguments and the figures.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Any


def target_path(name: str, explicit: str | None) -> Path | None:
    if explicit:
        return Path(explicit)
    out = os.environ.get("BENCH_OUT")
    return Path(out) / f"{name}.json" if out else None


def save(name: str, explicit: str | None, args: Any, figures: dict[str, Any]) -> Path | None:
    """Write figures (plain JSON values) for `name`; return the path written, if any."""
    path = target_path(name, explicit)
    if path is None:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "benchmark": name,
        "measured_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "loadavg": list(os.getloadavg()),
        "cpus": os.cpu_count(),
        "command": " ".join([f"bench/{Path(sys.argv[0]).name}", *sys.argv[1:]]),
        "args": {k: v for k, v in vars(args).items() if k != "json"},
        "figures": figures,
    }
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")
    print(f"  figures written to {path}")
    return path


def add_argument(parser: Any) -> None:
    parser.add_argument(
        "--json",
        metavar="PATH",
        help="write the headline figures as JSON there (default: $BENCH_OUT/<name>.json if set)",
    )
