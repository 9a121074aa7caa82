"""The AutoDJ in real daphne processes: playout, DJ takeover, failover."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

from stations.streaming.bus import LEASE_TTL_S
from stations.streaming.packets import now_ms
from tests.live.conftest import STATION
from tests.live.test_broadcast import go_live, join
from tests.support.audio import (
    decoded_mono,
    frames_duration_ms,
    longest_silence_ms,
    make_tone,
    tone_order,
)
from tests.support.clients import Timeline, gap_ms, record, stream_file

pytestmark = pytest.mark.live

TONES = [440, 660, 990]
TRACK_SECONDS = 4
# The stations' default.
CROSSFADE_MS = 2000
# Each way, a DJ taking over or leaving may leave this much silence at most.
MAX_SWITCH_GAP_MS = 1000
TITLES = ["Alpha", "beta", "gamma tone"]


def make_library(folder: Path) -> list[Path]:
    """Three tones: an MP3 with tags, a WAV and an Ogg/Vorbis without."""
    alpha = folder / "alpha.mp3"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-y", "-f", "lavfi",
         "-i", f"sine=frequency={TONES[0]}:duration={TRACK_SECONDS}",
         "-ac", "2", "-ar", "44100", "-b:a", "128k",
         "-metadata", "title=Alpha", "-metadata", "artist=The Testers", str(alpha)],
        check=True,
    )  # fmt: skip
    beta = make_tone(
        folder / "beta.wav",
        seconds=TRACK_SECONDS,
        frequency=TONES[1],
        codec="pcm_s16le",
    )
    gamma = make_tone(
        folder / "gamma_tone.ogg",
        seconds=TRACK_SECONDS,
        frequency=TONES[2],
        codec="libvorbis",
    )
    return [alpha, beta, gamma]


async def wait_for_autodj(worker, *, timeout: float = 15.0):
    """Join the station once the AutoDJ plays it; return the socket."""
    async with asyncio.timeout(timeout):
        while True:
            socket, hello = await join(worker)
            if hello["source"] == "autodj":
                return socket
            await socket.close()
            await asyncio.sleep(0.2)


@pytest.fixture(scope="module")
def autodj_server(sqlite_deployment, tmp_path_factory):
    tracks = make_library(tmp_path_factory.mktemp("library"))
    sqlite_deployment.manage("addtrack", STATION, *map(str, tracks))
    return sqlite_deployment.start_worker()


async def test_the_autodj_plays_the_library_in_order_without_gaps(autodj_server):
    socket = await wait_for_autodj(autodj_server)
    started = time.monotonic()
    timeline = await record(socket, Timeline(), seconds=11)
    await socket.close()

    audio = timeline.audio()
    seqs = [seq for _, seq, _ in audio]
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    mp3 = b"".join(frames for _, _, frames in audio)
    # Past the burst, audio arrives as fast as it plays.
    burst_end = next(i for i, (t, _, _) in enumerate(audio) if t - audio[0][0] > 300)
    live = audio[burst_end:]
    live_ms = sum(frames_duration_ms(frames) for _, _, frames in live[1:])
    assert live_ms == pytest.approx(live[-1][0] - live[0][0], rel=0.05)
    assert time.monotonic() - started < 13

    samples = decoded_mono(mp3)
    assert longest_silence_ms(samples[4410:]) < 20
    order = tone_order(samples, TONES)
    assert len(order) >= 3
    first = TONES.index(order[0])
    assert order == [TONES[(first + i) % 3] for i in range(len(order))]

    # Each title is announced where its track is first heard.
    positions_ms = {}
    elapsed = 0.0
    for _, seq, frames in audio:
        positions_ms[seq] = elapsed
        elapsed += frames_duration_ms(frames)
    tone_at = tone_windows(samples)
    for _, message in timeline.messages("now_playing"):
        assert message["source"] == "autodj"
        title = message["title"]
        tone = TONES[TITLES.index(title)]
        mark = positions_ms[message["seq"]]
        heard = [at for at, found in tone_at if found == tone and at >= mark - 150]
        assert heard, f"{title} announced but not heard"
        assert heard[0] <= mark + CROSSFADE_MS + 200
        if mark > 300:
            # Not heard before its announcement.
            assert not [
                at
                for at, found in tone_at
                if found == tone and mark - 1500 < at < mark - 150
            ]
    artists = {m["title"]: m["artist"] for _, m in timeline.messages("now_playing")}
    assert artists.get("Alpha", "The Testers") == "The Testers"
    assert artists.get("beta", "") == ""


def tone_windows(samples, window_ms: int = 100) -> list[tuple[float, int]]:
    """(position in ms, tone) of each window that is clearly one of TONES."""
    found = []
    size = 44100 * window_ms // 1000
    for index, start in enumerate(range(0, len(samples) - size + 1, size)):
        order = tone_order(samples[start : start + size], TONES, window_ms=window_ms)
        if order:
            found.append((index * window_ms, order[0]))
    return found


async def test_a_dj_takes_over_and_the_autodj_comes_back(autodj_server, tone_mp3):
    listener = await wait_for_autodj(autodj_server)
    timeline = Timeline()
    recording = asyncio.create_task(record(listener, timeline, seconds=14))
    await asyncio.sleep(1.5)

    dj = await go_live(autodj_server, "audio/mpeg")
    await stream_file(dj, tone_mp3[: 16000 * 3], bitrate_kbps=128)
    await dj.send(json.dumps({"type": "stop"}))
    await asyncio.sleep(2.5)

    dropped = await go_live(autodj_server, "audio/mpeg")
    await stream_file(dropped, tone_mp3[: 16000 * 2], bitrate_kbps=128)
    dropped.transport.abort()
    await recording
    await listener.close()

    took_over = timeline.index("on_air", on_air=True, source="live")
    left = timeline.index("on_air", on_air=False)
    back = timeline.index("on_air", after=left, source="autodj")
    live_again = timeline.index("on_air", after=back, source="live")
    back_again = timeline.index("on_air", after=live_again, source="autodj")
    autodj_before = timeline.between(0, took_over)
    dj_audio = timeline.between(took_over, left)
    autodj_after = timeline.between(back, live_again)
    dropped_dj_audio = timeline.between(live_again, back_again)
    autodj_again = timeline.between(back_again, len(timeline.items))
    assert dj_audio and dropped_dj_audio, "the DJ was not heard"
    assert gap_ms(autodj_before, dj_audio) < MAX_SWITCH_GAP_MS
    assert gap_ms(dj_audio, autodj_after) < MAX_SWITCH_GAP_MS
    assert timeline.items[back][0] - timeline.items[left][0] < MAX_SWITCH_GAP_MS
    # A DJ whose connection drops is followed by the AutoDJ at once too.
    assert gap_ms(dropped_dj_audio, autodj_again) < MAX_SWITCH_GAP_MS


@pytest.mark.redis
@pytest.mark.postgres
async def test_one_playout_across_workers_and_another_takes_over(
    shared_deployment, tmp_path_factory
):
    tracks = make_library(tmp_path_factory.mktemp("shared-library"))
    shared_deployment.manage("addtrack", STATION, *map(str, tracks))
    workers = [shared_deployment.start_worker(), shared_deployment.start_worker()]
    socket = await wait_for_autodj(workers[0])
    await record(socket, Timeline(), seconds=1)
    await socket.close()

    encoders = [worker.children("ffmpeg") for worker in workers]
    playing = [worker for worker, found in zip(workers, encoders, strict=True) if found]
    assert len(playing) == 1, f"ffmpeg children per worker: {encoders}"
    [player] = playing
    [survivor] = [worker for worker in workers if worker is not player]
    orphans = player.children("ffmpeg")

    listener, _ = await join(survivor)
    timeline = Timeline()
    recording = asyncio.create_task(record(listener, timeline, seconds=LEASE_TTL_S + 5))
    await asyncio.sleep(0.5)
    player.process.send_signal(signal.SIGKILL)
    player.process.wait()
    killed_at = now_ms()
    await recording
    await listener.close()

    after = [(t, seq) for t, seq, _ in timeline.audio() if t > killed_at + 500]
    assert after, "nobody took the playout over"
    assert after[0][0] - killed_at < (LEASE_TTL_S + 2) * 1000
    assert survivor.children("ffmpeg")
    seqs = [seq for _, seq, _ in timeline.audio()]
    assert seqs == sorted(seqs)
    # The dead worker's ffmpeg processes end by themselves: their pipes closed.
    assert not [pid for pid in orphans if running(pid)]


def running(pid: int) -> bool:
    """Whether ``pid`` runs (an ended, unreaped child is a zombie: "Z")."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
