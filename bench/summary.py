"""One table of every benchmark's headline figure against its target (issue 17).

    .venv/bin/python bench/summary.py DIR        # DIR holds the <name>.json files

Reads the JSON files the bench_*.py scripts write (bench/report.py; bench/run.sh points
BENCH_OUT at DIR) and prints a Markdown table: benchmark | measured | target | met?. A row
whose file is missing says "not run"; a row whose file lacks the figure says so. Then one
line per file: when, with what command, at what load.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Doc = dict[str, Any]


@dataclass(frozen=True)
class Row:
    benchmark: str
    sources: tuple[str, ...]  # JSON files, the first present one is used
    target: str
    measure: Callable[[Doc], tuple[str, bool | None]]  # figures -> (measured, met)


def _page(doc: Doc, key: str) -> Doc:
    return doc["pages"][key]


def _ratio_row(key: str, floor: float) -> Callable[[Doc], tuple[str, bool | None]]:
    def measure(doc: Doc) -> tuple[str, bool | None]:
        page, base = _page(doc, key), _page(doc, "trivial")
        text = (
            f"{page['ratio']:.3f} ({page['rps']:,.0f} vs {base['rps']:,.0f} req/s; "
            f"p50 {page['p50_ms']:.0f} ms; {doc['services']:,} services)"
        )
        return text, page["ratio"] >= floor

    return measure


def _load(doc: Doc) -> tuple[str, bool | None]:
    pages = {k: v for k, v in doc["pages"].items() if k != "trivial"}
    errors = [f"{k}: {v['errors']}" for k, v in pages.items() if v.get("errors")]
    cached = pages["service"]
    text = (
        f"{doc['connections']} conn, {doc['seconds']} s per page, {doc['services']:,} services; "
        f"{'errors ' + '; '.join(errors) if errors else '0 errors'}; "
        f"service page p50 {cached['p50_ms']:.0f} / p99 {cached['p99_ms']:.0f} ms; "
        f"search p50 {pages['search']['p50_ms']:.0f} / p99 {pages['search']['p99_ms']:.0f} ms"
    )
    if doc["connections"] < 50 or doc["seconds"] < 60:  # too small a run to judge either way
        return text + " (smaller than the target's 50 conn x 60 s)", None
    return text, not errors and cached["p99_ms"] < 100


def _mix(doc: Doc) -> tuple[str, bool | None]:
    """The load test's mix: every public page at once (bench_public --mix)."""
    mix = doc["mix"]
    total, pages = mix["total"], mix["pages"]
    cached = [k for k, v in pages.items() if v.get("cached")]
    worst = max(cached, key=lambda k: pages[k]["p99_ms"])
    text = (
        f"{len(pages)} pages, {doc['connections']} conn, {doc['mix_seconds']} s, "
        f"{doc['services']:,} services, {doc.get('deliveries', 0):,} requests; "
        f"{total['requests']:,} requests, {total['errors']:,} errors, {total['rps']:,.0f} req/s; "
        f"mix p50 {total['p50_ms']:.0f} / p99 {total['p99_ms']:.0f} ms; cached pages p50 "
        f"{total['cached_p50_ms']:.0f} / p99 {total['cached_p99_ms']:.0f} ms (worst: {worst} "
        f"{pages[worst]['p99_ms']:.0f} ms); trivial view p99 {pages['trivial']['p99_ms']:.0f} ms; "
        f"search p50 {pages['search']['p50_ms']:.0f} / p99 {pages['search']['p99_ms']:.0f} ms"
    )
    if doc["connections"] < 50 or doc["mix_seconds"] < 60:
        return text + " (smaller than the target's 50 conn x 60 s)", None
    return text, total["errors"] == 0 and pages[worst]["p99_ms"] < 100


def _at_most(
    key: str, limit: float, detail: Callable[[Doc], str]
) -> Callable[[Doc], tuple[str, bool | None]]:
    def measure(doc: Doc) -> tuple[str, bool | None]:
        value = float(doc[key])
        return f"{value:.2f}x ({detail(doc)})", value <= limit

    return measure


def _search_scale(doc: Doc) -> tuple[str, bool | None]:
    """How much worse the search's ratio to the trivial view is at the largest size."""
    small, large = doc["services"], doc["largest_services"]
    if large == small:
        return f"one size only ({small:,} services)", None
    worse = doc["worse_at_largest"]
    live = f"; live (staff) {worse['search_live']:.2f}x" if "search_live" in worse else ""
    text = f"{worse['search']:.2f}x ({large:,} vs {small:,} services{live})"
    if small > 10_000 or large < 100_000:  # not the sizes the target names
        return text + " (not the target's 10,000 / 100,000)", None
    return text, worse["search"] <= 1.5


def _desk(doc: Doc) -> tuple[str, bool | None]:
    worst = float(doc["worst_ms"])
    text = f"slowest page {worst:.1f} ms ({doc['breaches']:,} breaches, {doc['desk_rows']:,} on the desk)"
    return text, worst < 100


def _export(doc: Doc) -> tuple[str, bool | None]:
    text = (
        f"{doc['ratio']:.2f}x COPY ({doc['rows']:,} rows, {doc['view_s']:.2f} vs "
        f"{doc['copy_s']:.2f} s; Python peak {doc['peak_mib']:.1f} MiB, "
        f"{doc['early_peak_mib']:.1f} MiB after the first tenth)"
    )
    return text, None  # no ratio target; the lines must agree (checked by the benchmark)


