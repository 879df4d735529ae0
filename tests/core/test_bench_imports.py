"""Every benchmark under bench/ loads: they share SQL generators and helpers (bench_national
rewrites bench_review_queue's and bench_sweep's generators with `str.replace` and asserts the
result), so a change to one can break another that no test runs."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"
SCRIPTS = sorted(path.stem for path in BENCH.glob("*.py"))


@pytest.mark.parametrize("name", SCRIPTS)
def test_the_benchmark_loads(name, monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))
    for loaded in [key for key in sys.modules if key.startswith("bench_") or key == name]:
        monkeypatch.delitem(sys.modules, loaded)
    module = importlib.import_module(name)
    assert module.__file__ == str(BENCH / f"{name}.py")


def test_every_benchmark_is_checked():
    assert {"bench_national", "bench_review_queue", "bench_public", "summary"} <= set(SCRIPTS)
