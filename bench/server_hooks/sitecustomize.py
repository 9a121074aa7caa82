"""Instruments the benchmark's daphne (bench/audience.py); not product code.

bench/audience.py puts this directory on the worker's PYTHONPATH only with
``--gc-log``, ``--gc-threshold`` or ``--server-uvloop``.

* ``BENCH_GC_LOG=path``: every collection of generation 1 or 2, and any
  that takes over 2 ms, is written as ``wall_s generation ms collected``;
  every 5 s a line ``summary wall_s n0 n1 n2 ms0 ms1 ms2`` totals them.
  Without ``BENCH_GARBAGE``, SIGUSR1 runs a full collection, so that the
  log shows how long one takes with the listeners of the moment.
* ``BENCH_GC_THRESHOLD=a,b,c``: an experiment, ``gc.set_threshold(a, b, c)``,
  kept over the worker's own (``radio.collector``).
* ``BENCH_UVLOOP=1``: an experiment, uvloop's event loop policy, so that
  daphne's Twisted asyncio reactor runs on uvloop.
* ``BENCH_TRACEMALLOC=path`` (passed on from the bench's environment): the
  first SIGUSR2 starts tracemalloc, each later one dumps a snapshot to
  ``path.1``, ``path.2``... (compare them with ``Snapshot.compare_to``).
* ``BENCH_GARBAGE=path`` (likewise): each SIGUSR1 runs a full collection and
  appends what it found unreachable, by type: what only the cycle collector
  frees.
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
    gc.set_threshold = lambda *thresholds: None

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

    if not os.environ.get("BENCH_GARBAGE"):
        import signal

        signal.signal(signal.SIGUSR1, lambda signum, frame: gc.collect())

_snapshots = os.environ.get("BENCH_TRACEMALLOC")
if _snapshots:
    import signal
    import tracemalloc

    _taken = [0]

    def _trace_or_dump(signum, frame):
        if not tracemalloc.is_tracing():
            tracemalloc.start(int(os.environ.get("BENCH_TRACEMALLOC_FRAMES", "8")))
            return
        _taken[0] += 1
        tracemalloc.take_snapshot().dump(f"{_snapshots}.{_taken[0]}")

    signal.signal(signal.SIGUSR2, _trace_or_dump)

_garbage = os.environ.get("BENCH_GARBAGE")
if _garbage:
    import collections
    import signal

    def _count_garbage(signum, frame):
        """Write what a full collection finds unreachable, by type: the
        objects that only the cycle collector frees."""
        gc.set_debug(gc.DEBUG_SAVEALL)
        try:
            gc.collect()
            kinds = collections.Counter(_kind(o) for o in gc.garbage)
            with open(_garbage, "a") as out:
                out.write(f"{time.time():.0f} unreachable {len(gc.garbage)}\n")
                for kind, count in kinds.most_common(60):
                    out.write(f"  {count:7d} {kind}\n")
                _write_cycles(gc.garbage, out)
        finally:
            gc.garbage.clear()
            gc.set_debug(0)

    def _kind(thing) -> str:
        if callable(thing) and hasattr(thing, "__qualname__"):
            name = f"{getattr(thing, '__module__', '?')}.{thing.__qualname__}"
            return f"{type(thing).__qualname__} {name}"
        return f"{type(thing).__module__}.{type(thing).__qualname__}"

    def _write_cycles(garbage, out, *, shown=6):
        """The strongly connected parts of the unreachable objects (the
        cycles themselves, not what they hold), by the kinds in each: the
        commonest first, one example's kinds listed in full."""
        index = {id(o): i for i, o in enumerate(garbage)}
        edges = [
            [index[id(r)] for r in gc.get_referents(o) if id(r) in index]
            for o in garbage
        ]
        parts = _strongly_connected(edges)
        shapes = collections.Counter()
        example = {}
        for part in parts:
            if len(part) == 1 and part[0] not in edges[part[0]]:
                continue
            shape = tuple(
                sorted(
                    collections.Counter(
                        _kind(garbage[i])
                        for i in part
                        if not isinstance(
                            garbage[i], (list, tuple, dict, set, frozenset)
                        )
                    ).items()
                )
            )
            shapes[shape] += 1
            example.setdefault(shape, len(part))
        out.write(f"  cycles: {sum(shapes.values())} strongly connected parts\n")
        for shape, count in shapes.most_common(shown):
            out.write(f"  {count:6d} x ({example[shape]} objects):\n")
            for kind, n in shape:
                out.write(f"           {n:3d} {kind}\n")

    def _strongly_connected(edges):
        """Tarjan's algorithm, iteratively: lists of node numbers."""
        number, low, on_stack, stack, parts = {}, {}, set(), [], []
        counter = 0
        for root in range(len(edges)):
            if root in number:
                continue
            work = [(root, 0)]
            while work:
                node, child = work.pop()
                if child == 0:
                    number[node] = low[node] = counter
                    counter += 1
                    stack.append(node)
                    on_stack.add(node)
                recurse = False
                for position in range(child, len(edges[node])):
                    nxt = edges[node][position]
                    if nxt not in number:
                        work.append((node, position + 1))
                        work.append((nxt, 0))
                        recurse = True
                        break
                    if nxt in on_stack:
                        low[node] = min(low[node], number[nxt])
                if recurse:
                    continue
                if low[node] == number[node]:
                    part = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        part.append(member)
                        if member == node:
                            break
                    parts.append(part)
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
        return parts

    signal.signal(signal.SIGUSR1, _count_garbage)
