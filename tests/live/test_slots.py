"""Slots decide who may go live, on a real daphne: refusals on the console's
socket, over Icecast (real ffmpeg) and Shoutcast; staff and the early window
allowed; a DJ whose slot ends is warned, then taken off air, and the AutoDJ
is back within 1 s."""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed

from tests.live.conftest import DJ, OPERATOR, OTHER_DJ, sqlite_installation
from tests.live.test_broadcast import join
from tests.live.test_security import SETTLE_S, WorkerProbe, get_json
from tests.live.test_sources import put, request, status_of
from tests.support.audio import make_tone
from tests.support.clients import connect, next_message, sign_in, stream_file

pytestmark = pytest.mark.live

STATION = "kept"
SOURCE_PASSWORD = "kept-source-password"
# Short, so that a DJ is taken off air soon after their slot ends.
OVERRUN_MINUTES = 0.02  # 1.2 s
TONE_SECONDS = 20.0
# How long after its slot ends a DJ is off air at the latest, here.
OFF_AIR_WITHIN_S = 15.0
# How long the slot of the tests that run into its end has left once stored:
# long enough for the DJ to sign in and go live on a busy machine.
SLOT_LEFT_S = 5.0
# Looks at a worker's task count that must agree before it counts as settled.
STEADY_LOOKS = 5
# The close code of docs/PROTOCOL.md.
CLOSE_OUTSIDE_SLOT = 4410


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    deployment = sqlite_installation(
        tmp_path_factory, RADIO_SLOT_OVERRUN_MINUTES=str(OVERRUN_MINUTES)
    )
    deployment.manage(
        "createstation", STATION, "--name", "Kept", "--source-password",
        SOURCE_PASSWORD, "--dj", DJ[0], "--dj", OTHER_DJ[0], "--dj", OPERATOR[0],
    )  # fmt: skip
    deployment.shell(
        "from stations.models import Station; "
        f"Station.objects.filter(slug={STATION!r}).update(slots_enforced=True)"
    )
    track = make_tone(
        tmp_path_factory.mktemp("library") / "track.mp3", seconds=4, frequency=660
    )
    deployment.manage("addtrack", STATION, str(track))
    yield deployment
    deployment.stop()


@pytest.fixture(scope="module")
def worker(deployment):
    return deployment.start_worker()


class SlotsProbe(WorkerProbe):
    """The source tests' probe, for this station, whose AutoDJ runs ffmpeg:
    decoders of its track and the encoder of their PCM. Any other ffmpeg
    was left behind."""

    def __init__(self, worker, media_root: Path) -> None:
        super().__init__(worker)
        self.media_root = str(media_root)

    def listeners(self) -> int:
        return get_json(self.worker, f"/stations/{STATION}/status.json")["listeners"]

    def _holds(self, clients: int, listeners: int, tasks: int | None) -> bool:
        status = self.status()
        return (
            sum(hub["clients"] for hub in status["hubs"].values()) == clients
            and self.listeners() == listeners
            and not self.ffmpeg_beside_the_autodj()
        )

    async def keeps_at_most(self, tasks: int) -> bool:
        """Whether the worker's tasks come down to ``tasks`` and stay there
        for a few looks: they dip for a moment while the AutoDJ restarts."""
        deadline = time.monotonic() + SETTLE_S
        steady = 0
        while time.monotonic() < deadline and steady < STEADY_LOOKS:
            steady = steady + 1 if await asyncio.to_thread(self.tasks) <= tasks else 0
            await asyncio.sleep(0.1)
        return steady == STEADY_LOOKS

    def ffmpeg_beside_the_autodj(self) -> list[int]:
        return [
            pid
            for pid in self.worker.children("ffmpeg")
            if not self.autodj_ffmpeg(command_line(pid))
        ]

    def autodj_ffmpeg(self, command: str) -> bool:
        decodes_a_track = self.media_root in command
        encodes_pcm = "-f s16le" in command.split(" -i ")[0]
        return decodes_a_track or encodes_pcm


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")
    except OSError:
        return ""


@pytest.fixture(scope="module")
def probe(worker, deployment):
    return SlotsProbe(worker, deployment.media_root)


@pytest.fixture(scope="module")
def tone(tmp_path_factory):
    return make_tone(
        tmp_path_factory.mktemp("slots") / "tone.mp3", seconds=TONE_SECONDS
    )


def only_slot(deployment, *, starts_at: datetime, minutes: int, host=DJ) -> None:
    """The station's one show: ``host``'s, once at ``starts_at``."""
    store_only_slot(
        deployment, f"datetime.fromisoformat({starts_at.isoformat()!r})", minutes, host
    )


def slot_ending_in(deployment, seconds: float) -> datetime:
    """The DJ's one-minute slot, ending ``seconds`` after it is stored (a busy
    machine takes seconds to start the shell that stores it); its start."""
    started = store_only_slot(
        deployment, f"timezone.now() - timedelta(seconds={60 - seconds})", 1, DJ
    )
    return datetime.fromisoformat(started)