def _national(doc: Doc) -> tuple[str, bool | None]:
    ratios = doc["ratios"]
    parts = ", ".join(f"{k} {v:.2f}x" for k, v in ratios.items())
    text = (
        f"{doc['requests']:,} / {doc['base_requests']:,} requests: worst {doc['worst_ratio']:.2f}x "
        f"({parts})"
    )
    return text, doc["sweep_ratio"] <= 1.3 and doc["worst_ratio"] <= 1.5


ROWS = (
    Row(
        "service page (cached) / trivial view (bench_public)",
        ("public",),
        ">= 0.7",
        _ratio_row("service", 0.7),
    ),
    Row(
        "search ?q=ktp / trivial view (bench_search, else bench_public)",
        ("search", "public"),
        ">= 0.25 at 10,000 services",
        _ratio_row("search", 0.25),
    ),
    Row(
        "search ?q=ktp at 100,000 / at 10,000 services (bench_search)",
        ("search",),
        "<= 1.5x worse",
        _search_scale,
    ),
    Row(
        "delivery ingestion / COPY (bench_deliveries a)",
        ("deliveries",),
        "<= 3x",
        _at_most(
            "ingest_ratio",
            3.0,
            lambda d: f"{d['ingest_rows']:,} rows, {d['project_s']:.2f} vs {d['copy_s']:.2f} s",
        ),
    ),
    Row(
        "due-date recompute / plain UPDATE (bench_deliveries b)",
        ("deliveries",),
        "<= 1.3x",
        _at_most(
            "recompute_ratio",
            1.3,
            lambda d: (
                f"{d['recompute_open']:,} open, {d['recompute_s']:.2f} vs "
                f"{d['plain_update_s']:.2f} s"
            ),
        ),
    ),
    Row(
        "load test, public pages (bench_public under load)",
        ("load", "public"),
        "0 errors; p99 < 100 ms cached, 50 conn x 60 s",
        _load,
    ),
    Row(
        "load test, mix of public pages at once (bench_public --mix)",
        ("load", "public"),
        "0 errors; p99 < 100 ms for every cached page, 50 conn x 60 s",
        _mix,
    ),
    Row(
        "outbox drain / plain SMTP loop (bench_notifications)",
        ("notifications",),
        "<= 2x",
        _at_most(
            "ratio",
            2.0,
            lambda d: (
                f"{d['messages']:,} emails, {d['drain_rate']:,.0f} vs {d['loop_rate']:,.0f} msg/s"
            ),
        ),
    ),
    Row(
        "incremental sweep, history H / H/10 (bench_sweep a)",
        ("sweep",),
        "<= 1.3x",
        _at_most(
            "history_ratio",
            1.3,
            lambda d: (
                f"{d['history_big']:,} / {d['history_small']:,}: "
                f"{d['incremental_big_s']:.2f} vs {d['incremental_small_s']:.2f} s"
            ),
        ),
    ),
    Row(
        "incremental sweep / INSERT ... SELECT floor (bench_sweep b)",
        ("sweep",),
        "<= 2x",
        _at_most(
            "floor_ratio",
            2.0,
            lambda d: f"{d['incremental_big_s']:.2f} vs {d['floor_s']:.2f} s",
        ),
    ),
    Row(
        "review desk, slowest page (bench_review_queue)",
        ("review_queue",),
        "< 100 ms",
        _desk,
    ),
    Row(
        "national scale: cost at N requests / at the base B (bench_national)",
        ("national",),
        "flat: sweep <= 1.3x, the rest <= 1.5x",
        _national,
    ),
    Row(
        "services CSV export / COPY (bench_export)",
        ("export",),
        "none set (memory flat)",
        _export,
    ),
)


def _has_nan(value: Any) -> bool:
    if isinstance(value, float):
        return math.isnan(value)
    if isinstance(value, dict):
        return any(_has_nan(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_nan(v) for v in value)
    return False


def load(directory: Path) -> dict[str, Doc]:
    """Every readable <name>.json in directory, by name (a broken file is left out)."""
    docs: dict[str, Doc] = {}
    for path in sorted(directory.glob("*.json")):
        try:
            doc = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(doc, dict) and isinstance(doc.get("figures"), dict):
            docs[path.stem] = doc
    return docs


def rows(docs: dict[str, Doc]) -> list[tuple[str, str, str, str]]:
    out = []
    for row in ROWS:
        source = next((name for name in row.sources if name in docs), None)
        if source is None:
            out.append((row.benchmark, "not run", row.target, "-"))
            continue
        try:
            measured, met = row.measure(docs[source]["figures"])
        except (KeyError, TypeError, ValueError, ZeroDivisionError) as exc:
            out.append((row.benchmark, f"figure missing in {source}.json ({exc})", row.target, "-"))
            continue
        if met and _has_nan(docs[source]["figures"]):
            met = False  # a figure wrk or a timer could not read counts as a miss
        verdict = "n/a" if met is None else ("yes" if met else "NO")
        out.append((row.benchmark, measured, row.target, verdict))
    return out


def render(docs: dict[str, Doc]) -> str:
    header = ("benchmark", "measured", "target", "met?")
    body = rows(docs)
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(4)]

    def line(cells: tuple[str, ...]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    lines = [line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    lines += [line(r) for r in body]
    if docs:
        lines.append("")
        for name, doc in docs.items():
            load_avg = ", ".join(f"{x:.1f}" for x in doc.get("loadavg", []))
            lines.append(
                f"{name}: {doc.get('measured_at', '?')}, {doc.get('cpus', '?')} cores, "
                f"load {load_avg or '?'} at the end; `{doc.get('command', '?')}`"
            )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path, help="where the bench_*.py scripts wrote JSON")
    args = parser.parse_args(argv)
    print(render(load(args.directory)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
