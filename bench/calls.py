"""How long a caller's voice takes to reach the DJ, and the DJ's the caller.

Starts a real installation (daphne, a temporary SQLite database, call-ins
on) and two headless Chromiums (/usr/bin/chromium), each with a fake
microphone that beeps: the DJ's 440 Hz, the caller's 660 Hz, 100 ms every
second. The caller calls from the listener page, the DJ answers on the
console; then, for --seconds, each page notes when each beep starts in its
own microphone and in what it receives from the other side (a Web Audio
ScriptProcessor of 256 samples watching for the level to cross a
threshold, the time read from ``performance.timeOrigin + now()``: both
browsers run on this machine, on one clock).

One-way delay caller -> DJ = when a beep starts in the console's received
stream - when it started in the caller's microphone; DJ -> caller the other
way. It covers the caller's voice processing (echo cancellation, noise
suppression, gain), Opus encoding, the network (loopback here), the jitter
buffer and decoding; not the microphone's or the speakers' own latency.

The server's CPU is read from /proc for --idle-seconds with both pages open
before the call, then during the call: the voice never passes through the
server, so the difference is the signalling and the call's bookkeeping.

    .venv/bin/python bench/calls.py --seconds 60
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
if str(PROJECT) not in sys.path:
    sys.path.insert(0, str(PROJECT))

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from tests.browser.calls_page import (  # noqa: E402
    CALLER_HEARS,
    CALLER_MIC,
    CONSOLE_HEARS,
    CONSOLE_MIC,
)
from tests.browser.conftest import (  # noqa: E402
    DESKTOP,
    DJ,
    FAN,
    STATION,
    launch,
    populate,
    session_cookies,
)
from tests.support.servers import Deployment, collect_static  # noqa: E402

DJ_TONE = 440
CALLER_TONE = 660
BEEP_S = 0.1
BEEP_EVERY_S = 1.0
# A beep's start: the first sample over this (of full scale) after quiet.
THRESHOLD = 0.01
# A beep not heard on the other side within this long is counted as lost.
MAX_DELAY_MS = 1000

# Starts watching a page's two streams; the onsets are collected later.
WATCH = """([local, remote, threshold]) => {
  const context = new AudioContext();
  const onsets = { local: [], remote: [] };
  const watch = (stream, list) => {
    const source = context.createMediaStreamSource(stream);
    const processor = context.createScriptProcessor(256, 1, 1);
    let loud = false;
    let quietBuffers = 0;
    processor.onaudioprocess = (event) => {
      const now = performance.timeOrigin + performance.now();
      const data = event.inputBuffer.getChannelData(0);
      let peak = 0;
      for (let i = 0; i < data.length; i += 1) {
        const size = Math.abs(data[i]);
        if (!loud && size > threshold) {
          loud = true;
          list.push(now - ((data.length - i) / context.sampleRate) * 1000);
        }
        peak = Math.max(peak, size);
      }
      // Quiet for 50 ms: the beep is over.
      quietBuffers = peak < threshold / 2 ? quietBuffers + 1 : 0;
      if (loud && quietBuffers * data.length > context.sampleRate * 0.05) loud = false;
    };
    source.connect(processor);
    processor.connect(context.destination);
  };
  watch(local, onsets.local);
  watch(remote, onsets.remote);
  globalThis.benchOnsets = onsets;
}"""


def beeps(path: Path, frequency: int, seconds: int) -> Path:
    """A mono 48 kHz WAV: BEEP_S of ``frequency`` every BEEP_EVERY_S."""
    gate = f"if(lt(mod(t\\,{BEEP_EVERY_S})\\,{BEEP_S})\\,1\\,0)"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi",
         "-i", f"sine=frequency={frequency}:duration={seconds}",
         "-af", f"volume='{gate}':eval=frame",
         "-ac", "1", "-ar", "48000", "-c:a", "pcm_s16le", str(path)],
        check=True,
    )  # fmt: skip
    return path


def delays(sent: list[float], received: list[float]) -> tuple[list[float], int]:
    """Each sent beep's delay to the first received one after it; and how
    many were not received within MAX_DELAY_MS."""
    found, lost = [], 0
    for start in sent:
        later = [t - start for t in received if 0 <= t - start < MAX_DELAY_MS]
        if later:
            found.append(min(later))
        else:
            lost += 1
    return found, lost


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_share(pid: int, seconds: float) -> float:
    """The process's CPU over the next ``seconds``, as a share of one core."""
    cpu_before, wall_before = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    return (cpu_seconds(pid) - cpu_before) / (time.monotonic() - wall_before)