def store_only_slot(deployment, starts_at: str, minutes: int, host) -> str:
    """The station's one show: ``host``'s, once at the Python expression
    ``starts_at``; the start as stored, in ISO format."""
    output = deployment.shell(
        "from datetime import datetime, timedelta; "
        "from django.contrib.auth import get_user_model; "
        "from django.utils import timezone; "
        "from stations.programme.models import Show, Slot; "
        f"Show.objects.filter(station__slug={STATION!r}).delete(); "
        "show = Show.objects.create("
        f"station_id=Station.objects.get(slug={STATION!r}).pk, name='Drive', "
        "slug='drive'); "
        f"show.hosts.add(get_user_model().objects.get(username={host[0]!r})); "
        "slot = Slot.objects.create(show=show, kind='once', "
        f"starts_at={starts_at}, duration_minutes={minutes}); "
        "print(slot.starts_at.isoformat())"
    )
    return output.strip().splitlines()[-1]


async def start(worker, user: tuple[str, str]):
    """A console's broadcast socket of ``user``, ``start`` sent."""
    dj = await connect(
        f"{worker.ws_url}/ws/stations/{STATION}/broadcast/",
        cookie=sign_in(worker.http_url, *user),
    )
    await dj.send(json.dumps({"type": "start", "format": "audio/mpeg"}))
    return dj


async def answer_to_start(dj) -> dict:
    """The first ``live`` or ``error`` after ``start``."""
    async for message in dj:
        reply = json.loads(message)
        if reply["type"] in ("live", "error"):
            return reply
    raise AssertionError("the socket closed without an answer")


async def closed_with(socket) -> int:
    with pytest.raises(ConnectionClosed):
        while True:
            await socket.recv()
    return socket.close_code


async def on_air_from(socket, source: str) -> dict:
    while (message := await next_message(socket, "on_air"))["source"] != source:
        pass
    return message


def now() -> datetime:
    return datetime.now(UTC)


async def test_a_dj_outside_their_slot_is_refused_on_the_console(
    deployment, worker, probe
):
    tomorrow = now() + timedelta(days=1)
    await asyncio.to_thread(only_slot, deployment, starts_at=tomorrow, minutes=60)
    dj = await start(worker, DJ)
    refusal = await answer_to_start(dj)
    assert refusal["code"] == "outside_slot"
    assert "Your next slot (Drive) starts" in refusal["message"]
    assert f"{tomorrow:%a %d %b %Y %H:%M} (UTC)" in refusal["message"]
    assert await closed_with(dj) == CLOSE_OUTSIDE_SLOT
    status = await asyncio.to_thread(
        get_json, worker, f"/stations/{STATION}/status.json"
    )
    assert status["source"] != "live"
    assert await probe.settles_to(clients=0, listeners=0)


