#!/usr/bin/env python
"""The delay that transcoding adds to a live source, per input format.

Each format is ``--seconds`` of a beeping tone, encoded by ffmpeg into a
pipe as a live source would encode it, then fed to ``open_ingest`` in
chunks of about ``--chunk-ms`` of audio at real time: a chunk is handed
over at the moment the last audio it completes was played into the
source, as if the source sent each piece as soon as it had encoded it.
Chunks end on packet (Ogg: page) boundaries; ffprobe tells where each
packet's audio ends.

For every chunk that completes more audio, the delay is from handing the
chunk over to the emit that takes the station's output past that audio.
The encoder's output begins with LAME's padding (1105 samples, 25 ms),
so a transcoded chunk's audio is out once the output is that much longer
than it. MP3 in the station's format, passed through, is the baseline.
"stamp lag" is the emit time minus the ``ingest_ms`` the packet carries:
the part of the delay that the relay latency of listeners shows.

    .venv/bin/python bench/transcoding.py --seconds 30 --runs 2

Results are printed and written as JSON to bench/results/.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import platform
import statistics
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
if str(PROJECT) not in sys.path:
    sys.path.insert(0, str(PROJECT))

from stations.streaming.ingest import open_ingest  # noqa: E402
from stations.streaming.packets import (  # noqa: E402
    OUTPUT_CHANNELS,
    OUTPUT_SAMPLE_RATE,
    now_ms,
)

RESULTS = PROJECT / "bench" / "results"
STATION_KBPS = 128
# libmp3lame's padding before the first input sample (576 + 529 samples).
LAME_PADDING_MS = 1105 / OUTPUT_SAMPLE_RATE * 1000
# ffprobe's times have six decimals; frames' durations are summed exactly.
ROUNDING_MS = 0.01
OPUS = ["-c:a", "libopus", "-b:a", "96k", "-ar", "48000"]
# A live Ogg source flushes its pages often; ffmpeg's default is a page a second.
OGG_PAGES = ["-f", "ogg", "-page_duration", "100000"]


@dataclass(frozen=True)
class Case:
    mime: str
    encoding: list[str]  # ffmpeg output options
    transcoded: bool = True


CASES = {
    "mp3-128k-passthrough": Case(
        "audio/mpeg", ["-c:a", "libmp3lame", "-b:a", "128k", "-f", "mp3"], False
    ),
    "mp3-320k": Case("audio/mpeg", ["-c:a", "libmp3lame", "-b:a", "320k", "-f", "mp3"]),
    "aac-adts": Case("audio/aac", ["-c:a", "aac", "-b:a", "128k", "-f", "adts"]),
    "ogg-vorbis": Case("audio/ogg", ["-c:a", "libvorbis", "-b:a", "128k", *OGG_PAGES]),
    "ogg-opus": Case("audio/ogg;codecs=opus", [*OPUS, *OGG_PAGES]),
    "webm-opus": Case("audio/webm;codecs=opus", [*OPUS, "-f", "webm"]),
}


def encode(case: Case, seconds: float) -> bytes:
    """A beeping tone encoded as ``case`` says, written to a pipe."""
    tone = f"sine=frequency=440:beep_factor=4:duration={seconds}"
    return subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", tone,
         "-ac", str(OUTPUT_CHANNELS), "-ar", str(OUTPUT_SAMPLE_RATE),
         *case.encoding, "pipe:1"],
        check=True, capture_output=True,
    ).stdout  # fmt: skip


def packet_ends(data: bytes) -> list[tuple[int, float]]:
    """Where each packet of ``data`` ends (bytes) and its audio ends (ms).

    A packet counts as ended where the next one starts: Ogg is read a page
    at a time, and ffprobe gives each packet its page's position.
    """
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "packet=pts_time,duration_time,pos",
         "-of", "json", "-i", "pipe:0"],
        input=data, check=True, capture_output=True,
    ).stdout  # fmt: skip
    packets = [
        (int(p["pos"]), (float(p["pts_time"]) + float(p["duration_time"])) * 1000)
        for p in json.loads(probe)["packets"]
    ]
    starts = [*sorted({pos for pos, _ in packets}), len(data)]
    following = dict(itertools.pairwise(starts))
    return [(following[pos], audio_end) for pos, audio_end in packets]


def live_chunks(data: bytes, chunk_ms: int) -> list[tuple[bytes, float]]:
    """``data`` cut at packet ends into chunks of at least ``chunk_ms`` of
    audio, each with where the audio it completes ends (ms)."""
    chunks, start, cut_at_ms, audio_end = [], 0, 0.0, 0.0
    for end, packet_audio_end in packet_ends(data):
        audio_end = max(audio_end, packet_audio_end)
        if audio_end - cut_at_ms >= chunk_ms or end == len(data):
            chunks.append((data[start:end], audio_end))
            start, cut_at_ms = end, audio_end
    return chunks


@dataclass
class Run:
    delays_ms: list[float]
    missed: int  # chunks whose audio never came out
    packets_ms: list[float]
    stamp_lag_ms: list[float]  # emit time minus the ingest_ms it carries
    input_ms: float
    output_ms: float


async def feed_live(case: Case, chunks: list[tuple[bytes, float]]) -> Run:
    """Feed ``chunks`` at real time; time when each one's audio comes out."""
    loop = asyncio.get_running_loop()
    emitted: list[tuple[float, float]] = []  # (when, output ms so far)
    packets: list[float] = []
    stamp_lag: list[float] = []

    async def emit(frames: bytes, duration_ms: float, ingest_ms: int) -> None:
        now = loop.time()
        output_ms = (emitted[-1][1] if emitted else 0.0) + duration_ms
        emitted.append((now, output_ms))
        packets.append(duration_ms)
        stamp_lag.append(now_ms() - ingest_ms)

    ingest = await open_ingest(case.mime, bitrate_kbps=STATION_KBPS, emit=emit)
    started = loop.time()
    arrivals = []
    for chunk, audio_end in chunks:
        await asyncio.sleep(started + audio_end / 1000 - loop.time())
        arrivals.append(loop.time())
        await ingest.feed(chunk)
    await ingest.aclose()

    padding = LAME_PADDING_MS if case.transcoded else 0.0
    delays, missed, previous_end = [], 0, 0.0
    # The last chunk's audio comes out when the input ends, not live.
    for arrival, (_, audio_end) in zip(arrivals[:-1], chunks[:-1], strict=True):
        if audio_end <= previous_end:
            continue  # only container bytes, or the rest of a page
        previous_end = audio_end
        covered = audio_end + padding - ROUNDING_MS
        out = next((when for when, ms in emitted if ms >= covered), None)
        if out is None:
            missed += 1
        else:
            delays.append((out - arrival) * 1000)
    return Run(
        delays, missed, packets, stamp_lag, chunks[-1][1], emitted[-1][1] - padding
    )


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def summary(runs: list[Run]) -> dict:
    delays = [delay for run in runs for delay in run.delays_ms]
    packets = [ms for run in runs for ms in run.packets_ms[:-1]]
    lag = [ms for run in runs for ms in run.stamp_lag_ms]
    return {
        "chunks_measured": len(delays),
        "chunks_missed": sum(run.missed for run in runs),
        "delay_ms_p50": round(percentile(delays, 0.5), 1),
        "delay_ms_p99": round(percentile(delays, 0.99), 1),
        "delay_ms_max": round(max(delays), 1),
        "packet_ms_mean": round(statistics.fmean(packets), 1),
        "packet_ms_min": round(min(packets), 1),
        "stamp_lag_ms_p50": round(percentile(lag, 0.5), 1),
        "output_over_input": round(
            sum(run.output_ms for run in runs) / sum(run.input_ms for run in runs), 3
        ),
    }


