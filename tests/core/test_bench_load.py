"""The load test's mix (bench/bench_public.py --mix) and its summary row, on sample figures:
no server, no wrk, no database here."""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = Path(__file__).parent / "bench_samples"


def _module(name: str) -> Any:
    sys.path.insert(0, str(ROOT / "bench"))
    spec = importlib.util.spec_from_file_location(
        f"bench_{name}_load_test", ROOT / "bench" / f"{name}.py"
    )
    assert spec and spec.loader
    module: ModuleType = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


public = _module("bench_public")
summary = _module("summary")


def test_connections_are_shared_out_over_the_pages() -> None:
    assert public.split_connections(50, 10) == [5] * 10
    assert public.split_connections(52, 10) == [6, 6] + [5] * 8
    assert public.split_connections(4, 10) == [1] * 10  # at least one each
    assert sum(public.split_connections(53, 10)) == 53


def test_percentiles_of_a_histogram() -> None:
    histogram = {1000: 98, 5000: 1, 250_000: 1}  # microseconds -> responses
    assert public.percentile_ms(histogram, 50) == 1.0
    assert public.percentile_ms(histogram, 99) == 5.0
    assert public.percentile_ms(histogram, 100) == 250.0
    assert math.isnan(public.percentile_ms({}, 99))


def test_wrk_output_is_read_and_merged(tmp_path: Path) -> None:
    # What MIX_LUA writes: requests, duration (us), errors (connect, read, write, status,
    # timeout), then one "latency count" line per distinct latency.
    (tmp_path / "a.txt").write_text("100 2000000 0 0 0 0 0\n1000 99\n2000 1\n")
    (tmp_path / "b.txt").write_text("10 2000000 0 1 0 2 0\n200000 9\n300000 1\n")
    (tmp_path / "t.txt").write_text("200 2000000 0 0 0 0 0\n500 200\n")
    a = public.read_mix_output(tmp_path / "a.txt")
    b = public.read_mix_output(tmp_path / "b.txt")
    assert (a.requests, a.rps, a.error_count) == (100, 50.0, 0)
    assert b.errors == {"read": 1, "status": 2} and b.error_count == 3
    results = {"trivial": public.read_mix_output(tmp_path / "t.txt"), "service": a, "search": b}
    figures = public.mix_figures(results, {"service"})
    pages, total = figures["pages"], figures["total"]
    assert pages["service"]["ratio"] == 0.5  # 50 vs 100 req/s
    assert pages["service"]["p99_ms"] == 1.0 and pages["search"]["p99_ms"] == 300.0
    assert total["requests"] == 310 and total["errors"] == 3 and total["rps"] == 155.0
    # Percentiles of the mix come from the merged histogram, not averaged per page.
    assert total["p50_ms"] == 0.5 and total["p99_ms"] == 200.0
    assert total["cached_p99_ms"] == 1.0 and total["cached_worst_p99_ms"] == 1.0


def _load_doc(tmp_path: Path, *, p99: float, errors: int, connections: int = 50) -> None:
    doc = json.loads((SAMPLES / "public.json").read_text())
    figures = doc["figures"]
    figures.update(connections=connections, seconds=60, mix_seconds=60, deliveries=1_000_000)
    page = {"requests": 6000, "errors": 0, "rps": 100.0, "ratio": 1.0, "p50_ms": 20.0}
    pages = {
        "trivial": {**page, "p99_ms": 50.0, "cached": False},
        "search": {**page, "p99_ms": 900.0, "errors": errors, "cached": False},
        "service": {**page, "p99_ms": 60.0, "cached": True},
        "league": {**page, "p99_ms": p99, "cached": True},
    }
    total = {
        "requests": 24000,
        "errors": errors,
        "rps": 400.0,
        "p50_ms": 20.0,
        "p99_ms": 800.0,
        "cached_p50_ms": 20.0,
        "cached_p99_ms": 70.0,
        "cached_worst_p99_ms": p99,
    }
    figures["mix"] = {"pages": pages, "total": total}
    (tmp_path / "load.json").write_text(json.dumps(doc))


def _mix_row(tmp_path: Path) -> list[str]:
    out = summary.render(summary.load(tmp_path))
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cells[0].startswith("load test, mix"):
            return cells[1:]
    raise AssertionError(out)


@pytest.mark.parametrize(
    ("p99", "errors", "verdict"), [(95.0, 0, "yes"), (100.0, 0, "NO"), (95.0, 1, "NO")]
)
def test_mix_row_is_judged_on_the_worst_cached_page_and_errors(
    tmp_path: Path, p99: float, errors: int, verdict: str
) -> None:
    _load_doc(tmp_path, p99=p99, errors=errors)
    measured, _target, met = _mix_row(tmp_path)
    assert measured.startswith("4 pages, 50 conn, 60 s, 10,000 services, 1,000,000 requests;")
    assert f"worst: league {p99:.0f} ms" in measured and f"{errors} errors" in measured
    assert met == verdict


def test_a_small_mix_is_not_judged(tmp_path: Path) -> None:
    _load_doc(tmp_path, p99=10.0, errors=0, connections=10)
    measured, _target, met = _mix_row(tmp_path)
    assert "smaller than the target" in measured and met == "n/a"