async def test_ffmpeg_outside_the_slot_gets_403_with_the_reason(
    deployment, worker, probe, tone
):
    """Over Icecast: real ffmpeg fails on the 403; a raw PUT reads why."""
    tomorrow = now() + timedelta(days=1)
    await asyncio.to_thread(only_slot, deployment, starts_at=tomorrow, minutes=60)
    url = f"icecast://{DJ[0]}:{DJ[1]}@127.0.0.1:{worker.source_port}/{STATION}"
    ffmpeg = await asyncio.to_thread(
        subprocess.run,
        ["ffmpeg", "-nostdin", "-v", "error", "-re", "-i", str(tone), "-c", "copy",
         "-f", "mp3", url],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert ffmpeg.returncode != 0
    assert "403" in ffmpeg.stderr
    answer = await request(worker, put(f"/{STATION}", DJ), local="127.0.0.31")
    assert status_of(answer) == 403
    assert b"Your next slot (Drive) starts" in answer
    assert await probe.settles_to(clients=0, listeners=0)


async def test_the_source_password_is_refused_while_slots_are_kept(deployment, worker):
    """Even within a slot: it names no DJ. Icecast answers 403, Shoutcast
    the reason instead of OK2."""
    await asyncio.to_thread(
        only_slot, deployment, starts_at=now() - timedelta(minutes=1), minutes=60
    )
    answer = await request(
        worker, put(f"/{STATION}", ("source", SOURCE_PASSWORD)), local="127.0.0.32"
    )
    assert status_of(answer) == 403
    assert b"log in with your own username and password" in answer
    reader, writer = await asyncio.open_connection("127.0.0.1", worker.source_port + 1)
    writer.write(f"{SOURCE_PASSWORD}:#{STATION}\r\n".encode())
    async with asyncio.timeout(5):
        line = await reader.read()
    writer.close()
    assert b"OK2" not in line
    assert b"log in with your own username and password" in line


async def test_a_shoutcast_dj_outside_their_slot_reads_why(deployment, worker):
    await asyncio.to_thread(
        only_slot, deployment, starts_at=now() + timedelta(hours=3), minutes=60
    )
    reader, writer = await asyncio.open_connection("127.0.0.1", worker.source_port + 1)
    writer.write(f"{DJ[0]}:{DJ[1]}:#{STATION}\r\n".encode())
    async with asyncio.timeout(5):
        line = await reader.read()
    writer.close()
    assert line.startswith(b"This station keeps DJs to their slots")
    assert b"Your next slot (Drive) starts" in line


@pytest.mark.parametrize(
    ("user", "starts_in"),
    [(OPERATOR, timedelta(days=1)), (DJ, timedelta(minutes=4, seconds=50))],
    ids=["staff-without-a-slot", "dj-in-the-early-window"],
)
async def test_staff_and_a_dj_in_the_early_window_go_live(
    deployment, worker, probe, user, starts_in
):
    """The DJ's guard, asleep until their slot's warnings, goes with their
    stop: the worker is back to its tasks from before."""
    await asyncio.to_thread(
        only_slot, deployment, starts_at=now() + starts_in, minutes=60
    )
    tasks_before = await asyncio.to_thread(probe.tasks)
    dj = await start(worker, user)
    assert (await answer_to_start(dj))["type"] == "live"
    await dj.send(json.dumps({"type": "stop"}))
    await dj.close()
    assert await probe.settles_to(clients=0, listeners=0)
    assert await probe.keeps_at_most(tasks_before)


async def test_a_dj_is_warned_then_taken_off_air_and_the_autodj_is_back_in_1_s(
    deployment, worker, probe, tone
):
    """The slot ends a few seconds after the DJ goes live: one warning
    (the nearest, 1 minute), then ``slot_ended`` and close 4410 after the
    overrun, and listeners hear the AutoDJ within 1 s."""
    starts_at = await asyncio.to_thread(slot_ending_in, deployment, SLOT_LEFT_S)
    ends_at = starts_at + timedelta(minutes=1)
    listener, _ = await join(worker, station=STATION)
    dj = await start(worker, DJ)
    assert (await answer_to_start(dj))["type"] == "live"
    sending = asyncio.create_task(stream_file(dj, tone.read_bytes(), bitrate_kbps=128))
    try:
        await on_air_from(listener, "live")
        async with asyncio.timeout(OFF_AIR_WITHIN_S):
            warning = await next_message(dj, "slot_ending")
            ended = await next_message(dj, "error")
        ended_at = asyncio.get_running_loop().time()
        assert await closed_with(dj) == CLOSE_OUTSIDE_SLOT
        async with asyncio.timeout(OFF_AIR_WITHIN_S):
            await on_air_from(listener, "autodj")
        autodj_after_s = asyncio.get_running_loop().time() - ended_at
    finally:
        sending.cancel()
        await listener.close()
    assert datetime.fromisoformat(warning["ends_at"]) == ends_at
    assert datetime.fromisoformat(warning["off_air_at"]) == ends_at + timedelta(
        minutes=OVERRUN_MINUTES
    )
    assert warning["minutes_left"] in (0, 1)
    assert ended["code"] == "slot_ended", ended
    assert now() >= ends_at + timedelta(minutes=OVERRUN_MINUTES)
    assert autodj_after_s < 1.0
    assert await probe.settles_to(clients=0, listeners=0)


async def test_an_encoder_is_cut_off_after_the_overrun_and_the_autodj_is_back(
    deployment, worker, probe, tone
):
    """Over Icecast (real ffmpeg): the source's socket is closed at the end
    of the overrun, and listeners hear the AutoDJ within 1 s of it."""
    starts_at = await asyncio.to_thread(slot_ending_in, deployment, SLOT_LEFT_S)
    off_air_at = starts_at + timedelta(minutes=1 + OVERRUN_MINUTES)
    listener, _ = await join(worker, station=STATION)
    url = f"icecast://{DJ[0]}:{DJ[1]}@127.0.0.1:{worker.source_port}/{STATION}"
    source = subprocess.Popen(
        ["ffmpeg", "-nostdin", "-v", "error", "-re", "-i", str(tone), "-c", "copy",
         "-f", "mp3", url],
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        async with asyncio.timeout(OFF_AIR_WITHIN_S):
            await on_air_from(listener, "live")
            await on_air_from(listener, "autodj")
        autodj_at = now()
        await asyncio.wait_for(asyncio.to_thread(source.wait), OFF_AIR_WITHIN_S)
    finally:
        if source.poll() is None:
            source.kill()
            source.wait()
        await listener.close()
    assert off_air_at <= autodj_at < off_air_at + timedelta(seconds=1)
    assert source.returncode != 0, "ffmpeg ran to the end of its tone"
    assert await probe.settles_to(clients=0, listeners=0)
