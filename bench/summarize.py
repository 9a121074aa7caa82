#!/usr/bin/env python
"""A Markdown table of bench/audience.py results.

.venv/bin/python bench/summarize.py bench/results/listeners-*.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def cell(value, digits: int = 0) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and digits == 0:
        return f"{value:.0f}"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def rows(path: Path) -> list[str]:
    report = json.loads(path.read_text())
    out = []
    for key in ("steady", "with_stalled"):
        w = report.get(key)
        if not w:
            continue
        args = report["args"]
        probes = w.get("probe_joins", {}).get("time_to_2s_audio_ms", {})
        label = f"{args['listeners']}"
        if key == "with_stalled":
            label += f" + {args['stalled']} stalled"
        if args.get("gc_threshold"):
            label += f" (gc {args['gc_threshold']})"
        if args.get("server_uvloop"):
            label += " (uvloop)"
        lat, e2e = w["latency_ms"], w.get("end_to_end_ms", {})
        out.append(
            "| "
            + " | ".join(
                [
                    label,
                    f"{w['connected']}",
                    f"{100 * w['healthy_fraction']:.1f} %",
                    f"{100 * w['realtime_healthy_fraction']:.1f} %"
                    if "realtime_healthy_fraction" in w
                    else "-",
                    cell(w.get("realtime_ratio"), 2),
                    f"{cell(lat['p50'])} / {cell(lat['p99'])} / {cell(lat['max'])}",
                    " / ".join(cell(e2e.get(k)) for k in ("p50", "p99", "max")),
                    f"{cell(probes.get('p50'))} / {cell(probes.get('p99'))}"
                    if probes
                    else "-",
                    f"{w['server_cpu_percent']:.0f} %",
                    f"{w['server_rss_kb'] / 1024:.0f}",
                    cell(w.get("rss_per_listener_kb"), 1),
                    f"{w['generator_cpu_percent']:.0f} %",
                    path.name.rsplit("-", 1)[1].removesuffix(".json"),
                ]
            )
            + " |"
        )
    return out


def main() -> None:
    print(
        "| listeners | connected | healthy | healthy in real time | output x real time "
        "| relay ms p50 / p99 / max | end-to-end ms p50 / p99 / max "
        "| join → 2 s audio ms p50 / p99 | server CPU | RSS MiB | RSS KiB / listener "
        "| generator CPU | run |"
    )
    print("|" + "---|" * 13)
    paths = sorted(
        (Path(p) for p in sys.argv[1:]),
        key=lambda p: json.loads(p.read_text())["args"]["listeners"],
    )
    for path in paths:
        for row in rows(path):
            print(row)


if __name__ == "__main__":
    main()