def print_table(results: dict[str, dict]) -> None:
    columns = [
        ("format", 22), ("p50 ms", 8), ("p99 ms", 8), ("max ms", 8),
        ("chunks", 7), ("missed", 7), ("packet ms", 10), ("min pkt", 8),
        ("stamp lag", 10), ("out/in", 7),
    ]  # fmt: skip
    print("".join(name.ljust(width) for name, width in columns))
    for name, result in results.items():
        cells = [
            name,
            result["delay_ms_p50"],
            result["delay_ms_p99"],
            result["delay_ms_max"],
            result["chunks_measured"],
            result["chunks_missed"],
            result["packet_ms_mean"],
            result["packet_ms_min"],
            result["stamp_lag_ms_p50"],
            result["output_over_input"],
        ]
        print(
            "".join(
                str(cell).ljust(width)
                for cell, (_, width) in zip(cells, columns, strict=True)
            )
        )


def product_commit() -> str:
    """The checked-out commit, marked dirty if the product code has changes."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(PROJECT), *args], capture_output=True, text=True
        ).stdout.strip()

    dirty = git("status", "--porcelain", "--", "stations")
    return git("rev-parse", "--short", "HEAD") + ("-dirty" if dirty else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--chunk-ms", type=int, default=100)
    parser.add_argument(
        "--formats", nargs="+", choices=list(CASES), default=list(CASES)
    )
    args = parser.parse_args()
    results = {}
    for name in args.formats:
        case = CASES[name]
        chunks = live_chunks(encode(case, args.seconds), args.chunk_ms)
        runs = [asyncio.run(feed_live(case, chunks)) for _ in range(args.runs)]
        results[name] = summary(runs)
    report = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.node()} ({os.cpu_count()} CPUs, {platform.machine()})",
        "product": product_commit(),
        "ffmpeg": subprocess.run(
            ["ffmpeg", "-version"], capture_output=True, text=True
        ).stdout.split("\n")[0],
        "result": results,
    }
    for key in ("command", "date", "machine", "product", "ffmpeg"):
        print(f"{key}: {report[key]}")
    print_table(results)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    (RESULTS / f"transcoding-{stamp}.json").write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
