"""MEDIA_ROOT fills up under a real daphne: uploads are refused whole,
recordings end cut short, and the broadcast goes on.

MEDIA_ROOT is a small tmpfs of its own, so the disk is really full (ENOSPC
from the kernel, as on a full partition); mounting one needs root.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.conftest import IN_CI
from tests.live.conftest import DJ, STATION, sqlite_installation
from tests.live.test_broadcast import go_live
from tests.support.audio import decoded_seconds, frames_duration_ms, make_tone
from tests.support.clients import Received, connect, listen, sign_in, stream_file

pytestmark = pytest.mark.live

DISK_SIZE = "1m"
# Room left for a recording: about three seconds at 128 kbit/s.
RECORDING_ROOM_BYTES = 48 * 1024
SENT_SECONDS = 8.0


@pytest.fixture(scope="module")
def small_disk(tmp_path_factory):
    """A tmpfs of DISK_SIZE: a file system that really runs out of room."""
    path = tmp_path_factory.mktemp("small-disk")
    mount = ["mount", "-t", "tmpfs", "-o", f"size={DISK_SIZE}", "tmpfs", str(path)]
    result = subprocess.run(mount, capture_output=True, text=True)
    if result.returncode != 0:
        message = (
            f"cannot mount a tmpfs for MEDIA_ROOT ({result.stderr.strip()}): "
            "the disk-full tests need root"
        )
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    yield path
    subprocess.run(["umount", "--lazy", str(path)], check=True)


@pytest.fixture(scope="module")
def installation(tmp_path_factory, small_disk):
    deployment = sqlite_installation(tmp_path_factory, MEDIA_ROOT=str(small_disk))
    yield deployment
    deployment.stop()


@pytest.fixture(scope="module")
def worker(installation):
    return installation.start_worker()


@contextlib.contextmanager
def filled(disk: Path, *, leaving: int):
    """Fill ``disk`` up to ``leaving`` free bytes for the block."""
    filler = disk / "filler"
    room = subprocess.run(
        ["df", "--output=avail", "--block-size=1", str(disk)],
        capture_output=True, text=True, check=True,
    ).stdout.split()[-1]  # fmt: skip
    filler.write_bytes(bytes(max(0, int(room) - leaving)))
    try:
        yield
    finally:
        filler.unlink()


def files_under(folder: Path) -> list[Path]:
    return sorted(path for path in folder.rglob("*") if path.is_file())


def test_an_upload_that_does_not_fit_is_refused_whole(worker, small_disk, tmp_path):
    """507 with a JSON error; no partial file and no track are left."""
    track = make_tone(tmp_path / "long.mp3", seconds=40).read_bytes()
    library_url = f"{worker.http_url}/stations/{STATION}/studio/library/"
    cookie = sign_in(worker.http_url, *DJ)
    token = dict(pair.split("=", 1) for pair in cookie.split("; "))["csrftoken"]
    with httpx.Client(headers={"Cookie": cookie}, timeout=60) as client:
        with filled(small_disk, leaving=len(track) // 2):
            response = client.post(
                library_url,
                files={"file": ("long.mp3", track, "audio/mpeg")},
                headers={"X-CSRFToken": token},
            )
            left = files_under(small_disk)
        library = client.get(library_url).json()

    assert response.status_code == 507
    assert "no room" in response.json()["error"]
    assert left == [small_disk / "filler"]
    assert library["tracks"] == []


async def test_a_full_disk_cuts_the_recording_short_not_the_broadcast(
    installation, worker, small_disk, tmp_path
):
    """The episode ends on its last whole frame, marked cut short; listeners
    hear the whole broadcast."""
    tone = make_tone(tmp_path / "tone.mp3", seconds=SENT_SECONDS).read_bytes()
    with filled(small_disk, leaving=RECORDING_ROOM_BYTES):
        listener = await connect(f"{worker.ws_url}/ws/stations/{STATION}/")
        received = Received()
        listening = asyncio.create_task(listen(listener, received, until="off_air"))
        dj = await go_live(worker, "audio/mpeg")
        await stream_file(dj, tone, bitrate_kbps=128)
        await dj.send(json.dumps({"type": "stop"}))
        async with asyncio.timeout(20):
            await listening
        await dj.close()
        await listener.close()
        [recording] = files_under(small_disk / "recordings")
        recorded = recording.read_bytes()
    episode = json.loads(
        installation.shell(
            "import json; from stations.programme.models import Episode; "
            "e = Episode.objects.get(); "
            "print(json.dumps([e.cut_short, e.ended_at is not None, e.size_bytes, "
            "e.duration_ms]))",
        ).splitlines()[-1]
    )

    assert decoded_seconds(received.mp3) == pytest.approx(SENT_SECONDS, rel=0.05)
    cut_short, ended, size_bytes, duration_ms = episode
    assert (cut_short, ended) == (True, True)
    assert 0 < size_bytes == len(recorded) < RECORDING_ROOM_BYTES
    assert frames_duration_ms(recorded) == pytest.approx(duration_ms, abs=30)
    assert duration_ms < SENT_SECONDS * 1000 / 2
