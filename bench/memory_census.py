"""Where a worker's memory per listener goes, from two tracemalloc snapshots.

``bench/audience.py --memory-census`` has the worker (``bench/server_hooks``,
``BENCH_TRACEMALLOC``) start tracing and take a snapshot before the
listeners connect and another at the end of the steady window; this module
compares them. Allocations are put down to the code that made them (the
innermost frame): a package of site-packages, a module of the standard
library, or this project's own code by app.
"""

from __future__ import annotations

import os
import signal
import sys
import time
import tracemalloc
from collections import defaultdict
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
SNAPSHOT_TIMEOUT_S = 120.0
TOP_LINES = 15


class Census:
    """Drives the worker's tracemalloc hook: start, then one snapshot a call."""

    def __init__(self, pid: int, path: Path) -> None:
        self.pid = pid
        self.path = path
        self.taken = 0
        os.kill(pid, signal.SIGUSR2)

    def snapshot(self) -> Path:
        """Have the worker dump a snapshot; its file once it is whole."""
        self.taken += 1
        dump = Path(f"{self.path}.{self.taken}")
        os.kill(self.pid, signal.SIGUSR2)
        deadline = time.monotonic() + SNAPSHOT_TIMEOUT_S
        size = -1
        while time.monotonic() < deadline:
            if dump.exists() and dump.stat().st_size == size and size > 0:
                return dump
            size = dump.stat().st_size if dump.exists() else -1
            time.sleep(0.5)
        raise TimeoutError(f"no snapshot at {dump}")


def owner(filename: str) -> str:
    """Who made an allocation in ``filename``."""
    path = Path(filename)
    if "site-packages" in path.parts:
        return path.parts[path.parts.index("site-packages") + 1]
    if path.is_relative_to(PROJECT):
        return "radio: " + path.relative_to(PROJECT).parts[0]
    if path.is_relative_to(Path(sys.base_prefix)) or filename.startswith("<"):
        return "stdlib: " + path.stem
    return filename


def per_listener(before: Path, after: Path, listeners: int) -> dict:
    """Bytes per listener that each owner added, and the top lines."""
    old = tracemalloc.Snapshot.load(str(before))
    new = tracemalloc.Snapshot.load(str(after))
    by_owner: dict[str, int] = defaultdict(int)
    for stat in new.compare_to(old, "filename"):
        by_owner[owner(stat.traceback[0].filename)] += stat.size_diff
    lines = new.compare_to(old, "lineno")[:TOP_LINES]
    total = sum(by_owner.values())
    return {
        "listeners": listeners,
        "traced_bytes_per_listener": round(total / listeners),
        "by_owner_bytes_per_listener": {
            name: round(size / listeners)
            for name, size in sorted(by_owner.items(), key=lambda item: -item[1])
            if abs(size) >= listeners * 16
        },
        "top_lines_bytes_per_listener": [
            {
                "where": f"{stat.traceback[0].filename}:{stat.traceback[0].lineno}",
                "bytes": round(stat.size_diff / listeners),
                "blocks": round(stat.count_diff / listeners, 2),
            }
            for stat in lines
        ],
    }
