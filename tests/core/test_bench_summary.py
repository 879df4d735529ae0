"""bench/summary.py and bench/report.py on sample figures (no benchmark runs here)."""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = Path(__file__).parent / "bench_samples"


def _module(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(
        f"bench_{name}_under_test", ROOT / "bench" / f"{name}.py"
    )
    assert spec and spec.loader
    module: ModuleType = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up
    spec.loader.exec_module(module)
    return module


summary = _module("summary")
report = _module("report")


def _table(directory: Path) -> dict[str, list[str]]:
    out = summary.render(summary.load(directory))
    rows = {}
    for line in out.splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if len(cells) == 4 and line.startswith("| ") and cells[0] != "benchmark":
            rows[cells[0]] = cells[1:]
    return rows


def test_every_row_is_there_with_its_verdict() -> None:
    rows = _table(SAMPLES)
    assert len(rows) == len(summary.ROWS) == 13
    by_start = {k.split(" (")[0]: v for k, v in rows.items()}
    assert by_start["service page"][0].startswith("0.700 (630 vs 900 req/s")
    assert by_start["service page"][2] == "yes"  # 0.7 >= 0.7
    assert by_start["search ?q=ktp / trivial view"][2] == "NO"  # 0.05 < 0.25
    assert by_start["delivery ingestion / COPY"][0].startswith("4.80x (1,000,000 rows")
    assert by_start["delivery ingestion / COPY"][2] == "NO"
    assert by_start["due-date recompute / plain UPDATE"][2] == "yes"
    assert by_start["outbox drain / plain SMTP loop"][0].startswith("5.30x")
    assert by_start["outbox drain / plain SMTP loop"][2] == "NO"
    assert by_start["incremental sweep, history H / H/10"][0].startswith("1.83x (500,000 / 50,000")
    assert by_start["incremental sweep, history H / H/10"][2] == "NO"
    assert by_start["review desk, slowest page"][0].startswith("slowest page 92.0 ms")
    assert by_start["review desk, slowest page"][2] == "yes"
    # No load.json: the load row falls back to the plain public run and says it is smaller.
    load = by_start["load test, public pages"]
    assert "8 conn, 10 s per page" in load[0] and "0 errors" in load[0]
    assert "smaller than the target" in load[0]
    assert load[2] == "n/a"  # p99 95 ms < 100 and no errors, but too small a run to judge
    # No export.json.
    assert by_start["services CSV export / COPY"] == ["not run", "none set (memory flat)", "-"]


def test_missing_directory_content_is_not_run(tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text("{not json")
    rows = _table(tmp_path)
    assert len(rows) == 13
    assert all(v[0] == "not run" and v[2] == "-" for v in rows.values())


def test_errors_nan_and_missing_figures_count_as_misses(tmp_path: Path) -> None:
    public = json.loads((SAMPLES / "public.json").read_text())
    public["figures"]["pages"]["search"]["errors"] = "Non-2xx or 3xx responses: 3"
    public["figures"]["connections"], public["figures"]["seconds"] = 50, 60
    (tmp_path / "load.json").write_text(json.dumps(public))
    public = json.loads((SAMPLES / "public.json").read_text())
    public["figures"]["pages"]["service"]["p50_ms"] = float("nan")
    (tmp_path / "public.json").write_text(json.dumps(public))
    sweep = json.loads((SAMPLES / "sweep.json").read_text())
    del sweep["figures"]["history_ratio"]
    (tmp_path / "sweep.json").write_text(json.dumps(sweep))
    rows = {k.split(" (")[0]: v for k, v in _table(tmp_path).items()}
    load = rows["load test, public pages"]
    assert "search: Non-2xx or 3xx responses: 3" in load[0]
    assert "smaller than" not in load[0]
    assert load[2] == "NO"
    assert rows["service page"][2] == "NO"  # ratio met, but a figure is NaN
    assert rows["incremental sweep, history H / H/10"][0].startswith("figure missing in sweep.json")
    assert rows["incremental sweep, history H / H/10"][2] == "-"
    assert rows["incremental sweep / INSERT ... SELECT floor"][2] == "NO"  # 3.37x


def test_report_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    args = argparse.Namespace(messages=10, json=None)
    monkeypatch.delenv("BENCH_OUT", raising=False)
    assert report.save("notifications", None, args, {"ratio": 1.0}) is None
    monkeypatch.setenv("BENCH_OUT", str(tmp_path / "out"))
    shutil.copy(SAMPLES / "sweep.json", tmp_path)
    figures = {"messages": 10, "drain_rate": 100.0, "loop_rate": 150.0, "ratio": 1.5}
    path = report.save("notifications", None, args, figures)
    assert path == tmp_path / "out" / "notifications.json"
    doc = json.loads(path.read_text())
    assert doc["figures"] == figures and doc["args"] == {"messages": 10} and doc["cpus"]
    assert doc["command"].startswith("bench/")
    explicit = tmp_path / "elsewhere.json"
    assert report.save("notifications", str(explicit), args, figures) == explicit
    rows = {k.split(" (")[0]: v for k, v in _table(tmp_path / "out").items()}
    assert rows["outbox drain / plain SMTP loop"][0] == "1.50x (10 emails, 100 vs 150 msg/s)"
    assert rows["outbox drain / plain SMTP loop"][2] == "yes"
    assert "notifications: " in summary.render(summary.load(tmp_path / "out"))


def test_every_summary_source_is_written_by_a_benchmark() -> None:
    written = set()
    for script in (ROOT / "bench").glob("bench_*.py"):
        written |= set(re.findall(r'report\.save\(\s*"(\w+)"', script.read_text()))
    needed = {name for row in summary.ROWS for name in row.sources} - {"load"}
    assert needed <= written, needed - written
    assert "--json" in (ROOT / "bench" / "run.sh").read_text()  # the load run's own file


@pytest.mark.parametrize(("p99", "verdict"), [(95.0, "yes"), (100.0, "NO")])
def test_full_size_load_run_is_judged_on_p99(tmp_path: Path, p99: float, verdict: str) -> None:
    public = json.loads((SAMPLES / "public.json").read_text())
    public["figures"]["connections"], public["figures"]["seconds"] = 50, 60
    public["figures"]["pages"]["service"]["p99_ms"] = p99
    (tmp_path / "load.json").write_text(json.dumps(public))
    rows = {k.split(" (")[0]: v for k, v in _table(tmp_path).items()}
    load = rows["load test, public pages"]
    assert load[0].startswith("50 conn, 60 s per page, 10,000 services; 0 errors;")
    assert load[2] == verdict
    assert rows["service page"][0] == "not run"  # load.json is not the plain run


def _search_doc(small: int, large: int, ratio_small: float, ratio_large: float) -> dict[str, Any]:
    public = json.loads((SAMPLES / "public.json").read_text())
    pages = public["figures"]["pages"]
    pages["search"]["ratio"] = ratio_small
    public["benchmark"] = "search"
    public["figures"] = {
        "services": small,
        "pages": pages,
        "largest_services": large,
        "worse_at_largest": {
            "search": ratio_small / ratio_large,
            "search_live": 1.25,
        },
    }
    return public


@pytest.mark.parametrize(
    ("small", "large", "ratio_large", "measured", "verdict"),
    [
        (10_000, 100_000, 0.30, "1.33x (100,000 vs 10,000 services; live (staff) 1.25x)", "yes"),
        (10_000, 100_000, 0.20, "2.00x (100,000 vs 10,000 services", "NO"),
        (300, 1_000, 0.20, "2.00x (1,000 vs 300 services", "n/a"),
        (10_000, 10_000, 0.40, "one size only (10,000 services)", "n/a"),
    ],
)
def test_search_rows_read_bench_search_first(
    tmp_path: Path, small: int, large: int, ratio_large: float, measured: str, verdict: str
) -> None:
    shutil.copy(SAMPLES / "public.json", tmp_path)  # search 0.05 there: bench_search wins
    doc = _search_doc(small, large, 0.40, ratio_large)
    (tmp_path / "search.json").write_text(json.dumps(doc))
    rows = {k.split(" (")[0]: v for k, v in _table(tmp_path).items()}
    assert rows["search ?q=ktp / trivial view"][0].startswith("0.400 (")
    assert rows["search ?q=ktp / trivial view"][2] == "yes"  # 0.40 >= 0.25
    scale = rows["search ?q=ktp at 100,000 / at 10,000 services"]
    assert scale[0].startswith(measured), scale
    assert scale[2] == verdict
