#!/usr/bin/env python
"""Summarise a py-spy ``--format raw`` profile (collapsed stacks).

    .venv/bin/python bench/profile_summary.py bench/results/<run>.txt [--top 25]
        [--focus daphne.server:handle_reply ...]

Prints where the samples are: the functions with the most *self* samples,
and the functions with the most *inclusive* samples (on the stack at all),
as shares of all non-idle samples. A frame is shown as ``module:function``
(file name without directory and ``.py``).
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def frame_name(frame: str) -> str:
    match = FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    path = match["file"]
    module = Path(path).name.removesuffix(".py")
    for marker in ("site-packages/", "/work/main/"):
        if marker in path:
            module = path.split(marker, 1)[1].removesuffix(".py").replace("/", ".")
            break
    return f"{module}:{match['func']}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument(
        "--focus",
        nargs="*",
        default=[],
        help="also show every function whose name contains this",
    )
    parser.add_argument(
        "--only",
        default=None,
        help="keep only stacks with a frame containing this, e.g. "
        "'Server.run' for daphne's main thread",
    )
    parser.add_argument(
        "--idle",
        nargs="*",
        default=["epoll_wait", "pthread_cond_timedwait"],
        help="leaf frames counted as idle and left out (--native)",
    )
    args = parser.parse_args()

    self_samples: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    idle_samples = 0
    for line in args.profile.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        samples = int(count)
        if args.only and args.only not in stack:
            continue
        frames = [frame_name(f) for f in stack.split(";")]
        if not frames or any(idle in frames[-1] for idle in args.idle):
            idle_samples += samples
            continue
        total += samples
        self_samples[frames[-1]] += samples
        for name in set(frames):
            inclusive[name] += samples

    print(f"{total} busy samples ({idle_samples} idle left out)")
    if not total:
        return
    print(f"\ntop {args.top} by self time")
    for name, samples in self_samples.most_common(args.top):
        print(f"{100 * samples / total:6.1f} %  {name}")
    print(f"\ntop {args.top} by inclusive time")
    for name, samples in inclusive.most_common(args.top):
        print(f"{100 * samples / total:6.1f} %  {name}")
    for focus in args.focus:
        hits = {n: c for n, c in inclusive.items() if focus in n}
        for name, samples in sorted(hits.items(), key=lambda kv: -kv[1]):
            print(f"focus {100 * samples / total:6.1f} %  {name}")


if __name__ == "__main__":
    main()