def connect_call(console, caller) -> None:
    console.get_by_role("button", name="Turn on").click()
    expect(console.get_by_label("Microphone")).to_be_enabled()
    caller.get_by_role("button", name="Call in").click()
    row = console.locator("#calls-list li.call")
    row.get_by_role("button", name=f"Answer: {FAN[0]}").click()
    expect(caller.locator("#call-in")).to_have_attribute("data-link", "connected")
    expect(row).to_have_attribute("data-link", "connected")


def measure(args, workdir: Path) -> dict:
    static_root = workdir / "static"
    collect_static(static_root)
    deployment = Deployment.create(
        database_url=f"sqlite:///{workdir / 'radio.sqlite3'}",
        STATIC_ROOT=str(static_root),
    )
    populate(deployment)
    deployment.take_calls(STATION)
    worker = deployment.start_worker()
    length = args.seconds + 60
    dj_mic = beeps(workdir / "dj.wav", DJ_TONE, length)
    caller_mic = beeps(workdir / "caller.wav", CALLER_TONE, length)
    try:
        with sync_playwright() as playwright:
            dj_browser = launch(
                playwright, f"--use-file-for-fake-audio-capture={dj_mic}"
            )
            caller_browser = launch(
                playwright, f"--use-file-for-fake-audio-capture={caller_mic}"
            )
            pages = {}
            for name, browser, user, path in [
                ("console", dj_browser, DJ, f"/stations/{STATION}/studio/"),
                ("caller", caller_browser, FAN, f"/stations/{STATION}/"),
            ]:
                context = browser.new_context(
                    viewport=DESKTOP,
                    base_url=worker.http_url,
                    permissions=["microphone"],
                )
                context.add_cookies(session_cookies(worker, user))
                pages[name] = context.new_page()
                pages[name].goto(path)
            console, caller = pages["console"], pages["caller"]
            # The same pages open, no call: the worker's own work.
            idle_cpu = cpu_share(worker.process.pid, args.idle_seconds)
            connect_call(console, caller)
            for page, mic, hears in [
                (caller, CALLER_MIC, CALLER_HEARS),
                (console, CONSOLE_MIC, CONSOLE_HEARS),
            ]:
                streams = [page.evaluate_handle(mic), page.evaluate_handle(hears)]
                page.evaluate(WATCH, [*streams, THRESHOLD])
            call_cpu = cpu_share(worker.process.pid, args.seconds)
            at_caller = caller.evaluate("() => globalThis.benchOnsets")
            at_console = console.evaluate("() => globalThis.benchOnsets")
            dj_browser.close()
            caller_browser.close()
    finally:
        deployment.stop()
    to_dj, lost_to_dj = delays(at_caller["local"], at_console["remote"])
    to_caller, lost_to_caller = delays(at_console["local"], at_caller["remote"])
    return {
        "caller_to_dj_ms": to_dj,
        "caller_to_dj_lost": lost_to_dj,
        "dj_to_caller_ms": to_caller,
        "dj_to_caller_lost": lost_to_caller,
        "server_cpu_percent_idle": round(idle_cpu * 100, 2),
        "server_cpu_percent_call": round(call_cpu * 100, 2),
    }


def report(result: dict) -> str:
    lines = []
    for direction, label in [
        ("caller_to_dj", "caller -> DJ"),
        ("dj_to_caller", "DJ -> caller"),
    ]:
        values = result[f"{direction}_ms"]
        lost = result[f"{direction}_lost"]
        if not values:
            lines.append(f"{label:<14} nothing arrived ({lost} beeps lost)")
            continue
        lines.append(
            f"{label:<14} n={len(values):<4} p50={percentile(values, 0.5):6.1f} ms"
            f"  p99={percentile(values, 0.99):6.1f} ms  max={max(values):6.1f} ms"
            f"  mean={statistics.fmean(values):6.1f} ms  lost={lost}"
        )
    lines.append(
        f"server CPU     {result['server_cpu_percent_call']} % of a core during the "
        f"call, {result['server_cpu_percent_idle']} % with the same pages open before"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=60, help="the call's length")
    parser.add_argument(
        "--idle-seconds", type=int, default=30, help="the pages open before the call"
    )
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="radio-calls-bench-") as workdir:
        result = measure(args, Path(workdir))
    print(report(result))
    now = datetime.now(UTC)
    output = (
        args.output or PROJECT / "bench/results" / f"calls-{now:%Y%m%dT%H%M%SZ}.json"
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(
        json.dumps(
            {
                "date": now.isoformat(),
                "command": " ".join(sys.argv),
                "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
                **result,
            },
            indent=2,
        )
    )
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
