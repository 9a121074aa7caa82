"""How fast the listener page starts playing, and how close to live it stays.

Starts a real installation (daphne, a temporary SQLite database), puts a DJ
on air with the Python client (an ffmpeg-made 128 kbit/s MP3 sent at real
time in 100 ms chunks), then, --runs times, opens the listener page in
headless Chromium (/usr/bin/chromium), clicks Play and measures:

- first sound: from the click to the audio element's ``playing`` event, and
  to ``currentTime > 0`` (polled every animation frame);
- behind live: ``Date.now() - ingest_ms`` of the packet playing (server and
  browser share the clock here), sampled every 250 ms for --seconds;
- ahead: ``buffered.end - currentTime``, sampled alongside.

    .venv/bin/python bench/browser_listener.py --runs 10 --seconds 8
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
if str(PROJECT) not in sys.path:
    sys.path.insert(0, str(PROJECT))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.browser.conftest import DESKTOP, DJ, STATION, launch, populate  # noqa: E402
from tests.browser.dj import PythonDj, make_show  # noqa: E402
from tests.support.servers import Deployment  # noqa: E402

SAMPLE_EVERY_MS = 250

ARM = """() => {
  const audio = document.getElementById("audio");
  const marks = (globalThis.marks = {});
  const mark = (name) => () => { marks[name] = performance.now(); };
  const once = { capture: true, once: true };
  document.getElementById("play").addEventListener("click", mark("click"), once);
  audio.addEventListener("playing", mark("playing"), once);
  const poll = () => {
    if (audio.currentTime > 0) marks.sound = performance.now();
    else requestAnimationFrame(poll);
  };
  requestAnimationFrame(poll);
}"""

SAMPLE = """async ([forMs, everyMs]) => {
  const audio = document.getElementById("audio");
  const player = globalThis.radio.player;
  const samples = [];
  const end = performance.now() + forMs;
  while (performance.now() < end) {
    const packet = player.packetAt(audio.currentTime);
    const b = audio.buffered;
    samples.push({
      behindMs: packet ? Date.now() - packet.ingestMs : null,
      aheadS: b.length ? b.end(b.length - 1) - audio.currentTime : null,
    });
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return samples;
}"""


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def summary(name: str, values: list[float], unit: str) -> str:
    return (
        f"{name:<34} n={len(values):<4} p50={percentile(values, 0.5):8.1f} {unit}"
        f"  p90={percentile(values, 0.9):8.1f} {unit}  max={max(values):8.1f} {unit}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=8.0, help="sampled per run")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="radio-bench-"))
    deployment = Deployment.create(
        database_url=f"sqlite:///{root / 'radio.sqlite3'}",
        STATIC_ROOT=str(root / "static"),
    )
    deployment.manage("collectstatic", "--noinput")
    populate(deployment)
    server = deployment.start_worker()
    dj = PythonDj(server, DJ, STATION, make_show(root / "show.mp3"))
    first_playing, first_sound, behind, ahead, run_behind = [], [], [], [], []
    try:
        dj.go_live()
        with sync_playwright() as playwright:
            browser = launch(playwright)
            for run in range(args.runs):
                context = browser.new_context(
                    viewport=DESKTOP, base_url=server.http_url
                )
                page = context.new_page()
                page.goto(f"/stations/{STATION}/")
                page.wait_for_selector("#on-air[data-on-air=true]")
                page.evaluate(ARM)
                page.click("#play")
                page.wait_for_function("globalThis.marks.sound !== undefined")
                page.wait_for_function("globalThis.marks.playing !== undefined")
                marks = page.evaluate("globalThis.marks")
                first_playing.append(marks["playing"] - marks["click"])
                first_sound.append(marks["sound"] - marks["click"])
                samples = page.evaluate(
                    SAMPLE, [int(args.seconds * 1000), SAMPLE_EVERY_MS]
                )
                run_samples = [s["behindMs"] for s in samples if s["behindMs"]]
                behind += run_samples
                ahead += [s["aheadS"] for s in samples if s["aheadS"] is not None]
                run_behind.append(statistics.median(run_samples))
                error = page.evaluate("document.getElementById('audio').error")
                assert error is None, error
                print(
                    f"run {run + 1}: first sound {first_sound[-1]:.0f} ms, "
                    f"behind live median {run_behind[-1]:.0f} ms",
                    flush=True,
                )
                context.close()
            version = browser.version
            browser.close()
    finally:
        dj.close()
        deployment.stop()
    print()
    print(
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, Chromium {version}, "
        f"{os.cpu_count()} CPUs, {platform.platform()}"
    )
    print(summary("click -> 'playing' event", first_playing, "ms"))
    print(summary("click -> currentTime > 0", first_sound, "ms"))
    print(summary("behind live (all samples)", behind, "ms"))
    print(summary("behind live (median per run)", run_behind, "ms"))
    print(summary("buffered.end - currentTime", [a * 1000 for a in ahead], "ms"))


if __name__ == "__main__":
    main()
