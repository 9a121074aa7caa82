"""Instruments the benchmark's daphne (bench/audience.py); not product code.

bench/audience.py puts this directory on the worker's PYTHONPATH only with
``--gc-log``, ``--gc-threshold`` or ``--server-uvloop``.

* ``BENCH_GC_LOG=path``: every collection of generation 1 or 2, and any
  that takes over 2 ms, is written as ``wall_s generation ms collected``;
  every 5 s a line ``summary wall_s n0 n1 n2 ms0 ms1 ms2`` totals them.
* ``BENCH_GC_THRESHOLD=a,b,c``: an experiment, ``gc.set_threshold(a, b, c)``.
* ``BENCH_UVLOOP=1``: an experiment, uvloop's event loop policy, so that
  daphne's Twisted asyncio reactor runs on uvloop.
"""

import gc
import os
import time

if os.environ.get("BENCH_UVLOOP"):
    import asyncio

    import uvloop

    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())

_threshold = os.environ.get("BENCH_GC_THRESHOLD")
if _threshold:
    gc.set_threshold(*(int(part) for part in _threshold.split(",")))

_path = os.environ.get("BENCH_GC_LOG")
if _path:
    _log = open(_path, "a", buffering=1)  # noqa: SIM115 - lives as long as the process
    _started = [0.0]
    _counts = [0, 0, 0]
    _ms = [0.0, 0.0, 0.0]
    _last_summary = [time.time()]

    def _on_gc(phase, info):
        if phase == "start":
            _started[0] = time.perf_counter()
            return
        ms = (time.perf_counter() - _started[0]) * 1000
        generation = info["generation"]
        _counts[generation] += 1
        _ms[generation] += ms
        now = time.time()
        if generation or ms > 2:
            _log.write(f"{now:.3f} {generation} {ms:.2f} {info['collected']}\n")
        if now - _last_summary[0] >= 5:
            _last_summary[0] = now
            _log.write(
                f"summary {now:.3f} {_counts[0]} {_counts[1]} {_counts[2]} "
                f"{_ms[0]:.1f} {_ms[1]:.1f} {_ms[2]:.1f}\n"
            )

    gc.callbacks.append(_on_gc)
